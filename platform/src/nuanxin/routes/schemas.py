"""DTOs of courier routes: the plan asked for, a day's route with its stops in order."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

__all__ = (
    "MAX_STOPS",
    "CourierLoad",
    "RouteOut",
    "RoutePlanIn",
    "RouteStopOut",
    "RouteSummary",
)

MAX_STOPS = 150
"""The most visits one day's route takes (a courier makes far fewer)."""


class RoutePlanIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Order a day's visits from a warehouse of one's charity.

    ``visit_ids``: the visits of the day (open visits of one's charity); left out, every open
    visit of the charity. ``day``: the day of the trip, today (``TIMEZONE``) when left out.
    """

    warehouse_id: int
    day: date | None = None
    visit_ids: Annotated[list[int], msgspec.Meta(min_length=1, max_length=MAX_STOPS)] | None = None


class RouteStopOut(msgspec.Struct, kw_only=True):
    """A visit's place in the route: ``leg_km`` from the stop before (the warehouse for the
    first); ``location_source`` which point of the household the leg was measured to."""

    position: int
    visit_id: int
    household_reference: str
    region_code: str
    leg_km: float
    location_source: str


class CourierLoad(msgspec.Struct, kw_only=True):
    """What a courier carries on a day, as staff print it: the visits of their latest route for
    the day that lie in the staff's jurisdiction, in the route's order (no legs, no places)."""

    route_id: int
    courier: str  # the courier's account name
    charity: str
    visit_ids: list[int]


class RouteSummary(msgspec.Struct, kw_only=True):
    id: int
    day: date
    warehouse_id: int
    warehouse_name: str
    planned_by: str
    created_at: datetime
    stop_count: int
    total_km: float


class RouteOut(msgspec.Struct, kw_only=True):
    """A day's round trip from the warehouse and back, the stops in order.

    Distances are estimates: great-circle km times ``detour_factor``. ``baseline_km`` is the
    nearest-neighbour trip over the same stops; ``method`` says which solver gave the order
    (``ortools``, ``nearest_neighbour`` when it found nothing shorter, ``trivial`` for up to two
    stops).
    """

    id: int
    organization_id: int
    warehouse_id: int
    warehouse_name: str
    warehouse_address: str
    day: date
    planned_by: str
    created_at: datetime
    detour_factor: float
    total_km: float
    baseline_km: float
    return_km: float
    method: str
    solve_ms: int
    stops: list[RouteStopOut]
