"""The stock ledger: the one place where an offer's units move.

An offer's units are always ``available + reserved + delivered + withdrawn = quantity`` (the
table checks it too). The rules of the ledger:

* Every move is one conditional ``UPDATE`` (``... WHERE available >= n``, ``reserved >= n``),
  so two concurrent reservations can never take the same unit and no count ever goes
  negative: a move that would is refused with a 409 (``insufficient_stock`` /
  ``insufficient_reserved`` / ``offer_not_open``).
* A move of zero (or fewer) units is refused (400): it would only write an audit entry.
* :func:`reserve` takes available units of an *open* offer of a *verified* charity.
* :func:`release` gives reserved units back: they become available again while the offer is
  open; a withdrawn or closed offer's units can never become available again, they count
  as withdrawn.
* :func:`deliver` counts reserved units as handed out; an open offer with nothing left to
  give (nothing available or reserved) closes.
* :func:`withdraw` takes available units back for the charity (all of them closes the offer).
* Each move (but :func:`withdraw`, which the charity's edit audits) writes one audit entry.
* :func:`reserve_each` and :func:`release_each` are the same moves for many requests at once
  (approving a round): the offers are locked in id order and read, what each request may take
  is decided in order, then one conditional ``UPDATE`` per batch of offers moves the totals
  (still ``WHERE available >= n``) and the entries are written in one statement.

Other areas move stock only through these functions and read the open stock through
:func:`open_stock`; allocations reach it through :mod:`nuanxin.deliveries.allocations`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Max

from matching.geo import EARTH_RADIUS_KM
from nuanxin.accounts import organizations as charities
from nuanxin.accounts.vocabulary import OrganizationStatus
from nuanxin.audit.services import record, record_many
from nuanxin.db import atomic, batched, for_update, rows_table
from nuanxin.errors import Conflict, DomainError, Invalid, NotFound
from nuanxin.identity import CurrentUser
from nuanxin.offers.reading import load_offer
from nuanxin.offers.schemas import Offer
from nuanxin.offers.tables import Offer as OfferTable
from nuanxin.offers.vocabulary import OfferStatus
from nuanxin.regions.services import get_region, subtree_prefix

__all__ = (
    "Reach",
    "StockRecord",
    "deliver",
    "deliver_each",
    "open_stock",
    "release",
    "release_each",
    "reserve",
    "reserve_each",
    "shortage",
    "withdraw",
)


def _today() -> date:
    return datetime.now(UTC).date()


def shortage(offer: Offer, wanted: int) -> DomainError:
    """Why ``wanted`` units could not be taken from the offer: it is closed, or short."""
    return _shortage(offer.status, offer.available, wanted)


def _shortage(status: OfferStatus, available: int, wanted: int) -> DomainError:
    if status is not OfferStatus.open:
        return Conflict(f"The offer is {status.value}", error="offer_not_open", field="status")
    return Conflict(
        f"Only {available} units are available, not {wanted}",
        error="insufficient_stock",
        field="quantity",
        message_id="insufficient_stock",
        params={"available": available, "quantity": wanted},
    )


async def _move(
    *,
    offer_id: int,
    changes: dict[Any, Any],
    condition: Any,
    actor: CurrentUser | None,
    action: str,
    quantity: int,
    reason: str = "",
) -> Offer:
    if quantity < 1:
        raise Invalid(
            "The quantity must be at least 1", field="quantity", message_id="quantity_at_least_one"
        )
    async with atomic():
        before = await load_offer(offer_id)
        if before is None:
            raise NotFound("No such offer")
        changes[OfferTable.updated_at] = datetime.now(UTC)
        updated = (
            await OfferTable.update(changes)
            .where((OfferTable.id == offer_id) & condition)
            .returning(OfferTable.id)
            .run()
        )
        if not updated:
            current = await load_offer(offer_id)
            assert current is not None
            if action == "offer.reserve":
                raise shortage(current, quantity)
            raise Conflict(
                f"Only {current.reserved} units are reserved, not {quantity}",
                error="insufficient_reserved",
                field="quantity",
                params={"reserved": current.reserved, "quantity": quantity},
            )
        after = await load_offer(offer_id)
        assert after is not None
        if (
            after.status is OfferStatus.open
            and after.available == 0
            and after.reserved == 0
            and after.delivered > 0
        ):
            await (
                OfferTable.update({OfferTable.status: OfferStatus.closed.value})
                .where(OfferTable.id == offer_id)
                .run()
            )
            after = await load_offer(offer_id)
            assert after is not None
        await record(
            actor=actor,
            action=action,
            entity="offer",
            entity_id=offer_id,
            before={
                "available": before.available,
                "reserved": before.reserved,
                "delivered": before.delivered,
                "withdrawn": before.withdrawn,
            },
            after={
                "available": after.available,
                "reserved": after.reserved,
                "delivered": after.delivered,
                "withdrawn": after.withdrawn,
                "status": after.status.value,
                "quantity": quantity,
                "reason": reason,
            },
            region_code=after.region_code,
        )
    return after


async def reserve(*, offer_id: int, quantity: int, actor: CurrentUser | None) -> Offer:
    """Reserve available units of an open offer of a verified charity (409 if short)."""
    offer = await load_offer(offer_id)
    if offer is None:
        raise NotFound("No such offer")
    await charities.ensure_verified(organization_id=offer.organization_id)
    return await _move(
        offer_id=offer_id,
        changes={
            OfferTable.available: OfferTable.available - quantity,
            OfferTable.reserved: OfferTable.reserved + quantity,
        },
        condition=(OfferTable.status == OfferStatus.open.value)
        & (OfferTable.available >= quantity),
        actor=actor,
        action="offer.reserve",
        quantity=quantity,
    )


async def release(*, offer_id: int, quantity: int, actor: CurrentUser | None, reason: str) -> Offer:
    """Return reserved units (a failed delivery, a cancelled allocation).

    They become available again while the offer is open; otherwise they count as withdrawn.
    """
    offer = await load_offer(offer_id)
    if offer is None:
        raise NotFound("No such offer")
    back_to = OfferTable.available if offer.status is OfferStatus.open else OfferTable.withdrawn
    return await _move(
        offer_id=offer_id,
        changes={
            OfferTable.reserved: OfferTable.reserved - quantity,
            back_to: back_to + quantity,
        },
        condition=(OfferTable.reserved >= quantity) & (OfferTable.status == offer.status.value),
        actor=actor,
        action="offer.release",
        quantity=quantity,
        reason=reason,
    )


async def deliver(*, offer_id: int, quantity: int, actor: CurrentUser | None) -> Offer:
    """Count reserved units as delivered; an offer with nothing left to give closes."""
    return await _move(
        offer_id=offer_id,
        changes={
            OfferTable.reserved: OfferTable.reserved - quantity,
            OfferTable.delivered: OfferTable.delivered + quantity,
        },
        condition=OfferTable.reserved >= quantity,
        actor=actor,
        action="offer.deliver",
        quantity=quantity,
    )


_COUNTERS = ("available", "reserved", "delivered", "withdrawn")


@dataclass(slots=True, kw_only=True)
class _Locked:
    """An offer's counters as read under its lock, moved along as requests are decided."""

    status: OfferStatus
    charity_status: str
    region_code: str
    available: int
    reserved: int
    delivered: int
    withdrawn: int

    def counters(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in _COUNTERS}


