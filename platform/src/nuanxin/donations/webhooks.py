"""Stripe's webhook events, applied once and in order.

* The signature is verified on the raw body (:func:`gateway.verify_event`); a bad one is 400.
* Each event id is recorded once in ``webhook_event``: a redelivered event changes nothing
  and is answered 200 (``duplicate``), so Stripe stops retrying.
* An event older than the last one applied to its payment is ``stale`` and changes nothing;
  so is a transition the donation cannot make any more (``payment_failed`` after
  ``succeeded``, ``succeeded`` after a refund). Refunded amounts only ever grow: a
  ``charge.refunded`` with a smaller ``amount_refunded`` than already counted changes nothing.
* Money is an amount in a currency: a success or a refund whose currency is not the donation's
  changes nothing (``ignored``), as a success of another amount does.
* ``payment_intent.succeeded`` marks the donation paid, ``payment_intent.payment_failed`` (and
  ``canceled``) failed, ``charge.refunded`` refunded or partially refunded. Other types are
  recorded and ``ignored``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from nuanxin.audit.services import record
from nuanxin.db import atomic, engine
from nuanxin.donations import gateway
from nuanxin.donations.records import is_unique_violation
from nuanxin.donations.refunds import refund_status
from nuanxin.donations.schemas import WebhookAnswer
from nuanxin.donations.tables import Donation, Payment, WebhookEvent
from nuanxin.donations.vocabulary import (
    PAID,
    DonationKind,
    DonationStatus,
    PaymentStatus,
    StripeEventType,
    WebhookOutcome,
)
from nuanxin.settings import Settings

__all__ = ("handle_event",)

logger = logging.getLogger("nuanxin.donations")

INTENT_EVENTS = {
    StripeEventType.payment_succeeded: PaymentStatus.succeeded,
    StripeEventType.payment_failed: PaymentStatus.failed,
    StripeEventType.payment_canceled: PaymentStatus.canceled,
}
REFUND_EVENT = StripeEventType.charge_refunded
UNPAID = (DonationStatus.created, DonationStatus.failed)


async def handle_event(*, settings: Settings, payload: bytes, signature: str) -> WebhookAnswer:
    event = gateway.verify_event(settings, payload=payload, signature=signature)
    try:
        async with atomic():
            if await WebhookEvent.exists().where(WebhookEvent.event_id == event.id).run():
                return WebhookAnswer(event_id=event.id, outcome=WebhookOutcome.duplicate)
            await WebhookEvent.insert(
                WebhookEvent(
                    event_id=event.id,
                    type=event.type[:80],
                    created=event.created,
                    received_at=datetime.now(UTC),
                )
            ).run()
            outcome = await _apply(event)
    except Exception as exc:
        # The same event, delivered twice at once: the other delivery recorded it.
        if is_unique_violation(exc):
            return WebhookAnswer(event_id=event.id, outcome=WebhookOutcome.duplicate)
        raise
    return WebhookAnswer(event_id=event.id, outcome=outcome)


def _in_currency(event: gateway.StripeEvent, currency: str) -> bool:
    """Whether the event's object is in ``currency`` (Stripe writes currencies in lower case)."""
    stated = event.object.get("currency")
    return isinstance(stated, str) and stated.lower() == currency


def _intent_id(event: gateway.StripeEvent) -> str | None:
    if event.type in INTENT_EVENTS:
        value = event.object.get("id")
    elif event.type == REFUND_EVENT:
        value = event.object.get("payment_intent")
    else:
        return None
    return value if isinstance(value, str) else None


