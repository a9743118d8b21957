"""Household demand for the matching loop: the unmet needs of a jurisdiction, and need accounting.

The rounds and deliveries areas reach households only through these functions:

* :func:`unmet_demand` takes the snapshot a matching round solves: verified households whose
  verification is current, in a jurisdiction (a region code prefix), with their unmet needs.
* :func:`allocate` / :func:`release` move units of a need between unmet and allocated, with
  a single conditional ``UPDATE`` so that a need never receives more than its quantity, even
  when two approvals race. :func:`allocate_each` does the same for many requests at once
  (approving a round): the needs are locked in id order a batch at a time, what each request
  may have is decided in order, and one conditional ``UPDATE`` per batch counts the totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from piccolo.columns.combination import WhereRaw

from nuanxin.db import batched, for_update, rows_table
from nuanxin.errors import Conflict
from nuanxin.households.tables import Household, Need
from nuanxin.households.vocabulary import VerificationStatus

__all__ = (
    "UNIT_DECAY",
    "HouseholdDemand",
    "HouseholdPlace",
    "NeedDemand",
    "allocate",
    "allocate_each",
    "ensure_unmet",
    "household_place",
    "raise_quantity",
    "release",
    "unit_weights",
    "unmet_demand",
)

UNIT_DECAY = 0.5
"""Each further unit of one need weighs this much of the one before: a first quilt to every
household ranks before a second to anyone (for equal base weights)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedDemand:
    need_id: int
    item_code: str
    quantity: int  # unmet units
    weights: tuple[float, ...]  # one per unmet unit, non-increasing


@dataclass(frozen=True, slots=True, kw_only=True)
class HouseholdDemand:
    household_id: int
    reference: str
    category: str
    region_code: str
    lat: float
    lon: float
    tags: frozenset[str]
    needs: tuple[NeedDemand, ...]
    location_source: str = "county"  # which point lat/lon is (households/locations.py)


_DECAYS = tuple(UNIT_DECAY**n for n in range(256))
"""``UNIT_DECAY ** n``, read rather than computed: a province's snapshot weighs millions of
units."""


def unit_weights(weight: float, *, allocated: int, unmet: int) -> tuple[float, ...]:
    """Weights of the unmet units: the first unmet unit is unit number ``allocated``."""
    if allocated + unmet <= len(_DECAYS):
        return tuple([weight * decay for decay in _DECAYS[allocated : allocated + unmet]])
    return tuple(weight * UNIT_DECAY ** (allocated + i) for i in range(unmet))


async def unmet_demand(
    *,
    region_prefix: str | None,
    item_codes: Sequence[str] | None = None,
    now: datetime | None = None,
) -> list[HouseholdDemand]:
    """Current, verified households in the jurisdiction with their unmet needs."""
    moment = now or datetime.now(UTC)
    query = Household.select(
        Household.id,
        Household.reference,
        Household.category,
        Household.region.code,
        Household.lat,
        Household.lon,
        Household.location_source,
        Household.tags,
    ).where(
        (Household.status == VerificationStatus.verified)
        & (Household.verification_expires_at > moment)
    )
    if region_prefix is not None:
        query = query.where(Household.region.code.like(region_prefix + "%"))
    households = await query.output(load_json=True).order_by(Household.id).run()
    if not households:
        return []
    # The same households by the same conditions through a join, not an IN list of their
    # ids: a province holds far more households than a statement may have parameters.
    needs_query = Need.select(
        Need.id, Need.household, Need.item.code, Need.quantity, Need.allocated, Need.weight
    ).where(
        (Need.household._.status == VerificationStatus.verified)
        & (Need.household._.verification_expires_at > moment)
        & (Need.quantity > Need.allocated)
    )
    if region_prefix is not None:
        needs_query = needs_query.where(Need.household._.region._.code.like(region_prefix + "%"))
    if item_codes:
        needs_query = needs_query.where(Need.item.code.is_in(list(item_codes)))
    by_household: dict[int, list[NeedDemand]] = {}
    for row in await needs_query.order_by(Need.id).run():
        unmet = int(row["quantity"]) - int(row["allocated"])
        by_household.setdefault(int(row["household"]), []).append(
            NeedDemand(
                need_id=int(row["id"]),
                item_code=str(row["item.code"]),
                quantity=unmet,
                weights=unit_weights(
                    float(row["weight"]), allocated=int(row["allocated"]), unmet=unmet
                ),
            )
        )
    return [
        HouseholdDemand(
            household_id=int(row["id"]),
            reference=str(row["reference"]),
            category=str(row["category"]),
            region_code=str(row["region.code"]),
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            tags=frozenset(str(tag) for tag in row["tags"] or ()),
            needs=tuple(by_household[int(row["id"])]),
            location_source=str(row["location_source"]),
        )
        for row in households
        if int(row["id"]) in by_household
    ]


async def allocate(*, need_id: int, quantity: int) -> None:
    """Count ``quantity`` more units of the need as allocated (409 if that exceeds it)."""
    updated = (
        await Need.update({Need.allocated: Need.allocated + quantity})
        .where((Need.id == need_id) & WhereRaw("allocated + {} <= quantity", quantity))
        .returning(Need.id)
        .run()
    )
    if not updated:
        raise Conflict(
            "The household's need is already met by other allocations",
            error="need_already_met",
        )


