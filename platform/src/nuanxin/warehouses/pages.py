"""The charity's warehouses page: its list (with a map), adding one in a county or township
picked by name, renaming or moving one (its open offers move with it), and removing one no
offer was ever posted from.

The handlers call the same services as the API (:mod:`nuanxin.warehouses.services`); a refused
form comes back with what was typed and the problem at its field (:func:`nuanxin.forms.refused`).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from nuanxin.errors import DomainError, Forbidden, NotFound
from nuanxin.forms import FormState, blank, refused
from nuanxin.guards import charity_members
from nuanxin.identity import CurrentUser
from nuanxin.pagination import MAX_LIMIT, Pagination
from nuanxin.regions.services import resolve_region
from nuanxin.warehouses import services
from nuanxin.warehouses.schemas import Warehouse, WarehouseCreate, WarehouseUpdate
from nuanxin.web import PageController, done, gettext_for, page

__all__ = ("WarehousePages",)

AnyRequest = Request[Any, Any, Any]
URL_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
REFUSED = (DomainError, msgspec.ValidationError)


class WarehouseForm(msgspec.Struct, kw_only=True):
    """The warehouse form as typed: the region is a name picked from the list; the point is
    optional (both coordinates, or neither: then the region's point)."""

    name: str = ""
    address: str = ""
    region: str = ""
    lat: str = ""
    lon: str = ""


def _invalid(request: AnyRequest) -> dict[str, str]:
    _ = gettext_for(request)
    return {
        "name": _("Enter the warehouse's name (up to 200 characters)"),
        "address": _("Enter the warehouse's address (up to 300 characters)"),
        "lat": _("Latitude is a number between -90 and 90, e.g. 45.88"),
        "lon": _("Longitude is a number between -180 and 180, e.g. 126.58"),
    }


def own_charity(actor: CurrentUser) -> int:
    """The charity of the member calling (every charity account has one)."""
    if actor.organization_id is None:  # pragma: no cover - every charity account has one
        raise Forbidden("This account belongs to no charity")
    return actor.organization_id


class WarehousePages(PageController):
    """A charity's members list, add and remove its warehouses."""

    path = "/charity/warehouses"
    guards = [charity_members]  # noqa: RUF012

    async def _index(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        found = await services.list_warehouses(
            user=actor, organization_id=own_charity(actor), page=Pagination(limit=MAX_LIMIT)
        )
        points = [
            {"lat": w.lat, "lon": w.lon, "kind": "warehouse", "label": w.name} for w in found.items
        ]
        return page(
            request,
            "charity/warehouses.html.j2",
            {"found": found, "points": points, "form": form or blank(WarehouseForm())},
            status_code=status_code,
        )

    @get("/")
    async def index(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
        return await self._index(request, actor)

    @post("/", status_code=303)
    async def add(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        data: Annotated[WarehouseForm, URL_FORM],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            region = await resolve_region(data.region, field="region")
            fields: dict[str, Any] = {
                "name": data.name.strip(),
                "address": data.address.strip(),
                "region_code": region.code,
            }
            for name in ("lat", "lon"):
                value = getattr(data, name).strip()
                if value:
                    fields[name] = value
            added = await services.create_warehouse(
                user=actor,
                organization_id=own_charity(actor),
                data=msgspec.convert(fields, WarehouseCreate, strict=False),
            )
        except REFUSED as exc:
            form = refused(
                request,
                exc,
                data,
                invalid=_invalid(request),
                aliases={"region_code": "region"},
            )
            return await self._index(request, actor, form, 400)
        return done(
            request,
            _("Warehouse %(name)s added: post offers from it now.") % {"name": added.name},
            "/charity/warehouses",
        )

    @post("/{warehouse_id:int}/remove", status_code=303)
    async def remove(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        warehouse_id: FromPath[int],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            found = await services.get_warehouse(user=actor, warehouse_id=warehouse_id)
            await services.delete_warehouse(user=actor, warehouse_id=warehouse_id)
        except REFUSED as exc:
            return await self._index(request, actor, refused(request, exc, {}), 400)
        return done(
            request,
            _("Warehouse %(name)s removed.") % {"name": found.name},
            "/charity/warehouses",
        )

    async def _edit(
        self,
        request: AnyRequest,
        warehouse: Warehouse,
        form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        shown = WarehouseForm(
            name=warehouse.name, address=warehouse.address, region=warehouse.region_name
        )
        return page(
            request,
            "charity/warehouse.html.j2",
            {"w": warehouse, "form": form or blank(shown)},
            status_code=status_code,
        )

    async def _own(self, actor: CurrentUser, warehouse_id: int) -> Warehouse:
        found = await services.get_warehouse(user=actor, warehouse_id=warehouse_id)
        if found.organization_id != actor.organization_id:  # staff of a region see it; not here
            raise NotFound("No such warehouse of your charity")
        return found

    @get("/{warehouse_id:int}")
    async def edit(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        warehouse_id: FromPath[int],
    ) -> Template:
        return await self._edit(request, await self._own(actor, warehouse_id))

    @post("/{warehouse_id:int}", status_code=303)
    async def update(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        warehouse_id: FromPath[int],
        data: Annotated[WarehouseForm, URL_FORM],
    ) -> Template | Redirect:
        """Rename or move the warehouse: a region typed anew moves it to the region's seat,
        unless a point is given too; its open offers move with it."""
        _ = gettext_for(request)
        before = await self._own(actor, warehouse_id)
        try:
            fields: dict[str, Any] = {"name": data.name.strip(), "address": data.address.strip()}
            if data.region.strip() and data.region.strip() != before.region_name:
                region = await resolve_region(data.region, field="region")
                fields["region_code"] = region.code
            for name in ("lat", "lon"):
                value = getattr(data, name).strip()
                if value:
                    fields[name] = value
            after = await services.update_warehouse(
                user=actor,
                warehouse_id=warehouse_id,
                data=msgspec.convert(fields, WarehouseUpdate, strict=False),
            )
        except REFUSED as exc:
            form = refused(
                request,
                exc,
                data,
                invalid=_invalid(request),
                aliases={"region_code": "region"},
            )
            return await self._edit(request, before, form, 400)
        return done(
            request,
            _("Warehouse %(name)s saved.") % {"name": after.name},
            "/charity/warehouses",
        )
