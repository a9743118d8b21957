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
* :func:`allocate_many` makes many with a few statements per table and batch (approving a
  round): the ledgers decide each request in order under their locks and move the totals in
  conditional updates; a request that cannot be honoured is returned as refused, with the
  reason, its reservation undone. The caller audits the decision the allocations carry out
  (``proposal.approve`` names each allocation and delivery).
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
from nuanxin.db import atomic, batched, rows_table
from nuanxin.deliveries.tables import Allocation, Delivery, Visit
from nuanxin.deliveries.vocabulary import AllocationStatus, DeliveryStatus, VisitStatus
from nuanxin.errors import Conflict, DomainError
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
    """What :func:`allocate_many` did: the allocations made (in the order asked), and the
    refused in the order the ledgers met them (offers by id, then needs by id)."""

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
    """Allocate what can be honoured of ``requests``, in bulk; report the rest as refused.

    A handful of statements per table and batch of requests, whatever their number: the
    stock ledger reserves each request's units in order (``stock.reserve_each``, locking the
    offers), the need ledger counts them (``demand.allocate_each``, locking the needs, after
    the offers), the units of a request whose need is already met go back
    (``stock.release_each``), and the allocations, visits and deliveries of the rest are
    written set-based.
    """
    result = Allocations()
    if not requests:
        return result
    async with atomic():
        shorts = await stock.reserve_each(
            wanted=[(r.offer_id, r.quantity) for r in requests], actor=actor
        )
        reserved = [i for i, short in enumerate(shorts) if short is None]
        counted = await demand.allocate_each(
            wanted=[(requests[i].need_id, requests[i].quantity) for i in reserved]
        )
        met = Conflict(
            "The household's need is already met by other allocations", error="need_already_met"
        )
        refusals: dict[int, DomainError] = {
            i: short for i, short in enumerate(shorts) if short is not None
        }
        refusals.update({i: met for i, ok in zip(reserved, counted, strict=True) if not ok})
        await stock.release_each(
            given=[
                (requests[i].offer_id, requests[i].quantity, _refusal(requests[i], met.detail))
                for i, ok in zip(reserved, counted, strict=True)
                if not ok
            ],
            actor=actor,
        )
        honoured = [r for i, r in enumerate(requests) if i not in refusals]
        result.made.extend(zip(honoured, await _write(actor, honoured), strict=True))

        def refused_at(i: int) -> tuple[int, int, int]:
            """Where the ledgers refused request ``i``: at its offer, else at its need."""
            if shorts[i] is not None:
                return (0, requests[i].offer_id, i)
            return (1, requests[i].need_id, i)

        result.refused.extend(
            (requests[i], refusals[i].detail) for i in sorted(refusals, key=refused_at)
        )
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
    found = await _open_visits(pairs)
    missing = [pair for pair in pairs if pair not in found]
    if not missing:
        return found
    # A partial unique index keeps one open, unprinted visit per pair: an approval running at
    # the same moment for the same household and charity may have started it first, in which
    # case this insert does nothing for that pair and the items join that visit. The pairs go
    # in sorted, so two approvals wait on each other's new visits in one order only. The new
    # visits come back from the insert itself: reading the table again after writing a
    # province's visits into it would run on plans made while it was small.
    for chunk in batched(missing):
        table, args = rows_table([("household", "int"), ("organization", "int")], chunk)
        for row in await Visit.raw(
            "INSERT INTO visit (household, organization, status, code_hash, failed_attempts,"
            " printed_count, created_at)"
            f" SELECT t.household, t.organization, {{}}, NULL, 0, 0, {{}} FROM {table}"
            " WHERE true ORDER BY t.household, t.organization ON CONFLICT DO NOTHING"
            " RETURNING id, household, organization",
            VisitStatus.pending.value,
            now,
            *args,
        ).run():
            found[(int(row["household"]), int(row["organization"]))] = int(row["id"])
    started_elsewhere = [pair for pair in missing if pair not in found]
    if started_elsewhere:
        await _open_visits(started_elsewhere, into=found)
    return found


