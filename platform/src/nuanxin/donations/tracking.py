"""What a donor and the public see: a gift's timeline by its code, receipts, the dashboard.

Nothing here ever reads a household: the "matched" and "delivered" steps come from
:mod:`nuanxin.donations.hooks`, which answers with a county and a household category only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from piccolo.query.functions.aggregate import Sum

from nuanxin.donations import hooks
from nuanxin.donations.campaigns import campaign_books, yuan
from nuanxin.donations.records import TRACKING_ALPHABET
from nuanxin.donations.schemas import DashboardRow, Receipt, TimelineEvent, Tracking
from nuanxin.donations.tables import Donation
from nuanxin.donations.tables import Purchase as PurchaseTable
from nuanxin.donations.vocabulary import PAID, DonationKind, DonationStatus, TimelineStep
from nuanxin.errors import NotFound

__all__ = ("dashboard", "get_receipt", "track", "valid_code")

STEP_ORDER = {step: rank for rank, step in enumerate(TimelineStep)}
_CODE_CHARS = frozenset(TRACKING_ALPHABET)


def valid_code(code: str) -> bool:
    return 8 <= len(code) <= 16 and set(code) <= _CODE_CHARS


# The donation by its code, with the names a timeline and a receipt show: every donor's page
# view runs it. Raw SQL, the columns named as Piccolo's select named them: built by Piccolo
# (four tables joined), the same select cost more CPU than the database spent on it.
_BY_CODE = (
    "SELECT donation.id, donation.tracking_code, donation.kind, donation.organization, "
    "donation.campaign, donation.donor_name, donation.donor_email, donation.amount_fen, "
    "donation.refunded_fen, donation.currency, donation.item, donation.quantity, "
    "donation.offer, donation.status, donation.created_at, donation.updated_at, "
    "donation.settled_at, organization.name AS organization_name, "
    "organization.credit_code AS organization_credit_code, campaign.title AS campaign_title, "
    "item.code AS item_code, item.name_zh AS item_name_zh, item.name_en AS item_name_en "
    "FROM donation JOIN organization ON organization.id = donation.organization "
    "LEFT JOIN campaign ON campaign.id = donation.campaign "
    "LEFT JOIN item ON item.id = donation.item "
    "WHERE donation.tracking_code = {}"
)


async def _by_code(code: str) -> dict[str, Any]:
    normalised = code.strip().upper()
    rows = await Donation.raw(_BY_CODE, normalised).run() if valid_code(normalised) else []
    if not rows:
        raise NotFound("No donation has this tracking code")
    return dict(rows[0])


async def _contributions(row: dict[str, Any]) -> list[tuple[hooks.Contribution, int, datetime]]:
    """(contribution, share of the cost in fen, when) for each offer the gift went into."""
    if row["kind"] == DonationKind.goods:
        if row["status"] != DonationStatus.accepted or row["offer"] is None:
            return []
        contribution = hooks.Contribution(
            offer_id=row["offer"], item_code=row["item_code"], units=float(row["quantity"])
        )
        return [(contribution, 0, row["settled_at"] or row["updated_at"])]
    net = row["amount_fen"] - row["refunded_fen"]
    campaign_id = row["campaign"]
    if row["status"] not in PAID or net <= 0 or campaign_id is None:
        return []
    books = (await campaign_books([campaign_id]))[campaign_id]
    pool = books.raised_fen - books.refunded_fen
    if pool <= 0:
        return []
    purchases = (
        await PurchaseTable.select(
            PurchaseTable.offer,
            PurchaseTable.quantity,
            PurchaseTable.cost_fen,
            PurchaseTable.created_at,
            PurchaseTable.item.code.as_alias("item_code"),
        )
        .where(PurchaseTable.campaign == campaign_id)
        .order_by(PurchaseTable.id)
        .run()
    )
    # Pooled money: each purchase is this gift's in proportion to its part of the pool.
    return [
        (
            hooks.Contribution(
                offer_id=p["offer"],
                item_code=p["item_code"],
                units=round(p["quantity"] * net / pool, 3),
            ),
            p["cost_fen"] * net // pool,
            p["created_at"],
        )
        for p in purchases
    ]


async def track(*, code: str) -> Tracking:
    """A gift's way, by its code: received → paid/accepted → goods → matched → delivered."""
    row = await _by_code(code)
    status = DonationStatus(row["status"])
    money = row["kind"] == DonationKind.money
    events = [
        TimelineEvent(
            step=TimelineStep.received,
            at=row["created_at"],
            label_zh="已收到捐赠登记",
            label_en="Donation received",
            amount_fen=row["amount_fen"] if money else None,
            item_code=None if money else row["item_code"],
            units=None if money else float(row["quantity"]),
        )
    ]
    settled = row["settled_at"] or row["updated_at"]
    if money and status in PAID:
        events.append(
            TimelineEvent(
                step=TimelineStep.paid,
                at=settled,
                label_zh="已支付",
                label_en="Paid",
                amount_fen=row["amount_fen"],
            )
        )
    if status is DonationStatus.failed:
        events.append(
            TimelineEvent(
                step=TimelineStep.failed,
                at=row["updated_at"],
                label_zh="支付未成功",
                label_en="Payment failed",
            )
        )
    if status is DonationStatus.accepted:
        events.append(
            TimelineEvent(
                step=TimelineStep.accepted,
                at=settled,
                label_zh="慈善组织已接收",
                label_en="Accepted by the charity",
                item_code=row["item_code"],
                units=float(row["quantity"]),
            )
        )
    if status is DonationStatus.declined:
        events.append(
            TimelineEvent(
                step=TimelineStep.declined,
                at=settled,
                label_zh="慈善组织未接收",
                label_en="Declined by the charity",
            )
        )
    if row["refunded_fen"] > 0:
        events.append(
            TimelineEvent(
                step=TimelineStep.refunded,
                at=row["updated_at"],
                label_zh="已退款",
                label_en="Refunded",
                amount_fen=row["refunded_fen"],
            )
        )
    contributions = await _contributions(row)
    for contribution, cost_share, at in contributions:
        events.append(
            TimelineEvent(
                step=TimelineStep.goods,
                at=at,
                label_zh="已转化为物资",
                label_en="Turned into goods",
                amount_fen=cost_share if money else None,
                item_code=contribution.item_code,
                units=contribution.units,
            )
        )
    for delivery in await hooks.delivery_events_for(
        donation_id=row["id"], contributions=[c for c, _, _ in contributions]
    ):
        matched = delivery.step is TimelineStep.matched
        events.append(
            TimelineEvent(
                step=delivery.step,
                at=delivery.at,
                label_zh="已匹配到受助家庭" if matched else "已送达",
                label_en="Matched to a household" if matched else "Delivered",
                item_code=delivery.item_code,
                units=delivery.units,
                county_code=delivery.county_code,
                county_name=delivery.county_name,
            )
        )
    events.sort(key=lambda event: (event.at, STEP_ORDER[event.step]))
    return Tracking(
        tracking_code=row["tracking_code"],
        kind=DonationKind(row["kind"]),
        status=status,
        organization_name=row["organization_name"],
        campaign_id=row["campaign"],
        campaign_title=row["campaign_title"],
        amount_fen=row["amount_fen"],
        refunded_fen=row["refunded_fen"],
        currency=row["currency"],
        item_code=row["item_code"],
        quantity=row["quantity"],
        timeline=events,
    )


