"""Planning a courier's day: the order of a charity's open visits, from a warehouse and back.

Rules kept here:

* A charity member or courier plans a day for their own charity, from one of its warehouses
  (another charity's warehouse is not found), over open visits of their charity only
  (:func:`nuanxin.deliveries.stops.open_stops`), at most :data:`MAX_STOPS`.
* The order comes from the engine (:func:`matching.plan_route`: OR-Tools over great-circle km
  times ``ROUTE_DETOUR_FACTOR``, within ``ROUTE_TIME_LIMIT_SECONDS``), solved off the event
  loop; each stop is measured to its household's best point known, and says which.
* The plan is stored with its stops in one transaction and audited. A route is a plan, not a
  promise: visits stay open until confirmed, and a new plan for the same day replaces the old
  one on the courier's list (the latest wins).
* Members and couriers of the charity read its routes (admins too); nobody else finds them.
  Staff, who print the slips, learn only what each courier carries on a day
  (:func:`couriers_carrying`): the courier's name, the charity and, in the route's order, the
  visits that lie in their jurisdiction.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import matching
from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.deliveries.stops import open_stops
from nuanxin.errors import Forbidden, Invalid, NotFound
from nuanxin.identity import CurrentUser, Role
from nuanxin.pagination import Page, Pagination
from nuanxin.routes.schemas import (
    MAX_STOPS,
    CourierLoad,
    RouteOut,
    RoutePlanIn,
    RouteStopOut,
    RouteSummary,
)
from nuanxin.routes.tables import CourierRoute, RouteStop
from nuanxin.warehouses.services import own_warehouse

__all__ = ("couriers_carrying", "get_route", "latest_route", "list_routes", "plan_day")

_ROUTE_COLUMNS = (
    *CourierRoute._meta.columns,
    CourierRoute.warehouse._.name,
    CourierRoute.warehouse._.address,
    CourierRoute.planned_by._.username,
)


async def plan_day(
    *,
    actor: CurrentUser,
    data: RoutePlanIn,
    today: date,
    detour_factor: float,
    time_limit_s: float,
) -> RouteOut:
    """Order the day's visits and store the route (see the module's rules)."""
    if actor.role not in (Role.charity, Role.courier) or actor.organization_id is None:
        raise Forbidden("Only a charity's members and couriers plan its routes")
    warehouse = await own_warehouse(user=actor, warehouse_id=data.warehouse_id)
    day = data.day or today
    if day < today:
        raise Invalid(
            "day: a route is planned for today or a later day",
            field="day",
            message_id="route_day_past",
        )
    stops = await open_stops(
        organization_id=actor.organization_id, visit_ids=data.visit_ids, limit=MAX_STOPS
    )
    if not stops:
        raise Invalid(
            "visit_ids: your charity has no open visit to go to",
            field="visit_ids",
            message_id="no_visits_to_route",
        )
    problem = matching.RouteProblem(
        depot_lat=warehouse.lat,
        depot_lon=warehouse.lon,
        stops=tuple(matching.Stop(id=str(s.visit_id), lat=s.lat, lon=s.lon) for s in stops),
        detour_factor=detour_factor,
    )
    route = await asyncio.to_thread(matching.plan_route, problem, time_limit_s=time_limit_s)
    baseline = matching.nearest_neighbour_route(problem)
    by_id = {str(s.visit_id): s for s in stops}
    async with atomic():
        rows = (
            await CourierRoute.insert(
                CourierRoute(
                    organization=actor.organization_id,
                    warehouse=warehouse.id,
                    day=day,
                    planned_by=actor.id,
                    created_at=datetime.now(UTC),
                    detour_factor=detour_factor,
                    total_km=route.total_km,
                    baseline_km=baseline.total_km,
                    return_km=route.legs_km[-1],
                    method=route.method,
                    solve_ms=round(route.seconds * 1000),
                    stop_count=len(route.stops),
                )
            )
            .returning(CourierRoute.id)
            .run()
        )
        route_id = int(rows[0]["id"])
        await RouteStop.insert(
            *(
                RouteStop(
                    route=route_id,
                    visit=by_id[stop_id].visit_id,
                    position=position,
                    leg_km=leg,
                    lat=by_id[stop_id].lat,
                    lon=by_id[stop_id].lon,
                    location_source=by_id[stop_id].location_source,
                )
                for position, (stop_id, leg) in enumerate(
                    zip(route.stops, route.legs_km, strict=False), start=1
                )
            )
        ).run()
        await record(
            actor=actor,
            action="route.plan",
            entity="courier_route",
            entity_id=route_id,
            after={
                "day": day.isoformat(),
                "warehouse_id": warehouse.id,
                "visit_ids": [by_id[s].visit_id for s in route.stops],
                "total_km": round(route.total_km, 3),
                "baseline_km": round(baseline.total_km, 3),
                "method": route.method,
            },
            region_code=warehouse.region_code,
        )
    return await get_route(actor=actor, route_id=route_id)


def _may_read(actor: CurrentUser, organization_id: int) -> bool:
    return actor.role is Role.admin or actor.belongs_to(organization_id)


async def get_route(*, actor: CurrentUser, route_id: int) -> RouteOut:
    """A route of one's charity (admins: any), its stops in order; else not found."""
    row = (
        await CourierRoute.select(*_ROUTE_COLUMNS).where(CourierRoute.id == route_id).first().run()
    )
    if row is None or not _may_read(actor, int(row["organization"])):
        raise NotFound("No such route of your charity", message_id="route_not_found")
    stops = (
        await RouteStop.select(
            RouteStop.position,
            RouteStop.visit,
            RouteStop.leg_km,
            RouteStop.location_source,
            RouteStop.visit._.household._.reference,
            RouteStop.visit._.household._.region._.code,
        )
        .where(RouteStop.route == route_id)
        .order_by(RouteStop.position)
        .run()
    )
    return _route_out(row, stops)