async def _open_visits(
    pairs: list[tuple[int, int]], into: dict[tuple[int, int], int] | None = None
) -> dict[tuple[int, int], int]:
    """The open visit whose slip is not printed yet, per (household, charity)."""
    found = {} if into is None else into
    for chunk in batched(pairs):
        table, args = rows_table([("household", "int"), ("organization", "int")], chunk)
        for row in await Visit.raw(
            "SELECT visit.id, visit.household, visit.organization"
            f" FROM {table} CROSS JOIN visit WHERE visit.household = t.household"
            " AND visit.organization = t.organization"
            " AND visit.status = {} AND visit.printed_count = 0 ORDER BY visit.id",
            *args,
            VisitStatus.pending.value,
        ).run():
            found.setdefault((int(row["household"]), int(row["organization"])), int(row["id"]))
    return found


_ALLOCATION_ROWS = (
    ("ord", "int"),
    ("proposal", "int"),
    ("offer", "int"),
    ("household", "int"),
    ("need", "int"),
    ("quantity", "int"),
    ("distance_km", "float8"),
    ("emergency", "bool"),
    ("paperwork_due_at", "timestamptz"),
)
_DELIVERY_ROWS = (
    ("allocation", "int"),
    ("visit", "int"),
    ("organization", "int"),
    ("code_hash", "text"),
)


async def _write(actor: CurrentUser, requests: Sequence[AllocationRequest]) -> list[Allocated]:
    """The allocation rows and their deliveries, for units already reserved and counted.

    One ``INSERT ... SELECT`` per table and batch. A batch's allocation ids, sorted, are in
    the order its rows were inserted (``ORDER BY t.ord``; a serial only grows); the rows
    returned are checked against the requests all the same.
    """
    if not requests:
        return []
    now = datetime.now(UTC)
    visits = await _visits_for(requests, now)
    allocated: list[Allocated] = []
    for chunk in batched(requests):
        table, args = rows_table(
            _ALLOCATION_ROWS,
            [
                (
                    index,
                    r.proposal_id,
                    r.offer_id,
                    r.household_id,
                    r.need_id,
                    r.quantity,
                    r.distance_km,
                    r.emergency,
                    r.paperwork_due_at,
                )
                for index, r in enumerate(chunk)
            ],
        )
        inserted = await Allocation.raw(
            "INSERT INTO allocation (proposal, offer, household, need, quantity, distance_km,"
            " status, emergency, paperwork_due_at, approved_by, created_at)"
            " SELECT t.proposal, t.offer, t.household, t.need, t.quantity, t.distance_km,"
            f" {{}}, t.emergency, t.paperwork_due_at, {{}}, {{}} FROM {table} ORDER BY t.ord"
            " RETURNING id, offer, need, quantity",
            AllocationStatus.reserved.value,
            actor.id,
            now,
            *args,
        ).run()
        inserted.sort(key=lambda row: int(row["id"]))
        if [(int(a["offer"]), int(a["need"]), int(a["quantity"])) for a in inserted] != [
            (r.offer_id, r.need_id, r.quantity) for r in chunk
        ]:
            raise RuntimeError("allocations came back in another order than inserted")
        allocation_ids = [int(row["id"]) for row in inserted]
        # The code lives on the visit; the delivery's own digest is a placeholder matching nothing.
        table, args = rows_table(
            _DELIVERY_ROWS,
            [
                (
                    allocation_id,
                    visits[(r.household_id, r.organization_id)],
                    r.organization_id,
                    digest("unissued:" + secrets.token_hex(16)),
                )
                for allocation_id, r in zip(allocation_ids, chunk, strict=True)
            ],
        )
        deliveries = {
            int(row["allocation"]): int(row["id"])
            for row in await Delivery.raw(
                "INSERT INTO delivery (visit, allocation, organization, code_hash, status,"
                " failed_attempts, failure_reason, created_at)"
                f" SELECT t.visit, t.allocation, t.organization, t.code_hash, {{}}, 0, '', {{}}"
                f" FROM {table} RETURNING id, allocation",
                DeliveryStatus.pending.value,
                now,
                *args,
            ).run()
        }
        allocated.extend(
            Allocated(allocation_id=a, delivery_id=deliveries[a]) for a in allocation_ids
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
