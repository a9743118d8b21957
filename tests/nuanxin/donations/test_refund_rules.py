"""A charity's refunds: never more than paid minus refunded, nor money spent; given back when
Stripe does not refund (against ``RefundDesk``, Stripe's refunds endpoint on loopback).

The refund end to end through localstripe is in ``test_refunds.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from nuanxin.audit.tables import AuditEntry
from nuanxin.donations.records import new_tracking_code
from nuanxin.donations.tables import Donation, Payment
from tests.nuanxin.donations.helpers import Charity, buy, open_campaign, status_of
from tests.stripe_server import RefundDesk

AMOUNT = 20_00


async def _paid(
    charity: Charity,
    *,
    amount: int = AMOUNT,
    campaign_id: int | None = None,
    kind: str = "money",
    status: str = "paid",
    payment: str | None = "succeeded",
) -> int:
    """A donation of ``amount`` and, unless ``payment`` is None, its PaymentIntent's row."""
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    goods = kind == "goods"
    rows = (
        await Donation.insert(
            Donation(
                tracking_code=new_tracking_code(),
                kind=kind,
                organization=charity.organization_id,
                campaign=campaign_id,
                amount_fen=0 if goods else amount,
                quantity=3 if goods else 0,
                status=status,
                created_at=earlier,
                updated_at=earlier,
                settled_at=earlier,
            )
        )
        .returning(Donation.id)
        .run()
    )
    donation_id = int(rows[0]["id"])
    if payment is not None:
        await Payment.insert(
            Payment(
                donation=donation_id,
                intent_id=f"pi_rules_{donation_id}",
                amount_fen=amount,
                status=payment,
                created_at=earlier,
            )
        ).run()
    return donation_id


async def _refund(
    client: httpx.AsyncClient, charity: Charity, donation_id: int, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/donations/{donation_id}/refunds", headers=charity.member, json=body
    )


async def _trail(donation_id: int) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    rows = (
        await AuditEntry.select(
            AuditEntry.action, AuditEntry.actor_label, AuditEntry.before, AuditEntry.after
        )
        .where((AuditEntry.entity == "donation") & (AuditEntry.entity_id == str(donation_id)))
        .order_by(AuditEntry.id)
        .output(load_json=True)
        .run()
    )
    return [(r["action"], r["actor_label"], r["before"], r["after"]) for r in rows]


async def test_a_refund_of_exactly_what_is_left_is_sent_and_one_fen_more_is_refused(
    desk_client: httpx.AsyncClient, refund_desk: RefundDesk, charity: Charity
) -> None:
    donation_id = await _paid(charity)
    too_much = await _refund(desk_client, charity, donation_id, amount_fen=AMOUNT + 1)
    assert too_much.status_code == 409, too_much.text
    assert (too_much.json()["error"], too_much.json()["field"]) == (
        "refund_too_large",
        "amount_fen",
    )
    assert too_much.json()["detail"] == "Only ¥20.00 of this donation can still be refunded"
    assert refund_desk.requests == []

    part = await _refund(desk_client, charity, donation_id, amount_fen=5_00, reason="捐错了")
    assert part.status_code == 200, part.text
    assert (part.json()["status"], part.json()["refunded_fen"]) == ("partially_refunded", 5_00)
    over = await _refund(desk_client, charity, donation_id, amount_fen=15_01)
    assert over.status_code == 409 and "¥15.00" in over.json()["detail"]
    rest = await _refund(desk_client, charity, donation_id)
    assert rest.status_code == 200, rest.text
    assert (rest.json()["status"], rest.json()["refunded_fen"]) == ("refunded", AMOUNT)
    assert await status_of(donation_id) == ("refunded", AMOUNT)
    intent = f"pi_rules_{donation_id}"
    assert [r.form for r in refund_desk.requests] == [
        {"payment_intent": intent, "amount": "500"},
        {"payment_intent": intent, "amount": "1500"},
    ]
    assert await _trail(donation_id) == [
        (
            "donation.refund",
            "d_member",
            {"refunded_fen": 0, "status": "paid"},
            {"refunded_fen": 5_00, "status": "partially_refunded", "reason": "捐错了"},
        ),
        (
            "donation.refund_sent",
            "d_member",
            {},
            {"refund": "re_desk_1", "amount_fen": 5_00, "status": "succeeded"},
        ),
        (
            "donation.refund",
            "d_member",
            {"refunded_fen": 5_00, "status": "partially_refunded"},
            {"refunded_fen": AMOUNT, "status": "refunded", "reason": ""},
        ),
        (
            "donation.refund_sent",
            "d_member",
            {},
            {"refund": "re_desk_2", "amount_fen": 15_00, "status": "succeeded"},
        ),
    ]
    nothing_left = await _refund(desk_client, charity, donation_id, amount_fen=1_00)
    assert nothing_left.status_code == 409
    assert (nothing_left.json()["error"], nothing_left.json()["field"]) == (
        "not_refundable",
        "status",
    )
    assert len(refund_desk.requests) == 2


