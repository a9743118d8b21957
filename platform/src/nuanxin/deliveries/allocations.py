"""Allocations: approved units of an offer reserved for one household's need.

* :func:`allocate` reserves stock (offers service), counts the need as allocated (households
  service) and creates the allocation and its delivery, all in one transaction: a unit is
  never allocated twice, and a refused step leaves nothing behind.
* :func:`create_allocations` writes many at once for units the caller already reserved and
  counted (approving a round in bulk).
* :func:`allocation_events` tells the donor's timeline what became of an offer's units:
  when, how many, the county and the household category, never who.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.deliveries.tables import Allocation, Delivery
from nuanxin.households import demand
from nuanxin.identity import CurrentUser, digest
from nuanxin.offers import services as offers

__all__ = (
    "Allocated",
    "AllocationEvent",
    "AllocationRow",
    "allocate",
    "allocation_events",
    "create_allocations",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocated:
    allocation_id: int
    delivery_id: int


async def allocate(
    *,
    actor: CurrentUser,
    offer_id: int,
    organization_id: int,
    household_id: int,
    need_id: int,
    quantity: int,
    distance_km: float,
    proposal_id: int | None = None,
    emergency: bool = False,
    paperwork_due_at: datetime | None = None,
) -> Allocated:
    """Reserve ``quantity`` units of the offer for the household's need, with a delivery."""
    now = datetime.now(UTC)
    async with atomic():
        await offers.reserve(offer_id=offer_id, quantity=quantity, actor=actor)
        await demand.allocate(need_id=need_id, quantity=quantity)
        rows = (
            await Allocation.insert(
                Allocation(
                    proposal=proposal_id,
                    offer=offer_id,
                    household=household_id,
                    need=need_id,
                    quantity=quantity,
                    distance_km=distance_km,
                    emergency=emergency,
                    paperwork_due_at=paperwork_due_at,
                    approved_by=actor.id,
                    created_at=now,
                )
            )
            .returning(Allocation.id)
            .run()
        )
        allocation_id = int(rows[0]["id"])
        # No code is known until staff print the slip: the stored digest matches nothing.
        delivery = (
            await Delivery.insert(
                Delivery(
                    allocation=allocation_id,
                    organization=organization_id,
                    code_hash=digest("unissued:" + secrets.token_hex(16)),
                    created_at=now,
                )
            )
            .returning(Delivery.id)
            .run()
        )
        delivery_id = int(delivery[0]["id"])
        await record(
            actor=actor,
            action="allocation.create",
            entity="allocation",
            entity_id=allocation_id,
            after={
                "offer": offer_id,
                "household": household_id,
                "need": need_id,
                "quantity": quantity,
                "proposal": proposal_id,
                "emergency": emergency,
                "delivery": delivery_id,
            },
        )
    return Allocated(allocation_id=allocation_id, delivery_id=delivery_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocationRow:
    """An allocation whose stock and need the caller has already reserved and counted."""

    offer_id: int
    organization_id: int
    household_id: int
    need_id: int
    quantity: int
    distance_km: float
    proposal_id: int | None = None


async def create_allocations(*, actor: CurrentUser, rows: list[AllocationRow]) -> list[Allocated]:
    """Allocations and their deliveries for already reserved units, in bulk.

    The caller reserves the stock (offers service) and counts the needs (households
    service) in the same transaction; this writes the rows, in order, and returns their ids.
    """
    now = datetime.now(UTC)
    allocated: list[Allocated] = []
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        allocation_ids = [
            int(r["id"])
            for r in await Allocation.insert(
                *(
                    Allocation(
                        proposal=row.proposal_id,
                        offer=row.offer_id,
                        household=row.household_id,
                        need=row.need_id,
                        quantity=row.quantity,
                        distance_km=row.distance_km,
                        approved_by=actor.id,
                        created_at=now,
                    )
                    for row in chunk
                )
            )
            .returning(Allocation.id)
            .run()
        ]
        delivery_ids = [
            int(r["id"])
            for r in await Delivery.insert(
                *(
                    Delivery(
                        allocation=allocation_id,
                        organization=row.organization_id,
                        code_hash=digest("unissued:" + secrets.token_hex(16)),
                        created_at=now,
                    )
                    for allocation_id, row in zip(allocation_ids, chunk, strict=True)
                )
            )
            .returning(Delivery.id)
            .run()
        ]
        allocated.extend(
            Allocated(allocation_id=a, delivery_id=d)
            for a, d in zip(allocation_ids, delivery_ids, strict=True)
        )
    return allocated


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocationEvent:
    """What a donor may learn of one allocation: when, how many, the county and category."""

    offer_id: int
    offer_quantity: int
    item_code: str
    item_kind: str
    quantity: int
    approved_at: datetime
    delivered_at: datetime | None
    county_code: str
    county_name: str
    household_category: str


async def allocation_events(*, offer_ids: list[int]) -> list[AllocationEvent]:
    """Allocations of these offers that are open or delivered (failed ones gave nothing).

    The household is named only by its county (its region, or the region's parent for a
    township) and its category: never a name, address, phone, ID or household id.
    """
    if not offer_ids:
        return []
    rows = (
        await Allocation.select(
            Allocation.id,
            Allocation.offer,
            Allocation.offer._.quantity,
            Allocation.offer._.item._.code,
            Allocation.offer._.item._.kind,
            Allocation.quantity,
            Allocation.created_at,
            Allocation.status,
            Allocation.household._.category,
            Allocation.household._.region._.code,
            Allocation.household._.region._.name,
            Allocation.household._.region._.level,
            Allocation.household._.region._.parent._.code,
            Allocation.household._.region._.parent._.name,
        )
        .where(
            Allocation.offer.is_in(sorted(set(offer_ids)))
            & Allocation.status.is_in(["reserved", "delivered"])
        )
        .order_by(Allocation.id)
        .run()
    )
    delivered_at = {
        int(row["allocation"]): row["confirmed_at"]
        for row in await Delivery.select(Delivery.allocation, Delivery.confirmed_at)
        .where(
            (Delivery.status == "delivered")
            & Delivery.allocation._.offer.is_in(sorted(set(offer_ids)))
        )
        .run()
    }
    events: list[AllocationEvent] = []
    for row in rows:
        township = row["household.region.level"] == "township"
        events.append(
            AllocationEvent(
                offer_id=int(row["offer"]),
                offer_quantity=int(row["offer.quantity"]),
                item_code=str(row["offer.item.code"]),
                item_kind=str(row["offer.item.kind"]),
                quantity=int(row["quantity"]),
                approved_at=row["created_at"],
                delivered_at=delivered_at.get(int(row["id"])),
                county_code=str(
                    row["household.region.parent.code"]
                    if township
                    else row["household.region.code"]
                ),
                county_name=str(
                    row["household.region.parent.name"]
                    if township
                    else row["household.region.name"]
                ),
                household_category=str(row["household.category"]),
            )
        )
    return events
