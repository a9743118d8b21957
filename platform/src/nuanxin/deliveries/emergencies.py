"""先行救助 (assist first): staff allocate to one household at once, the paperwork after.

Staff pick the stock (or take the nearest offer that reaches the household), the units are
reserved and a delivery created at once, and the allocation carries a paperwork deadline
(``EMERGENCY_PAPERWORK_DAYS``); overdue paperwork is listed for the jurisdiction. The
household need not be verified yet: helping first is the point. A person without papers may
be registered without an ID number (``HouseholdCreate.without_id``); the paperwork is then
not done until the number is added, so the deadline covers the identification.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec

from matching.geo import great_circle_km
from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.deliveries.allocations import allocate
from nuanxin.deliveries.tables import Allocation, Delivery
from nuanxin.errors import Conflict, Forbidden, Invalid, NotFound
from nuanxin.households import demand
from nuanxin.identity import CurrentUser, Role, jurisdiction_where
from nuanxin.offers import services as offers
from nuanxin.offers import stock as ledger
from nuanxin.pagination import Page, Pagination

__all__ = (
    "EmergencyIn",
    "EmergencyOut",
    "assist_first",
    "complete_paperwork",
    "list_emergencies",
)


class EmergencyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One household, one item, now. ``offer_id`` picks the stock; else the nearest."""

    household_id: int
    item_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    offer_id: int | None = None


class EmergencyOut(msgspec.Struct, kw_only=True):
    allocation_id: int
    delivery_id: int
    household_reference: str
    offer_id: int
    item_code: str
    quantity: int
    distance_km: float
    paperwork_due_at: datetime
    paperwork_done_at: datetime | None = None
    overdue: bool = False


async def assist_first(
    *, actor: CurrentUser, data: EmergencyIn, paperwork_days: int
) -> EmergencyOut:
    """Allocate from the chosen (or nearest) stock to one household, now."""
    if actor.role is not Role.staff:
        raise Forbidden("Only civil affairs staff allocate in an emergency")
    place = await demand.household_place(household_id=data.household_id)
    if place is None or not actor.covers(place.region_code):
        raise NotFound(
            "No such household in your jurisdiction",
            field="household_id",
            message_id="household_not_in_jurisdiction",
        )
    items = {item.code: item for item in await offers.list_items()}
    item = items.get(data.item_code)
    if item is None:
        raise Invalid(
            f"No catalogue item has the code {data.item_code!r}",
            field="item_code",
            message_id="unknown_item",
        )
    stock = await ledger.open_stock()
    if data.offer_id is not None:
        stock = [s for s in stock if s.offer_id == data.offer_id]
        if not stock:
            raise NotFound(f"No open offer has the id {data.offer_id}", field="offer_id")
        if stock[0].item_code != data.item_code:
            raise Invalid(
                f"Offer {data.offer_id} is of {stock[0].item_code}, not {data.item_code}",
                field="offer_id",
            )
    stock = [s for s in stock if s.item_code == data.item_code]
    distances: list[float] = (
        great_circle_km(
            place.lat, place.lon, [s.lat for s in stock], [s.lon for s in stock]
        ).tolist()
        if stock
        else []
    )
    reachable = sorted(
        (
            (float(km), s)
            for km, s in zip(distances, stock, strict=True)
            if km <= s.radius_km and set(s.requires) <= place.tags and s.available >= data.quantity
        ),
        key=lambda pair: (pair[0], pair[1].offer_id),
    )
    if not reachable:
        raise Conflict(
            "No open offer with enough units of this item reaches the household",
            error="no_stock_in_reach",
            field="offer_id" if data.offer_id is not None else "item_code",
        )
    distance_km, chosen = reachable[0]
    due = datetime.now(UTC) + timedelta(days=paperwork_days)
    async with atomic():
        need_id = await demand.ensure_unmet(
            household_id=place.household_id,
            item_id=item.id,
            quantity=data.quantity,
            rule=f"先行救助 emergency: {data.reason}",
            weight=10.0,
        )
        allocated = await allocate(
            actor=actor,
            offer_id=chosen.offer_id,
            organization_id=chosen.organization_id,
            household_id=place.household_id,
            need_id=need_id,
            quantity=data.quantity,
            distance_km=distance_km,
            emergency=True,
            paperwork_due_at=due,
        )
        await record(
            actor=actor,
            action="emergency.assist_first",
            entity="allocation",
            entity_id=allocated.allocation_id,
            region_code=place.region_code,
            after={"reason": data.reason, "offer": chosen.offer_id, "quantity": data.quantity},
        )
    return EmergencyOut(
        allocation_id=allocated.allocation_id,
        delivery_id=allocated.delivery_id,
        household_reference=place.reference,
        offer_id=chosen.offer_id,
        item_code=data.item_code,
        quantity=data.quantity,
        distance_km=distance_km,
        paperwork_due_at=due,
    )


