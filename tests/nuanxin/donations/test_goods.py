"""Goods donations: registered by the donor, accepted into an offer or declined."""

from __future__ import annotations

import httpx

from nuanxin.audit.tables import AuditEntry
from nuanxin.offers.tables import Offer
from tests.nuanxin.conftest import csrf_headers
from tests.nuanxin.donations.helpers import (
    Charity,
)


async def test_goods_are_accepted_into_an_offer_and_the_donor_follows_them(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    headers = await csrf_headers(client)
    given = await client.post(
        "/api/goods-donations",
        headers=headers,
        json={
            "organization_id": charity.organization_id,
            "item_code": "quilt",
            "quantity": 5,
            "donor_name": "李女士",
            "donor_email": "li@example.org",
        },
    )
    assert given.status_code == 201, given.text
    code, donation_id = given.json()["tracking_code"], given.json()["donation_id"]
    url = f"/api/donations/{donation_id}"
    other = await client.post(
        f"{url}/accept", headers=charity.other_member, json={"warehouse_id": charity.warehouse_id}
    )
    assert other.status_code == 404
    accepted = await client.post(
        f"{url}/accept", headers=charity.member, json={"warehouse_id": charity.warehouse_id}
    )
    assert accepted.status_code == 200, accepted.text
    offer_id = accepted.json()["offer_id"]
    assert accepted.json()["status"] == "accepted"
    again = await client.post(f"{url}/decline", headers=charity.member, json={"reason": "重复"})
    assert again.status_code == 409

    # A second gift of quilts joins the same open offer.
    more = await client.post(
        "/api/goods-donations",
        headers=headers,
        json={"organization_id": charity.organization_id, "item_code": "quilt", "quantity": 3},
    )
    joined = await client.post(
        f"/api/donations/{more.json()['donation_id']}/accept",
        headers=charity.member,
        json={"warehouse_id": charity.warehouse_id, "offer_id": offer_id},
    )
    assert joined.status_code == 200, joined.text
    offer = await Offer.select(Offer.quantity, Offer.available).where(Offer.id == offer_id).run()
    assert offer == [{"quantity": 8, "available": 8}]

    timeline = (await client.get(f"/api/track/{code}")).json()
    assert [e["step"] for e in timeline["timeline"]] == ["received", "accepted", "goods"]
    assert timeline["timeline"][-1]["units"] == 5
    receipt = await client.get(f"/donations/{code}/receipt")
    assert receipt.status_code == 200
    assert "棉被" in receipt.text and "Cotton quilt" in receipt.text and "× 5" in receipt.text
    dashboard = (await client.get("/api/donation-dashboard")).json()
    assert dashboard == [
        {
            "county_code": "230111",
            "county_name": "区划230111",
            "kind": "quilt",
            "donated_fen": 0,
            "donated_units": 8,
            "bought_units": 0,
            "delivered_units": 0,
            "deliveries": 0,
        }
    ]
    assert await AuditEntry.count().where(AuditEntry.action == "donation.accept").run() == 2


async def test_declined_goods_join_no_offer(client: httpx.AsyncClient, charity: Charity) -> None:
    given = await client.post(
        "/api/goods-donations",
        headers=await csrf_headers(client),
        json={"organization_id": charity.organization_id, "item_code": "coal", "quantity": 2},
    )
    donation_id = given.json()["donation_id"]
    offers_before = await Offer.count().run()
    declined = await client.post(
        f"/api/donations/{donation_id}/decline", headers=charity.member, json={"reason": "受潮"}
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert await Offer.count().run() == offers_before
    timeline = (await client.get(f"/api/track/{given.json()['tracking_code']}")).json()
    assert [e["step"] for e in timeline["timeline"]] == ["received", "declined"]
