"""Household visits as staff, charities and couriers read them: one visit, its items, its place.

* A visit is what one charity brings one household on one trip (DOMAIN.md); its deliveries are
  its item lines. Staff see their jurisdiction's visits, a charity and its couriers their own.
* The household's masked name, address and phone are shown to staff, and to the charity only
  while the visit is open (as for deliveries).
* ``q`` searches the household's reference and address; ``region_code`` narrows to a township.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from nuanxin.deliveries.schemas import VisitItemOut, VisitOut
from nuanxin.deliveries.tables import Delivery, Visit
from nuanxin.deliveries.vocabulary import VisitStatus
from nuanxin.errors import NotFound
from nuanxin.identity import CurrentUser, Role, ensure_visible, jurisdiction_where
from nuanxin.pagination import Page, Pagination
from nuanxin.privacy import mask_name

__all__ = (
    "VISIT_COLUMNS",
    "ensure_visit_reach",
    "get_visit",
    "list_visits",
    "load_visit",
    "visit_items",
    "visits_by_id",
)

VISIT_COLUMNS = (
    Visit.id,
    Visit.household,
    Visit.organization,
    Visit.organization._.name,
    Visit.status,
    Visit.code_hash,
    Visit.failed_attempts,
    Visit.printed_count,
    Visit.printed_at,
    Visit.created_at,
    Visit.confirmed_at,
    Visit.household._.reference,
    Visit.household._.head_name,
    Visit.household._.current_address,
    Visit.household._.phone,
    Visit.household._.region._.code,
    Visit.household._.region._.name,
    Visit.household._.region._.level,
    Visit.household._.region._.parent._.name,
)


#: One visit as :data:`VISIT_COLUMNS` selects it, under the same names, in raw SQL: every
#: courier's confirmation and every slip reads it (built by Piccolo, the five-table join cost
#: more CPU than the database spent on it).
_LOAD_VISIT = (
    "SELECT visit.id, visit.household, visit.organization, "
    'organization.name AS "organization.name", visit.status, visit.code_hash, '
    "visit.failed_attempts, visit.printed_count, visit.printed_at, visit.created_at, "
    'visit.confirmed_at, household.reference AS "household.reference", '
    'household.head_name AS "household.head_name", '
    'household.current_address AS "household.current_address", '
    'household.phone AS "household.phone", region.code AS "household.region.code", '
    'region.name AS "household.region.name", region.level AS "household.region.level", '
    'parent.name AS "household.region.parent.name" '
    "FROM visit LEFT JOIN organization ON organization.id = visit.organization "
    "LEFT JOIN household ON household.id = visit.household "
    "LEFT JOIN region ON region.id = household.region "
    "LEFT JOIN region AS parent ON parent.id = region.parent "
    "WHERE visit.id = {}"
)


async def load_visit(visit_id: int) -> dict[str, Any]:
    rows = await Visit.raw(_LOAD_VISIT, visit_id).run()
    if not rows:
        raise NotFound("No such visit")
    return dict(rows[0])


def ensure_visit_reach(actor: CurrentUser, row: dict[str, Any]) -> None:
    """Staff in the household's jurisdiction, or the visiting charity's members and couriers."""
    ensure_visible(
        actor,
        what="visit",
        region_codes=(str(row["household.region.code"]),),
        organization_id=int(row["organization"]),
    )


#: Visits' item lines (their deliveries), for :func:`visit_items`: every courier's confirmation
#: reads its visit's (which items are still to hand over). Raw SQL, under the names the rows are
#: read by: built by Piccolo, the join through the allocation and the offer to the item cost
#: more CPU (its foreign-key columns walked on every call) than the database spent on it.
_VISIT_ITEMS = (
    "SELECT delivery.id, delivery.visit, delivery.status, allocation.quantity, "
    "allocation.emergency, item.code AS item_code "
    "FROM delivery JOIN allocation ON allocation.id = delivery.allocation "
    "JOIN offer ON offer.id = allocation.offer JOIN item ON item.id = offer.item "
    "WHERE delivery.visit IN ({}) ORDER BY delivery.id"
)


async def visit_items(visit_ids: list[int]) -> dict[int, list[VisitItemOut]]:
    """Each visit's item lines (its deliveries), by delivery id."""
    found: dict[int, list[VisitItemOut]] = defaultdict(list)
    for start in range(0, len(visit_ids), 500):
        chunk = visit_ids[start : start + 500]
        rows = await Delivery.raw(_VISIT_ITEMS.format(", ".join("{}" for _ in chunk)), *chunk).run()
        for row in rows:
            found[int(row["visit"])].append(
                VisitItemOut(
                    delivery_id=int(row["id"]),
                    item_code=str(row["item_code"]),
                    quantity=int(row["quantity"]),
                    status=str(row["status"]),
                    emergency=bool(row["emergency"]),
                )
            )
    return found