_COLUMNS = (
    Allocation.id,
    Allocation.offer,
    Allocation.quantity,
    Allocation.distance_km,
    Allocation.paperwork_due_at,
    Allocation.paperwork_done_at,
    Allocation.offer._.item._.code,
    Allocation.household._.reference,
    Allocation.household._.region._.code,
    Allocation.household._.id_last4,
)


def _out(row: dict[str, Any], delivery_id: int, now: datetime) -> EmergencyOut:
    due = row["paperwork_due_at"]
    return EmergencyOut(
        allocation_id=int(row["id"]),
        delivery_id=delivery_id,
        household_reference=str(row["household.reference"]),
        offer_id=int(row["offer"]),
        item_code=str(row["offer.item.code"]),
        quantity=int(row["quantity"]),
        distance_km=float(row["distance_km"]),
        paperwork_due_at=due,
        paperwork_done_at=row["paperwork_done_at"],
        overdue=row["paperwork_done_at"] is None and due < now,
    )


def _in_reach(actor: CurrentUser) -> Any:
    where: Any = Allocation.emergency.eq(True)
    clause = jurisdiction_where(actor, Allocation.household._.region._.code)
    return where if clause is None else where & clause


async def list_emergencies(
    *, actor: CurrentUser, page: Pagination, overdue_only: bool = False
) -> Page[EmergencyOut]:
    """Emergency allocations of the jurisdiction, the earliest paperwork deadline first."""
    now = datetime.now(UTC)
    where = _in_reach(actor)
    if overdue_only:
        where = where & Allocation.paperwork_done_at.is_null() & (Allocation.paperwork_due_at < now)
    rows = (
        await Allocation.select(*_COLUMNS)
        .where(where)
        .order_by(Allocation.paperwork_due_at)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    ids = [int(row["id"]) for row in rows] or [-1]
    deliveries = {
        int(row["allocation"]): int(row["id"])
        for row in await Delivery.select(Delivery.id, Delivery.allocation)
        .where(Delivery.allocation.is_in(ids))
        .run()
    }
    return Page(
        items=[_out(row, deliveries.get(int(row["id"]), 0), now) for row in rows],
        total=await Allocation.count().where(where).run(),
        limit=page.limit,
        offset=page.offset,
    )


async def complete_paperwork(*, actor: CurrentUser, allocation_id: int) -> EmergencyOut:
    """The paperwork of an emergency allocation is done (repeating it is harmless)."""
    now = datetime.now(UTC)
    async with atomic():
        row = (
            await Allocation.select(*_COLUMNS)
            .where(_in_reach(actor) & (Allocation.id == allocation_id))
            .first()
            .run()
        )
        if row is None:
            raise NotFound("No such emergency allocation in your jurisdiction")
        if row["paperwork_done_at"] is None and not row["household.id_last4"]:
            raise Conflict(
                "The person has no ID number on record yet: identifying them is part of the "
                "paperwork (add it to the household first)",
                error="id_missing",
                field="id_number",
            )
        if row["paperwork_done_at"] is None:
            await (
                Allocation.update({Allocation.paperwork_done_at: now})
                .where(Allocation.id == allocation_id)
                .run()
            )
            await record(
                actor=actor,
                action="emergency.paperwork_done",
                entity="allocation",
                entity_id=allocation_id,
                region_code=str(row["household.region.code"]),
            )
            row["paperwork_done_at"] = now
        delivery = (
            await Delivery.select(Delivery.id)
            .where(Delivery.allocation == allocation_id)
            .first()
            .run()
        )
    return _out(row, int(delivery["id"]) if delivery else 0, now)
