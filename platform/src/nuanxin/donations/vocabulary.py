"""The words of the donations area: kinds and statuses of gifts, campaigns and payments.

Tables, schemas, services and faces import these from here (never from ``tables.py``) and
compare members, not string literals. Stripe's own words appear where this platform stores or
compares them (:class:`PaymentStatus`, :class:`RefundStatus`, :class:`StripeEventType`);
Stripe may report others, which are stored as they come and otherwise ignored.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = (
    "PAID",
    "REFUNDABLE",
    "CampaignStatus",
    "DonationKind",
    "DonationStatus",
    "PaymentStatus",
    "RefundStatus",
    "StripeEventType",
    "TimelineStep",
    "WebhookOutcome",
)


class DonationKind(StrEnum):
    money = "money"
    goods = "goods"


class DonationStatus(StrEnum):
    created = "created"
    paid = "paid"
    failed = "failed"
    refunded = "refunded"
    partially_refunded = "partially_refunded"
    accepted = "accepted"  # goods taken in by the charity
    declined = "declined"


#: The statuses of money that was paid (whatever part of it was refunded since).
PAID = (DonationStatus.paid, DonationStatus.partially_refunded, DonationStatus.refunded)
#: The statuses of money of which a part may still be refunded.
REFUNDABLE = (DonationStatus.paid, DonationStatus.partially_refunded)


class CampaignStatus(StrEnum):
    open = "open"
    closed = "closed"


class PaymentStatus(StrEnum):
    """A PaymentIntent's status as kept in ``payment.status`` (Stripe's words, and ``failed``)."""

    requires_payment_method = "requires_payment_method"
    succeeded = "succeeded"
    failed = "failed"  # a payment_failed event that carried no status
    canceled = "canceled"


class RefundStatus(StrEnum):
    """A Stripe refund's status."""

    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"


class StripeEventType(StrEnum):
    """The webhook event types this platform applies (others are recorded and ignored)."""

    payment_succeeded = "payment_intent.succeeded"
    payment_failed = "payment_intent.payment_failed"
    payment_canceled = "payment_intent.canceled"
    charge_refunded = "charge.refunded"


class WebhookOutcome(StrEnum):
    applied = "applied"
    duplicate = "duplicate"
    stale = "stale"
    ignored = "ignored"


class TimelineStep(StrEnum):
    """The steps of a gift's way, in the order they are shown when they share a moment."""

    received = "received"
    paid = "paid"
    failed = "failed"
    accepted = "accepted"
    declined = "declined"
    goods = "goods"
    refunded = "refunded"
    matched = "matched"
    delivered = "delivered"
