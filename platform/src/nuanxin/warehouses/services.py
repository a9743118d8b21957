"""Warehouses: the places a charity keeps stock and ships from.

* A charity's members add, change and remove its warehouses (in a county or township, at a
  point of their own or the region's); its couriers, staff over the warehouse's or the
  charity's region, and admins read them. A suspended charity changes none.
* Offers build on warehouses, never the reverse: this area knows nothing of stock. What rests
  on a warehouse registers itself here with :func:`add_dependent` (the offers area does):
  it follows a warehouse that moves (inside the same transaction), and a warehouse something
  rests on stays on the list. The table's foreign keys (``ON DELETE RESTRICT``) refuse such a
  deletion in any case.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nuanxin.accounts.organizations import (
    ensure_not_suspended,
    get_organization,
    managed_organization,
)
from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict, Invalid, NotFound
from nuanxin.identity import CurrentUser, ensure_visible
from nuanxin.pagination import Page, Pagination
from nuanxin.regions.services import RegionRecord, region_named, subtree_where
from nuanxin.warehouses.schemas import Warehouse, WarehouseCreate, WarehouseUpdate
from nuanxin.warehouses.tables import Warehouse as WarehouseTable

__all__ = (
    "WarehouseRecord",
    "add_dependent",
    "create_warehouse",
    "delete_warehouse",
    "get_warehouse",
    "list_warehouses",
    "own_warehouse",
    "update_warehouse",
)

_LEVELS = ("county", "township")

#: Called with a moved warehouse's id and new point, inside the mover's transaction.
Moved = Callable[..., Awaitable[None]]
#: Whether something rests on the warehouse (then it cannot be deleted).
InUse = Callable[..., Awaitable[bool]]

_moved: list[Moved] = []
_in_use: list[InUse] = []


def add_dependent(*, moved: Moved, in_use: InUse) -> None:
    """Register what rests on warehouses: ``moved(warehouse_id=, lat=, lon=)`` follows a
    move, ``in_use(warehouse_id=)`` keeps a warehouse from being deleted."""
    if moved not in _moved:
        _moved.append(moved)
    if in_use not in _in_use:
        _in_use.append(in_use)


@dataclass(frozen=True, slots=True, kw_only=True)
class WarehouseRecord:
    """What the offers area needs of a warehouse."""

    id: int
    organization_id: int
    region_code: str
    lat: float
    lon: float


_WAREHOUSE_COLUMNS = (
    WarehouseTable.id,
    WarehouseTable.organization,
    WarehouseTable.organization._.region._.code.as_alias("organization_region_code"),
    WarehouseTable.name,
    WarehouseTable.address,
    WarehouseTable.region,
    WarehouseTable.region.code.as_alias("region_code"),
    WarehouseTable.region.name.as_alias("region_name"),
    WarehouseTable.lat,
    WarehouseTable.lon,
)


def _warehouse(row: dict[str, Any]) -> Warehouse:
    return Warehouse(
        id=row["id"],
        organization_id=row["organization"],
        name=row["name"],
        address=row["address"],
        region_id=row["region"],
        region_code=row["region_code"],
        region_name=row["region_name"],
        lat=row["lat"],
        lon=row["lon"],
    )


async def _warehouse_row(user: CurrentUser, warehouse_id: int) -> dict[str, Any]:
    row = (
        await WarehouseTable.select(*_WAREHOUSE_COLUMNS)
        .where(WarehouseTable.id == warehouse_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFound("No such warehouse within your reach")
    ensure_visible(
        user,
        what="warehouse",
        region_codes=(row["region_code"], row["organization_region_code"]),
        organization_id=row["organization"],
    )
    return dict(row)


async def get_warehouse(*, user: CurrentUser, warehouse_id: int) -> Warehouse:
    """The warehouse, if ``user`` may see it (else 404, whether or not it exists)."""
    return _warehouse(await _warehouse_row(user, warehouse_id))


async def own_warehouse(*, user: CurrentUser, warehouse_id: int) -> WarehouseRecord:
    """A warehouse of the user's own charity, for posting offers (else 404 on the field)."""
    row = (
        await WarehouseTable.select(*_WAREHOUSE_COLUMNS)
        .where(WarehouseTable.id == warehouse_id)
        .first()
        .run()
    )
    if row is None or row["organization"] != user.organization_id:
        raise NotFound("No such warehouse of your charity", field="warehouse_id")
    return WarehouseRecord(
        id=row["id"],
        organization_id=row["organization"],
        region_code=row["region_code"],
        lat=row["lat"],
        lon=row["lon"],
    )


