"""Money written by two transactions at once: a webhook delivered twice, a refund that meets a
change of its donation or a purchase of its campaign (issue 19).

PostgreSQL only: these commit real rows (the ``committed`` fixture) and hold a row lock, or an
uncommitted row, from a transaction of their own while the service runs, then let it go. SQLite
locks the whole file from ``BEGIN IMMEDIATE`` on, so none of these meetings can happen there.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from nuanxin.accounts.tables import User
from nuanxin.db import atomic
from nuanxin.donations import campaigns, purchases, refunds, webhooks
from nuanxin.donations.schemas import PurchaseCreate, RefundCreate, WebhookAnswer
from nuanxin.donations.tables import Campaign, Donation, Payment
from nuanxin.donations.vocabulary import WebhookOutcome
from nuanxin.errors import Conflict
from nuanxin.identity import CurrentUser, Role
from tests.nuanxin.donations.helpers import (
    Charity,
    event_payload,
    make_charity,
    paid_donation,
    sign,
    status_of,
    stripe_settings,
)
from tests.nuanxin.helpers import until_one_waits_for_a_lock
from tests.stripe_server import RefundDesk

AMOUNT = 100_00


@pytest.fixture
async def world(committed: httpx.AsyncClient) -> AsyncIterator[Charity]:
    if Donation._meta.db.engine_type != "postgres":
        pytest.skip("row locks between connections are PostgreSQL's; SQLite locks the file")
    yield await make_charity()


@pytest.fixture
async def prober(world: Charity) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own that sees whether some other connection waits for a lock."""
    connection = await asyncpg.connect(os.environ["DATABASE_URL"])
    yield connection
    await connection.close()


@pytest.fixture
async def holder(world: Charity) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own, in a transaction the test ends (else rolled back)."""
    connection = await asyncpg.connect(os.environ["DATABASE_URL"])
    await connection.execute("BEGIN")
    yield connection
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")
    await connection.close()


async def _member() -> CurrentUser:
    row = (
        await User.select(User.id, User.organization)
        .where(User.username == "d_member")
        .first()
        .run()
    )
    assert row is not None
    return CurrentUser(
        id=row["id"],
        username="d_member",
        role=Role.charity,
        jurisdiction_id=None,
        organization_id=row["organization"],
    )


async def _campaign(charity: Charity) -> int:
    rows = (
        await Campaign.insert(
            Campaign(
                organization=charity.organization_id,
                title="并发",
                region=charity.county_id,
                items=["coal"],
                target_fen=AMOUNT,
                created_at=datetime.now(UTC),
                ends_on=(datetime.now(UTC) + timedelta(days=30)).date(),
            )
        )
        .returning(Campaign.id)
        .run()
    )
    return int(rows[0]["id"])


async def _paid(charity: Charity, campaign_id: int | None = None, status: str = "paid") -> int:
    """A paid donation of ``AMOUNT`` and its succeeded PaymentIntent's row (committed)."""
    if campaign_id is None:
        campaign_id = await _campaign(charity)
    donation_id = await paid_donation(campaign_id, charity.organization_id, AMOUNT)
    await Donation.update({Donation.status: status}).where(Donation.id == donation_id).run()
    await Payment.insert(
        Payment(
            donation=donation_id,
            intent_id=f"pi_race_{donation_id}",
            amount_fen=AMOUNT,
            status="succeeded" if status == "paid" else "requires_payment_method",
            created_at=datetime.now(UTC),
        )
    ).run()
    return donation_id


async def test_a_delivery_of_an_event_another_delivery_is_recording_answers_duplicate(
    world: Charity, holder: asyncpg.Connection, prober: asyncpg.Connection
) -> None:
    donation_id = await _paid(world, status="created")
    settings = stripe_settings("http://127.0.0.1:9")
    intent = f"pi_race_{donation_id}"
    paid = {"id": intent, "object": "payment_intent", "amount": AMOUNT, "currency": "cny"}
    now = int(datetime.now(UTC).timestamp())
    body = event_payload("evt_twice", "payment_intent.succeeded", paid, now)
    # The other delivery of the same event has recorded it and not committed yet.
    await holder.execute(
        "INSERT INTO webhook_event (event_id, type, created, received_at)"
        " VALUES ('evt_twice', 'payment_intent.succeeded', $1, now())",
        now,
    )
    delivery = asyncio.create_task(
        webhooks.handle_event(settings=settings, payload=body, signature=sign(body))
    )
    assert await until_one_waits_for_a_lock(prober, delivery), (
        "the second delivery waits for the first one's row"
    )
    await holder.execute("COMMIT")
    answer = await asyncio.wait_for(delivery, timeout=30)
    assert answer == WebhookAnswer(event_id="evt_twice", outcome=WebhookOutcome.duplicate)
    assert await status_of(donation_id) == ("created", 0)
    # The next event about the same intent takes its payment's row lock and is applied.
    later = event_payload("evt_after", "payment_intent.succeeded", paid, now)
    applied = await webhooks.handle_event(settings=settings, payload=later, signature=sign(later))
    assert applied == WebhookAnswer(event_id="evt_after", outcome=WebhookOutcome.applied)
    assert await status_of(donation_id) == ("paid", 0)


