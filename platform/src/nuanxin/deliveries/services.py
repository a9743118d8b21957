"""Deliveries as charities and staff list them, the household's cases, and the totals.

* The charity sees the household's address and phone only while its delivery is open.
* The hand-over (slips, codes, confirmation, failure, "not received") is
  :mod:`nuanxin.deliveries.confirmation`; allocations are :mod:`nuanxin.deliveries.allocations`.
"""

from __future__ import annotations

from nuanxin.deliveries.reading import (
    DELIVERY_COLUMNS,
    delivery_out,
    ensure_reach,
    load_delivery,
    may_see_address,
)
from nuanxin.deliveries.schemas import CaseOut, DeliveryOut
from nuanxin.deliveries.tables import Delivery, DeliveryCase
from nuanxin.deliveries.vocabulary import CaseOutcome, DeliveryStatus
from nuanxin.identity import CurrentUser, Role, jurisdiction_where
from nuanxin.pagination import Page, Pagination

__all__ = ("count_delivered", "get_delivery", "list_cases", "list_deliveries")


async def list_deliveries(
    *, actor: CurrentUser, page: Pagination, status: str | None = None
) -> Page[DeliveryOut]:
    """A charity's deliveries (staff: their jurisdiction's), by township then household."""
    query = Delivery.select(*DELIVERY_COLUMNS)
    count = Delivery.count()
    if actor.role in (Role.charity, Role.courier):
        query = query.where(Delivery.organization == actor.organization_id)
        count = count.where(Delivery.organization == actor.organization_id)
    else:
        clause = jurisdiction_where(actor, Delivery.allocation._.household._.region._.code)
        if clause is not None:
            query = query.where(clause)
            count = count.where(clause)
    if status is not None:
        query = query.where(Delivery.status == status)
        count = count.where(Delivery.status == status)
    rows = (
        await query.order_by(Delivery.allocation._.household._.region._.code)
        .order_by(Delivery.id)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    return Page(
        items=[delivery_out(row, reveal=may_see_address(actor, row)) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


async def get_delivery(*, actor: CurrentUser, delivery_id: int) -> DeliveryOut:
    row = await load_delivery(delivery_id)
    ensure_reach(actor, row)
    return delivery_out(row, reveal=may_see_address(actor, row))


async def list_cases(*, actor: CurrentUser, page: Pagination) -> Page[CaseOut]:
    """'Not received' cases in the staff member's jurisdiction, newest first (open or not)."""
    query = DeliveryCase.select(
        DeliveryCase.id,
        DeliveryCase.delivery,
        DeliveryCase.delivery._.visit,
        DeliveryCase.household._.reference,
        DeliveryCase.description,
        DeliveryCase.status,
        DeliveryCase.created_at,
        DeliveryCase.outcome,
        DeliveryCase.resolution,
        DeliveryCase.resolved_at,
    )
    count = DeliveryCase.count()
    clause = jurisdiction_where(actor, DeliveryCase.household._.region._.code)
    if clause is not None:
        query = query.where(clause)
        count = count.where(clause)
    rows = (
        await query.order_by(DeliveryCase.id, ascending=False)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    return Page(
        items=[
            CaseOut(
                id=int(r["id"]),
                delivery_id=int(r["delivery"]),
                visit_id=None if r["delivery.visit"] is None else int(r["delivery.visit"]),
                household_reference=str(r["household.reference"]),
                description=str(r["description"]),
                status=str(r["status"]),
                created_at=r["created_at"],
                outcome=None if r["outcome"] is None else CaseOutcome(r["outcome"]),
                resolution=str(r["resolution"]),
                resolved_at=r["resolved_at"],
            )
            for r in rows
        ],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


async def count_delivered() -> int:
    """Deliveries confirmed at the door, everywhere (the home page's total)."""
    return int(await Delivery.count().where(Delivery.status == DeliveryStatus.delivered).run())
