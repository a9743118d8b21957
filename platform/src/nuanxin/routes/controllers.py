"""The JSON API of courier routes: plan a day's order of visits, read the routes."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from nuanxin.guards import couriers_and_members
from nuanxin.identity import CurrentUser
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses
from nuanxin.routes import services
from nuanxin.routes.schemas import RouteOut, RoutePlanIn, RouteSummary
from nuanxin.settings import Settings

__all__ = ("RouteController", "today_in")


def today_in(settings: Settings) -> date:
    """Today in the platform's time zone (``TIMEZONE``)."""
    return datetime.now(ZoneInfo(settings.timezone)).date()


class RouteController(Controller):
    path = "/api/routes"
    tags = ("routes",)
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @post(
        operation_id="PlanRoute",
        status_code=HTTP_201_CREATED,
        guards=[couriers_and_members],
        responses=error_responses(400, 401, 403, 404),
        summary="Order a day's visits from a warehouse of one's charity and back (OR-Tools)",
    )
    async def plan(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        data: JSONBody[RoutePlanIn],
    ) -> RouteOut:
        return await services.plan_day(
            actor=actor,
            data=data,
            today=today_in(settings),
            detour_factor=settings.route_detour_factor,
            time_limit_s=settings.route_time_limit_seconds,
        )

    @get(
        operation_id="ListRoutes",
        responses=error_responses(400, 401),
        summary="One's charity's routes, the latest day first (admins: all)",
    )
    async def list_routes(
        self,
        actor: NamedDependency[CurrentUser],
        page: NamedDependency[Pagination],
        day: FromQuery[date | None] = None,
    ) -> Page[RouteSummary]:
        return await services.list_routes(actor=actor, page=page, day=day)

    @get(
        "/{route_id:int}",
        operation_id="GetRoute",
        responses=error_responses(400, 401, 404),
        summary="A route of one's charity: its stops in order, the legs and the total (km)",
    )
    async def get_route(
        self, actor: NamedDependency[CurrentUser], route_id: FromPath[int]
    ) -> RouteOut:
        return await services.get_route(actor=actor, route_id=route_id)
