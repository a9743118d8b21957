"""The webhook's guards that should change nothing (issue 19), with hand-made signed events."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from nuanxin.audit.tables import AuditEntry
from nuanxin.donations.records import new_tracking_code
from nuanxin.donations.refunds import refund_status
from nuanxin.donations.tables import Donation, Payment
from tests.nuanxin.donations.helpers import Charity, deliver, event_payload, sign, status_of

AMOUNT = 20_00


async def _donation(charity: Charity, status: str = "created", intent: str = "pi_guard") -> int:
    now = datetime.now(UTC) - timedelta(minutes=5)
    rows = (
        await Donation.insert(
            Donation(
                tracking_code=new_tracking_code(),
                kind="money",
                organization=charity.organization_id,
                amount_fen=AMOUNT,
                status=status,
                created_at=now,
                updated_at=now,
                settled_at=now if status != "created" else None,
            )
        )
        .returning(Donation.id)
        .run()
    )
    donation_id = int(rows[0]["id"])
    await Payment.insert(
        Payment(
            donation=donation_id,
            intent_id=intent,
            amount_fen=AMOUNT,
            status="succeeded" if status != "created" else "requires_payment_method",
            created_at=now,
        )
    ).run()
    return donation_id


async def _send(
    client: httpx.AsyncClient, event_id: str, kind: str, obj: dict[str, Any], created: int
) -> str:
    body = event_payload(event_id, kind, obj, created)
    answer = await deliver(client, body, sign(body))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["outcome"])


def _succeeded(amount: int, intent: str = "pi_guard") -> dict[str, Any]:
    return {"id": intent, "object": "payment_intent", "amount": amount, "status": "succeeded"}


def _refunded(refunded: int, intent: str = "pi_guard") -> dict[str, Any]:
    return {
        "id": "ch_guard",
        "object": "charge",
        "payment_intent": intent,
        "amount": AMOUNT,
        "amount_refunded": refunded,
    }


async def _trail(donation_id: int) -> list[dict[str, Any]]:
    return list(
        await AuditEntry.select(AuditEntry.action, AuditEntry.before, AuditEntry.after)
        .where((AuditEntry.entity == "donation") & (AuditEntry.entity_id == str(donation_id)))
        .order_by(AuditEntry.id)
        .output(load_json=True)
        .run()
    )


async def test_a_success_with_the_wrong_amount_changes_nothing(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    donation_id = await _donation(charity)
    now = int(time.time())
    for amount in (AMOUNT - 1, AMOUNT + 1):
        outcome = await _send(
            offline_client,
            f"evt_amount_{amount}",
            "payment_intent.succeeded",
            _succeeded(amount),
            now,
        )
        assert outcome == "ignored"
    assert await status_of(donation_id) == ("created", 0)
    assert await _trail(donation_id) == []
    right = await _send(
        offline_client, "evt_right", "payment_intent.succeeded", _succeeded(AMOUNT), now
    )
    assert right == "applied"
    assert await status_of(donation_id) == ("paid", 0)
    [entry] = await _trail(donation_id)
    assert entry["action"] == "donation.payment_intent.succeeded"
    assert entry["before"] == {"status": "created", "refunded_fen": 0}
    assert entry["after"] == {"status": "paid", "refunded_fen": 0, "event": "evt_right"}
    payment = await Payment.select(Payment.status, Payment.last_event_at).first().run()
    assert payment is not None and payment["status"] == "succeeded"
    assert payment["last_event_at"] == datetime.fromtimestamp(now, UTC)


async def test_a_refund_never_shrinks_and_never_exceeds_the_donation(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    donation_id = await _donation(charity, status="paid")
    now = int(time.time())
    assert (
        await _send(offline_client, "evt_r1", "charge.refunded", _refunded(5_00), now) == "applied"
    )
    assert await status_of(donation_id) == ("partially_refunded", 5_00)
    # A later event reporting less than is already counted: nothing shrinks.
    assert (
        await _send(offline_client, "evt_r2", "charge.refunded", _refunded(3_00), now) == "applied"
    )
    assert await status_of(donation_id) == ("partially_refunded", 5_00)
    # More than the donation: counted as the whole donation, never beyond it.
    assert (
        await _send(offline_client, "evt_r3", "charge.refunded", _refunded(AMOUNT + 1), now)
        == "applied"
    )
    assert await status_of(donation_id) == ("refunded", AMOUNT)
    actions = [e["after"] for e in await _trail(donation_id)]
    assert actions == [
        {"status": "partially_refunded", "refunded_fen": 5_00, "event": "evt_r1"},
        {"status": "refunded", "refunded_fen": AMOUNT, "event": "evt_r3"},
    ]


async def test_an_event_in_the_same_second_as_the_last_one_is_still_applied(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    donation_id = await _donation(charity)
    now = int(time.time())
    assert (
        await _send(offline_client, "evt_s1", "payment_intent.succeeded", _succeeded(AMOUNT), now)
        == "applied"
    )
    assert (
        await _send(offline_client, "evt_s2", "charge.refunded", _refunded(1_00), now) == "applied"
    )
    assert await status_of(donation_id) == ("partially_refunded", 1_00)
    older = await _send(offline_client, "evt_s3", "charge.refunded", _refunded(2_00), now - 1)
    assert older == "stale"
    assert await status_of(donation_id) == ("partially_refunded", 1_00)


async def test_a_refund_before_the_payment_and_a_failure_after_it_are_stale(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    unpaid = await _donation(charity, intent="pi_unpaid")
    now = int(time.time())
    refund = await _send(
        offline_client, "evt_early", "charge.refunded", _refunded(1_00, "pi_unpaid"), now
    )
    assert refund == "stale"
    failed = {"id": "pi_unpaid", "object": "payment_intent", "amount": AMOUNT, "status": "canceled"}
    assert (
        await _send(offline_client, "evt_cancel", "payment_intent.canceled", failed, now)
        == "applied"
    )
    assert await status_of(unpaid) == ("failed", 0)
    payment = await Payment.select(Payment.status).where(Payment.intent_id == "pi_unpaid").first()
    assert payment == {"status": "canceled"}
    late = await _send(
        offline_client,
        "evt_late_pay",
        "payment_intent.succeeded",
        _succeeded(AMOUNT, "pi_unpaid"),
        now,
    )
    assert late == "applied"  # another card may still pay after a failure
    assert await status_of(unpaid) == ("paid", 0)
    after = await _send(
        offline_client, "evt_fail_after", "payment_intent.payment_failed", failed, now
    )
    assert after == "stale"
    assert await status_of(unpaid) == ("paid", 0)


async def test_a_success_is_never_dated_before_the_donation_was_written(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    donation_id = await _donation(charity)
    created = await Donation.select(Donation.created_at).where(Donation.id == donation_id).first()
    assert created is not None
    early = int(created["created_at"].timestamp()) - 600
    assert (
        await _send(
            offline_client, "evt_early_ok", "payment_intent.succeeded", _succeeded(AMOUNT), early
        )
        == "applied"
    )
    settled = await Donation.select(Donation.settled_at).where(Donation.id == donation_id).first()
    assert settled is not None and settled["settled_at"] == created["created_at"]


async def test_events_about_unknown_intents_or_other_objects_are_ignored(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    await _donation(charity)
    now = int(time.time())
    assert (
        await _send(
            offline_client, "evt_u1", "payment_intent.succeeded", _succeeded(AMOUNT, "pi_x"), now
        )
        == "ignored"
    )
    assert (
        await _send(offline_client, "evt_u2", "customer.created", {"id": "cus_1"}, now) == "ignored"
    )
    bad = {**_refunded(1_00), "amount_refunded": "100"}
    assert await _send(offline_client, "evt_u3", "charge.refunded", bad, now) in (
        "ignored",
        "stale",
    )


def test_a_refund_status_follows_the_amount_refunded_at_its_edges() -> None:
    assert refund_status(AMOUNT, 0) == "paid"
    assert refund_status(AMOUNT, 1) == "partially_refunded"
    assert refund_status(AMOUNT, AMOUNT - 1) == "partially_refunded"
    assert refund_status(AMOUNT, AMOUNT) == "refunded"
