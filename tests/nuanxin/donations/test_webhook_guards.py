"""The webhook's guards that should change nothing (issue 19), with hand-made signed events.

The process's clock is Beijing's here (``clock_in_china``): every time the webhook writes must
be the true instant, not the local wall clock taken for UTC.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from nuanxin.audit.tables import AuditEntry
from nuanxin.donations.records import new_tracking_code
from nuanxin.donations.refunds import refund_status
from nuanxin.donations.tables import Donation, Payment, WebhookEvent
from tests.nuanxin.donations.helpers import Charity, deliver, event_payload, sign, status_of

AMOUNT = 20_00

pytestmark = pytest.mark.usefixtures("clock_in_china")


async def _donation(
    charity: Charity,
    status: str = "created",
    intent: str | None = "pi_guard",
    *,
    refunded: int = 0,
) -> int:
    """A money donation of ``AMOUNT`` and, unless ``intent`` is None, its PaymentIntent's row."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    rows = (
        await Donation.insert(
            Donation(
                tracking_code=new_tracking_code(),
                kind="money",
                organization=charity.organization_id,
                amount_fen=AMOUNT,
                refunded_fen=refunded,
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
    if intent is not None:
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


def _succeeded(amount: int, intent: str = "pi_guard", currency: str = "cny") -> dict[str, Any]:
    return {
        "id": intent,
        "object": "payment_intent",
        "amount": amount,
        "currency": currency,
        "status": "succeeded",
    }


def _refunded(refunded: int, intent: str = "pi_guard", currency: str = "cny") -> dict[str, Any]:
    return {
        "id": "ch_guard",
        "object": "charge",
        "payment_intent": intent,
        "amount": AMOUNT,
        "amount_refunded": refunded,
        "currency": currency,
    }


def _logged(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """The donations area's log lines at ``level``, formatted."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "nuanxin.donations" and r.levelno == level
    ]


async def _trail(donation_id: int) -> list[dict[str, Any]]:
    return list(
        await AuditEntry.select(
            AuditEntry.action, AuditEntry.actor_label, AuditEntry.before, AuditEntry.after
        )
        .where((AuditEntry.entity == "donation") & (AuditEntry.entity_id == str(donation_id)))
        .order_by(AuditEntry.id)
        .output(load_json=True)
        .run()
    )


async def test_a_success_with_the_wrong_amount_changes_nothing(
    offline_client: httpx.AsyncClient, charity: Charity, caplog: pytest.LogCaptureFixture
) -> None:
    donation_id = await _donation(charity)
    payment = await Payment.select(Payment.id).first().run()
    assert payment is not None
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
    # Money that does not match is an error for the operators, named by its ids alone.
    errors = _logged(caplog, logging.ERROR)
    assert len(errors) == 2
    for line, amount in zip(errors, (AMOUNT - 1, AMOUNT + 1), strict=True):
        assert f"evt_amount_{amount}" in line
        assert f"donation {donation_id} (created, payment {payment['id']})" in line
    right = await _send(
        offline_client, "evt_right", "payment_intent.succeeded", _succeeded(AMOUNT), now
    )
    assert right == "applied"
    assert await status_of(donation_id) == ("paid", 0)
    [entry] = await _trail(donation_id)
    assert (entry["action"], entry["actor_label"]) == (
        "donation.payment_intent.succeeded",
        "stripe",
    )
    assert entry["before"] == {"status": "created", "refunded_fen": 0}
    assert entry["after"] == {"status": "paid", "refunded_fen": 0, "event": "evt_right"}
    paid = await Payment.select(Payment.status, Payment.last_event_at).first().run()
    assert paid is not None and paid["status"] == "succeeded"
    assert paid["last_event_at"] == datetime.fromtimestamp(now, UTC)
    assert len(_logged(caplog, logging.ERROR)) == 2


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
    offline_client: httpx.AsyncClient, charity: Charity, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nuanxin.donations")
    await _donation(charity)
    now = int(time.time())
    assert (
        await _send(
            offline_client, "evt_u1", "payment_intent.succeeded", _succeeded(AMOUNT, "pi_x"), now
        )
        == "ignored"
    )
    # The operators see which event named which intent (what they look up at Stripe).
    [unknown] = _logged(caplog, logging.INFO)
    assert "evt_u1" in unknown and "pi_x" in unknown
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


async def test_a_success_or_a_refund_in_another_currency_changes_nothing(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    unpaid = await _donation(charity)
    now = int(time.time())
    usd = _succeeded(AMOUNT, currency="usd")
    assert await _send(offline_client, "evt_usd", "payment_intent.succeeded", usd, now) == "ignored"
    assert await status_of(unpaid) == ("created", 0)
    assert await _trail(unpaid) == []
    paid = await _donation(charity, status="paid", intent="pi_paid")
    refund = _refunded(5_00, intent="pi_paid", currency="usd")
    assert await _send(offline_client, "evt_usd_refund", "charge.refunded", refund, now) == (
        "ignored"
    )
    assert await status_of(paid) == ("paid", 0)
    assert await _trail(paid) == []


async def test_the_same_event_id_is_applied_once_whatever_body_comes_with_it_again(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    donation_id = await _donation(charity, status="paid")
    now = int(time.time())
    before = datetime.now(UTC)
    first = await _send(offline_client, "evt_once", "charge.refunded", _refunded(5_00), now)
    assert first == "applied"
    trail = await _trail(donation_id)
    again = event_payload("evt_once", "charge.refunded", _refunded(5_00), now + 1)
    answer = await deliver(offline_client, again, sign(again))
    assert answer.json() == {"event_id": "evt_once", "outcome": "duplicate"}
    other = await _send(offline_client, "evt_once", "charge.refunded", _refunded(9_00), now + 2)
    assert other == "duplicate"
    assert await status_of(donation_id) == ("partially_refunded", 5_00)
    assert await _trail(donation_id) == trail
    [event] = await WebhookEvent.select().where(WebhookEvent.event_id == "evt_once").run()
    assert (event["type"], event["created"]) == ("charge.refunded", now)
    assert before <= event["received_at"] <= datetime.now(UTC)


async def test_an_event_of_an_unknown_long_type_is_recorded_under_its_first_80_characters(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    kind = "issuing_authorization." + "x" * 100
    assert await _send(offline_client, "evt_long", kind, {"id": "iauth_1"}, 1) == "ignored"
    row = await WebhookEvent.select(WebhookEvent.type).where(WebhookEvent.event_id == "evt_long")
    assert row == [{"type": kind[:80]}]


async def test_a_signature_is_accepted_for_five_minutes_and_refused_after(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    donation_id = await _donation(charity)
    now = int(time.time())
    body = event_payload("evt_sig", "payment_intent.succeeded", _succeeded(AMOUNT), now)
    tampered = body.replace(b'"amount": 2000', b'"amount": 1')
    refused = [
        (body, sign(body, secret="whsec_someone_else")),
        (body, ""),
        (tampered, sign(body)),  # signed, then not this body
    ]
    for sent, signature in refused:
        answer = await deliver(offline_client, sent, signature)
        assert answer.status_code == 400, answer.text
    answer = await deliver(offline_client, body, sign(body, at=now - 310))
    assert answer.status_code == 400 and answer.json()["error"] == "bad_signature"
    assert await WebhookEvent.count().run() == 0
    assert await status_of(donation_id) == ("created", 0)
    late = await deliver(offline_client, body, sign(body, at=now - 290))
    assert late.status_code == 200 and late.json() == {"event_id": "evt_sig", "outcome": "applied"}
    assert await status_of(donation_id) == ("paid", 0)


async def test_a_success_whose_payment_row_was_never_written_is_recorded_from_its_metadata(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    donation_id = await _donation(charity, intent=None)
    now = int(time.time())
    before = datetime.now(UTC)
    paid = {**_succeeded(AMOUNT, intent="pi_lost"), "metadata": {"donation_id": str(donation_id)}}
    assert await _send(offline_client, "evt_lost", "payment_intent.succeeded", paid, now) == (
        "applied"
    )
    assert await status_of(donation_id) == ("paid", 0)
    payment = await Payment.select().where(Payment.intent_id == "pi_lost").first().run()
    assert payment is not None
    assert (payment["donation"], payment["amount_fen"], payment["status"]) == (
        donation_id,
        AMOUNT,
        "succeeded",
    )
    assert payment["last_event_at"] == datetime.fromtimestamp(now, UTC)
    assert before <= payment["created_at"] <= datetime.now(UTC)


async def test_metadata_that_does_not_name_this_money_donation_at_its_amount_records_nothing(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    money = await _donation(charity, intent=None)
    goods_rows = (
        await Donation.insert(
            Donation(
                tracking_code=new_tracking_code(),
                kind="goods",
                organization=charity.organization_id,
                quantity=3,
                status="created",
                created_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
            )
        )
        .returning(Donation.id)
        .run()
    )
    goods = int(goods_rows[0]["id"])
    now = int(time.time())
    refused: list[tuple[str, dict[str, Any]]] = [
        ("payment_intent.succeeded", {"metadata": {"donation_id": str(money)}, "amount": 1}),
        ("payment_intent.succeeded", {"metadata": {"donation_id": f"#{money}"}}),
        ("payment_intent.succeeded", {"metadata": {"donation_id": str(money)}, "amount": "2000"}),
        ("payment_intent.succeeded", {"metadata": {}}),
        ("payment_intent.succeeded", {"metadata": None}),
        ("payment_intent.succeeded", {"metadata": {"donation_id": str(goods)}, "amount": 0}),
        ("payment_intent.succeeded", {"metadata": {"donation_id": str(money + 1000)}}),
        ("charge.refunded", {"metadata": {"donation_id": str(money)}, "amount_refunded": 1}),
    ]
    for number, (kind, changes) in enumerate(refused):
        base = _succeeded(AMOUNT, intent=f"pi_stray_{number}")
        if kind == "charge.refunded":
            base = _refunded(1, intent=f"pi_stray_{number}")
        outcome = await _send(offline_client, f"evt_stray_{number}", kind, base | changes, now)
        assert outcome == "ignored", (number, changes)
    assert await Payment.count().run() == 0
    assert await status_of(money) == ("created", 0)
    assert await status_of(goods) == ("created", 0)


async def test_a_failure_recovered_from_its_metadata_fails_the_donation(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    donation_id = await _donation(charity, intent=None)
    failed = {
        "id": "pi_lost_fail",
        "object": "payment_intent",
        "amount": AMOUNT,
        "currency": "cny",
        "metadata": {"donation_id": str(donation_id)},
    }
    now = int(time.time())
    outcome = await _send(
        offline_client, "evt_lost_fail", "payment_intent.payment_failed", failed, now
    )
    assert outcome == "applied"
    assert await status_of(donation_id) == ("failed", 0)
    payment = await Payment.select(Payment.donation, Payment.status).first().run()
    assert payment == {"donation": donation_id, "status": "failed"}  # no status: "failed"


async def test_a_failure_keeps_stripe_s_status_and_is_audited(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    donation_id = await _donation(charity)
    before = datetime.now(UTC)
    failed = {
        "id": "pi_guard",
        "object": "payment_intent",
        "amount": AMOUNT,
        "currency": "cny",
        "status": "requires_payment_method",
    }
    now = int(time.time())
    assert (
        await _send(offline_client, "evt_f", "payment_intent.payment_failed", failed, now)
        == "applied"
    )
    assert await status_of(donation_id) == ("failed", 0)
    payment = await Payment.select(Payment.status, Payment.last_event_at).first().run()
    assert payment == {
        "status": "requires_payment_method",
        "last_event_at": datetime.fromtimestamp(now, UTC),
    }
    [entry] = await _trail(donation_id)
    assert entry["action"] == "donation.payment_intent.payment_failed"
    assert entry["before"] == {"status": "created", "refunded_fen": 0}
    assert entry["after"] == {"status": "failed", "refunded_fen": 0, "event": "evt_f"}
    row = await Donation.select(Donation.updated_at, Donation.settled_at).first().run()
    assert row is not None and row["settled_at"] is None
    assert before <= row["updated_at"] <= datetime.now(UTC)


async def test_a_refund_already_counted_changes_nothing_but_makes_older_events_stale(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    # The charity asked for 5.00 back: the books counted it before Stripe's event came.
    donation_id = await _donation(charity, status="partially_refunded", refunded=5_00)
    now = int(time.time())
    counted = await _send(offline_client, "evt_counted", "charge.refunded", _refunded(5_00), now)
    assert counted == "applied"
    assert await status_of(donation_id) == ("partially_refunded", 5_00)
    assert await _trail(donation_id) == []
    payment = await Payment.select(Payment.status, Payment.last_event_at).first().run()
    assert payment == {"status": "succeeded", "last_event_at": datetime.fromtimestamp(now, UTC)}
    older = await _send(offline_client, "evt_older", "charge.refunded", _refunded(8_00), now - 1)
    assert older == "stale"
    assert await status_of(donation_id) == ("partially_refunded", 5_00)


async def test_a_refund_is_audited_from_what_was_refunded_before_it(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    donation_id = await _donation(charity, status="partially_refunded", refunded=5_00)
    now = int(time.time())
    before = datetime.now(UTC)
    assert await _send(offline_client, "evt_more", "charge.refunded", _refunded(AMOUNT), now) == (
        "applied"
    )
    [entry] = await _trail(donation_id)
    assert entry["action"] == "donation.charge.refunded"
    assert entry["before"] == {"status": "partially_refunded", "refunded_fen": 5_00}
    assert entry["after"] == {"status": "refunded", "refunded_fen": AMOUNT, "event": "evt_more"}
    row = await Donation.select(Donation.updated_at).first().run()
    assert row is not None and before <= row["updated_at"] <= datetime.now(UTC)
    bad = {**_refunded(AMOUNT), "amount_refunded": str(AMOUNT)}
    paid = await _donation(charity, status="paid", intent="pi_text")
    bad["payment_intent"] = "pi_text"
    assert await _send(offline_client, "evt_text", "charge.refunded", bad, now) == "ignored"
    assert await status_of(paid) == ("paid", 0)


async def test_an_event_that_cannot_be_applied_is_not_recorded_so_stripe_sends_it_again(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    donation_id = await _donation(charity)
    beyond_any_calendar = 10**12  # a second in the year 33658
    body = event_payload(
        "evt_far", "payment_intent.succeeded", _succeeded(AMOUNT), beyond_any_calendar
    )
    answer = await deliver(offline_client, body, sign(body))
    assert answer.status_code >= 500  # not 2xx: Stripe retries it
    assert await WebhookEvent.count().run() == 0
    assert await status_of(donation_id) == ("created", 0)


async def test_a_payment_recovered_from_its_metadata_pays_and_audits_its_own_donation_only(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    # Another donation, written first, waits for its own payment: nothing may reach it.
    other = await _donation(charity, intent="pi_other")
    lost = await _donation(charity, intent=None)
    now = int(time.time())
    paid = {**_succeeded(AMOUNT, intent="pi_found"), "metadata": {"donation_id": str(lost)}}
    outcome = await _send(offline_client, "evt_found", "payment_intent.succeeded", paid, now)
    assert outcome == "applied"
    assert await status_of(lost) == ("paid", 0)
    assert await status_of(other) == ("created", 0)
    payments = await Payment.select(Payment.intent_id, Payment.status).order_by(Payment.id).run()
    assert payments == [
        {"intent_id": "pi_other", "status": "requires_payment_method"},
        {"intent_id": "pi_found", "status": "succeeded"},
    ]
    [entry] = await _trail(lost)
    assert entry["after"] == {"status": "paid", "refunded_fen": 0, "event": "evt_found"}
    assert await _trail(other) == []


async def test_an_event_whose_payment_intent_is_not_an_id_is_ignored(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    donation_id = await _donation(charity, status="paid")
    now = int(time.time())
    # An expanded intent (an object, not its id) or a number: neither names a payment.
    expanded = {**_refunded(5_00), "payment_intent": {"id": "pi_guard"}}
    assert await _send(offline_client, "evt_obj", "charge.refunded", expanded, now) == "ignored"
    numbered = {**_succeeded(AMOUNT), "id": 4242, "metadata": {"donation_id": str(donation_id)}}
    assert await _send(offline_client, "evt_num", "payment_intent.succeeded", numbered, now) == (
        "ignored"
    )
    assert await status_of(donation_id) == ("paid", 0)
    assert await Payment.count().run() == 1
    assert await _trail(donation_id) == []


async def test_a_payment_recovered_for_a_donation_paid_already_is_stale_and_kept_unpaid(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    donation_id = await _donation(charity, status="paid", intent=None)
    now = int(time.time())
    late = {**_succeeded(AMOUNT, intent="pi_late"), "metadata": {"donation_id": str(donation_id)}}
    assert await _send(offline_client, "evt_late", "payment_intent.succeeded", late, now) == "stale"
    payment = await Payment.select(Payment.intent_id, Payment.status).first().run()
    assert payment == {"intent_id": "pi_late", "status": "requires_payment_method"}
    assert await status_of(donation_id) == ("paid", 0)
