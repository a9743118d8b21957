"""Campaigns, money and goods donations, refunds and purchases: the books of the gifts.

Rules kept here:

* Money is an integer number of fen, always. A campaign's books are
  ``left = raised - refunded - spent`` and never go below zero through this platform: a purchase
  or a refund takes the campaign's row lock (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite
  ``atomic()`` is ``BEGIN IMMEDIATE``, one writer at a time), then reads the sums and checks
  them inside the same transaction, so two concurrent purchases cannot spend the same fen.
* A money donation is written first (own id, random tracking code), then its PaymentIntent is
  created with an idempotency key derived from the donation id. The form's own one-time key
  (``idempotency_key``) finds the same donation again: a double-submitted form charges once.
* A refund is reserved in the books before Stripe is asked (so concurrent refunds and purchases
  see it), and given back if Stripe refuses. A crash between the two leaves the refund counted
  but not sent: the books err on the side of less money, never more.
* Goods donations are accepted into an offer (new, or an open one of the same item at the
  same warehouse) through the offers service, the one place where stock is counted.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.query.functions.aggregate import Count, Sum

from nuanxin.accounts import charities
from nuanxin.audit.services import record
from nuanxin.db import atomic, engine
from nuanxin.donations import gateway, hooks
from nuanxin.donations.schemas import (
    Campaign,
    CampaignBooks,
    CampaignCreate,
    DonationCreate,
    DonationRecord,
    DonationStarted,
    GoodsAccept,
    GoodsDecline,
    GoodsDonationCreate,
    GoodsRegistered,
    Purchase,
    PurchaseCreate,
    RefundCreate,
)
from nuanxin.donations.tables import Campaign as CampaignTable
from nuanxin.donations.tables import Donation, DonationKind, DonationStatus, Payment
from nuanxin.donations.tables import Purchase as PurchaseTable
from nuanxin.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Upstream
from nuanxin.identity import CurrentUser, Role, digest
from nuanxin.offers import services as offers
from nuanxin.offers.schemas import OfferCreate, OfferUpdate
from nuanxin.pagination import Page, Pagination
from nuanxin.regions.services import get_region, subtree_prefix
from nuanxin.settings import Settings

__all__ = (
    "PAID",
    "accept_goods",
    "campaign_books",
    "close_campaign",
    "create_campaign",
    "decline_goods",
    "get_campaign",
    "item_ids",
    "list_campaigns",
    "list_donations",
    "list_purchases",
    "new_tracking_code",
    "record_purchase",
    "refund_donation",
    "register_goods",
    "start_donation",
    "today",
    "yuan",
)

# No 0/O, 1/I/L: a code read aloud or copied by hand is not mistaken.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 12  # 31**12 ≈ 2**59 codes
PAID = (
    DonationStatus.paid.value,
    DonationStatus.partially_refunded.value,
    DonationStatus.refunded.value,
)
OFFER_DAYS = 90  # how long bought or given goods stay on offer unless said otherwise


def _now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return _now().date()


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def yuan(fen: int) -> str:
    """``1234`` -> ``¥12.34`` (integers only: never through a float)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


async def _unused_tracking_code() -> str:
    while True:
        code = new_tracking_code()
        if not await Donation.exists().where(Donation.tracking_code == code).run():
            return code


