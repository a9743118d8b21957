"""Route pages for a charity's members and couriers: plan a day's order of visits, and the
printable route sheet (the order, addresses, items, estimated distances)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from nuanxin.deliveries import visits
from nuanxin.deliveries.schemas import VisitOut
from nuanxin.errors import DomainError, Invalid
from nuanxin.forms import FormState, blank, refused
from nuanxin.guards import couriers_and_members
from nuanxin.identity import CurrentUser
from nuanxin.pagination import MAX_LIMIT, Pagination
from nuanxin.routes import services
from nuanxin.routes.controllers import today_in
from nuanxin.routes.schemas import RouteOut, RoutePlanIn
from nuanxin.settings import Settings
from nuanxin.warehouses.services import list_warehouses
from nuanxin.web import PageController, done, gettext_for, page

__all__ = ("RoutePages", "route_order")

AnyRequest = Request[Any, Any, Any]


class PlanForm(msgspec.Struct, kw_only=True):
    """The plan form as typed: a warehouse and a day (year-month-day)."""

    warehouse_id: str = ""
    day: str = ""


PlanBody = Annotated[PlanForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


def route_order(route: RouteOut | None, found: list[VisitOut]) -> list[VisitOut]:
    """The visits of ``found`` on the route, in its order (those not on it are left out)."""
    if route is None:
        return []
    by_id = {v.id: v for v in found}
    return [by_id[s.visit_id] for s in route.stops if s.visit_id in by_id]


class RoutePages(PageController):
    """``/courier/routes``: the day's route planned from a warehouse, and its sheet."""

    path = "/courier/routes"
    guards = [couriers_and_members]  # noqa: RUF012

    async def _index(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        settings: Settings,
        form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        warehouses = []
        if actor.organization_id is not None:
            warehouses = (
                await list_warehouses(
                    user=actor,
                    organization_id=actor.organization_id,
                    page=Pagination(limit=MAX_LIMIT, offset=0),
                )
            ).items
        today = today_in(settings)
        return page(
            request,
            "courier/routes.html.j2",
            {
                "routes": (
                    await services.list_routes(actor=actor, page=Pagination(limit=20, offset=0))
                ).items,
                "warehouses": [(w.id, f"{w.name} · {w.address}") for w in warehouses],
                "form": form
                or blank(
                    PlanForm(
                        warehouse_id=str(warehouses[0].id) if warehouses else "",
                        day=today.isoformat(),
                    )
                ),
                "detour_factor": settings.route_detour_factor,
            },
            status_code=status_code,
        )

    @get("/")
    async def index(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Template:
        return await self._index(request, actor, settings)

    @post("/", status_code=303)
    async def plan(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        data: PlanBody,
    ) -> Template | Redirect:
        """Order every open visit of the charity from the warehouse picked, for the day typed."""
        _ = gettext_for(request)
        try:
            day = None
            if data.day.strip():
                try:
                    day = date.fromisoformat(data.day.strip())
                except ValueError:
                    raise Invalid(
                        "day: not a date", field="day", message_id="date_format"
                    ) from None
            if not data.warehouse_id.strip().isdigit():
                raise Invalid(
                    "warehouse_id: pick a warehouse",
                    field="warehouse_id",
                    message_id="pick_warehouse",
                )
            route = await services.plan_day(
                actor=actor,
                data=RoutePlanIn(warehouse_id=int(data.warehouse_id), day=day),
                today=today_in(settings),
                detour_factor=settings.route_detour_factor,
                time_limit_s=settings.route_time_limit_seconds,
            )
        except (DomainError, msgspec.ValidationError) as exc:
            form = refused(request, exc, data)
            return await self._index(request, actor, settings, form, 400)
        return done(
            request,
            _("Route planned: %(n)d stops, about %(km)s km.")
            % {"n": len(route.stops), "km": f"{route.total_km:,.1f}"},
            f"/courier/routes/{route.id}",
        )

    @get("/{route_id:int}")
    async def sheet(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        route_id: FromPath[int],
    ) -> Template:
        """The printable route sheet: stops in order with address, items and the legs."""
        route = await services.get_route(actor=actor, route_id=route_id)
        shown = await visits.visits_by_id(
            actor=actor, visit_ids=[stop.visit_id for stop in route.stops]
        )
        return page(
            request,
            "courier/route_sheet.html.j2",
            {
                "route": route,
                "rows": list(zip(route.stops, shown, strict=True)),
                "hotline": settings.hotline,
            },
        )
