"""The charity's editing of offers, and reading them within the caller's reach.

* Charity members post offers from their own warehouses, edit them (never below what is
  reserved, delivered or withdrawn) and withdraw them. Only a verified charity posts or edits.
* Stock moves (reserve, release, deliver, withdraw) are the ledger's,
  :mod:`nuanxin.offers.stock`; other areas move stock only through it.
* Quantities come in a unit (coal: 25 kg bags, kg or t) and are stored as whole numbers of
  the item's counting unit, converted exactly (:func:`nuanxin.units.to_count`); one that is
  not a whole number of it is refused (400), never rounded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from nuanxin.accounts import organizations
from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict, Forbidden, Invalid, NotFound
from nuanxin.identity import CurrentUser, Role, jurisdiction_pattern, visible_to
from nuanxin.offers import stock
from nuanxin.offers.reading import (
    OFFER_SQL_COLUMNS,
    OFFER_TABLES,
    load_offer,
    offers_from_rows,
)
from nuanxin.offers.schemas import Item, Offer, OfferCreate, OfferUpdate
from nuanxin.offers.tables import Item as ItemTable
from nuanxin.offers.tables import Offer as OfferTable
from nuanxin.offers.vocabulary import OfferStatus
from nuanxin.pagination import Page, Pagination
from nuanxin.regions.services import get_region, subtree_prefix
from nuanxin.units import Unit, given_unit, to_count, units_for
from nuanxin.warehouses import services as warehouses

__all__ = (
    "count_open_offers",
    "create_offer",
    "get_offer",
    "list_items",
    "list_offers",
    "move_offers",
    "update_offer",
    "warehouse_has_offers",
    "withdraw_offer",
)


def _today() -> date:
    return datetime.now(UTC).date()


# -- the catalogue ----------------------------------------------------------------------------


def _item(row: dict[str, Any]) -> Item:
    unit = Unit(row["unit"])
    return Item(
        id=row["id"],
        code=row["code"],
        kind=row["kind"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        unit_zh=row["unit_zh"],
        unit_en=row["unit_en"],
        requires=list(row["requires"] or []),
        unit=unit,
        units=list(units_for(unit)),
    )


async def list_items(*, kind: str | None = None) -> list[Item]:
    """The item catalogue (a few dozen entries: not paginated)."""
    query = ItemTable.select().order_by(ItemTable.id)
    if kind is not None:
        query = query.where(ItemTable.kind == kind)
    return [_item(row) for row in await query.output(load_json=True).run()]


async def _catalogue_item(code: str) -> tuple[int, Unit]:
    """The item's id and counting unit (400 for a code not in the catalogue)."""
    row = (
        await ItemTable.select(ItemTable.id, ItemTable.unit)
        .where(ItemTable.code == code)
        .first()
        .run()
    )
    if row is None:
        raise Invalid(
            f"No catalogue item has the code {code!r}", field="item_code", message_id="unknown_item"
        )
    return int(row["id"]), Unit(row["unit"])


# -- reading offers ---------------------------------------------------------------------------


async def get_offer(*, user: CurrentUser, offer_id: int, field: str | None = None) -> Offer:
    """The offer, for its charity, admins, and staff over its warehouse (else 404).

    ``field`` names the body field the id came in, if it did not come in the path.
    """
    offer = await load_offer(offer_id)
    if offer is None or not visible_to(
        user, region_codes=(offer.region_code,), organization_id=offer.organization_id
    ):
        raise NotFound("No such offer within your reach", field=field)
    return offer


