"""Authorisation policy of courier routes: a charity's members and couriers plan and read theirs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nuanxin.routes.tables import CourierRoute, RouteStop
from tests.nuanxin.authz.model import (
    ADMIN,
    CHARITY,
    COURIER,
    LOGGED_IN,
    OTHER_CHARITY,
    Caller,
    Rule,
)

CHARITY_X = frozenset({CHARITY, COURIER})
ROUTE = {"route_id": "route_x_id"}


async def build_routes(world: Any) -> None:
    """Charity X's route for today: from its warehouse to the world's visit and back."""
    now = datetime.now(UTC)
    rows = (
        await CourierRoute.insert(
            CourierRoute(
                organization=world.charity_x_id,
                warehouse=world.warehouse_x_id,
                day=now.date(),
                planned_by=world.user_ids[Caller.COURIER],
                created_at=now,
                detour_factor=1.3,
                total_km=4.0,
                baseline_km=4.0,
                return_km=2.0,
                method="trivial",
                solve_ms=1,
                stop_count=1,
            )
        )
        .returning(CourierRoute.id)
        .run()
    )
    world.route_x_id = int(rows[0]["id"])
    await RouteStop.insert(
        RouteStop(
            route=world.route_x_id,
            visit=world.visit_id,
            position=1,
            leg_km=2.0,
            lat=45.88,
            lon=126.58,
            location_source="county",
        )
    ).run()


POLICY: dict[str, Rule] = {
    "PlanRoute": Rule(allowed=CHARITY_X, body=lambda w: {"warehouse_id": w.warehouse_x_id}),
    "ListRoutes": Rule(allowed=LOGGED_IN),
    "GetRoute": Rule(allowed=CHARITY_X | {ADMIN}, path=ROUTE),
    "GET /courier/routes": Rule(allowed=CHARITY_X | {OTHER_CHARITY}),
    "POST /courier/routes": Rule(
        allowed=CHARITY_X,
        body=lambda w: {"warehouse_id": str(w.warehouse_x_id), "day": ""},
        form=True,
    ),
    "GET /courier/routes/{route_id:int}": Rule(allowed=CHARITY_X, path=ROUTE),
}
