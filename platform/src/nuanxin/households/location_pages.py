"""Staff pages of households' points: place a household with a pin (a map, or latitude and
longitude typed without JavaScript), and decide couriers' suggested points."""

from __future__ import annotations

import math
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from nuanxin.errors import DomainError, Invalid
from nuanxin.forms import FormState, blank, refused
from nuanxin.guards import staff_and_admin
from nuanxin.households import locations, read_model
from nuanxin.households.vocabulary import SuggestionStatus
from nuanxin.identity import CurrentUser
from nuanxin.pagination import Pagination
from nuanxin.web import PageController, done, form_error, gettext_for, page

__all__ = ("LocationPages",)

AnyRequest = Request[Any, Any, Any]
PER_PAGE = 100


class PinForm(msgspec.Struct, kw_only=True):
    """The pin as typed (or set by the map): degrees, WGS-84."""

    lat: str = ""
    lon: str = ""


PinBody = Annotated[PinForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


def _degrees(text: str, field: str, low: float, high: float) -> float:
    try:
        value = float(text.strip().replace("，", ".").replace(",", "."))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        raise Invalid(
            f"{field}: a number of degrees between {low:g} and {high:g}",
            field=field,
            message_id="degrees_range",
            params={"low": low, "high": high},
        )
    return value


class LocationPages(PageController):
    """``/staff/households/{id}/location`` (the pin) and ``/staff/locations`` (suggestions)."""

    path = "/staff"
    guards = [staff_and_admin]  # noqa: RUF012

    async def _pin_page(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        household_id: int,
        form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        household = await read_model.get_household(user=actor, household_id=household_id)
        return page(
            request,
            "staff/household_location.html.j2",
            {
                "h": household,
                "form": form
                or blank(PinForm(lat=f"{household.lat:.6f}", lon=f"{household.lon:.6f}")),
            },
            status_code=status_code,
        )

    @get("/households/{household_id:int}/location")
    async def pin_page(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], household_id: FromPath[int]
    ) -> Template:
        return await self._pin_page(request, actor, household_id)

    @post("/households/{household_id:int}/location", status_code=303)
    async def place_pin(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        household_id: FromPath[int],
        data: PinBody,
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            lat = _degrees(data.lat, "lat", -90, 90)
            lon = _degrees(data.lon, "lon", -180, 180)
            household = await locations.place_pin(
                actor=actor, household_id=household_id, lat=lat, lon=lon
            )
        except DomainError as exc:
            form = refused(request, exc, data)
            return await self._pin_page(request, actor, household_id, form, 400)
        return done(
            request,
            _("%(ref)s is placed on the map: its pin is the point matching and routes use.")
            % {"ref": household.reference},
            f"/staff/households/{household_id}",
        )

    @get("/locations")
    async def suggestions(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser]
    ) -> Template:
        """Couriers' positions at first visits, waiting for a decision; the latest decided."""
        pending = await locations.list_suggestions(
            actor=actor,
            page=Pagination(limit=PER_PAGE, offset=0),
            status=SuggestionStatus.pending,
        )
        return page(request, "staff/locations.html.j2", {"pending": pending})

    async def _decide(
        self, request: AnyRequest, actor: CurrentUser, suggestion_id: int, *, accept: bool
    ) -> Redirect:
        _ = gettext_for(request)
        try:
            decided = await locations.decide_suggestion(
                actor=actor, suggestion_id=suggestion_id, accept=accept
            )
        except DomainError as exc:
            return done(request, form_error(request, exc), "/staff/locations")
        if not accept:
            message = _("The courier's point for %(ref)s is rejected; the point stays.")
        elif decided.current_source == "pin":
            message = _("Accepted; %(ref)s keeps its pin, which staff placed.")
        else:
            message = _("Accepted: the courier's point is now %(ref)s's point.")
        return done(request, message % {"ref": decided.household_reference}, "/staff/locations")

    @post("/locations/{suggestion_id:int}/accept", status_code=303)
    async def accept(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], suggestion_id: FromPath[int]
    ) -> Redirect:
        return await self._decide(request, actor, suggestion_id, accept=True)

    @post("/locations/{suggestion_id:int}/reject", status_code=303)
    async def reject(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], suggestion_id: FromPath[int]
    ) -> Redirect:
        return await self._decide(request, actor, suggestion_id, accept=False)
