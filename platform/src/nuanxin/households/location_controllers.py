"""The JSON API of households' points: staff place a pin; couriers' positions wait for staff."""

from __future__ import annotations

from litestar import Controller, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from nuanxin.guards import staff_and_admin
from nuanxin.households import locations
from nuanxin.households.schemas import (
    HouseholdOut,
    LocationSuggestionOut,
    PinIn,
    SuggestionDecisionIn,
)
from nuanxin.households.vocabulary import SuggestionStatus
from nuanxin.identity import CurrentUser
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses

__all__ = ("HouseholdPinController", "LocationSuggestionController")


class HouseholdPinController(Controller):
    path = "/api/households/{household_id:int}/location"
    tags = ("households",)
    guards = (staff_and_admin,)

    @put(
        operation_id="PlaceHouseholdPin",
        status_code=HTTP_200_OK,
        responses=error_responses(400, 401, 403, 404),
        summary="Place the household on the map: the pin becomes its point (the best one)",
    )
    async def place(
        self,
        actor: NamedDependency[CurrentUser],
        household_id: FromPath[int],
        data: JSONBody[PinIn],
    ) -> HouseholdOut:
        return await locations.place_pin(
            actor=actor, household_id=household_id, lat=data.lat, lon=data.lon
        )


class LocationSuggestionController(Controller):
    path = "/api/location-suggestions"
    tags = ("households",)
    guards = (staff_and_admin,)
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @get(
        operation_id="ListLocationSuggestions",
        responses=error_responses(400, 401, 403),
        summary="Couriers' positions at first visits in my jurisdiction, for staff to decide",
    )
    async def list_suggestions(
        self,
        actor: NamedDependency[CurrentUser],
        page: NamedDependency[Pagination],
        status: FromQuery[SuggestionStatus | None] = None,
    ) -> Page[LocationSuggestionOut]:
        return await locations.list_suggestions(actor=actor, page=page, status=status)

    @post(
        "/{suggestion_id:int}/decide",
        operation_id="DecideLocationSuggestion",
        status_code=HTTP_200_OK,
        responses=error_responses(400, 401, 403, 404, 409),
        summary="Accept (the household's point moves, unless pinned) or reject, once",
    )
    async def decide(
        self,
        actor: NamedDependency[CurrentUser],
        suggestion_id: FromPath[int],
        data: JSONBody[SuggestionDecisionIn],
    ) -> LocationSuggestionOut:
        return await locations.decide_suggestion(
            actor=actor, suggestion_id=suggestion_id, accept=data.decision == "accept"
        )