async def _payment_for(intent_id: str, event: gateway.StripeEvent) -> dict[str, Any] | None:
    query = Payment.select().where(Payment.intent_id == intent_id)
    if isinstance(engine(), PostgresEngine):
        # Events about one intent are applied one after the other: a late, older event must
        # see the newer one's ``last_event_at`` (SQLite's BEGIN IMMEDIATE serialises anyway).
        query = query.lock_rows()
    row = await query.first().run()
    if row is not None or event.type not in INTENT_EVENTS:
        return None if row is None else dict(row)
    # The intent was made but its row never written (a crash in between): the metadata
    # names our donation, so the payment is recorded now.
    metadata = event.object.get("metadata") or {}
    donation_id = str(metadata.get("donation_id", ""))
    amount = event.object.get("amount")
    if not donation_id.isdigit() or not isinstance(amount, int):
        return None
    donation = (
        await Donation.select(Donation.id, Donation.amount_fen, Donation.currency)
        .where((Donation.id == int(donation_id)) & (Donation.kind == DonationKind.money))
        .first()
        .run()
    )
    if (
        donation is None
        or donation["amount_fen"] != amount
        or not _in_currency(event, donation["currency"])
    ):
        return None
    await Payment.insert(
        Payment(
            donation=donation["id"],
            intent_id=intent_id,
            amount_fen=amount,
            status=PaymentStatus.requires_payment_method,
            created_at=datetime.now(UTC),
        )
    ).run()
    row = await Payment.select().where(Payment.intent_id == intent_id).first().run()
    return None if row is None else dict(row)


async def _apply(event: gateway.StripeEvent) -> WebhookOutcome:
    intent_id = _intent_id(event)
    if intent_id is None:
        return WebhookOutcome.ignored
    payment = await _payment_for(intent_id, event)
    if payment is None:
        logger.info("Stripe event %s about unknown intent %s ignored", event.id, intent_id)
        return WebhookOutcome.ignored
    at = datetime.fromtimestamp(event.created, UTC)
    last = payment["last_event_at"]
    if last is not None and at < last:
        return WebhookOutcome.stale
    donation = await Donation.select().where(Donation.id == payment["donation"]).first().run()
    assert donation is not None  # a payment always belongs to a donation
    before = DonationStatus(donation["status"])
    changes: dict[Any, Any] = {}
    payment_status = payment["status"]
    if event.type == StripeEventType.payment_succeeded:
        if before not in UNPAID:
            return WebhookOutcome.stale
        if event.object.get("amount") != donation["amount_fen"] or not _in_currency(
            event, donation["currency"]
        ):
            # Ids and statuses only: never the donor's name or the gift's tracking code.
            logger.error(
                "Stripe event %s: its amount or currency differs from donation %s (%s, payment %s)",
                event.id,
                donation["id"],
                before.value,
                payment["id"],
            )
            return WebhookOutcome.ignored
        # Stripe stamps events in whole seconds: never before the donation was written.
        settled = max(at, donation["created_at"])
        changes = {Donation.status: DonationStatus.paid, Donation.settled_at: settled}
        payment_status = PaymentStatus.succeeded
    elif event.type in INTENT_EVENTS:
        if before not in UNPAID:
            return WebhookOutcome.stale
        changes = {Donation.status: DonationStatus.failed}
        payment_status = str(
            event.object.get("status") or INTENT_EVENTS[StripeEventType(event.type)]
        )
    else:  # charge.refunded
        if before not in PAID:
            return WebhookOutcome.stale
        reported = event.object.get("amount_refunded")
        if not isinstance(reported, int) or not _in_currency(event, donation["currency"]):
            return WebhookOutcome.ignored
        refunded = min(donation["amount_fen"], max(donation["refunded_fen"], reported))
        if refunded == donation["refunded_fen"]:
            await _touch(payment["id"], at, payment_status)
            return WebhookOutcome.applied  # already counted when the charity asked for the refund
        status = refund_status(donation["amount_fen"], refunded)
        changes = {Donation.refunded_fen: refunded, Donation.status: status}
    changes[Donation.updated_at] = datetime.now(UTC)
    await Donation.update(changes).where(Donation.id == donation["id"]).run()
    await _touch(payment["id"], at, payment_status)
    after = (
        await Donation.select(Donation.status, Donation.refunded_fen)
        .where(Donation.id == donation["id"])
        .first()
        .run()
    )
    await record(
        actor=None,
        actor_label="stripe",
        action=f"donation.{event.type}",
        entity="donation",
        entity_id=donation["id"],
        before={"status": before.value, "refunded_fen": donation["refunded_fen"]},
        after={**(after or {}), "event": event.id},
    )
    return WebhookOutcome.applied


async def _touch(payment_id: int, at: datetime, status: str) -> None:
    await (
        Payment.update({Payment.status: status, Payment.last_event_at: at})
        .where(Payment.id == payment_id)
        .run()
    )