async def _visit_numbers(rows: list[dict[str, Any]]) -> dict[int, int]:
    """Each visit's number among its household's visits (1 for the first)."""
    households = sorted({int(row["household"]) for row in rows})
    numbers: dict[int, int] = {}
    if not households:
        return numbers
    earlier = (
        await Visit.select(Visit.id, Visit.household)
        .where(Visit.household.is_in(households))
        .order_by(Visit.id)
        .run()
    )
    seen: dict[int, int] = defaultdict(int)
    for row in earlier:
        seen[int(row["household"])] += 1
        numbers[int(row["id"])] = seen[int(row["household"])]
    return numbers


def _may_see_address(actor: CurrentUser, row: dict[str, Any]) -> bool:
    if actor.role in (Role.admin, Role.staff):
        return True
    return row["status"] in (
        VisitStatus.pending,
        VisitStatus.locked,
    ) and actor.organization_id == int(row["organization"])


def _visit_out(
    actor: CurrentUser, row: dict[str, Any], items: list[VisitItemOut], visit_no: int
) -> VisitOut:
    township_level = row["household.region.level"] == "township"
    reveal = _may_see_address(actor, row)
    return VisitOut(
        id=int(row["id"]),
        organization_id=int(row["organization"]),
        charity=str(row["organization.name"]),
        household_id=int(row["household"]),
        household_reference=str(row["household.reference"]),
        county=str(
            row["household.region.parent.name"] if township_level else row["household.region.name"]
        ),
        township=str(row["household.region.name"]) if township_level else "",
        region_code=str(row["household.region.code"]),
        status=str(row["status"]),
        failed_attempts=int(row["failed_attempts"]),
        printed_count=int(row["printed_count"]),
        visit_no=visit_no,
        items=items,
        created_at=row["created_at"],
        printed_at=row["printed_at"],
        confirmed_at=row["confirmed_at"],
        recipient=mask_name(str(row["household.head_name"])) if reveal else None,
        address=str(row["household.current_address"]) if reveal else None,
        phone=str(row["household.phone"]) if reveal else None,
    )


async def _outs(actor: CurrentUser, rows: list[dict[str, Any]]) -> list[VisitOut]:
    ids = [int(row["id"]) for row in rows]
    items = await visit_items(ids)
    numbers = await _visit_numbers(rows)
    return [
        _visit_out(actor, row, items.get(int(row["id"]), []), numbers.get(int(row["id"]), 1))
        for row in rows
    ]


async def get_visit(*, actor: CurrentUser, visit_id: int) -> VisitOut:
    row = await load_visit(visit_id)
    ensure_visit_reach(actor, row)
    (out,) = await _outs(actor, [row])
    return out


async def visits_by_id(*, actor: CurrentUser, visit_ids: list[int]) -> list[VisitOut]:
    """These visits, in the order asked; refuses (NotFound) one the actor may not reach."""
    rows = (
        await Visit.select(*VISIT_COLUMNS).where(Visit.id.is_in(visit_ids)).run()
        if visit_ids
        else []
    )
    by_id = {int(row["id"]): row for row in rows}
    ordered = []
    for visit_id in visit_ids:
        row = by_id.get(visit_id)
        if row is None:
            raise NotFound(f"No visit has the id {visit_id}", field="visit_ids")
        try:
            ensure_visit_reach(actor, row)
        except NotFound as refused:  # another charity's or county's: named as unknown ones are
            raise NotFound(refused.detail, field="visit_ids") from None
        ordered.append(row)
    return await _outs(actor, ordered)


async def list_visits(
    *,
    actor: CurrentUser,
    page: Pagination,
    status: str | None = None,
    q: str | None = None,
    region_code: str | None = None,
    organization_id: int | None = None,
) -> Page[VisitOut]:
    """A charity's visits (staff: their jurisdiction's), by township then household.

    ``organization_id`` narrows staff's list to one charity's visits: what its couriers carry.
    """
    query = Visit.select(*VISIT_COLUMNS)
    count = Visit.count()
    clauses: list[Any] = []
    if actor.role in (Role.charity, Role.courier):
        clauses.append(Visit.organization == actor.organization_id)
    else:
        clause = jurisdiction_where(actor, Visit.household._.region._.code)
        if clause is not None:
            clauses.append(clause)
    if status is not None:
        clauses.append(Visit.status == status)
    if region_code:
        clauses.append(Visit.household._.region._.code == region_code)
    if organization_id is not None:
        clauses.append(Visit.organization == organization_id)
    if q and q.strip():
        needle = "%" + q.strip().replace("%", "").replace("_", "") + "%"
        clauses.append(
            Visit.household._.reference.like(needle.upper())
            | Visit.household._.current_address.like(needle)
        )
    for clause in clauses:
        query = query.where(clause)
        count = count.where(clause)
    rows = (
        await query.order_by(Visit.household._.region._.code)
        .order_by(Visit.household._.reference)
        .order_by(Visit.id)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    return Page(
        items=await _outs(actor, rows),
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )
