"""Refunds through Stripe, and refunds Stripe reports (localstripe)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.nuanxin.donations.helpers import (
    Charity,
    StripeServer,
    deliver,
    event_payload,
    open_campaign,
    paid,
    sign,
    status_of,
)

pytestmark = pytest.mark.localstripe


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
        "currency": "cny",
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
        "currency": "cny",
    }
    body = event_payload("evt_dash_refund", "charge.refunded", charge, int(time.time()) + 1)
    assert (await deliver(pay_client, body, sign(body))).json()["outcome"] == "applied"
    assert await status_of(started["donation_id"]) == ("partially_refunded", 10_00)
