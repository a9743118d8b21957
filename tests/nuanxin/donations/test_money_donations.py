"""Money donations against a real Stripe-compatible server (localstripe on loopback)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import stripe
from litestar import Litestar

from nuanxin.accounts.tables import Organization
from nuanxin.audit.tables import AuditEntry
from nuanxin.donations.tables import Donation, Payment, WebhookEvent
from tests.nuanxin.conftest import csrf_headers
from tests.nuanxin.donations.conftest import (
    Charity,
    StripeServer,
    deliver,
    deliver_webhook,
    event_payload,
    open_campaign,
    sign,
    stripe_settings,
)

pytestmark = pytest.mark.localstripe

FORM_KEY = "form-7c4e1f0a9b8d4e2f"


async def start(
    client: httpx.AsyncClient, campaign_id: int, amount_fen: int = 12_34, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/campaigns/{campaign_id}/donations",
        json={"amount_fen": amount_fen, "donor_name": "王先生", **extra},
        headers=await csrf_headers(client),  # a browser's form: the CSRF header
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def intent_id(started: dict[str, Any]) -> str:
    return str(started["client_secret"]).split("_secret_")[0]


def pay(localstripe: StripeServer, started: dict[str, Any], method: str = "pm_card_visa") -> str:
    """What Stripe.js does in the browser: attach a test card, confirm."""
    intent = intent_id(started)
    localstripe.client.v1.payment_intents.update(intent, params={"payment_method": method})
    localstripe.client.v1.payment_intents.confirm(intent)
    return intent


async def paid(
    client: httpx.AsyncClient, localstripe: StripeServer, campaign_id: int, amount_fen: int
) -> tuple[dict[str, Any], str]:
    started = await start(client, campaign_id, amount_fen)
    intent = pay(localstripe, started)
    webhook = localstripe.webhooks.wait_for("payment_intent.succeeded", intent)
    assert await deliver_webhook(client, webhook) == "applied"
    return started, intent


async def status_of(donation_id: int) -> tuple[str, int]:
    row = (
        await Donation.select(Donation.status, Donation.refunded_fen)
        .where(Donation.id == donation_id)
        .first()
        .run()
    )
    assert row is not None
    return str(row["status"]), int(row["refunded_fen"])


async def test_a_card_donation_is_paid_through_the_signed_webhook_end_to_end(
    pay_client: httpx.AsyncClient, localstripe: StripeServer, charity: Charity
) -> None:
    campaign_id = await open_campaign(pay_client, charity)
    started = await start(pay_client, campaign_id, 50_00)
    assert started["publishable_key"] == "pk_test_nuanxin"
    assert started["currency"] == "cny" and started["status"] == "created"
    assert len(started["tracking_code"]) == 12

    intent = pay(localstripe, started)
    assert await status_of(started["donation_id"]) == ("created", 0)  # only the webhook pays
    webhook = localstripe.webhooks.wait_for("payment_intent.succeeded", intent)
    assert await deliver_webhook(pay_client, webhook) == "applied"

    assert await status_of(started["donation_id"]) == ("paid", 0)
    campaign = (await pay_client.get(f"/api/campaigns/{campaign_id}")).json()
    assert campaign["books"]["raised_fen"] == 50_00
    assert campaign["books"]["left_fen"] == 50_00
    timeline = (await pay_client.get(f"/api/track/{started['tracking_code']}")).json()
    assert [e["step"] for e in timeline["timeline"]] == ["received", "paid"]
    receipt = (await pay_client.get(f"/api/track/{started['tracking_code']}/receipt")).json()
    assert receipt["amount_text"] == "¥50.00"
    assert (
        await AuditEntry.exists()
        .where(AuditEntry.action == "donation.payment_intent.succeeded")
        .run()
    )


async def test_a_declined_card_leaves_the_donation_failed_and_counts_no_money(
    pay_client: httpx.AsyncClient, localstripe: StripeServer, charity: Charity
) -> None:
    campaign_id = await open_campaign(pay_client, charity)
    started = await start(pay_client, campaign_id, 20_00)
    with pytest.raises(stripe.CardError):
        pay(localstripe, started, "pm_card_chargeCustomerFail")
    webhook = localstripe.webhooks.wait_for("payment_intent.payment_failed", intent_id(started))
    assert await deliver_webhook(pay_client, webhook) == "applied"
    assert await status_of(started["donation_id"]) == ("failed", 0)
    books = (await pay_client.get(f"/api/campaigns/{campaign_id}")).json()["books"]
    assert books["raised_fen"] == 0


async def test_a_3d_secure_card_is_paid_once_the_donor_authenticates(
    pay_client: httpx.AsyncClient, localstripe: StripeServer, charity: Charity
) -> None:
    campaign_id = await open_campaign(pay_client, charity)
    started = await start(pay_client, campaign_id, 30_00)
    method = localstripe.client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000002500003155", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    intent = intent_id(started)
    localstripe.client.v1.payment_intents.update(intent, params={"payment_method": method.id})
    confirmed = localstripe.client.v1.payment_intents.confirm(intent)
    assert confirmed.status == "requires_action"
    # What Stripe.js does after the bank's challenge succeeds:
    answer = httpx.post(
        f"{localstripe.api_base}/v1/payment_intents/{intent}/_authenticate",
        data={
            "client_secret": started["client_secret"],
            "success": "true",
            "key": "pk_test_nuanxin",
        },
    )
    assert answer.status_code == 200, answer.text
    webhook = localstripe.webhooks.wait_for("payment_intent.succeeded", intent)
    assert await deliver_webhook(pay_client, webhook) == "applied"
    assert await status_of(started["donation_id"]) == ("paid", 0)


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


async def test_a_double_submitted_form_gives_one_donation_and_one_payment_intent(
    pay_client: httpx.AsyncClient, localstripe: StripeServer, charity: Charity
) -> None:
    campaign_id = await open_campaign(pay_client, charity)
    first = await start(pay_client, campaign_id, 88_00, idempotency_key=FORM_KEY)
    second = await start(pay_client, campaign_id, 88_00, idempotency_key=FORM_KEY)
    assert second == first
    assert await Donation.count().run() == 1
    assert await Payment.count().run() == 1
    intents = [
        pi
        for pi in localstripe.client.v1.payment_intents.list(params={"limit": 100}).data
        if pi.to_dict()["metadata"].get("tracking_code") == first["tracking_code"]
    ]
    assert len(intents) == 1
    # The same key with another amount is someone else's form: refused, nothing written.
    response = await pay_client.post(
        f"/api/campaigns/{campaign_id}/donations",
        json={"amount_fen": 99_00, "idempotency_key": FORM_KEY},
        headers=await csrf_headers(pay_client),
    )
    assert response.status_code == 409
    assert response.json()["field"] == "idempotency_key"
    assert await Donation.count().run() == 1


async def test_refunds_partial_then_full_are_checked_and_reflected_by_the_webhook(
    pay_client: httpx.AsyncClient, localstripe: StripeServer, charity: Charity
) -> None:
    campaign_id = await open_campaign(pay_client, charity)
    started, intent = await paid(pay_client, localstripe, campaign_id, 100_00)
    donation_id = started["donation_id"]
    url = f"/api/donations/{donation_id}/refunds"

    partial = await pay_client.post(url, headers=charity.member, json={"amount_fen": 30_00})
    assert partial.status_code == 200, partial.text
    assert partial.json()["status"] == "partially_refunded"
    assert partial.json()["refunded_fen"] == 30_00
    refunds = localstripe.client.v1.refunds.list(params={"payment_intent": intent}).data
    assert [r.amount for r in refunds] == [30_00]

    # localstripe sends no refund webhooks: Stripe's charge.refunded, signed here.
    charge = {
        "id": "ch_r",
        "object": "charge",
        "payment_intent": intent,
        "amount": 100_00,
        "amount_refunded": 30_00,
    }
    body = event_payload("evt_refund_1", "charge.refunded", charge, int(time.time()) + 1)
    assert (await deliver(pay_client, body, sign(body))).json()["outcome"] == "applied"
    assert await status_of(donation_id) == ("partially_refunded", 30_00)

    too_much = await pay_client.post(url, headers=charity.member, json={"amount_fen": 70_01})
    assert too_much.status_code == 409
    assert too_much.json()["field"] == "amount_fen"
    other = await pay_client.post(url, headers=charity.other_member, json={"amount_fen": 100})
    assert other.status_code == 404

    rest = await pay_client.post(url, headers=charity.member, json={})
    assert rest.status_code == 200, rest.text
    assert rest.json()["status"] == "refunded" and rest.json()["refunded_fen"] == 100_00
    charge["amount_refunded"] = 100_00
    body = event_payload("evt_refund_2", "charge.refunded", charge, int(time.time()) + 2)
    assert (await deliver(pay_client, body, sign(body))).json()["outcome"] == "applied"
    assert await status_of(donation_id) == ("refunded", 100_00)
    again = await pay_client.post(url, headers=charity.member, json={"amount_fen": 100})
    assert again.status_code == 409
    books = (await pay_client.get(f"/api/campaigns/{campaign_id}")).json()["books"]
    assert books["refunded_fen"] == 100_00 and books["left_fen"] == 0


async def test_a_refund_made_on_stripe_itself_is_counted_from_the_webhook(
    pay_client: httpx.AsyncClient, localstripe: StripeServer, charity: Charity
) -> None:
    campaign_id = await open_campaign(pay_client, charity)
    started, intent = await paid(pay_client, localstripe, campaign_id, 40_00)
    charge = {
        "id": "ch_d",
        "object": "charge",
        "payment_intent": intent,
        "amount": 40_00,
        "amount_refunded": 10_00,
    }
    body = event_payload("evt_dash_refund", "charge.refunded", charge, int(time.time()) + 1)
    assert (await deliver(pay_client, body, sign(body))).json()["outcome"] == "applied"
    assert await status_of(started["donation_id"]) == ("partially_refunded", 10_00)


async def test_payments_unreachable_answer_503_and_the_form_can_be_sent_again(
    paying_app: Litestar, pay_client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(pay_client, charity)
    settings = paying_app.state.settings
    paying_app.state.settings = stripe_settings("http://127.0.0.1:9")  # nothing listens there
    response = await pay_client.post(
        f"/api/campaigns/{campaign_id}/donations",
        json={"amount_fen": 10_00, "idempotency_key": FORM_KEY},
        headers=await csrf_headers(pay_client),
    )
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "payments_unreachable"
    paying_app.state.settings = settings
    retried = await start(pay_client, campaign_id, 10_00, idempotency_key=FORM_KEY)
    assert await Donation.count().run() == 1  # the same donation, now with its intent
    assert await Payment.count().where(Payment.donation == retried["donation_id"]).run() == 1


async def test_a_suspended_charity_s_campaign_takes_no_money(
    pay_client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(pay_client, charity)
    await (
        Organization.update({Organization.status: "suspended"})
        .where(Organization.id == charity.organization_id)
        .run()
    )
    response = await pay_client.post(
        f"/api/campaigns/{campaign_id}/donations",
        json={"amount_fen": 10_00},
        headers=await csrf_headers(pay_client),
    )
    assert response.status_code == 409 and response.json()["error"] == "charity_not_verified"
    assert await Donation.count().run() == 0