def _is_unique_violation(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return "unique" in text or "duplicate key" in text


async def item_ids() -> dict[str, tuple[int, str]]:
    """Item code -> (id, kind), from the offers area's catalogue."""
    return {item.code: (item.id, item.kind) for item in await offers.list_items()}


# -- campaigns --------------------------------------------------------------------------------

_CAMPAIGN_COLUMNS = (
    *CampaignTable.all_columns(),
    CampaignTable.organization.name.as_alias("organization_name"),
    CampaignTable.region.code.as_alias("region_code"),
    CampaignTable.region.name.as_alias("region_name"),
)


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


async def campaign_books(campaign_ids: list[int]) -> dict[int, CampaignBooks]:
    """Each campaign's books, in three grouped queries whatever the number of campaigns.

    Units delivered come from :func:`nuanxin.donations.hooks.delivered_units_by_campaign`
    (0 until the delivery loop reports them): add further columns the same way, one grouped
    query keyed by campaign id.
    """
    if not campaign_ids:
        return {}
    money = await (
        Donation.select(
            Donation.campaign,
            Sum(Donation.amount_fen).as_alias("raised"),
            Sum(Donation.refunded_fen).as_alias("refunded"),
            Count(Donation.id).as_alias("donations"),
        )
        .where(
            Donation.campaign.is_in(campaign_ids)
            & (Donation.kind == DonationKind.money.value)
            & Donation.status.is_in(list(PAID))
        )
        .group_by(Donation.campaign)
        .run()
    )
    spent = await (
        PurchaseTable.select(
            PurchaseTable.campaign,
            Sum(PurchaseTable.cost_fen).as_alias("spent"),
            Sum(PurchaseTable.quantity).as_alias("bought"),
        )
        .where(PurchaseTable.campaign.is_in(campaign_ids))
        .group_by(PurchaseTable.campaign)
        .run()
    )
    delivered = await hooks.delivered_units_by_campaign(campaign_ids)
    by_money = {row["campaign"]: row for row in money}
    by_spent = {row["campaign"]: row for row in spent}
    books: dict[int, CampaignBooks] = {}
    for campaign_id in campaign_ids:
        m = by_money.get(campaign_id, {})
        s = by_spent.get(campaign_id, {})
        raised, refunded = _int(m.get("raised")), _int(m.get("refunded"))
        spent_fen = _int(s.get("spent"))
        books[campaign_id] = CampaignBooks(
            raised_fen=raised,
            refunded_fen=refunded,
            spent_fen=spent_fen,
            left_fen=raised - refunded - spent_fen,
            donations=_int(m.get("donations")),
            goods_bought=_int(s.get("bought")),
            units_delivered=delivered.get(campaign_id, 0),
        )
    return books


def _campaign(row: dict[str, Any], books: CampaignBooks) -> Campaign:
    return Campaign(
        id=row["id"],
        title=row["title"],
        organization_id=row["organization"],
        organization_name=row["organization_name"],
        region_code=row["region_code"],
        region_name=row["region_name"],
        item_codes=list(row["items"] or []),
        target_fen=row["target_fen"],
        ends_on=row["ends_on"],
        status=row["status"],
        created_at=row["created_at"],
        books=books,
    )


async def _campaign_row(campaign_id: int) -> dict[str, Any]:
    row = (
        await CampaignTable.select(*_CAMPAIGN_COLUMNS)
        .where(CampaignTable.id == campaign_id)
        .output(load_json=True)
        .first()
        .run()
    )
    if row is None:
        raise NotFound("No such campaign")
    return dict(row)


async def get_campaign(*, campaign_id: int) -> Campaign:
    row = await _campaign_row(campaign_id)
    return _campaign(row, (await campaign_books([campaign_id]))[campaign_id])


async def list_campaigns(
    *,
    page: Pagination,
    status: str | None = "open",
    region_code: str | None = None,
    organization_id: int | None = None,
) -> Page[Campaign]:
    """Campaigns (open ones by default), newest first, each with its books."""
    where: list[Any] = []
    if status is not None:
        where.append(CampaignTable.status == status)
        if status == "open":
            where.append(CampaignTable.ends_on >= _now().date())
    if region_code is not None:
        region = await get_region(region_code)
        prefix = "-" if region is None else subtree_prefix(region.code, region.level)
        where.append(CampaignTable.region.code.like(prefix + "%"))
    if organization_id is not None:
        where.append(CampaignTable.organization == organization_id)
    query = CampaignTable.select(*_CAMPAIGN_COLUMNS).output(load_json=True)
    count = CampaignTable.count()
    for condition in where:
        query = query.where(condition)
        count = count.where(condition)
    rows = (
        await query.order_by(CampaignTable.id, ascending=False)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    books = await campaign_books([row["id"] for row in rows])
    return Page(
        items=[_campaign(row, books[row["id"]]) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


def _member_of_charity(user: CurrentUser) -> int:
    if user.role is not Role.charity or user.organization_id is None:
        raise Forbidden("Only a charity's members may do this")
    return user.organization_id


async def create_campaign(*, user: CurrentUser, data: CampaignCreate) -> Campaign:
    """A member of a verified charity opens a campaign for a county and catalogue items."""
    organization_id = _member_of_charity(user)
    if data.ends_on <= _now().date():
        raise Invalid("The end date must be in the future", field="ends_on")
    region = await get_region(data.region_code)
    if region is None or region.level != "county":
        raise Invalid(f"No county has the code {data.region_code!r}", field="region_code")
    known = await item_ids()
    unknown = [code for code in data.item_codes if code not in known]
    if unknown:
        raise Invalid(f"Not in the catalogue: {', '.join(unknown)}", field="item_codes")
    async with atomic():
        await charities.ensure_verified(organization_id=organization_id)
        rows = (
            await CampaignTable.insert(
                CampaignTable(
                    organization=organization_id,
                    title=data.title,
                    region=region.id,
                    items=list(dict.fromkeys(data.item_codes)),
                    target_fen=data.target_fen,
                    ends_on=data.ends_on,
                    status="open",
                    created_at=_now(),
                )
            )
            .returning(CampaignTable.id)
            .run()
        )
        campaign_id = int(rows[0]["id"])
        await record(
            actor=user,
            action="campaign.create",
            entity="campaign",
            entity_id=campaign_id,
            after={
                "title": data.title,
                "region": data.region_code,
                "items": data.item_codes,
                "target_fen": data.target_fen,
                "ends_on": data.ends_on.isoformat(),
            },
        )
    return await get_campaign(campaign_id=campaign_id)


async def _own_campaign(user: CurrentUser, campaign_id: int) -> dict[str, Any]:
    row = await _campaign_row(campaign_id)
    if user.role is not Role.charity or user.organization_id != row["organization"]:
        raise NotFound("No such campaign for your charity")
    return row


async def close_campaign(*, user: CurrentUser, campaign_id: int) -> Campaign:
    """The charity closes its campaign: no new donations; its money can still buy goods."""
    async with atomic():
        await _own_campaign(user, campaign_id)
        closed = (
            await CampaignTable.update({CampaignTable.status: "closed"})
            .where((CampaignTable.id == campaign_id) & (CampaignTable.status == "open"))
            .returning(CampaignTable.id)
            .run()
        )
        if not closed:
            raise Conflict("The campaign is closed already", error="campaign_closed")
        await record(
            actor=user,
            action="campaign.close",
            entity="campaign",
            entity_id=campaign_id,
            before={"status": "open"},
            after={"status": "closed"},
        )
    return await get_campaign(campaign_id=campaign_id)


async def _lock_campaign(campaign_id: int) -> None:
    """Hold the campaign's row until the transaction ends (see the module's docstring)."""
    if isinstance(engine(), PostgresEngine):
        await (
            CampaignTable.select(CampaignTable.id)
            .where(CampaignTable.id == campaign_id)
            .lock_rows()
            .run()
        )


# -- money donations --------------------------------------------------------------------------


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


async def _open_campaign(campaign_id: int) -> dict[str, Any]:
    row = await _campaign_row(campaign_id)
    if row["status"] != "open" or row["ends_on"] < _now().date():
        raise Conflict("The campaign takes no more donations", error="campaign_closed")
    return row


async def _write_donation(campaign_id: int, data: DonationCreate, form_key: str | None) -> _Gift:
    async with atomic():
        campaign = await _open_campaign(campaign_id)
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
        code = await _unused_tracking_code()
        now = _now()
        rows = (
            await Donation.insert(
                Donation(
                    tracking_code=code,
                    kind=DonationKind.money.value,
                    organization=campaign["organization"],
                    campaign=campaign_id,
                    donor_name=data.donor_name,
                    donor_email=data.donor_email,
                    amount_fen=data.amount_fen,
                    status=DonationStatus.created.value,
                    created_at=now,
                    updated_at=now,
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
            after={"kind": "money", "campaign": campaign_id, "amount_fen": data.amount_fen},
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
        gift = await _write_donation(campaign_id, data, form_key)
    except DomainError:
        raise
    except Exception as exc:
        # The same form, submitted twice at once: the other request wrote the donation.
        if form_key is None or not _is_unique_violation(exc):
            raise
        gift = await _write_donation(campaign_id, data, form_key)
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
                        created_at=_now(),
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


# -- what a charity sees of its donations -----------------------------------------------------

_DONATION_COLUMNS = (
    *Donation.all_columns(exclude=[Donation.form_key, Donation.tracking_code]),
    Donation.item.code.as_alias("item_code"),
)


def _donation(row: dict[str, Any]) -> DonationRecord:
    return DonationRecord(
        id=row["id"],
        kind=DonationKind(row["kind"]),
        status=DonationStatus(row["status"]),
        organization_id=row["organization"],
        campaign_id=row["campaign"],
        amount_fen=row["amount_fen"],
        refunded_fen=row["refunded_fen"],
        currency=row["currency"],
        item_code=row["item_code"],
        quantity=row["quantity"],
        offer_id=row["offer"],
        donor_name=row["donor_name"],
        donor_email=row["donor_email"],
        created_at=row["created_at"],
        settled_at=row["settled_at"],
    )


async def _load_donation(donation_id: int) -> DonationRecord | None:
    row = await Donation.select(*_DONATION_COLUMNS).where(Donation.id == donation_id).first().run()
    return None if row is None else _donation(row)


async def _own_donation(user: CurrentUser, donation_id: int) -> DonationRecord:
    donation = await _load_donation(donation_id)
    if (
        donation is None
        or user.role is not Role.charity
        or user.organization_id != donation.organization_id
    ):
        raise NotFound("No such donation for your charity")
    return donation


async def list_donations(
    *,
    user: CurrentUser,
    page: Pagination,
    kind: DonationKind | None = None,
    status: DonationStatus | None = None,
    campaign_id: int | None = None,
) -> Page[DonationRecord]:
    """A charity's donations (admins: all), newest first."""
    where: list[Any] = []
    if user.role is not Role.admin:
        where.append(Donation.organization == _member_of_charity(user))
    if kind is not None:
        where.append(Donation.kind == kind.value)
    if status is not None:
        where.append(Donation.status == status.value)
    if campaign_id is not None:
        where.append(Donation.campaign == campaign_id)
    query = Donation.select(*_DONATION_COLUMNS)
    count = Donation.count()
    for condition in where:
        query = query.where(condition)
        count = count.where(condition)
    rows = (
        await query.order_by(Donation.id, ascending=False)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    return Page(
        items=[_donation(row) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


# -- refunds ----------------------------------------------------------------------------------


def refund_status(amount_fen: int, refunded_fen: int) -> DonationStatus:
    if refunded_fen <= 0:
        return DonationStatus.paid
    if refunded_fen >= amount_fen:
        return DonationStatus.refunded
    return DonationStatus.partially_refunded


async def _reserve_refund(
    user: CurrentUser, donation_id: int, data: RefundCreate
) -> tuple[DonationRecord, str, int]:
    async with atomic():
        donation = await _own_donation(user, donation_id)
        if donation.kind is not DonationKind.money or donation.status.value not in (
            DonationStatus.paid.value,
            DonationStatus.partially_refunded.value,
        ):
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
            .where((Payment.donation == donation_id) & (Payment.status == "succeeded"))
            .first()
            .run()
        )
        if payment is None:
            raise Conflict("No succeeded payment backs this donation", error="not_refundable")
        if donation.campaign_id is not None:
            await _lock_campaign(donation.campaign_id)
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
                    Donation.status: status.value,
                    Donation.updated_at: _now(),
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
    await _own_donation(user, donation_id)
    gateway.ensure_configured(settings)
    before, intent_id, amount = await _reserve_refund(user, donation_id, data)
    try:
        refund = await gateway.create_refund(
            settings,
            intent_id=intent_id,
            amount_fen=amount,
            idempotency_key=f"nuanxin-donation-{donation_id}-refund-{before.refunded_fen}-{amount}",
        )
        if refund.status in ("failed", "canceled"):
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
                        Donation.status: before.status.value,
                        Donation.updated_at: _now(),
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
    after = await _load_donation(donation_id)
    assert after is not None
    return after


# -- purchases: campaign money turned into goods ----------------------------------------------


def _purchase(row: dict[str, Any]) -> Purchase:
    return Purchase(
        id=row["id"],
        campaign_id=row["campaign"],
        offer_id=row["offer"],
        item_code=row["item_code"],
        quantity=row["quantity"],
        cost_fen=row["cost_fen"],
        created_at=row["created_at"],
    )


_PURCHASE_COLUMNS = (*PurchaseTable.all_columns(), PurchaseTable.item.code.as_alias("item_code"))


async def list_purchases(*, campaign_id: int, page: Pagination) -> Page[Purchase]:
    await _campaign_row(campaign_id)
    where = PurchaseTable.campaign == campaign_id
    rows = (
        await PurchaseTable.select(*_PURCHASE_COLUMNS)
        .where(where)
        .order_by(PurchaseTable.id)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    return Page(
        items=[_purchase(row) for row in rows],
        total=await PurchaseTable.count().where(where).run(),
        limit=page.limit,
        offset=page.offset,
    )


async def record_purchase(*, user: CurrentUser, campaign_id: int, data: PurchaseCreate) -> Purchase:
    """Spend campaign money on goods: an offer at the charity's warehouse, in one transaction.

    The money must be there (``cost <= raised - refunded - spent``, checked under the
    campaign's lock), or nothing is written (409).
    """
    async with atomic():
        campaign = await _own_campaign(user, campaign_id)
        if data.item_code not in (campaign["items"] or []):
            raise Invalid(
                f"The campaign buys {', '.join(campaign['items'])}, not {data.item_code}",
                field="item_code",
            )
        await _lock_campaign(campaign_id)
        left = (await campaign_books([campaign_id]))[campaign_id].left_fen
        if data.cost_fen > left:
            raise Conflict(
                f"The campaign has {yuan(left)} left, not {yuan(data.cost_fen)}",
                error="insufficient_funds",
                field="cost_fen",
            )
        today = _now().date()
        offer = await offers.create_offer(
            user=user,
            data=OfferCreate(
                warehouse_id=data.warehouse_id,
                item_code=data.item_code,
                quantity=data.quantity,
                radius_km=data.radius_km,
                available_from=today,
                available_until=data.available_until or today + timedelta(days=OFFER_DAYS),
                note=f"campaign {campaign_id}",
            ),
        )
        item_id = (await item_ids())[data.item_code][0]
        rows = (
            await PurchaseTable.insert(
                PurchaseTable(
                    campaign=campaign_id,
                    offer=offer.id,
                    item=item_id,
                    quantity=data.quantity,
                    cost_fen=data.cost_fen,
                    recorded_by=user.id,
                    created_at=_now(),
                )
            )
            .returning(PurchaseTable.id)
            .run()
        )
        purchase_id = int(rows[0]["id"])
        await record(
            actor=user,
            action="purchase.create",
            entity="purchase",
            entity_id=purchase_id,
            after={
                "campaign": campaign_id,
                "offer": offer.id,
                "item": data.item_code,
                "quantity": data.quantity,
                "cost_fen": data.cost_fen,
                "left_fen": left,
            },
        )
        row = (
            await PurchaseTable.select(*_PURCHASE_COLUMNS)
            .where(PurchaseTable.id == purchase_id)
            .first()
            .run()
        )
        assert row is not None
    return _purchase(row)


# -- goods donations --------------------------------------------------------------------------


async def register_goods(*, data: GoodsDonationCreate) -> GoodsRegistered:
    """A donor registers goods handed to a charity; the charity then accepts or declines."""
    items = await item_ids()
    if data.item_code not in items:
        raise Invalid(
            f"No catalogue item has the code {data.item_code!r}",
            field="item_code",
        )
    async with atomic():
        await charities.ensure_verified(organization_id=data.organization_id)
        if data.campaign_id is not None:
            campaign = await _open_campaign(data.campaign_id)
            if campaign["organization"] != data.organization_id:
                raise Invalid(
                    "The campaign belongs to another charity",
                    field="campaign_id",
                )
        code = await _unused_tracking_code()
        now = _now()
        rows = (
            await Donation.insert(
                Donation(
                    tracking_code=code,
                    kind=DonationKind.goods.value,
                    organization=data.organization_id,
                    campaign=data.campaign_id,
                    donor_name=data.donor_name,
                    donor_email=data.donor_email,
                    item=items[data.item_code][0],
                    quantity=data.quantity,
                    status=DonationStatus.created.value,
                    created_at=now,
                    updated_at=now,
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
                "kind": "goods",
                "item": data.item_code,
                "quantity": data.quantity,
                "organization": data.organization_id,
            },
        )
    return GoodsRegistered(
        donation_id=donation_id, tracking_code=code, status=DonationStatus.created
    )


async def _settle_goods(
    user: CurrentUser, donation_id: int, status: DonationStatus, offer_id: int | None
) -> None:
    settled = (
        await Donation.update(
            {
                Donation.status: status.value,
                Donation.offer: offer_id,
                Donation.settled_at: _now(),
                Donation.updated_at: _now(),
            }
        )
        .where((Donation.id == donation_id) & (Donation.status == DonationStatus.created.value))
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
        donation = await _own_donation(user, donation_id)
        _undecided_goods(donation)
        assert donation.item_code is not None
        if data.offer_id is not None:
            offer = await offers.get_offer(user=user, offer_id=data.offer_id)
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
            today = _now().date()
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
        await _settle_goods(user, donation_id, DonationStatus.accepted, offer.id)
        await record(
            actor=user,
            action="donation.accept",
            entity="donation",
            entity_id=donation_id,
            before={"status": "created"},
            after={"status": "accepted", "offer": offer.id, "quantity": donation.quantity},
        )
    after = await _load_donation(donation_id)
    assert after is not None
    return after


async def decline_goods(
    *, user: CurrentUser, donation_id: int, data: GoodsDecline
) -> DonationRecord:
    async with atomic():
        donation = await _own_donation(user, donation_id)
        _undecided_goods(donation)
        await _settle_goods(user, donation_id, DonationStatus.declined, None)
        await record(
            actor=user,
            action="donation.decline",
            entity="donation",
            entity_id=donation_id,
            before={"status": "created"},
            after={"status": "declined", "reason": data.reason},
        )
    after = await _load_donation(donation_id)
    assert after is not None
    return after