async def test_a_refund_of_a_donation_changed_meanwhile_is_refused_and_stripe_is_not_asked(
    world: Charity, holder: asyncpg.Connection, prober: asyncpg.Connection
) -> None:
    donation_id = await _paid(world)
    desk = RefundDesk()
    try:
        # Stripe's charge.refunded for 5.00, being applied: the row is written, not committed.
        await holder.execute(
            "UPDATE donation SET refunded_fen = 500, status = 'partially_refunded' WHERE id = $1",
            donation_id,
        )
        refund = asyncio.create_task(
            refunds.refund_donation(
                settings=stripe_settings(desk.api_base),
                user=await _member(),
                donation_id=donation_id,
                data=RefundCreate(amount_fen=20_00),
            )
        )
        assert await until_one_waits_for_a_lock(prober, refund), (
            "the refund waits for the donation's row"
        )
        await holder.execute("COMMIT")
        with pytest.raises(Conflict) as refused:
            await asyncio.wait_for(refund, timeout=30)
        assert (refused.value.error, refused.value.detail) == (
            "conflict",
            "The donation changed meanwhile; try again",
        )
        assert desk.requests == []
    finally:
        desk.close()
    assert await status_of(donation_id) == ("partially_refunded", 5_00)


async def test_a_refund_waits_for_a_purchase_of_its_campaign_and_never_refunds_what_it_spent(
    world: Charity, prober: asyncpg.Connection
) -> None:
    campaign_id = await _campaign(world)
    donation_id = await _paid(world, campaign_id)
    user = await _member()
    bought, release = asyncio.Event(), asyncio.Event()

    async def purchase() -> None:
        async with atomic():
            await purchases.record_purchase(
                user=user,
                campaign_id=campaign_id,
                data=PurchaseCreate(
                    item_code="coal", quantity=1, cost_fen=60_00, warehouse_id=world.warehouse_id
                ),
            )
            bought.set()
            await release.wait()  # the purchase commits only when the test says so

    desk = RefundDesk()
    buyer = asyncio.create_task(purchase())
    ready = asyncio.create_task(bought.wait())
    try:
        await asyncio.wait((buyer, ready), timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if buyer.done():
            buyer.result()  # a purchase that failed before it bought says why
        assert bought.is_set(), "the purchase bought within 30 s"
        refund = asyncio.create_task(
            refunds.refund_donation(
                settings=stripe_settings(desk.api_base),
                user=user,
                donation_id=donation_id,
                data=RefundCreate(amount_fen=60_00),
            )
        )
        assert await until_one_waits_for_a_lock(prober, refund), (
            "the refund waits for the campaign's purchase"
        )
        release.set()
        await asyncio.wait_for(buyer, timeout=30)
        with pytest.raises(Conflict) as refused:
            await asyncio.wait_for(refund, timeout=30)
        assert refused.value.error == "money_spent"
        assert desk.requests == []
    finally:
        release.set()
        ready.cancel()
        await asyncio.gather(buyer, ready, return_exceptions=True)
        desk.close()
    books = (await campaigns.campaign_books([campaign_id]))[campaign_id]
    assert (books.spent_fen, books.refunded_fen, books.left_fen) == (60_00, 0, 40_00)


async def test_a_refund_never_waits_for_another_campaign_s_lock(
    world: Charity, holder: asyncpg.Connection, prober: asyncpg.Connection
) -> None:
    other = await _campaign(world)
    donation_id = await _paid(world)
    # Another campaign's purchase holds that campaign's row.
    await holder.execute("SELECT id FROM campaign WHERE id = $1 FOR UPDATE", other)
    desk = RefundDesk()
    try:
        refund = asyncio.create_task(
            refunds.refund_donation(
                settings=stripe_settings(desk.api_base),
                user=await _member(),
                donation_id=donation_id,
                data=RefundCreate(amount_fen=20_00),
            )
        )
        waits = await until_one_waits_for_a_lock(prober, refund)
        await holder.execute("ROLLBACK")  # let a refund that waited finish before asserting
        refunded = await asyncio.wait_for(refund, timeout=30)
        assert not waits, "a refund waits only for its own campaign"
        assert (refunded.status, refunded.refunded_fen) == ("partially_refunded", 20_00)
    finally:
        desk.close()
