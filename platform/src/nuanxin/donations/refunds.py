"""Refunds of money donations, through Stripe.

* Never more than paid minus refunded, and never money the campaign has spent already: the
  check runs under the campaign's lock (see :mod:`.campaigns`).
* A refund is reserved in the books before Stripe is asked (so concurrent refunds and purchases
  see it), and given back if Stripe refuses. A crash between the two leaves the refund counted
  but not sent: the books err on the side of less money, never more.
* Stripe's ``charge.refunded`` events (:mod:`.webhooks`) only ever raise the refunded amount.
"""

from __future__ import annotations

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.donations import gateway
from nuanxin.donations.campaigns import campaign_books, lock_campaign, now, yuan
from nuanxin.donations.records import load_donation, own_donation
from nuanxin.donations.schemas import DonationRecord, RefundCreate
from nuanxin.donations.tables import Donation, Payment
from nuanxin.donations.vocabulary import (
    REFUNDABLE,
    DonationKind,
    DonationStatus,
    PaymentStatus,
    RefundStatus,
)
from nuanxin.errors import Conflict, DomainError, Upstream
from nuanxin.identity import CurrentUser
from nuanxin.settings import Settings

__all__ = ("refund_donation", "refund_status")


def refund_status(amount_fen: int, refunded_fen: int) -> DonationStatus:
    """A paid donation's status once ``refunded_fen`` of its ``amount_fen`` went back."""
    if refunded_fen <= 0:
        return DonationStatus.paid
    if refunded_fen >= amount_fen:
        return DonationStatus.refunded
    return DonationStatus.partially_refunded


async def _reserve_refund(
    user: CurrentUser, donation_id: int, data: RefundCreate
) -> tuple[DonationRecord, str, int]:
    async with atomic():
        donation = await own_donation(user, donation_id)
        if donation.kind is not DonationKind.money or donation.status not in REFUNDABLE:
            raise Conflict(
                f"A {donation.kind.value} donation that is {donation.status.value} cannot be "
                "refunded",
                error="not_refundable",
                field="status",
            )
        refundable = donation.amount_fen - donation.refunded_fen
        amount = refundable if data.amount_fen is None else data.amount_fen
        if amount > refundable:
            raise Conflict(
                f"Only {yuan(refundable)} of this donation can still be refunded",
                error="refund_too_large",
                field="amount_fen",
            )
        payment = (
            await Payment.select(Payment.intent_id)
            .where((Payment.donation == donation_id) & (Payment.status == PaymentStatus.succeeded))
            .first()
            .run()
        )
        if payment is None:
            raise Conflict("No succeeded payment backs this donation", error="not_refundable")
        if donation.campaign_id is not None:
            await lock_campaign(donation.campaign_id)
            left = (await campaign_books([donation.campaign_id]))[donation.campaign_id].left_fen
            if amount > left:
                raise Conflict(
                    f"Only {yuan(left)} of the campaign's money is unspent: the rest bought "
                    "goods already",
                    error="money_spent",
                    field="amount_fen",
                )
        refunded = donation.refunded_fen + amount
        status = refund_status(donation.amount_fen, refunded)
        changed = (
            await Donation.update(
                {
                    Donation.refunded_fen: refunded,
                    Donation.status: status,
                    Donation.updated_at: now(),
                }
            )
            .where((Donation.id == donation_id) & (Donation.refunded_fen == donation.refunded_fen))
            .returning(Donation.id)
            .run()
        )
        if not changed:
            raise Conflict("The donation changed meanwhile; try again", error="conflict")
        await record(
            actor=user,
            action="donation.refund",
            entity="donation",
            entity_id=donation_id,
            before={"refunded_fen": donation.refunded_fen, "status": donation.status.value},
            after={"refunded_fen": refunded, "status": status.value, "reason": data.reason},
        )
    return donation, str(payment["intent_id"]), amount


async def refund_donation(
    *, settings: Settings, user: CurrentUser, donation_id: int, data: RefundCreate
) -> DonationRecord:
    """Refund all or part of a paid donation (never more than paid minus refunded)."""
    await own_donation(user, donation_id)
    gateway.ensure_configured(settings)
    before, intent_id, amount = await _reserve_refund(user, donation_id, data)
    try:
        refund = await gateway.create_refund(
            settings,
            intent_id=intent_id,
            amount_fen=amount,
            idempotency_key=f"nuanxin-donation-{donation_id}-refund-{before.refunded_fen}-{amount}",
        )
        if refund.status in (RefundStatus.failed, RefundStatus.canceled):
            raise Upstream(
                f"Stripe did not refund: the refund is {refund.status}",
                error="refund_failed",
            )
    except DomainError:
        async with atomic():
            await (
                Donation.update(
                    {
                        Donation.refunded_fen: Donation.refunded_fen - amount,
                        Donation.status: before.status,
                        Donation.updated_at: now(),
                    }
                )
                .where((Donation.id == donation_id) & (Donation.refunded_fen >= amount))
                .run()
            )
            await record(
                actor=user,
                action="donation.refund_failed",
                entity="donation",
                entity_id=donation_id,
                after={"amount_fen": amount},
            )
        raise
    async with atomic():
        await record(
            actor=user,
            action="donation.refund_sent",
            entity="donation",
            entity_id=donation_id,
            after={"refund": refund.id, "amount_fen": refund.amount, "status": refund.status},
        )
    after = await load_donation(donation_id)
    assert after is not None
    return after