async def _lock(offer_ids: Sequence[int]) -> dict[int, _Locked]:
    """Lock the offers in id order (a batch at a time) and read what the moves need."""
    ids = sorted(set(offer_ids))
    found: dict[int, _Locked] = {}
    for chunk in batched(ids):
        table, args = rows_table([("id", "int")], [(i,) for i in chunk])
        rows = await OfferTable.raw(
            "SELECT offer.id, offer.status, offer.available, offer.reserved, offer.delivered,"
            " offer.withdrawn, organization.status AS charity_status, region.code AS region_code"
            f" FROM {table} CROSS JOIN offer"
            " JOIN organization ON organization.id = offer.organization"
            " JOIN warehouse ON warehouse.id = offer.warehouse"
            " JOIN region ON region.id = warehouse.region"
            " WHERE offer.id = t.id ORDER BY offer.id" + for_update("offer"),
            *args,
        ).run()
        for row in rows:
            found[int(row["id"])] = _Locked(
                status=OfferStatus(row["status"]),
                charity_status=str(row["charity_status"]),
                region_code=str(row["region_code"]),
                **{name: int(row[name]) for name in _COUNTERS},
            )
    return found


async def _move_totals(
    totals: dict[int, int],
    *,
    assignments: str,
    condition: str,
    set_args: Sequence[Any] = (),
    where_args: Sequence[Any] = (),
) -> None:
    """One conditional ``UPDATE`` per batch of offers, ``t.quantity`` units each.

    The offers are locked and the totals were decided under the lock, so every row must
    match: one that does not means the ledger's rule would break, and nothing is moved.
    """
    ids = sorted(totals)
    now = datetime.now(UTC)
    for chunk in batched(ids):
        table, table_args = rows_table(
            [("id", "int"), ("quantity", "int")], [(i, totals[i]) for i in chunk]
        )
        moved = await OfferTable.raw(
            f"UPDATE offer SET {assignments}, updated_at = {{}} FROM {table}"
            f" WHERE offer.id = t.id AND {condition} RETURNING offer.id",
            *set_args,
            now,
            *table_args,
            *where_args,
        ).run()
        if len(moved) != len(chunk):
            raise Conflict(
                "The stock moved while it was being counted: try again.",
                error="stock_moved",
            )