async def test_a_refund_retried_after_stripe_refused_it_is_the_same_refund_at_stripe(
    desk_client: httpx.AsyncClient, refund_desk: RefundDesk, charity: Charity
) -> None:
    donation_id = await _paid(charity)
    refund_desk.answer = 400
    refused = await _refund(desk_client, charity, donation_id, amount_fen=5_00)
    assert refused.status_code == 502, refused.text
    assert refused.json()["error"] == "payment_provider_error"
    assert await status_of(donation_id) == ("paid", 0)
    refund_desk.answer = "succeeded"
    for _ in range(2):
        sent = await _refund(desk_client, charity, donation_id, amount_fen=5_00)
        assert sent.status_code == 200, sent.text
    assert await status_of(donation_id) == ("partially_refunded", 10_00)
    retried, first, second = (r.idempotency_key for r in refund_desk.requests)
    # The retry from the same books is one refund at Stripe; the next 5.00 is another one.
    assert retried == first
    assert second not in (first, "")


async def test_a_refund_stripe_fails_or_cancels_is_given_back_to_the_books(
    desk_client: httpx.AsyncClient, refund_desk: RefundDesk, charity: Charity
) -> None:
    donation_id = await _paid(charity)
    refund_desk.answer = "failed"
    whole = await _refund(desk_client, charity, donation_id)
    assert whole.status_code == 502, whole.text
    assert whole.json()["error"] == "refund_failed"
    assert whole.json()["detail"] == "Stripe did not refund: the refund is failed"
    assert await status_of(donation_id) == ("paid", 0)

    refund_desk.answer = "succeeded"
    assert (await _refund(desk_client, charity, donation_id, amount_fen=5_00)).status_code == 200
    refund_desk.answer = "canceled"
    canceled = await _refund(desk_client, charity, donation_id, amount_fen=10_00)
    assert canceled.status_code == 502 and canceled.json()["error"] == "refund_failed"
    assert await status_of(donation_id) == ("partially_refunded", 5_00)
    failures = [
        (action, who, after)
        for action, who, _, after in await _trail(donation_id)
        if action not in ("donation.refund", "donation.refund_sent")
    ]
    assert failures == [
        ("donation.refund_failed", "d_member", {"amount_fen": AMOUNT}),
        ("donation.refund_failed", "d_member", {"amount_fen": 10_00}),
    ]

    refund_desk.answer = "pending"  # Stripe is still on it: counted, as a succeeded one is
    pending = await _refund(desk_client, charity, donation_id)
    assert pending.status_code == 200, pending.text
    assert await status_of(donation_id) == ("refunded", AMOUNT)