async def list_warehouses(
    *, user: CurrentUser, organization_id: int, page: Pagination, region_code: str | None = None
) -> Page[Warehouse]:
    """The charity's warehouses, for its members and couriers, admins and staff over it."""
    await get_organization(user=user, organization_id=organization_id)
    where: list[Any] = [WarehouseTable.organization == organization_id]
    if region_code is not None:
        where.append(await subtree_where(region_code, WarehouseTable.region.code))
    query = WarehouseTable.select(*_WAREHOUSE_COLUMNS)
    count = WarehouseTable.count()
    for condition in where:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(WarehouseTable.id).limit(page.limit).offset(page.offset).run()
    return Page(
        items=[_warehouse(row) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


def _point(
    lat: float | None, lon: float | None, region: RegionRecord | None
) -> tuple[float, float] | None:
    """Both coordinates, neither (the region's point, if given), never one alone."""
    if (lat is None) != (lon is None):
        raise Invalid(
            "Give both lat and lon, or neither",
            field="lon" if lon is None else "lat",
        )
    if lat is not None and lon is not None:
        return lat, lon
    return None if region is None else (region.lat, region.lon)


def _warehouse_view(warehouse: Warehouse) -> dict[str, Any]:
    return {
        "name": warehouse.name,
        "address": warehouse.address,
        "region": warehouse.region_code,
        "lat": warehouse.lat,
        "lon": warehouse.lon,
    }


async def create_warehouse(
    *, user: CurrentUser, organization_id: int, data: WarehouseCreate
) -> Warehouse:
    """A member adds a warehouse (in a county or township) to the charity's list."""
    async with atomic():
        ensure_not_suspended(await managed_organization(user=user, organization_id=organization_id))
        region = await region_named(data.region_code, field="region_code", levels=_LEVELS)
        point = _point(data.lat, data.lon, region)
        assert point is not None
        rows = (
            await WarehouseTable.insert(
                WarehouseTable(
                    organization=organization_id,
                    name=data.name,
                    address=data.address,
                    region=region.id,
                    lat=point[0],
                    lon=point[1],
                )
            )
            .returning(WarehouseTable.id)
            .run()
        )
        warehouse = await get_warehouse(user=user, warehouse_id=int(rows[0]["id"]))
        await record(
            actor=user,
            action="warehouse.create",
            entity="warehouse",
            entity_id=warehouse.id,
            after=_warehouse_view(warehouse),
            region_code=warehouse.region_code,
        )
    return warehouse


async def update_warehouse(
    *, user: CurrentUser, warehouse_id: int, data: WarehouseUpdate
) -> Warehouse:
    """Rename or move a warehouse; its open offers move with it."""
    async with atomic():
        before = await get_warehouse(user=user, warehouse_id=warehouse_id)
        ensure_not_suspended(
            await managed_organization(user=user, organization_id=before.organization_id)
        )
        changes: dict[Any, Any] = {}
        if data.name is not None:
            changes[WarehouseTable.name] = data.name
        if data.address is not None:
            changes[WarehouseTable.address] = data.address
        region = None
        if data.region_code is not None:
            region = await region_named(data.region_code, field="region_code", levels=_LEVELS)
            changes[WarehouseTable.region] = region.id
        point = _point(data.lat, data.lon, region)
        if point is not None:
            changes[WarehouseTable.lat], changes[WarehouseTable.lon] = point
        if changes:
            await WarehouseTable.update(changes).where(WarehouseTable.id == warehouse_id).run()
        after = await get_warehouse(user=user, warehouse_id=warehouse_id)
        if (after.lat, after.lon) != (before.lat, before.lon):
            for moved in _moved:
                await moved(warehouse_id=warehouse_id, lat=after.lat, lon=after.lon)
        await record(
            actor=user,
            action="warehouse.update",
            entity="warehouse",
            entity_id=warehouse_id,
            before=_warehouse_view(before),
            after=_warehouse_view(after),
            region_code=after.region_code,
        )
    return after


async def delete_warehouse(*, user: CurrentUser, warehouse_id: int) -> None:
    """Remove a warehouse that no offer was ever posted from."""
    async with atomic():
        before = await get_warehouse(user=user, warehouse_id=warehouse_id)
        await managed_organization(user=user, organization_id=before.organization_id)
        if any([await in_use(warehouse_id=warehouse_id) for in_use in _in_use]):
            raise Conflict(
                "Offers were posted from this warehouse: it stays on the list",
                error="warehouse_in_use",
            )
        await WarehouseTable.delete().where(WarehouseTable.id == warehouse_id).run()
        await record(
            actor=user,
            action="warehouse.delete",
            entity="warehouse",
            entity_id=warehouse_id,
            before=_warehouse_view(before),
            region_code=before.region_code,
        )
