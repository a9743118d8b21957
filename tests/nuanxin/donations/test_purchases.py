"""Purchases: campaign money turned into goods on offer, never spent twice."""

from __future__ import annotations

import httpx

from nuanxin.donations.tables import Purchase
from nuanxin.offers.tables import Offer
from tests.nuanxin.donations.helpers import (
    Charity,
    buy,
    open_campaign,
    paid_donation,
)


async def test_money_cannot_be_spent_twice(client: httpx.AsyncClient, charity: Charity) -> None:
    campaign_id = await open_campaign(client, charity)
    donation_id = await paid_donation(campaign_id, charity.organization_id, 100_00)
    assert (await buy(client, charity, 60_00)).status_code == 201
    second = await buy(client, charity, 60_00)
    assert second.status_code == 409
    assert second.json()["error"] == "insufficient_funds"
    assert second.json()["field"] == "cost_fen"
    assert await Purchase.count().run() == 1
    assert await Offer.count().where(Offer.note == f"campaign {campaign_id}").run() == 1
    # Nor refunded once spent: only the unspent ¥40.00 can go back.
    refund = await client.post(
        f"/api/donations/{donation_id}/refunds", headers=charity.member, json={"amount_fen": 50_00}
    )
    assert refund.status_code in (409,), refund.text
    assert refund.json()["error"] in ("money_spent", "payments_unavailable")
    assert (await buy(client, charity, 40_00)).status_code == 201
    books = (await client.get(f"/api/campaigns/{campaign_id}")).json()["books"]
    assert books["left_fen"] == 0 and books["spent_fen"] == 100_00


async def test_purchases_are_for_the_charity_s_own_campaign_and_items(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(client, charity, items=["coal"])
    await paid_donation(campaign_id, charity.organization_id, 100_00)
    other = await client.post(
        f"/api/campaigns/{campaign_id}/purchases",
        headers=charity.other_member,
        json={
            "item_code": "coal",
            "quantity": 1,
            "cost_fen": 100,
            "warehouse_id": charity.warehouse_id,
        },
    )
    assert other.status_code == 404
    wrong_item = await client.post(
        f"/api/campaigns/{campaign_id}/purchases",
        headers=charity.member,
        json={
            "item_code": "quilt",
            "quantity": 1,
            "cost_fen": 100,
            "warehouse_id": charity.warehouse_id,
        },
    )
    assert wrong_item.status_code == 400 and wrong_item.json()["field"] == "item_code"
    assert await Purchase.count().run() == 0
