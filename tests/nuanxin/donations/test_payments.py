"""Money donations against a real Stripe-compatible server (localstripe on loopback)."""

from __future__ import annotations

import httpx
import pytest
import stripe
from litestar import Litestar

from nuanxin.accounts.tables import Organization
from nuanxin.audit.tables import AuditEntry
from nuanxin.donations.tables import Donation, Payment
from tests.nuanxin.conftest import csrf_headers
from tests.nuanxin.donations.helpers import (
    FORM_KEY,
    Charity,
    StripeServer,
    deliver_webhook,
    intent_id,
    open_campaign,
    pay,
    start,
    status_of,
    stripe_settings,
)

pytestmark = pytest.mark.localstripe


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
