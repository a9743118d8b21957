"""Money donations, paid through Stripe PaymentIntents.

* A money donation is written first (own id, random tracking code), then its PaymentIntent is
  created with an idempotency key derived from the donation id (:mod:`.gateway`).
* The form's own one-time key (``idempotency_key``) is stored as its digest (``form_key``) and
  finds the same donation again: a double-submitted form charges once, even when both
  submissions arrive at the same moment (the unique index decides, the loser reads the winner's
  donation).
* The donation records the platform's currency (``CURRENCY``), the one its intent is in: the
  webhook applies a payment only in the donation's own currency.
* Whether it was paid is Stripe's word, applied by :mod:`.webhooks`.
"""

from __future__ import annotations

from dataclasses import dataclass

from nuanxin.accounts import organizations as charities
from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.donations import gateway
from nuanxin.donations.campaigns import now, open_campaign
from nuanxin.donations.records import is_unique_violation, unused_tracking_code
from nuanxin.donations.schemas import DonationCreate, DonationStarted
from nuanxin.donations.tables import Donation, Payment
from nuanxin.donations.vocabulary import DonationKind, DonationStatus
from nuanxin.errors import Conflict, DomainError, Invalid
from nuanxin.identity import digest
from nuanxin.settings import Settings

__all__ = ("start_donation",)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Gift:
    id: int
    tracking_code: str
    status: DonationStatus
    amount_fen: int
    campaign_id: int | None


async def _gift_by_form_key(form_key: str) -> _Gift | None:
    row = await (
        Donation.select(
            Donation.id,
            Donation.tracking_code,
            Donation.status,
            Donation.amount_fen,
            Donation.campaign,
        )
        .where(Donation.form_key == form_key)
        .first()
        .run()
    )
    if row is None:
        return None
    return _Gift(
        id=row["id"],
        tracking_code=row["tracking_code"],
        status=DonationStatus(row["status"]),
        amount_fen=row["amount_fen"],
        campaign_id=row["campaign"],
    )


async def _write_donation(
    campaign_id: int, data: DonationCreate, form_key: str | None, currency: str
) -> _Gift:
    async with atomic():
        campaign = await open_campaign(campaign_id)
        await charities.ensure_verified(organization_id=campaign["organization"])
        if form_key is not None:
            found = await _gift_by_form_key(form_key)
            if found is not None:
                if found.campaign_id != campaign_id or found.amount_fen != data.amount_fen:
                    raise Conflict(
                        "This form key belongs to another donation",
                        field="idempotency_key",
                    )
                return found
        code = await unused_tracking_code()
        at = now()
        rows = (
            await Donation.insert(
                Donation(
                    tracking_code=code,
                    kind=DonationKind.money,
                    organization=campaign["organization"],
                    campaign=campaign_id,
                    donor_name=data.donor_name,
                    donor_email=data.donor_email,
                    amount_fen=data.amount_fen,
                    currency=currency,
                    status=DonationStatus.created,
                    created_at=at,
                    updated_at=at,
                    form_key=form_key,
                )
            )
            .returning(Donation.id)
            .run()
        )
        donation_id = int(rows[0]["id"])
        await record(
            actor=None,
            actor_label="donor",
            action="donation.create",
            entity="donation",
            entity_id=donation_id,
            after={
                "kind": DonationKind.money.value,
                "campaign": campaign_id,
                "amount_fen": data.amount_fen,
            },
        )
        return _Gift(
            id=donation_id,
            tracking_code=code,
            status=DonationStatus.created,
            amount_fen=data.amount_fen,
            campaign_id=campaign_id,
        )


async def start_donation(
    *, settings: Settings, campaign_id: int, data: DonationCreate
) -> DonationStarted:
    """Write the donation, then its PaymentIntent; the same form key gives the same donation."""
    if data.currency is not None and data.currency.lower() != settings.currency:
        raise Invalid(
            f"Donations are taken in {settings.currency.upper()}, not {data.currency!r}",
            field="currency",
        )
    gateway.ensure_configured(settings)
    form_key = None if data.idempotency_key is None else digest(data.idempotency_key)
    try:
        gift = await _write_donation(campaign_id, data, form_key, settings.currency)
    except DomainError:
        raise
    except Exception as exc:
        # The same form, submitted twice at once: the other request wrote the donation.
        if form_key is None or not is_unique_violation(exc):
            raise
        gift = await _write_donation(campaign_id, data, form_key, settings.currency)
    payment = (
        await Payment.select(Payment.intent_id)
        .where(Payment.donation == gift.id)
        .order_by(Payment.id)
        .first()
        .run()
    )
    if payment is not None:
        intent = await gateway.retrieve_intent(settings, intent_id=payment["intent_id"])
    else:
        intent = await gateway.create_intent(
            settings,
            donation_id=gift.id,
            amount_fen=gift.amount_fen,
            tracking_code=gift.tracking_code,
        )
        async with atomic():
            if not await Payment.exists().where(Payment.intent_id == intent.id).run():
                await Payment.insert(
                    Payment(
                        donation=gift.id,
                        intent_id=intent.id,
                        amount_fen=gift.amount_fen,
                        status=intent.status,
                        created_at=now(),
                    )
                ).run()
    return DonationStarted(
        donation_id=gift.id,
        tracking_code=gift.tracking_code,
        status=gift.status,
        amount_fen=gift.amount_fen,
        currency=settings.currency,
        client_secret=intent.client_secret,
        publishable_key=settings.stripe_publishable_key,
        payment_methods=list(settings.payment_methods),
    )
