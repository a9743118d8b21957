"""A courier's planned day: the visits in their order, with the estimated legs."""

from __future__ import annotations

from piccolo.columns import Date, DoublePrecision, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from nuanxin.accounts.tables import Organization, User
from nuanxin.deliveries.tables import Visit
from nuanxin.warehouses.tables import Warehouse

__all__ = ("CourierRoute", "RouteStop")


class CourierRoute(Table, tablename="courier_route"):
    """One day's round trip of a charity's courier from a warehouse (the depot) and back.

    ``total_km`` is the whole trip, detour included; ``baseline_km`` the nearest-neighbour
    trip over the same stops, for comparison; ``return_km`` the last leg back to the depot.
    """

    id = Serial(primary_key=True)

    organization = ForeignKey(Organization, index=True, null=False, on_delete=OnDelete.restrict)
    warehouse = ForeignKey(Warehouse, null=False, on_delete=OnDelete.restrict)
    day = Date(index=True)
    planned_by = ForeignKey(User, index=True, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    detour_factor = DoublePrecision()
    total_km = DoublePrecision()
    baseline_km = DoublePrecision()
    return_km = DoublePrecision()
    method = Varchar(length=20)
    solve_ms = Integer()
    stop_count = Integer()

    detour_at_least_one = Check("detour_factor >= 1")
    lengths_not_negative = Check("total_km >= 0 AND baseline_km >= 0 AND return_km >= 0")


class RouteStop(Table, tablename="courier_route_stop"):
    """A visit's place in a day's route: ``position`` from 1, ``leg_km`` from the stop before."""

    id = Serial(primary_key=True)

    route = ForeignKey(CourierRoute, index=True, null=False, on_delete=OnDelete.cascade)
    visit = ForeignKey(Visit, index=True, null=False, on_delete=OnDelete.restrict)
    position = Integer()
    leg_km = DoublePrecision()
    lat = DoublePrecision()
    lon = DoublePrecision()
    location_source = Varchar(length=10, default="")

    one_stop_a_position = Unique(["route", "position"])
    one_stop_a_visit = Unique(["route", "visit"])
    position_from_one = Check("position >= 1")