async def get_receipt(*, code: str) -> Receipt:
    row = await _by_code(code)
    net = row["amount_fen"] - row["refunded_fen"]
    created: datetime = row["created_at"]
    return Receipt(
        receipt_number=f"NX-{created:%Y%m%d}-{row['id']:06d}",
        tracking_code=row["tracking_code"],
        kind=DonationKind(row["kind"]),
        status=DonationStatus(row["status"]),
        organization_name=row["organization_name"],
        organization_credit_code=row["organization_credit_code"],
        campaign_title=row["campaign_title"],
        donor_name=row["donor_name"],
        amount_fen=row["amount_fen"],
        refunded_fen=row["refunded_fen"],
        net_fen=net,
        currency=row["currency"],
        amount_text=yuan(net),
        item_code=row["item_code"],
        item_name_zh=row["item_name_zh"],
        item_name_en=row["item_name_en"],
        quantity=row["quantity"],
        received_at=created,
        settled_at=row["settled_at"],
    )


def _place(region: Any) -> tuple[Any, ...]:
    """The columns that name a region's county: itself, or its parent for a township."""
    return (
        region.code,
        region.name,
        region.level,
        region.parent._.code,
        region.parent._.name,
    )


def _county(row: dict[str, Any], prefix: str) -> tuple[str, str]:
    """(code, name) of the county of a row selected with :func:`_place` under ``prefix``."""
    if row[f"{prefix}.level"] == "township":
        return str(row[f"{prefix}.parent.code"]), str(row[f"{prefix}.parent.name"])
    return str(row[f"{prefix}.code"]), str(row[f"{prefix}.name"])


