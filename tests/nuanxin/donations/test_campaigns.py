"""Campaigns and their books, and the donations they refuse before Stripe is asked."""

from __future__ import annotations

import httpx

from nuanxin.accounts.tables import Organization
from nuanxin.donations.tables import Campaign, Donation
from nuanxin.offers.tables import Offer
from tests.nuanxin.conftest import csrf_headers
from tests.nuanxin.donations.helpers import (
    Charity,
    buy,
    future,
    open_campaign,
    paid_donation,
)


async def test_a_campaign_shows_its_progress_to_everyone(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(client, charity)
    await paid_donation(campaign_id, charity.organization_id, 500_00)
    bought = await buy(client, charity, 200_00, quantity=8)
    assert bought.status_code == 201, bought.text
    listed = (await client.get("/api/campaigns")).json()
    assert listed["total"] == 1
    books = listed["items"][0]["books"]
    assert books == {
        "raised_fen": 500_00,
        "refunded_fen": 0,
        "spent_fen": 200_00,
        "left_fen": 300_00,
        "donations": 1,
        "goods_bought": 8,
        "units_delivered": 0,
    }
    detail = (await client.get(f"/api/campaigns/{campaign_id}")).json()
    assert detail["books"] == books and detail["region_code"] == "230111"
    purchases = (await client.get(f"/api/campaigns/{campaign_id}/purchases")).json()
    assert [(p["item_code"], p["quantity"], p["cost_fen"]) for p in purchases["items"]] == [
        ("coal", 8, 200_00)
    ]
    offer = await Offer.select().where(Offer.id == purchases["items"][0]["offer_id"]).first().run()
    assert offer is not None
    assert (offer["organization"], offer["warehouse"], offer["available"]) == (
        charity.organization_id,
        charity.warehouse_id,
        8,
    )


async def test_only_a_verified_charity_opens_a_campaign_and_the_end_date_is_ahead(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    body = {
        "title": "冬季",
        "region_code": "230111",
        "item_codes": ["coal"],
        "target_fen": 100_00,
        "ends_on": future(),
    }
    past = await client.post(
        "/api/campaigns", headers=charity.member, json={**body, "ends_on": "2020-01-01"}
    )
    assert past.status_code == 400 and past.json()["field"] == "ends_on"
    unknown = await client.post(
        "/api/campaigns", headers=charity.member, json={**body, "item_codes": ["caviar"]}
    )
    assert unknown.status_code == 400 and unknown.json()["field"] == "item_codes"
    county = await client.post(
        "/api/campaigns", headers=charity.member, json={**body, "region_code": "999999"}
    )
    assert county.status_code == 400 and county.json()["field"] == "region_code"
    await (
        Organization.update({Organization.status: "pending"})
        .where(Organization.id == charity.organization_id)
        .run()
    )
    pending = await client.post("/api/campaigns", headers=charity.member, json=body)
    assert pending.status_code == 409 and pending.json()["error"] == "charity_not_verified"
    assert await Campaign.count().run() == 0


async def test_a_closed_campaign_takes_no_donations(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(client, charity)
    refused = await client.post(f"/api/campaigns/{campaign_id}/close", headers=charity.other_member)
    assert refused.status_code == 404
    closed = await client.post(f"/api/campaigns/{campaign_id}/close", headers=charity.member)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = await client.post(f"/api/campaigns/{campaign_id}/close", headers=charity.member)
    assert again.status_code == 409
    assert (await client.get("/api/campaigns")).json()["total"] == 0
    assert (await client.get("/api/campaigns?status=closed")).json()["total"] == 1


async def test_malformed_donations_are_refused_naming_the_field(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(client, charity)
    headers = await csrf_headers(client)
    url = f"/api/campaigns/{campaign_id}/donations"
    for body, field in (
        ({"amount_fen": -500}, "amount_fen"),
        ({"amount_fen": 12.5}, "amount_fen"),
        ({"amount_fen": "1000"}, "amount_fen"),
        ({"amount_fen": 1000.0}, "amount_fen"),
        ({"amount_fen": 10**15}, "amount_fen"),
        ({"amount_fen": 0}, "amount_fen"),
        ({"amount_fen": 1000, "currency": "usdollar"}, "currency"),
        ({"amount_fen": 1000, "idempotency_key": "short"}, "idempotency_key"),
        ({"amount_fen": 1000, "tip": 5}, "tip"),
    ):
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["field"] == field, (body, response.text)
    # A currency the platform does not take (checked before Stripe's configuration).
    response = await client.post(url, json={"amount_fen": 1000, "currency": "usd"}, headers=headers)
    assert response.status_code == 400 and response.json()["field"] == "currency"
    assert await Donation.count().run() == 0


async def test_without_stripe_a_donation_is_refused_clearly_and_nothing_is_written(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(client, charity)
    response = await client.post(
        f"/api/campaigns/{campaign_id}/donations",
        json={"amount_fen": 1000},
        headers=await csrf_headers(client),
    )
    assert response.status_code == 409
    assert response.json()["error"] == "payments_unavailable"
    assert await Donation.count().run() == 0
    webhook = await client.post("/api/stripe/webhook", content=b"{}")
    assert webhook.status_code == 409


async def test_a_donation_records_the_currency_the_platform_takes(
    hkd_client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(hkd_client, charity)
    response = await hkd_client.post(
        f"/api/campaigns/{campaign_id}/donations",
        json={"amount_fen": 1000, "currency": "HKD"},
        headers=await csrf_headers(hkd_client),
    )
    assert response.status_code == 503, response.text  # Stripe is not reached: written first
    assert await Donation.select(Donation.currency).run() == [{"currency": "hkd"}]
