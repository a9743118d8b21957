"""Goods donations: registered by the donor, accepted into an offer or declined by the charity.

* Anyone may register goods handed to a verified charity (optionally for one of its open
  campaigns); the donor gets a tracking code.
* The charity decides once: accepted goods join an open offer of the same item at the same
  warehouse, or a new one, through the offers service, the one place where stock is counted
  (this module never writes an offer itself); declined goods keep the reason in the audit log.
"""

from __future__ import annotations

from datetime import timedelta

from nuanxin.accounts import organizations as charities
from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.donations.campaigns import item_ids, now, open_campaign
from nuanxin.donations.purchases import OFFER_DAYS
from nuanxin.donations.records import load_donation, own_donation, unused_tracking_code
from nuanxin.donations.schemas import (
    DonationRecord,
    GoodsAccept,
    GoodsDecline,
    GoodsDonationCreate,
    GoodsRegistered,
)
from nuanxin.donations.tables import Donation
from nuanxin.donations.vocabulary import DonationKind, DonationStatus
from nuanxin.errors import Conflict, Invalid
from nuanxin.identity import CurrentUser
from nuanxin.offers import services as offers
from nuanxin.offers.schemas import OfferCreate, OfferUpdate

__all__ = ("accept_goods", "decline_goods", "register_goods")


async def register_goods(*, data: GoodsDonationCreate) -> GoodsRegistered:
    """A donor registers goods handed to a charity; the charity then accepts or declines."""
    items = await item_ids()
    if data.item_code not in items:
        raise Invalid(
            f"No catalogue item has the code {data.item_code!r}",
            field="item_code",
        )
    async with atomic():
        await charities.ensure_verified(
            organization_id=data.organization_id, field="organization_id"
        )
        if data.campaign_id is not None:
            campaign = await open_campaign(data.campaign_id, field="campaign_id")
            if campaign["organization"] != data.organization_id:
                raise Invalid(
                    "The campaign belongs to another charity",
                    field="campaign_id",
                )
        code = await unused_tracking_code()
        at = now()
        rows = (
            await Donation.insert(
                Donation(
                    tracking_code=code,
                    kind=DonationKind.goods,
                    organization=data.organization_id,
                    campaign=data.campaign_id,
                    donor_name=data.donor_name,
                    donor_email=data.donor_email,
                    item=items[data.item_code][0],
                    quantity=data.quantity,
                    status=DonationStatus.created,
                    created_at=at,
                    updated_at=at,
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
                "kind": DonationKind.goods.value,
                "item": data.item_code,
                "quantity": data.quantity,
                "organization": data.organization_id,
            },
        )
    return GoodsRegistered(
        donation_id=donation_id, tracking_code=code, status=DonationStatus.created
    )


async def _settle_goods(donation_id: int, status: DonationStatus, offer_id: int | None) -> None:
    at = now()
    settled = (
        await Donation.update(
            {
                Donation.status: status,
                Donation.offer: offer_id,
                Donation.settled_at: at,
                Donation.updated_at: at,
            }
        )
        .where((Donation.id == donation_id) & (Donation.status == DonationStatus.created))
        .returning(Donation.id)
        .run()
    )
    if not settled:
        raise Conflict("The donation was decided already", error="already_decided")


def _undecided_goods(donation: DonationRecord) -> None:
    if donation.kind is not DonationKind.goods:
        raise Conflict("Only goods donations are accepted or declined", error="not_goods")
    if donation.status is not DonationStatus.created:
        raise Conflict(
            f"The donation is {donation.status.value} already",
            error="already_decided",
            field="status",
        )


async def accept_goods(*, user: CurrentUser, donation_id: int, data: GoodsAccept) -> DonationRecord:
    """The charity takes the goods in: they join an open offer of the same item, or a new one."""
    async with atomic():
        donation = await own_donation(user, donation_id)
        _undecided_goods(donation)
        assert donation.item_code is not None
        if data.offer_id is not None:
            offer = await offers.get_offer(user=user, offer_id=data.offer_id, field="offer_id")
            if offer.item_code != donation.item_code or offer.warehouse_id != data.warehouse_id:
                raise Invalid(
                    "The offer is not of this item at this warehouse",
                    field="offer_id",
                )
            offer = await offers.update_offer(
                user=user,
                offer_id=offer.id,
                data=OfferUpdate(quantity=offer.quantity + donation.quantity),
            )
        else:
            today = now().date()
            offer = await offers.create_offer(
                user=user,
                data=OfferCreate(
                    warehouse_id=data.warehouse_id,
                    item_code=donation.item_code,
                    quantity=donation.quantity,
                    radius_km=data.radius_km,
                    available_from=today,
                    available_until=data.available_until or today + timedelta(days=OFFER_DAYS),
                    note=f"goods donation {donation_id}",
                ),
            )
        await _settle_goods(donation_id, DonationStatus.accepted, offer.id)
        await record(
            actor=user,
            action="donation.accept",
            entity="donation",
            entity_id=donation_id,
            before={"status": DonationStatus.created.value},
            after={
                "status": DonationStatus.accepted.value,
                "offer": offer.id,
                "quantity": donation.quantity,
            },
        )
    after = await load_donation(donation_id)
    assert after is not None
    return after


async def decline_goods(
    *, user: CurrentUser, donation_id: int, data: GoodsDecline
) -> DonationRecord:
    async with atomic():
        donation = await own_donation(user, donation_id)
        _undecided_goods(donation)
        await _settle_goods(donation_id, DonationStatus.declined, None)
        await record(
            actor=user,
            action="donation.decline",
            entity="donation",
            entity_id=donation_id,
            before={"status": DonationStatus.created.value},
            after={"status": DonationStatus.declined.value, "reason": data.reason},
        )
    after = await load_donation(donation_id)
    assert after is not None
    return after