async def dashboard() -> list[DashboardRow]:
    """Per county and kind: money given (net of refunds), goods given, goods bought, delivered.

    Money counts where its campaign is; given goods where the offer they joined is stored;
    bought goods where their campaign is; delivered units where the receiving household
    lives, whatever gave the stock. Every place is its county (a township's is its parent),
    and every (county, kind) with any of the four figures has a row, so the rows' delivered
    units add up to every unit delivered, and their deliveries to the home page's total.
    """
    rows: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"donated_fen": 0, "donated_units": 0, "bought_units": 0, "name": ""}
    )
    campaign_place = _place(Donation.campaign._.region)
    money = await (
        Donation.select(
            *campaign_place,
            Sum(Donation.amount_fen).as_alias("amount"),
            Sum(Donation.refunded_fen).as_alias("refunded"),
        )
        .where((Donation.kind == DonationKind.money) & Donation.status.is_in(list(PAID)))
        .group_by(*campaign_place)
        .run()
    )
    for row in money:
        county, name = _county(row, "campaign.region")
        entry = rows[(county, DonationKind.money.value)]
        entry["name"] = name
        entry["donated_fen"] += int(row["amount"] or 0) - int(row["refunded"] or 0)
    warehouse_place = _place(Donation.offer._.warehouse._.region)
    goods = await (
        Donation.select(
            *warehouse_place,
            Donation.item.kind.as_alias("kind"),
            Sum(Donation.quantity).as_alias("units"),
        )
        .where((Donation.kind == DonationKind.goods) & (Donation.status == DonationStatus.accepted))
        .group_by(*warehouse_place, Donation.item.kind)
        .run()
    )
    for row in goods:
        county, name = _county(row, "offer.warehouse.region")
        entry = rows[(county, row["kind"])]
        entry["name"] = name
        entry["donated_units"] += int(row["units"] or 0)
    purchase_place = _place(PurchaseTable.campaign._.region)
    bought = await (
        PurchaseTable.select(
            *purchase_place,
            PurchaseTable.item.kind.as_alias("kind"),
            Sum(PurchaseTable.quantity).as_alias("units"),
        )
        .group_by(*purchase_place, PurchaseTable.item.kind)
        .run()
    )
    for row in bought:
        county, name = _county(row, "campaign.region")
        entry = rows[(county, row["kind"])]
        entry["name"] = name
        entry["bought_units"] += int(row["units"] or 0)
    delivered = await hooks.delivered_units_by_county_kind()
    for (county, kind), total in delivered.items():
        entry = rows[(county, kind)]
        entry["name"] = entry["name"] or total.county_name
    return [
        DashboardRow(
            county_code=county,
            county_name=entry["name"],
            kind=kind,
            donated_fen=entry["donated_fen"],
            donated_units=entry["donated_units"],
            bought_units=entry["bought_units"],
            delivered_units=delivered[(county, kind)].units if (county, kind) in delivered else 0,
            deliveries=delivered[(county, kind)].deliveries if (county, kind) in delivered else 0,
        )
        for (county, kind), entry in sorted(rows.items())
    ]
