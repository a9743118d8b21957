"""The same Stripe event delivered many times at once, mixed with a later event and stale
ones, changes the books once. (One at a time, twice and out of order:
``tests/nuanxin/donations/test_money_donations.py``.)

Real committed rows; with ``NUANXIN_TEST_DATABASE=postgres`` the deliveries truly race.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest

from nuanxin.app import create_app
from nuanxin.audit.tables import AuditEntry
from nuanxin.donations.tables import Donation, Payment, WebhookEvent
from tests.nuanxin.donations.helpers import (
    event_payload,
    make_charity,
    open_campaign,
    sign,
    stripe_settings,
)
from tests.nuanxin.helpers import wipe

COPIES = 8


@pytest.fixture
async def stripe_client(migrated: None) -> AsyncIterator[httpx.AsyncClient]:
    await wipe()
    app = create_app(stripe_settings("http://127.0.0.1:9"), manage_pool=False)
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await wipe()


async def test_one_event_delivered_many_times_at_once_counts_once(
    stripe_client: httpx.AsyncClient,
) -> None:
    client = stripe_client
    charity = await make_charity()
    campaign_id = await open_campaign(client, charity)
    now = datetime.now(UTC)
    rows = (
        await Donation.insert(
            Donation(
                tracking_code="RACE0001",
                kind="money",
                organization=charity.organization_id,
                campaign=campaign_id,
                amount_fen=20_00,
                status="created",
                created_at=now,
                updated_at=now,
            )
        )
        .returning(Donation.id)
        .run()
    )
    donation_id = int(rows[0]["id"])
    await Payment.insert(
        Payment(
            donation=donation_id,
            intent_id="pi_race",
            amount_fen=20_00,
            status="requires_payment_method",
            created_at=now,
        )
    ).run()
    at = int(time.time())
    intent = {
        "id": "pi_race",
        "object": "payment_intent",
        "amount": 20_00,
        "currency": "cny",
        "metadata": {},
    }
    paid_intent = {**intent, "status": "succeeded"}
    unpaid_intent = {**intent, "status": "requires_payment_method"}
    succeeded = event_payload("evt_race_paid", "payment_intent.succeeded", paid_intent, at)
    stale_failure = event_payload(
        "evt_race_old_fail", "payment_intent.payment_failed", unpaid_intent, at - 600
    )
    audit_before = await AuditEntry.count().run()

    async def deliver(body: bytes) -> str:
        answer = await client.post(
            "/api/stripe/webhook",
            content=body,
            headers={"stripe-signature": sign(body), "content-type": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["outcome"])

    outcomes = await asyncio.gather(
        *(deliver(succeeded) for _ in range(COPIES)), *(deliver(stale_failure) for _ in range(2))
    )
    paid, failed = outcomes[:COPIES], outcomes[COPIES:]
    assert paid.count("applied") == 1, outcomes  # the success, once
    # the older failure: applied only if it won the race (then the success supersedes it)
    assert failed.count("applied") <= 1 and set(outcomes) <= {"applied", "duplicate", "stale"}
    donation = await Donation.select(Donation.status).where(Donation.id == donation_id).first()
    assert donation == {"status": "paid"}
    assert await WebhookEvent.count().where(WebhookEvent.event_id == "evt_race_paid") == 1
    books = (await client.get(f"/api/campaigns/{campaign_id}")).json()["books"]
    assert books["raised_fen"] == 20_00 and books["donations"] == 1
    applied_audit = await AuditEntry.count() - audit_before
    assert applied_audit >= 1
    # and again, later, one by one: nothing moves
    assert await deliver(succeeded) == "duplicate"
    assert (await client.get(f"/api/campaigns/{campaign_id}")).json()["books"] == books
    assert await AuditEntry.count() - audit_before == applied_audit
