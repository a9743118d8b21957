"""The JSON API of the households area: staff register, edit and verify households."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from nuanxin.guards import current_user, staff_and_admin
from nuanxin.households import services
from nuanxin.households.escalations import EscalationController
from nuanxin.households.schemas import (
    AddressLookup,
    HouseholdCreate,
    HouseholdOut,
    HouseholdUpdate,
    NeedOut,
    NeedOverride,
    VerificationFilter,
)
from nuanxin.households.tables import Category, VerificationStatus
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses
from nuanxin.settings import Settings

__all__ = ("EscalationController", "HouseholdController")

ERRORS = error_responses(400, 401, 403, 404, 409)


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class HouseholdController(Controller):
    """Households of the caller's jurisdiction (staff) or of all (admins); never charities."""

    path = "/api/households"
    tags = ("households",)
    guards = (staff_and_admin,)
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @get(
        "/",
        operation_id="ListHouseholds",
        responses=ERRORS,
        summary="List households of the jurisdiction",
        description=(
            "Newest first. Filters: `category`, `status`, `verification` (`current`: verified "
            "and not expired; `expired`; `unverified`), `region` (a region code prefix), `q` "
            "(a reference, or part of the head's name)."
        ),
    )
    async def list_households(
        self,
        request: Request[Any, Any, Any],
        page: NamedDependency[Pagination],
        category: Annotated[Category | None, QueryParameter(name="category")] = None,
        status: Annotated[VerificationStatus | None, QueryParameter(name="status")] = None,
        verification: Annotated[
            VerificationFilter | None, QueryParameter(name="verification")
        ] = None,
        region: Annotated[
            str | None,
            QueryParameter(name="region", pattern=r"^\d{1,12}$", description="code prefix"),
        ] = None,
        q: Annotated[str | None, QueryParameter(name="q", min_length=1, max_length=100)] = None,
    ) -> Page[HouseholdOut]:
        items, total = await services.list_households(
            user=current_user(request),
            category=category,
            status=status,
            verification=verification,
            region_prefix=region,
            search=q,
            limit=page.limit,
            offset=page.offset,
        )
        return Page(items=items, total=total, limit=page.limit, offset=page.offset)

    @get(
        "/locate",
        operation_id="LocateHouseholdAddress",
        responses=ERRORS,
        summary="Pre-fill the region of a household from an address (staff still pick it)",
        description=(
            "Reads the address against the offline gazetteer of divisions. An address naming "
            "one county or township answers it as `region`; an ambiguous one (朝阳区), or one "
            "naming only a city, answers `region: null` and the `candidates` to pick from."
        ),
    )
    async def locate(
        self,
        request: Request[Any, Any, Any],
        address: Annotated[str, QueryParameter(name="address", min_length=1, max_length=300)],
    ) -> AddressLookup:
        return await services.locate_address(user=current_user(request), address=address)

    @post(
        "/",
        operation_id="CreateHousehold",
        status_code=HTTP_201_CREATED,
        responses=ERRORS,
        summary="Register a household (unverified) in the jurisdiction",
        description=(
            "The ID number is validated (18 characters, birth date, check character) and kept "
            "only as a keyed hash and its last 4 characters. The same ID number, or the same "
            "head name and current address, anywhere in the system is refused with 409 before "
            "anything is saved. `region_code` is the county or township where the household "
            "is now (help goes where the hardship is); `lat`/`lon` default to its point. Needs "
            "are computed from the members, tags and the county's climate zone."
        ),
    )
    async def create_household(
        self, request: Request[Any, Any, Any], data: JSONBody[HouseholdCreate]
    ) -> HouseholdOut:
        identity = services.identity_of(data.id_number, secret_key=_settings(request).secret_key)
        return await services.create_household(
            user=current_user(request), data=data, identity=identity
        )

    @get(
        "/{household_id:int}",
        operation_id="GetHousehold",
        responses=ERRORS,
        summary="One household (404 outside the jurisdiction)",
    )
    async def get_household(
        self, request: Request[Any, Any, Any], household_id: FromPath[int]
    ) -> HouseholdOut:
        return await services.get_household(user=current_user(request), household_id=household_id)

    @patch(
        "/{household_id:int}",
        operation_id="UpdateHousehold",
        responses=ERRORS,
        summary="Edit a household (fields left out stay); needs follow changed facts",
    )
    async def update_household(
        self,
        request: Request[Any, Any, Any],
        household_id: FromPath[int],
        data: JSONBody[HouseholdUpdate],
    ) -> HouseholdOut:
        return await services.update_household(
            user=current_user(request),
            household_id=household_id,
            data=data,
            secret_key=_settings(request).secret_key,
        )

    @post(
        "/{household_id:int}/verify",
        operation_id="VerifyHousehold",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Verify a household (renews an expired verification)",
        description="Verified now, until `VERIFICATION_MONTHS` (default 12) from now.",
    )
    async def verify_household(
        self, request: Request[Any, Any, Any], household_id: FromPath[int]
    ) -> HouseholdOut:
        return await services.verify_household(
            user=current_user(request),
            household_id=household_id,
            verification_months=_settings(request).verification_months,
        )

    @get(
        "/{household_id:int}/needs",
        operation_id="ListHouseholdNeeds",
        responses=ERRORS,
        summary="The household's needs, each with the rule it came from",
    )
    async def list_needs(
        self, request: Request[Any, Any, Any], household_id: FromPath[int]
    ) -> list[NeedOut]:
        return await services.list_needs(user=current_user(request), household_id=household_id)

    @post(
        "/{household_id:int}/needs",
        operation_id="OverrideHouseholdNeed",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Set a need's quantity by hand, with a reason (survives recomputation)",
    )
    async def override_need(
        self,
        request: Request[Any, Any, Any],
        household_id: FromPath[int],
        data: JSONBody[NeedOverride],
    ) -> NeedOut:
        return await services.override_need(
            user=current_user(request), household_id=household_id, data=data
        )
