"""Campaigns and their books: a charity's appeals, and what each raised, refunded and spent.

* Money is an integer number of fen, always. A campaign's books are
  ``left = raised - refunded - spent`` and never go below zero through this platform: a purchase
  or a refund takes the campaign's row lock (:func:`lock_campaign`: ``SELECT ... FOR UPDATE``
  on PostgreSQL; on SQLite ``atomic()`` is ``BEGIN IMMEDIATE``, one writer at a time), then
  reads the sums (:func:`campaign_books`) and checks them inside the same transaction, so two
  concurrent purchases cannot spend the same fen.
* A campaign takes donations while it is open and its end date has not passed; a closed
  campaign's money can still buy goods.
* Only the campaign's own charity acts on it (:func:`own_campaign`, through the identity
  core's visibility rule); anyone may read it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.query.functions.aggregate import Count, Sum

from nuanxin.accounts import organizations as charities
from nuanxin.audit.services import record
from nuanxin.db import atomic, engine
from nuanxin.donations import hooks
from nuanxin.donations.schemas import Campaign, CampaignBooks, CampaignCreate
from nuanxin.donations.tables import Campaign as CampaignTable
from nuanxin.donations.tables import Donation
from nuanxin.donations.tables import Purchase as PurchaseTable
from nuanxin.donations.vocabulary import PAID, CampaignStatus, DonationKind
from nuanxin.errors import Conflict, Forbidden, Invalid, NotFound
from nuanxin.identity import CurrentUser, Role, ensure_visible
from nuanxin.offers import services as offers
from nuanxin.pagination import Page, Pagination
from nuanxin.regions.services import get_region, subtree_prefix

__all__ = (
    "campaign_books",
    "campaign_row",
    "close_campaign",
    "create_campaign",
    "get_campaign",
    "item_ids",
    "list_campaigns",
    "lock_campaign",
    "member_of_charity",
    "now",
    "open_campaign",
    "own_campaign",
    "today",
    "yuan",
)


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().date()


def yuan(fen: int) -> str:
    """``1234`` -> ``¥12.34`` (integers only: never through a float)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


async def item_ids() -> dict[str, tuple[int, str]]:
    """Item code -> (id, kind), from the offers area's catalogue."""
    return {item.code: (item.id, item.kind) for item in await offers.list_items()}


def member_of_charity(user: CurrentUser) -> int:
    """The caller's charity: only a charity's members act for it."""
    if user.role is not Role.charity or user.organization_id is None:
        raise Forbidden("Only a charity's members may do this")
    return user.organization_id


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
            & (Donation.kind == DonationKind.money)
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
        status=CampaignStatus(row["status"]),
        created_at=row["created_at"],
        books=books,
    )


async def campaign_row(campaign_id: int, *, field: str | None = None) -> dict[str, Any]:
    """The campaign's row with its charity's and county's names (404 if there is none).

    ``field`` names the body field the id came in, if it did not come in the path.
    """
    row = (
        await CampaignTable.select(*_CAMPAIGN_COLUMNS)
        .where(CampaignTable.id == campaign_id)
        .output(load_json=True)
        .first()
        .run()
    )
    if row is None:
        raise NotFound(f"No campaign has the id {campaign_id}", field=field)
    return dict(row)


async def get_campaign(*, campaign_id: int) -> Campaign:
    row = await campaign_row(campaign_id)
    return _campaign(row, (await campaign_books([campaign_id]))[campaign_id])


async def list_campaigns(
    *,
    page: Pagination,
    status: CampaignStatus | None = CampaignStatus.open,
    region_code: str | None = None,
    organization_id: int | None = None,
) -> Page[Campaign]:
    """Campaigns (open ones by default), newest first, each with its books."""
    where: list[Any] = []
    if status is not None:
        where.append(CampaignTable.status == status)
        if status is CampaignStatus.open:
            where.append(CampaignTable.ends_on >= today())
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


async def create_campaign(*, user: CurrentUser, data: CampaignCreate) -> Campaign:
    """A member of a verified charity opens a campaign for a county and catalogue items."""
    organization_id = member_of_charity(user)
    if data.ends_on <= today():
        raise Invalid(
            "The end date must be in the future", field="ends_on", message_id="end_date_in_past"
        )
    region = await get_region(data.region_code)
    if region is None or region.level != "county":
        raise Invalid(
            f"No county has the code {data.region_code!r}",
            field="region_code",
            message_id="unknown_region",
        )
    known = await item_ids()
    unknown = [code for code in data.item_codes if code not in known]
    if unknown:
        raise Invalid(
            f"Not in the catalogue: {', '.join(unknown)}",
            field="item_codes",
            message_id="unknown_item",
        )
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
                    status=CampaignStatus.open,
                    created_at=now(),
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


async def own_campaign(user: CurrentUser, campaign_id: int) -> dict[str, Any]:
    """The campaign's row, if the caller is a member of its charity (else: not found)."""
    row = await campaign_row(campaign_id)
    if user.role is not Role.charity:
        raise NotFound("No such campaign for your charity")
    ensure_visible(user, what="campaign", organization_id=row["organization"])
    return row


async def open_campaign(campaign_id: int, *, field: str | None = None) -> dict[str, Any]:
    """The campaign's row, if it still takes donations (else: 409 ``campaign_closed``)."""
    row = await campaign_row(campaign_id, field=field)
    if row["status"] != CampaignStatus.open or row["ends_on"] < today():
        raise Conflict("The campaign takes no more donations", error="campaign_closed", field=field)
    return row


async def close_campaign(*, user: CurrentUser, campaign_id: int) -> Campaign:
    """The charity closes its campaign: no new donations; its money can still buy goods."""
    async with atomic():
        await own_campaign(user, campaign_id)
        closed = (
            await CampaignTable.update({CampaignTable.status: CampaignStatus.closed})
            .where(
                (CampaignTable.id == campaign_id) & (CampaignTable.status == CampaignStatus.open)
            )
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
            before={"status": CampaignStatus.open.value},
            after={"status": CampaignStatus.closed.value},
        )
    return await get_campaign(campaign_id=campaign_id)


async def lock_campaign(campaign_id: int) -> None:
    """Hold the campaign's row until the transaction ends (see the module's docstring)."""
    if isinstance(engine(), PostgresEngine):
        await (
            CampaignTable.select(CampaignTable.id)
            .where(CampaignTable.id == campaign_id)
            .lock_rows()
            .run()
        )