async def allocate_each(*, wanted: Sequence[tuple[int, int]]) -> list[bool]:
    """Count ``(need_id, quantity)`` requests as allocated, in order, each all or nothing.

    Returns, per request, whether it was counted: ``False`` where :func:`allocate` would have
    refused it (the need already met, by others or by the requests before it).
    """
    ids = sorted({need_id for need_id, _ in wanted})
    unmet: dict[int, int] = {}
    for chunk in batched(ids):
        table, args = rows_table([("id", "int")], [(i,) for i in chunk])
        for row in await Need.raw(
            "SELECT need.id, need.quantity - need.allocated AS unmet"
            f" FROM {table} CROSS JOIN need WHERE need.id = t.id ORDER BY need.id"
            + for_update("need"),
            *args,
        ).run():
            unmet[int(row["id"])] = int(row["unmet"])
    totals: dict[int, int] = {}
    counted: list[bool] = []
    for need_id, quantity in wanted:
        fits = 0 < quantity <= unmet.get(need_id, 0)
        if fits:
            unmet[need_id] -= quantity
            totals[need_id] = totals.get(need_id, 0) + quantity
        counted.append(fits)
    chosen = sorted(totals)
    for chunk in batched(chosen):
        table, args = rows_table(
            [("id", "int"), ("quantity", "int")], [(i, totals[i]) for i in chunk]
        )
        updated = await Need.raw(
            f"UPDATE need SET allocated = need.allocated + t.quantity FROM {table}"
            " WHERE need.id = t.id AND need.allocated + t.quantity <= need.quantity"
            " RETURNING need.id",
            *args,
        ).run()
        if len(updated) != len(chunk):  # the needs are locked: only a broken rule gets here
            raise Conflict(
                "The household's need is already met by other allocations",
                error="need_already_met",
            )
    return counted


async def release(*, need_id: int, quantity: int) -> None:
    """Return ``quantity`` allocated units of the need to unmet (a failed delivery)."""
    updated = (
        await Need.update({Need.allocated: Need.allocated - quantity})
        .where((Need.id == need_id) & (Need.allocated >= quantity))
        .returning(Need.id)
        .run()
    )
    if not updated:
        raise Conflict("Cannot release more units than were allocated", error="need_release")


@dataclass(frozen=True, slots=True, kw_only=True)
class HouseholdPlace:
    household_id: int
    reference: str
    region_code: str
    lat: float
    lon: float
    tags: frozenset[str]


async def household_place(*, household_id: int) -> HouseholdPlace | None:
    """Where a household is now (for emergencies: any status, verified or not)."""
    row = await (
        Household.select(
            Household.id,
            Household.reference,
            Household.region._.code,
            Household.lat,
            Household.lon,
            Household.tags,
        )
        .where(Household.id == household_id)
        .output(load_json=True)
        .first()
        .run()
    )
    if row is None:
        return None
    return HouseholdPlace(
        household_id=int(row["id"]),
        reference=str(row["reference"]),
        region_code=str(row["region.code"]),
        lat=float(row["lat"]),
        lon=float(row["lon"]),
        tags=frozenset(str(tag) for tag in row["tags"] or ()),
    )


async def ensure_unmet(
    *, household_id: int, item_id: int, quantity: int, rule: str, weight: float = 1.0
) -> int:
    """The need of ``item_id`` with at least ``quantity`` unmet units (raised if needed).

    Used by the emergency path (先行救助: help first) and by binding case-by-case decisions
    (一事一议), which may go above the usual caps. Returns the need's id.
    """
    now = datetime.now(UTC)
    row = (
        await Need.select(Need.id, Need.quantity, Need.allocated)
        .where((Need.household == household_id) & (Need.item == item_id))
        .first()
        .run()
    )
    if row is None:
        created = (
            await Need.insert(
                Need(
                    household=household_id,
                    item=item_id,
                    quantity=quantity,
                    weight=weight,
                    rule=rule[:200],
                    override_reason=rule[:300],
                    updated_at=now,
                )
            )
            .returning(Need.id)
            .run()
        )
        return int(created[0]["id"])
    wanted = int(row["allocated"]) + quantity
    if int(row["quantity"]) < wanted:
        await (
            Need.update(
                {Need.quantity: wanted, Need.override_reason: rule[:300], Need.updated_at: now}
            )
            .where(Need.id == row["id"])
            .run()
        )
    return int(row["id"])


async def raise_quantity(*, household_id: int, item_id: int, total: int, reason: str) -> int:
    """Set the need of ``item_id`` to at least ``total`` units (a binding decision)."""
    row = (
        await Need.select(Need.id, Need.allocated)
        .where((Need.household == household_id) & (Need.item == item_id))
        .first()
        .run()
    )
    allocated = 0 if row is None else int(row["allocated"])
    return await ensure_unmet(
        household_id=household_id,
        item_id=item_id,
        quantity=max(total - allocated, 0) or 1,
        rule=reason,
    )
