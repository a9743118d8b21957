"""Concurrent purchases and refunds never spend a campaign's money twice.

This test commits real rows (each purchase runs in its own transaction, on its own
connection), so it does not use the rolled-back ``db`` fixture; it wipes what it wrote.
With ``NUANXIN_TEST_DATABASE=postgres`` the purchases truly run at once and the campaign's
row lock serialises them; on SQLite ``BEGIN IMMEDIATE`` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from nuanxin.accounts.tables import User
from nuanxin.donations import campaigns, purchases
from nuanxin.donations.schemas import PurchaseCreate
from nuanxin.donations.tables import Campaign, Purchase
from nuanxin.errors import DomainError
from nuanxin.identity import CurrentUser, Role
from nuanxin.offers.tables import Offer
from tests.nuanxin.donations.helpers import make_charity, paid_donation
from tests.nuanxin.helpers import wipe

BUYERS = 6
RAISED = 100_00
COST = 40_00


@pytest.fixture
async def committed(migrated: None) -> AsyncIterator[None]:
    await wipe()
    yield
    await wipe()


async def test_concurrent_purchases_never_overspend_a_campaign(committed: None) -> None:
    charity = await make_charity()
    member = await User.select(User.id).where(User.username == "d_member").first().run()
    assert member is not None
    user = CurrentUser(
        id=member["id"],
        username="d_member",
        role=Role.charity,
        jurisdiction_id=None,
        organization_id=charity.organization_id,
    )
    rows = (
        await Campaign.insert(
            Campaign(
                organization=charity.organization_id,
                title="并发",
                region=charity.county_id,
                items=["coal"],
                target_fen=RAISED,
                created_at=datetime.now(UTC),
                ends_on=(datetime.now(UTC) + timedelta(days=30)).date(),
            )
        )
        .returning(Campaign.id)
        .run()
    )
    campaign_id = int(rows[0]["id"])
    await paid_donation(campaign_id, charity.organization_id, RAISED)

    async def buy() -> str:
        try:
            await purchases.record_purchase(
                user=user,
                campaign_id=campaign_id,
                data=PurchaseCreate(
                    item_code="coal", quantity=1, cost_fen=COST, warehouse_id=charity.warehouse_id
                ),
            )
        except DomainError as exc:
            return exc.error
        return "bought"

    outcomes = await asyncio.gather(*(buy() for _ in range(BUYERS)))
    assert sorted(outcomes) == ["bought"] * 2 + ["insufficient_funds"] * (BUYERS - 2)
    assert await Purchase.count().run() == 2
    assert await Offer.count().run() == 2  # a refused purchase leaves no offer behind
    books = (await campaigns.campaign_books([campaign_id]))[campaign_id]
    assert (books.spent_fen, books.left_fen) == (2 * COST, RAISED - 2 * COST)
