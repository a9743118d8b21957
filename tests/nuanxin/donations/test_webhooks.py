"""Stripe's signed webhook events: applied once, in order, verified (localstripe)."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from nuanxin.audit.tables import AuditEntry
from nuanxin.donations.tables import WebhookEvent
from tests.nuanxin.donations.helpers import (
    Charity,
    StripeServer,
    deliver,
    deliver_webhook,
    event_payload,
    open_campaign,
    paid,
    pay,
    sign,
    start,
    status_of,
)

pytestmark = pytest.mark.localstripe


async def test_the_same_webhook_delivered_twice_changes_nothing_the_second_time(
    pay_client: httpx.AsyncClient, localstripe: StripeServer, charity: Charity
) -> None:
    campaign_id = await open_campaign(pay_client, charity)
    started = await start(pay_client, campaign_id, 10_00)
    intent = pay(localstripe, started)
    webhook = localstripe.webhooks.wait_for("payment_intent.succeeded", intent)
    assert await deliver_webhook(pay_client, webhook) == "applied"
    audit_before = await AuditEntry.count().run()
    assert await deliver_webhook(pay_client, webhook) == "duplicate"
    assert await AuditEntry.count().run() == audit_before
    assert await WebhookEvent.count().where(WebhookEvent.event_id == webhook.event["id"]).run() == 1
    books = (await pay_client.get(f"/api/campaigns/{campaign_id}")).json()["books"]
    assert books["raised_fen"] == 10_00 and books["donations"] == 1


async def test_events_out_of_order_change_nothing(
    pay_client: httpx.AsyncClient, localstripe: StripeServer, charity: Charity
) -> None:
    campaign_id = await open_campaign(pay_client, charity)
    started, intent = await paid(pay_client, localstripe, campaign_id, 15_00)
    now = int(time.time())
    failed = {
        "id": intent,
        "object": "payment_intent",
        "amount": 15_00,
        "currency": "cny",
        "status": "requires_payment_method",
        "metadata": {},
    }
    # An older failure arriving late, then a failure stamped after the success: both stale.
    for event_id, created in (("evt_late_old", now - 3600), ("evt_late_new", now + 5)):
        body = event_payload(event_id, "payment_intent.payment_failed", failed, created)
        response = await deliver(pay_client, body, sign(body))
        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "stale"
    assert await status_of(started["donation_id"]) == ("paid", 0)
    # An old refund event (older than the last applied one) is stale too.
    charge = {
        "id": "ch_x",
        "object": "charge",
        "payment_intent": intent,
        "amount": 15_00,
        "amount_refunded": 15_00,
        "currency": "cny",
    }
    body = event_payload("evt_old_refund", "charge.refunded", charge, now - 7200)
    assert (await deliver(pay_client, body, sign(body))).json()["outcome"] == "stale"
    assert await status_of(started["donation_id"]) == ("paid", 0)


async def test_a_bad_signature_is_refused_and_records_nothing(
    pay_client: httpx.AsyncClient, localstripe: StripeServer, charity: Charity
) -> None:
    campaign_id = await open_campaign(pay_client, charity)
    started = await start(pay_client, campaign_id, 10_00)
    intent = pay(localstripe, started)
    webhook = localstripe.webhooks.wait_for("payment_intent.succeeded", intent)
    forged = sign(webhook.body, secret="whsec_someone_else")
    tampered = webhook.body.replace(b'"amount": 1000', b'"amount": 9000')
    stale_signature = sign(webhook.body, at=int(time.time()) - 3600)
    for body, signature in (
        (webhook.body, forged),
        (tampered, webhook.signature),
        (webhook.body, ""),
        (webhook.body, stale_signature),
    ):
        response = await deliver(pay_client, body, signature)
        assert response.status_code == 400, response.text
        assert response.json()["error"] in ("bad_signature", "validation_error", "bad_request")
    assert await WebhookEvent.count().run() == 0
    assert await status_of(started["donation_id"]) == ("created", 0)


async def test_a_failing_webhook_logs_neither_the_tracking_code_nor_the_donor(
    pay_client: httpx.AsyncClient,
    localstripe: StripeServer,
    charity: Charity,
    caplog: pytest.LogCaptureFixture,
) -> None:
    campaign_id = await open_campaign(pay_client, charity)
    donor = "Zhang Wei 张伟"
    started = await start(pay_client, campaign_id, 40_00, donor_name=donor)
    intent = str(started["client_secret"]).split("_secret_")[0]
    # Stripe says another amount was paid: the event is refused and an error is logged.
    wrong = {
        "id": intent,
        "object": "payment_intent",
        "amount": 1_00,
        "currency": "cny",
        "metadata": {},
    }
    body = event_payload("evt_wrong_amount", "payment_intent.succeeded", wrong, int(time.time()))
    caplog.set_level(logging.DEBUG)
    response = await deliver(pay_client, body, sign(body))
    assert response.json()["outcome"] == "ignored"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the refused event is logged"
    for entry in caplog.records:
        text = f"{entry.getMessage()} {entry.args!r} {entry.__dict__!r}"
        assert started["tracking_code"] not in text
        assert donor not in text
    assert str(started["donation_id"]) in errors[0].getMessage()
    assert await status_of(started["donation_id"]) == ("created", 0)