async def reserve_each(
    *, wanted: Sequence[tuple[int, int]], actor: CurrentUser | None
) -> list[DomainError | None]:
    """Reserve ``(offer_id, quantity)`` requests in order, each all or nothing.

    Returns, per request, ``None`` when its units were reserved or the refusal
    :func:`reserve` would have raised for it, had the requests before it been reserved one
    by one (short stock, an offer not open, a charity not verified). One audit entry per
    offer names the units reserved from it.
    """
    offers = await _lock([offer_id for offer_id, _ in wanted])
    before = {offer_id: offer.counters() for offer_id, offer in offers.items()}
    totals: dict[int, int] = {}
    answers: list[DomainError | None] = []
    for offer_id, quantity in wanted:
        offer = offers.get(offer_id)
        refusal: DomainError | None = None
        if quantity < 1:
            refusal = Invalid(
                "The quantity must be at least 1",
                field="quantity",
                message_id="quantity_at_least_one",
            )
        elif offer is None:
            refusal = NotFound("No such offer")
        elif offer.charity_status != OrganizationStatus.verified.value:
            refusal = Conflict(
                f"The charity is {offer.charity_status}: only a verified charity may do this",
                error="charity_not_verified",
            )
        elif offer.status is not OfferStatus.open or offer.available < quantity:
            refusal = _shortage(offer.status, offer.available, quantity)
        else:
            offer.available -= quantity
            offer.reserved += quantity
            totals[offer_id] = totals.get(offer_id, 0) + quantity
        answers.append(refusal)
    if totals:
        await _move_totals(
            totals,
            assignments="available = offer.available - t.quantity,"
            " reserved = offer.reserved + t.quantity",
            condition="offer.status = {} AND offer.available >= t.quantity",
            where_args=[OfferStatus.open.value],
        )
        await record_many(
            actor=actor,
            action="offer.reserve",
            entity="offer",
            entries=[
                (
                    offer_id,
                    before[offer_id],
                    {
                        **offers[offer_id].counters(),
                        "status": offers[offer_id].status.value,
                        "quantity": quantity,
                        "reason": "",
                    },
                    offers[offer_id].region_code,
                )
                for offer_id, quantity in sorted(totals.items())
            ],
        )
    return answers


async def release_each(*, given: Sequence[tuple[int, int, str]], actor: CurrentUser | None) -> None:
    """Give reserved units back, ``(offer_id, quantity, reason)`` each, as :func:`release`.

    One audit entry per request, with the counters as they stood before and after it; the
    offers' totals move in one conditional ``UPDATE`` per batch (409 if any is short).
    """
    if not given:
        return
    offers = await _lock([offer_id for offer_id, _, _ in given])
    totals: dict[int, int] = {}
    entries: list[tuple[int | str, dict[str, Any], dict[str, Any], str | None]] = []
    for offer_id, quantity, reason in given:
        offer = offers.get(offer_id)
        if offer is None:
            raise NotFound("No such offer")
        if quantity < 1:
            raise Invalid(
                "The quantity must be at least 1",
                field="quantity",
                message_id="quantity_at_least_one",
            )
        if offer.reserved < quantity:
            raise Conflict(
                f"Only {offer.reserved} units are reserved, not {quantity}",
                error="insufficient_reserved",
                field="quantity",
                params={"reserved": offer.reserved, "quantity": quantity},
            )
        before = offer.counters()
        offer.reserved -= quantity
        if offer.status is OfferStatus.open:
            offer.available += quantity
        else:
            offer.withdrawn += quantity
        totals[offer_id] = totals.get(offer_id, 0) + quantity
        after = {
            **offer.counters(),
            "status": offer.status.value,
            "quantity": quantity,
            "reason": reason,
        }
        entries.append((offer_id, before, after, offer.region_code))
    # the units go back where release() sends them: available while open, else withdrawn
    await _move_totals(
        totals,
        assignments="reserved = offer.reserved - t.quantity,"
        " available = offer.available"
        " + CASE WHEN offer.status = {} THEN t.quantity ELSE 0 END,"
        " withdrawn = offer.withdrawn"
        " + CASE WHEN offer.status = {} THEN 0 ELSE t.quantity END",
        condition="offer.reserved >= t.quantity",
        set_args=[OfferStatus.open.value, OfferStatus.open.value],
    )
    await record_many(actor=actor, action="offer.release", entity="offer", entries=entries)