async def list_offers(
    *,
    user: CurrentUser,
    page: Pagination,
    status: OfferStatus | None = None,
    item_code: str | None = None,
    kind: str | None = None,
    warehouse_id: int | None = None,
    organization_id: int | None = None,
    region_code: str | None = None,
    available_only: bool = False,
) -> Page[Offer]:
    """Offers within reach: a charity's own; staff's from warehouses in their jurisdiction.

    Raw SQL (:data:`~nuanxin.offers.reading.OFFER_SQL_COLUMNS`): the page and its total in one
    statement; the total is counted apart only for a page past the end, which has no row.
    """
    where: list[str] = []
    args: list[Any] = []

    def keep(condition: str, value: Any) -> None:
        where.append(condition)
        args.append(value)

    if user.role in (Role.charity, Role.courier):
        keep("offer.organization = {}", user.organization_id)
    else:
        reach = jurisdiction_pattern(user)
        if reach is not None:
            keep("region.code LIKE {}", reach)
    if status is not None:
        keep("offer.status = {}", status.value)
    if item_code is not None:
        keep("item.code = {}", item_code)
    if kind is not None:
        keep("item.kind = {}", kind)
    if warehouse_id is not None:
        keep("offer.warehouse = {}", warehouse_id)
    if organization_id is not None:
        keep("offer.organization = {}", organization_id)
    if region_code is not None:
        region = await get_region(region_code)
        prefix = "-" if region is None else subtree_prefix(region.code, region.level)
        keep("region.code LIKE {}", prefix + "%")
    if available_only:
        where.append("offer.available > 0")
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    # The total by a subquery the database counts once, over the joins alone: counted over the
    # page's select (count(*) OVER ()), every matching row was joined with all its columns and
    # sorted whole for a page of 50.
    rows = await OfferTable.raw(
        f"SELECT {OFFER_SQL_COLUMNS}, (SELECT count(*) FROM {OFFER_TABLES}{condition}) AS total "
        f"FROM {OFFER_TABLES}{condition} ORDER BY offer.id LIMIT {{}} OFFSET {{}}",
        *args,
        *args,
        page.limit,
        page.offset,
    ).run()
    if rows:
        total = int(rows[0]["total"])
    elif page.offset == 0:
        total = 0
    else:
        counted = await OfferTable.raw(
            f"SELECT count(*) AS total FROM {OFFER_TABLES}{condition}", *args
        ).run()
        total = int(counted[0]["total"])
    return Page(
        items=offers_from_rows(rows),
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


def _view(offer: Offer) -> dict[str, Any]:
    """An offer as the audit trail keeps it."""
    return {
        "item": offer.item_code,
        "unit": offer.unit.value,
        "warehouse": offer.warehouse_id,
        "quantity": offer.quantity,
        "available": offer.available,
        "reserved": offer.reserved,
        "delivered": offer.delivered,
        "withdrawn": offer.withdrawn,
        "radius_km": offer.radius_km,
        "available_from": offer.available_from.isoformat(),
        "available_until": offer.available_until.isoformat(),
        "status": offer.status.value,
        "note": offer.note,
    }


# -- posting, editing, withdrawing ------------------------------------------------------------


def _check_window(available_from: date, available_until: date) -> None:
    if available_until < available_from:
        raise Invalid(
            "The window ends before it starts",
            field="available_until",
            message_id="window_ends_before_start",
        )
    if available_until < _today():
        raise Invalid(
            "The window has ended already", field="available_until", message_id="window_ended"
        )


async def create_offer(*, user: CurrentUser, data: OfferCreate) -> Offer:
    """A member of a verified charity posts an offer from one of its warehouses."""
    _check_window(data.available_from, data.available_until)
    async with atomic():
        warehouse = await warehouses.own_warehouse(user=user, warehouse_id=data.warehouse_id)
        await organizations.ensure_verified(organization_id=warehouse.organization_id)
        item, counting = await _catalogue_item(data.item_code)
        quantity = to_count(data.quantity, data.unit, counting=counting)
        now = datetime.now(UTC)
        rows = (
            await OfferTable.insert(
                OfferTable(
                    organization=warehouse.organization_id,
                    warehouse=warehouse.id,
                    item=item,
                    quantity=quantity,
                    available=quantity,
                    lat=warehouse.lat,
                    lon=warehouse.lon,
                    radius_km=data.radius_km,
                    available_from=data.available_from,
                    available_until=data.available_until,
                    status=OfferStatus.open,
                    note=data.note,
                    created_by=user.id,
                    created_at=now,
                    updated_at=now,
                )
            )
            .returning(OfferTable.id)
            .run()
        )
        offer = await get_offer(user=user, offer_id=int(rows[0]["id"]))
        await record(
            actor=user,
            action="offer.create",
            entity="offer",
            entity_id=offer.id,
            after={**_view(offer), **_given(data.quantity, data.unit)},
            region_code=offer.region_code,
        )
    return offer


def _given(amount: Decimal | int | None, unit: Unit | None) -> dict[str, str]:
    """What the charity typed, for the audit trail, when it was not in the counting unit."""
    if amount is None or unit is None:
        return {}
    return {"given": f"{amount} {unit.value}"}


async def _own(user: CurrentUser, offer_id: int) -> Offer:
    offer = await get_offer(user=user, offer_id=offer_id)
    if user.role is not Role.charity or user.organization_id != offer.organization_id:
        raise Forbidden("Only the charity's own members may change its offers")
    return offer


def _open(offer: Offer) -> None:
    if offer.status is not OfferStatus.open:
        raise Conflict(
            f"The offer is {offer.status.value}: it cannot change",
            error="offer_not_open",
            field="status",
        )


async def update_offer(*, user: CurrentUser, offer_id: int, data: OfferUpdate) -> Offer:
    """Edit an open offer; its quantity never drops below what is reserved or handed out."""
    async with atomic():
        before = await _own(user, offer_id)
        await organizations.ensure_verified(organization_id=before.organization_id)
        _open(before)
        _check_window(
            data.available_from or before.available_from,
            data.available_until or before.available_until,
        )
        changes: dict[Any, Any] = {OfferTable.updated_at: datetime.now(UTC)}
        for name in ("radius_km", "available_from", "available_until", "note"):
            value = getattr(data, name)
            if value is not None:
                changes[getattr(OfferTable, name)] = value
        if data.warehouse_id is not None and data.warehouse_id != before.warehouse_id:
            warehouse = await warehouses.own_warehouse(user=user, warehouse_id=data.warehouse_id)
            if before.reserved:
                raise Conflict(
                    "Units of this offer are reserved from its warehouse: it cannot move",
                    field="warehouse_id",
                    message_id="warehouse_in_use",
                )
            changes[OfferTable.warehouse] = warehouse.id
            changes[OfferTable.lat] = warehouse.lat
            changes[OfferTable.lon] = warehouse.lon
        condition = (OfferTable.id == offer_id) & (OfferTable.status == OfferStatus.open.value)
        quantity = None
        if data.quantity is not None:
            quantity = to_count(data.quantity, data.unit, counting=before.unit)
        elif data.unit is not None:
            given_unit(data.unit, counting=before.unit)
        if quantity is not None and quantity != before.quantity:
            # Relative to the row as it is now: a reservation in between is kept, and the
            # condition refuses a quantity below what is no longer available.
            delta = quantity - before.quantity
            changes[OfferTable.quantity] = quantity
            changes[OfferTable.available] = OfferTable.available + delta
            condition &= (OfferTable.quantity == before.quantity) & (
                OfferTable.available >= max(0, -delta)
            )
        updated = await OfferTable.update(changes).where(condition).returning(OfferTable.id).run()
        if not updated:
            current = await get_offer(user=user, offer_id=offer_id)
            _open(current)
            taken = current.reserved + current.delivered + current.withdrawn
            raise Conflict(
                f"The quantity cannot be below the {taken} units reserved, delivered or withdrawn",
                error="below_reserved",
                field="quantity",
                params={"taken": taken},
            )
        after = await get_offer(user=user, offer_id=offer_id)
        await record(
            actor=user,
            action="offer.update",
            entity="offer",
            entity_id=offer_id,
            before=_view(before),
            after={**_view(after), **_given(data.quantity, data.unit)},
            region_code=after.region_code,
        )
    return after


async def withdraw_offer(
    *,
    user: CurrentUser,
    offer_id: int,
    reason: str,
    quantity: Decimal | int | None = None,
    unit: Unit | None = None,
) -> Offer:
    """Take back available units (``quantity`` in ``unit``, by default the counting unit);
    without a quantity, all of them, and the offer closes.

    Reserved units stay reserved and are delivered (or released) as usual.
    """
    async with atomic():
        before = await _own(user, offer_id)
        _open(before)
        count = None
        if quantity is not None:
            count = to_count(quantity, unit, counting=before.unit)
        elif unit is not None:
            given_unit(unit, counting=before.unit)
        await stock.withdraw(offer_id=offer_id, quantity=count)
        after = await get_offer(user=user, offer_id=offer_id)
        await record(
            actor=user,
            action="offer.withdraw",
            entity="offer",
            entity_id=offer_id,
            before=_view(before),
            after={**_view(after), "reason": reason},
            region_code=after.region_code,
        )
    return after


async def move_offers(*, warehouse_id: int, lat: float, lon: float) -> None:
    """Open offers follow their warehouse when it moves (inside the caller's transaction)."""
    await (
        OfferTable.update(
            {OfferTable.lat: lat, OfferTable.lon: lon, OfferTable.updated_at: datetime.now(UTC)}
        )
        .where(
            (OfferTable.warehouse == warehouse_id) & (OfferTable.status == OfferStatus.open.value)
        )
        .run()
    )


async def warehouse_has_offers(*, warehouse_id: int) -> bool:
    return bool(await OfferTable.exists().where(OfferTable.warehouse == warehouse_id).run())


async def count_open_offers() -> int:
    """Open offers, everywhere (the home page's total)."""
    return int(await OfferTable.count().where(OfferTable.status == OfferStatus.open).run())


# Offers rest on warehouses: they follow a warehouse that moves, and keep it on the list.
warehouses.add_dependent(moved=move_offers, in_use=warehouse_has_offers)