def _route_out(row: dict[str, Any], stops: list[dict[str, Any]]) -> RouteOut:
    return RouteOut(
        id=int(row["id"]),
        organization_id=int(row["organization"]),
        warehouse_id=int(row["warehouse"]),
        warehouse_name=str(row["warehouse.name"]),
        warehouse_address=str(row["warehouse.address"]),
        day=row["day"],
        planned_by=str(row["planned_by.username"]),
        created_at=row["created_at"],
        detour_factor=float(row["detour_factor"]),
        total_km=float(row["total_km"]),
        baseline_km=float(row["baseline_km"]),
        return_km=float(row["return_km"]),
        method=str(row["method"]),
        solve_ms=int(row["solve_ms"]),
        stops=[
            RouteStopOut(
                position=int(stop["position"]),
                visit_id=int(stop["visit"]),
                household_reference=str(stop["visit.household.reference"]),
                region_code=str(stop["visit.household.region.code"]),
                leg_km=float(stop["leg_km"]),
                location_source=str(stop["location_source"]),
            )
            for stop in stops
        ],
    )


async def list_routes(
    *, actor: CurrentUser, page: Pagination, day: date | None = None
) -> Page[RouteSummary]:
    """One's charity's routes, the latest first (admins: every charity's)."""
    query = CourierRoute.select(*_ROUTE_COLUMNS)
    count = CourierRoute.count()
    clauses: list[Any] = []
    if actor.role is not Role.admin:
        if actor.organization_id is None:
            return Page(items=[], total=0, limit=page.limit, offset=page.offset)
        clauses.append(CourierRoute.organization == actor.organization_id)
    if day is not None:
        clauses.append(CourierRoute.day == day)
    for clause in clauses:
        query = query.where(clause)
        count = count.where(clause)
    rows = (
        await query.order_by(CourierRoute.day, ascending=False)
        .order_by(CourierRoute.id, ascending=False)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    return Page(
        items=[
            RouteSummary(
                id=int(row["id"]),
                day=row["day"],
                warehouse_id=int(row["warehouse"]),
                warehouse_name=str(row["warehouse.name"]),
                planned_by=str(row["planned_by.username"]),
                created_at=row["created_at"],
                stop_count=int(row["stop_count"]),
                total_km=float(row["total_km"]),
            )
            for row in rows
        ],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


async def latest_route(*, actor: CurrentUser, day: date) -> RouteOut | None:
    """The route the actor planned last for ``day`` (what their visit list follows)."""
    row = (
        await CourierRoute.select(CourierRoute.id)
        .where(CourierRoute.planned_by == actor.id, CourierRoute.day == day)
        .order_by(CourierRoute.id, ascending=False)
        .first()
        .run()
    )
    return None if row is None else await get_route(actor=actor, route_id=int(row["id"]))


async def couriers_carrying(*, actor: CurrentUser, day: date) -> list[CourierLoad]:
    """Each courier's latest route of ``day``, as the visits of the actor's jurisdiction on it.

    For staff printing a courier's batch of slips; a route with none of their visits is left
    out. Others are refused: they read their own charity's routes.
    """
    if actor.role not in (Role.staff, Role.admin):
        raise Forbidden("Only civil affairs staff print a courier's slips")
    rows = (
        await CourierRoute.select(
            CourierRoute.id,
            CourierRoute.planned_by,
            CourierRoute.planned_by._.username,
            CourierRoute.organization._.name,
        )
        .where(CourierRoute.day == day)
        .order_by(CourierRoute.id, ascending=False)
        .run()
    )
    latest: dict[int, dict[str, Any]] = {}
    for row in rows:  # the latest plan of each courier wins
        latest.setdefault(int(row["planned_by"]), row)
    if not latest:
        return []
    carried: dict[int, list[int]] = {}
    for stop in (
        await RouteStop.select(
            RouteStop.route,
            RouteStop.visit,
            RouteStop.visit._.household._.region._.code.as_alias("region"),
        )
        .where(RouteStop.route.is_in([int(row["id"]) for row in latest.values()]))
        .order_by(RouteStop.route)
        .order_by(RouteStop.position)
        .run()
    ):
        if actor.covers(str(stop["region"])):
            carried.setdefault(int(stop["route"]), []).append(int(stop["visit"]))
    return sorted(
        (
            CourierLoad(
                route_id=int(row["id"]),
                courier=str(row["planned_by.username"]),
                charity=str(row["organization.name"]),
                visit_ids=carried[int(row["id"])],
            )
            for row in latest.values()
            if int(row["id"]) in carried
        ),
        key=lambda load: (load.charity, load.courier),
    )
