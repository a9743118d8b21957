"""A charity's open visits as places to go: the stops a courier's day is ordered over.

Open means pending or locked (a locked visit still needs someone at the door). Each stop is at
its household's point (:mod:`nuanxin.households.locations` keeps it the best one known).
"""

from __future__ import annotations

from dataclasses import dataclass

from nuanxin.deliveries.tables import Visit
from nuanxin.deliveries.vocabulary import VisitStatus
from nuanxin.errors import Invalid

__all__ = ("OPEN_STATUSES", "VisitStop", "open_stops")

OPEN_STATUSES = (VisitStatus.pending, VisitStatus.locked)


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitStop:
    visit_id: int
    lat: float
    lon: float
    location_source: str
    region_code: str


async def open_stops(
    *, organization_id: int, visit_ids: list[int] | None, limit: int
) -> list[VisitStop]:
    """The charity's open visits (those asked for, else all, by township then household).

    A visit asked for that is not an open visit of this charity is refused on ``visit_ids``;
    more than ``limit`` stops too.
    """
    query = Visit.select(
        Visit.id,
        Visit.household._.lat,
        Visit.household._.lon,
        Visit.household._.location_source,
        Visit.household._.region._.code,
    ).where(Visit.organization == organization_id, Visit.status.is_in(list(OPEN_STATUSES)))
    if visit_ids is not None:
        if not visit_ids:
            return []
        query = query.where(Visit.id.is_in(visit_ids))
    rows = await (
        query.order_by(Visit.household._.region._.code)
        .order_by(Visit.household._.reference)
        .order_by(Visit.id)
        .limit(limit + 1)
        .run()
    )
    if len(rows) > limit:
        raise Invalid(
            f"visit_ids: at most {limit} stops a day",
            field="visit_ids",
            message_id="too_many_stops",
            params={"limit": limit},
        )
    if visit_ids is not None:
        found = {int(row["id"]) for row in rows}
        missing = [v for v in dict.fromkeys(visit_ids) if v not in found]
        if missing:
            raise Invalid(
                f"visit_ids: {missing[0]} is not an open visit of your charity",
                field="visit_ids",
                message_id="route_visit_not_open",
                params={"id": missing[0]},
            )
    return [
        VisitStop(
            visit_id=int(row["id"]),
            lat=float(row["household.lat"]),
            lon=float(row["household.lon"]),
            location_source=str(row["household.location_source"] or ""),
            region_code=str(row["household.region.code"]),
        )
        for row in rows
    ]