async def test_a_refund_changes_only_its_own_donation(
    desk_client: httpx.AsyncClient, refund_desk: RefundDesk, charity: Charity
) -> None:
    # Siblings in the same state and of the same amount: a refund's conditional update that
    # matched on the state alone would move them too.
    donation_id, *siblings = [await _paid(charity) for _ in range(3)]
    part = await _refund(desk_client, charity, donation_id, amount_fen=5_00)
    assert part.status_code == 200, part.text
    assert await status_of(donation_id) == ("partially_refunded", 5_00)
    assert [await status_of(s) for s in siblings] == [("paid", 0), ("paid", 0)]

    for sibling in siblings:
        assert (await _refund(desk_client, charity, sibling, amount_fen=5_00)).status_code == 200
    refund_desk.answer = "failed"  # given back: only this donation's counters go back
    failed = await _refund(desk_client, charity, donation_id, amount_fen=5_00)
    assert failed.status_code == 502, failed.text
    assert await status_of(donation_id) == ("partially_refunded", 5_00)
    assert [await status_of(s) for s in siblings] == [("partially_refunded", 5_00)] * 2
    sibling_actions = [action for s in siblings for action, *_ in await _trail(s)]
    assert "donation.refund_failed" not in sibling_actions
    assert sibling_actions.count("donation.refund") == 2


async def test_only_paid_money_backed_by_a_succeeded_payment_is_refunded(
    desk_client: httpx.AsyncClient,
    client: httpx.AsyncClient,
    refund_desk: RefundDesk,
    charity: Charity,
) -> None:
    goods = await _paid(charity, kind="goods", status="accepted", payment=None)
    unpaid = await _paid(charity, status="created", payment="requires_payment_method")
    unbacked = await _paid(charity, payment="requires_payment_method")
    refunded = await _paid(charity, status="refunded")
    for donation_id, field in ((goods, "status"), (unpaid, "status"), (unbacked, None)):
        answer = await _refund(desk_client, charity, donation_id, amount_fen=1_00)
        assert answer.status_code == 409, answer.text
        assert (answer.json()["error"], answer.json().get("field")) == ("not_refundable", field)
    goods_answer = await _refund(desk_client, charity, goods)
    assert goods_answer.json()["detail"] == "A goods donation that is accepted cannot be refunded"
    refused = await _refund(desk_client, charity, refunded, amount_fen=1_00)
    assert refused.json()["detail"] == "A money donation that is refunded cannot be refunded"
    no_payment = await _refund(desk_client, charity, unbacked)
    assert no_payment.json()["detail"] == "No succeeded payment backs this donation"
    paid = await _paid(charity)
    other = await desk_client.post(
        f"/api/donations/{paid}/refunds", headers=charity.other_member, json={"amount_fen": 1_00}
    )
    assert other.status_code == 404
    # Without Stripe's keys nothing is counted either.
    unconfigured = await _refund(client, charity, paid, amount_fen=1_00)
    assert unconfigured.status_code == 409
    assert unconfigured.json()["error"] == "payments_unavailable"
    assert refund_desk.requests == []
    assert await status_of(paid) == ("paid", 0)
    assert await status_of(unbacked) == ("paid", 0)


async def test_a_campaign_s_money_spent_on_goods_is_never_refunded(
    desk_client: httpx.AsyncClient, refund_desk: RefundDesk, charity: Charity
) -> None:
    campaign_id = await open_campaign(desk_client, charity)
    donation_id = await _paid(charity, amount=100_00, campaign_id=campaign_id)
    assert (await buy(desk_client, charity, 60_00)).status_code == 201
    spent = await _refund(desk_client, charity, donation_id, amount_fen=40_01)
    assert spent.status_code == 409, spent.text
    assert (spent.json()["error"], spent.json()["field"]) == ("money_spent", "amount_fen")
    assert spent.json()["detail"] == (
        "Only ¥40.00 of the campaign's money is unspent: the rest bought goods already"
    )
    assert refund_desk.requests == []
    left = await _refund(desk_client, charity, donation_id, amount_fen=40_00)
    assert left.status_code == 200, left.text
    books = (await desk_client.get(f"/api/campaigns/{campaign_id}")).json()["books"]
    assert (books["refunded_fen"], books["spent_fen"], books["left_fen"]) == (40_00, 60_00, 0)