async def deliver_each(*, given: Sequence[tuple[int, int]], actor: CurrentUser | None) -> None:
    """Count reserved units as delivered, ``(offer_id, quantity)`` each, as :func:`deliver`
    called for each in turn: an offer with nothing left to give closes, and each request has
    its audit entry with the counters before and after it.

    A visit's confirmation delivers all its items at once: the offers are locked and read in
    one statement, moved in one conditional ``UPDATE`` per batch, closed in one, and audited in
    one insert, whatever the number of items (one at a time, each took six statements).
    """
    if not given:
        return
    offers = await _lock([offer_id for offer_id, _ in given])
    totals: dict[int, int] = {}
    closing: set[int] = set()
    entries: list[tuple[int | str, dict[str, Any], dict[str, Any], str | None]] = []
    for offer_id, quantity in given:
        if quantity < 1:
            raise Invalid(
                "The quantity must be at least 1",
                field="quantity",
                message_id="quantity_at_least_one",
            )
        offer = offers.get(offer_id)
        if offer is None:
            raise NotFound("No such offer")
        if offer.reserved < quantity:
            raise Conflict(
                f"Only {offer.reserved} units are reserved, not {quantity}",
                error="insufficient_reserved",
                field="quantity",
                params={"reserved": offer.reserved, "quantity": quantity},
            )
        before = offer.counters()
        offer.reserved -= quantity
        offer.delivered += quantity
        if offer.status is OfferStatus.open and offer.available == offer.reserved == 0:
            offer.status = OfferStatus.closed  # delivered > 0: it has just gained units
            closing.add(offer_id)
        totals[offer_id] = totals.get(offer_id, 0) + quantity
        after = {
            **offer.counters(),
            "status": offer.status.value,
            "quantity": quantity,
            "reason": "",
        }
        entries.append((offer_id, before, after, offer.region_code))
    await _move_totals(
        totals,
        assignments="reserved = offer.reserved - t.quantity,"
        " delivered = offer.delivered + t.quantity",
        condition="offer.reserved >= t.quantity",
    )
    if closing:
        await (
            OfferTable.update({OfferTable.status: OfferStatus.closed.value})
            .where(OfferTable.id.is_in(sorted(closing)))
            .run()
        )
    await record_many(actor=actor, action="offer.deliver", entity="offer", entries=entries)


@dataclass(frozen=True, slots=True, kw_only=True)
class StockRecord:
    """One open offer's available stock, as a matching round sees it."""

    offer_id: int
    organization_id: int
    item_code: str
    item_kind: str
    requires: tuple[str, ...]
    available: int
    lat: float
    lon: float
    radius_km: float
    available_until: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Reach:
    """The places an offer must reach: a box of latitudes and longitudes (degrees).

    An offer reaches a point within its ``radius_km`` (great-circle km). :func:`open_stock`
    keeps the offers whose circle can touch the box, by two conditions SQL evaluates on
    indexed plain columns, and never drops one that reaches a point inside:

    * latitude: a point ``d`` km away is at most ``d / KM_PER_DEGREE`` degrees of latitude
      away, so the offer's latitude lies within its own radius (in degrees) of the box;
    * longitude: a circle of angular radius ``a`` around a point at latitude ``phi`` spans at
      most ``asin(sin a / cos phi)`` of longitude either side; taken at the box's latitude
      farthest from the equator and the largest radius in stock, it bounds every offer. When
      that circle could hold a pole, or the box crosses the antimeridian, longitude keeps all.
    """

    south: float
    north: float
    west: float
    east: float

    @classmethod
    def around(cls, points: Iterable[tuple[float, float]]) -> Reach | None:
        """The box of ``(lat, lon)`` points; ``None`` for no points."""
        lats, lons = [], []
        for lat, lon in points:
            lats.append(lat)
            lons.append(lon)
        if not lats:
            return None
        return cls(south=min(lats), north=max(lats), west=min(lons), east=max(lons))

    def longitude_margin(self, radius_km: float) -> float | None:
        """Degrees of longitude a ``radius_km`` circle touching the box can lie beyond it."""
        angle = radius_km / EARTH_RADIUS_KM
        farthest = math.radians(min(90.0, max(abs(self.south), abs(self.north)) + SLACK))
        if angle >= math.pi / 2 or math.sin(angle) >= math.cos(farthest):
            return None  # the circle may hold a pole: every longitude
        return math.degrees(math.asin(math.sin(angle) / math.cos(farthest))) + SLACK


KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
SLACK = 1e-6
"""Degrees added to each bound, so that rounding never drops an offer at the edge."""


async def open_stock(
    *,
    region_code: str | None = None,
    on: date | None = None,
    item_codes: Sequence[str] | None = None,
    reach: Reach | None = None,
) -> list[StockRecord]:
    """Available units of open offers of verified charities, whose window covers ``on``.

    ``region_code`` keeps offers from warehouses in that region and below it; ``item_codes``
    offers of those items; ``reach`` offers whose radius can reach a point of that box (a
    round's households: see :class:`Reach`). All three are conditions of the query.
    """
    day = on or _today()
    query = OfferTable.select(
        OfferTable.id,
        OfferTable.organization,
        OfferTable.item.code.as_alias("item_code"),
        OfferTable.item.kind.as_alias("item_kind"),
        OfferTable.item.requires.as_alias("requires"),
        OfferTable.available,
        OfferTable.lat,
        OfferTable.lon,
        OfferTable.radius_km,
        OfferTable.available_until,
    ).where(
        (OfferTable.status == OfferStatus.open.value)
        & (OfferTable.available > 0)
        & (OfferTable.available_from <= day)
        & (OfferTable.available_until >= day)
        & (OfferTable.organization._.status == OrganizationStatus.verified.value)
    )
    if item_codes is not None:
        query = query.where(OfferTable.item.code.is_in(list(item_codes) or ["-"]))
    if reach is not None:
        query = await _within(query, reach)
    if region_code is not None:
        region = await get_region(region_code)
        prefix = "-" if region is None else subtree_prefix(region.code, region.level)
        query = query.where(OfferTable.warehouse._.region._.code.like(prefix + "%"))
    rows = await query.order_by(OfferTable.id).output(load_json=True).run()
    return [
        StockRecord(
            offer_id=row["id"],
            organization_id=row["organization"],
            item_code=row["item_code"],
            item_kind=row["item_kind"],
            requires=tuple(row["requires"] or ()),
            available=row["available"],
            lat=row["lat"],
            lon=row["lon"],
            radius_km=row["radius_km"],
            available_until=row["available_until"],
        )
        for row in rows
    ]


async def _within(query: Any, reach: Reach) -> Any:
    """``query`` narrowed to offers whose circle can touch ``reach`` (see :class:`Reach`)."""
    degrees = 1 / KM_PER_DEGREE
    query = query.where(
        WhereRaw(
            "offer.lat + offer.radius_km * {} >= {} AND offer.lat - offer.radius_km * {} <= {}",
            degrees,
            reach.south - SLACK,
            degrees,
            reach.north + SLACK,
        )
    )
    widest = (
        await OfferTable.select(Max(OfferTable.radius_km, alias="widest"))
        .where((OfferTable.status == OfferStatus.open.value) & (OfferTable.available > 0))
        .first()
        .run()
    )
    margin = reach.longitude_margin(float((widest or {}).get("widest") or 0.0))
    if margin is None or reach.west - margin < -180 or reach.east + margin > 180:
        return query
    return query.where(
        (OfferTable.lon >= reach.west - margin) & (OfferTable.lon <= reach.east + margin)
    )


async def withdraw(*, offer_id: int, quantity: int | None) -> None:
    """Take available units of an open offer back; ``None`` takes all and closes the offer.

    Inside the caller's transaction; the caller (the charity's edit) writes the audit entry.
    """
    if quantity is not None and quantity < 1:
        raise Invalid("The quantity must be at least 1", field="quantity")
    async with atomic():
        current = await load_offer(offer_id)
        if current is None:
            raise NotFound("No such offer")
        take = current.available if quantity is None else quantity
        changes: dict[Any, Any] = {
            OfferTable.available: OfferTable.available - take,
            OfferTable.withdrawn: OfferTable.withdrawn + take,
            OfferTable.updated_at: datetime.now(UTC),
        }
        if quantity is None:
            changes[OfferTable.status] = OfferStatus.withdrawn.value
        updated = (
            await OfferTable.update(changes)
            .where(
                (OfferTable.id == offer_id)
                & (OfferTable.status == OfferStatus.open.value)
                & (OfferTable.available >= take)
            )
            .returning(OfferTable.id)
            .run()
        )
        if not updated:
            now = await load_offer(offer_id)
            assert now is not None
            raise shortage(now, take)
