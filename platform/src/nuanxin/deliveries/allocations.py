"""Allocations: approved units of an offer reserved for one household's need.

The one allocation path. Every allocation (a round's bulk approval, an edited approval, an
emergency) goes through :func:`allocate` or :func:`allocate_many`, which reserve the stock
(the ledger, :mod:`nuanxin.offers.stock`), count the need as allocated (the need ledger,
:mod:`nuanxin.households.demand`) and write the allocation with its delivery, which joins the
household's open, unprinted visit by the same charity or starts one, in that order
and in one transaction: a unit is never allocated twice, and a refused step leaves nothing
behind. Locks are always taken in one order: offers, then needs, each by id.

* :func:`allocate` makes one allocation, writes its audit entry, and raises the ledgers'
  refusal (the caller's savepoint rolls back with it).
* :func:`allocate_many` makes many with a few statements per offer (approving a round):
  each offer's units are reserved in one conditional update (one request at a time when the
  offer is short), then each need is counted; a request that cannot be honoured is returned
  as refused, with the reason, its reservation undone. The caller audits the decision the
  allocations carry out (``proposal.approve`` names each allocation and delivery).
* :func:`allocation_events` tells the donor's timeline what became of an offer's units:
  when, how many, the county and the household category, never who.
* :func:`delivered_by_county_kind` counts every confirmed delivery per county and item kind
  (the public dashboard), never a household.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from piccolo.query.functions.aggregate import Count, Sum

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.deliveries.tables import Allocation, Delivery, Visit
from nuanxin.deliveries.vocabulary import AllocationStatus, DeliveryStatus, VisitStatus
from nuanxin.errors import DomainError
from nuanxin.households import demand
from nuanxin.identity import CurrentUser, digest
from nuanxin.offers import stock

__all__ = (
    "Allocated",
    "AllocationEvent",
    "AllocationRequest",
    "Allocations",
    "DeliveredTotal",
    "allocate",
    "allocate_many",
    "allocation_events",
    "delivered_by_county_kind",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocated:
    allocation_id: int
    delivery_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocationRequest:
    """Units of one offer for one household's need (``proposal_id``: the round's proposal)."""

    offer_id: int
    organization_id: int
    household_id: int
    need_id: int
    quantity: int
    distance_km: float
    proposal_id: int | None = None
    emergency: bool = False
    paperwork_due_at: datetime | None = None


@dataclass(slots=True, kw_only=True)
class Allocations:
    """What :func:`allocate_many` did: the allocations made (in the order asked), the refused."""

    made: list[tuple[AllocationRequest, Allocated]] = field(default_factory=list)
    refused: list[tuple[AllocationRequest, str]] = field(default_factory=list)


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
    """Reserve ``quantity`` units of the offer for the household's need, with a delivery.

    Raises the ledgers' refusal (short stock, a met need, an offer not open).
    """
    request = AllocationRequest(
        offer_id=offer_id,
        organization_id=organization_id,
        household_id=household_id,
        need_id=need_id,
        quantity=quantity,
        distance_km=distance_km,
        proposal_id=proposal_id,
        emergency=emergency,
        paperwork_due_at=paperwork_due_at,
    )
    async with atomic():
        await stock.reserve(offer_id=offer_id, quantity=quantity, actor=actor)
        await demand.allocate(need_id=need_id, quantity=quantity)
        (made,) = await _write(actor, [request])
        await record(
            actor=actor,
            action="allocation.create",
            entity="allocation",
            entity_id=made.allocation_id,
            after={
                "offer": offer_id,
                "household": household_id,
                "need": need_id,
                "quantity": quantity,
                "proposal": proposal_id,
                "emergency": emergency,
                "delivery": made.delivery_id,
            },
        )
    return made


async def allocate_many(
    *, actor: CurrentUser, requests: Sequence[AllocationRequest]
) -> Allocations:
    """Allocate what can be honoured of ``requests``, in bulk; report the rest as refused."""
    result = Allocations()
    if not requests:
        return result
    async with atomic():
        by_offer: dict[int, list[int]] = {}
        for index, request in enumerate(requests):
            by_offer.setdefault(request.offer_id, []).append(index)
        reserved: list[int] = []
        for offer_id in sorted(by_offer):
            group = by_offer[offer_id]
            try:
                async with atomic():
                    total = sum(requests[i].quantity for i in group)
                    await stock.reserve(offer_id=offer_id, quantity=total, actor=actor)
                reserved.extend(group)
            except DomainError:
                for i in group:
                    try:
                        async with atomic():
                            await stock.reserve(
                                offer_id=offer_id, quantity=requests[i].quantity, actor=actor
                            )
                        reserved.append(i)
                    except DomainError as short:
                        result.refused.append((requests[i], short.detail))
        counted: list[int] = []
        for i in sorted(reserved, key=lambda i: (requests[i].need_id, i)):
            request = requests[i]
            try:
                async with atomic():
                    await demand.allocate(need_id=request.need_id, quantity=request.quantity)
                counted.append(i)
            except DomainError as met:
                await stock.release(
                    offer_id=request.offer_id,
                    quantity=request.quantity,
                    actor=actor,
                    reason=_refusal(request, met.detail),
                )
                result.refused.append((request, met.detail))
        counted.sort()
        honoured = [requests[i] for i in counted]
        result.made.extend(zip(honoured, await _write(actor, honoured), strict=True))
    return result


def _refusal(request: AllocationRequest, detail: str) -> str:
    if request.proposal_id is not None:
        return f"proposal {request.proposal_id} not approved: {detail}"
    return f"allocation not made: {detail}"


async def _visits_for(
    requests: Sequence[AllocationRequest], now: datetime
) -> dict[tuple[int, int], int]:
    """The visit each (household, charity) pair's new items join.

    An open visit whose slip is not printed yet takes them (one slip, one code for the trip);
    otherwise a new visit starts, so that a printed slip always lists all its visit's items.
    """
    pairs = sorted({(r.household_id, r.organization_id) for r in requests})
    found = await _open_visits(sorted({h for h, _ in pairs}))
    missing = [pair for pair in pairs if pair not in found]
    if not missing:
        return found
    # A partial unique index keeps one open, unprinted visit per pair: an approval running at
    # the same moment for the same household and charity may have started it first, in which
    # case this insert does nothing for that pair and the items join that visit.
    for start in range(0, len(missing), 500):
        await (
            Visit.insert(
                *(
                    Visit(household=h, organization=o, created_at=now)
                    for h, o in missing[start : start + 500]
                )
            )
            .on_conflict(action="DO NOTHING")
            .run()
        )
    found = await _open_visits(sorted({h for h, _ in missing}), into=found)
    return found


async def _open_visits(
    households: list[int], into: dict[tuple[int, int], int] | None = None
) -> dict[tuple[int, int], int]:
    """The open visit whose slip is not printed yet, per (household, charity)."""
    found = {} if into is None else into
    for start in range(0, len(households), 500):
        for row in (
            await Visit.select(Visit.id, Visit.household, Visit.organization)
            .where(
                Visit.household.is_in(households[start : start + 500])
                & (Visit.status == VisitStatus.pending)
                & (Visit.printed_count == 0)
            )
            .order_by(Visit.id)
            .run()
        ):
            found.setdefault((int(row["household"]), int(row["organization"])), int(row["id"]))
    return found


async def _write(actor: CurrentUser, requests: Sequence[AllocationRequest]) -> list[Allocated]:
    """The allocation rows and their deliveries, for units already reserved and counted."""
    now = datetime.now(UTC)
    allocated: list[Allocated] = []
    for start in range(0, len(requests), 500):
        chunk = requests[start : start + 500]
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
                        emergency=row.emergency,
                        paperwork_due_at=row.paperwork_due_at,
                        approved_by=actor.id,
                        created_at=now,
                    )
                    for row in chunk
                )
            )
            .returning(Allocation.id)
            .run()
        ]
        visits = await _visits_for(chunk, now)
        # The code lives on the visit; the delivery's own digest is a placeholder matching nothing.
        delivery_ids = [
            int(r["id"])
            for r in await Delivery.insert(
                *(
                    Delivery(
                        allocation=allocation_id,
                        visit=visits[(row.household_id, row.organization_id)],
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
            & Allocation.status.is_in([AllocationStatus.reserved, AllocationStatus.delivered])
        )
        .order_by(Allocation.id)
        .run()
    )
    delivered_at = {
        int(row["allocation"]): row["confirmed_at"]
        for row in await Delivery.select(Delivery.allocation, Delivery.confirmed_at)
        .where(
            (Delivery.status == DeliveryStatus.delivered)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveredTotal:
    """What was delivered in one county of one item kind: units and confirmed deliveries."""

    county_name: str
    units: int
    deliveries: int


async def delivered_by_county_kind() -> dict[tuple[str, str], DeliveredTotal]:
    """(county code, item kind) -> every confirmed delivery there, whatever gave its stock
    (a charity's own, donated goods, a campaign's purchase): one grouped query.

    The county is the receiving household's (a township's parent). The deliveries add up to
    :func:`nuanxin.deliveries.services.count_delivered` (the home page's total).
    """
    region = Delivery.allocation._.household._.region
    place = (
        region._.code,
        region._.name,
        region._.level,
        region._.parent._.code,
        region._.parent._.name,
    )
    kind = Delivery.allocation._.offer._.item._.kind
    rows = await (
        Delivery.select(
            *place,
            kind.as_alias("kind"),
            Sum(Delivery.allocation._.quantity).as_alias("units"),
            Count(Delivery.id).as_alias("deliveries"),
        )
        .where(Delivery.status == DeliveryStatus.delivered)
        .group_by(*place, kind)
        .run()
    )
    totals: dict[tuple[str, str], DeliveredTotal] = {}
    prefix = "allocation.household.region"
    for row in rows:
        township = row[f"{prefix}.level"] == "township"
        code = row[f"{prefix}.parent.code"] if township else row[f"{prefix}.code"]
        name = row[f"{prefix}.parent.name"] if township else row[f"{prefix}.name"]
        key = (str(code), str(row["kind"]))
        before = totals.get(key)
        totals[key] = DeliveredTotal(
            county_name=str(name),
            units=int(row["units"] or 0) + (before.units if before else 0),
            deliveries=int(row["deliveries"] or 0) + (before.deliveries if before else 0),
        )
    return totals
