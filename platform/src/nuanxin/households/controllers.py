"""The JSON API of the households area: staff register, edit and verify households, and ask
the level above for more than the usual caps (一事一议)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from nuanxin.errors import Invalid
from nuanxin.guards import staff_and_admin
from nuanxin.households import escalations, need_records, read_model, registry, verification
from nuanxin.households.identity import identity_of, without_papers
from nuanxin.households.locate import locate_address
from nuanxin.households.schemas import (
    AddressLookup,
    DecisionIn,
    EscalationIn,
    EscalationOut,
    HouseholdCreate,
    HouseholdOut,
    HouseholdUpdate,
    NeedOut,
    NeedOverride,
)
from nuanxin.households.vocabulary import (
    Category,
    EscalationStatus,
    VerificationFilter,
    VerificationStatus,
)
from nuanxin.identity import CurrentUser
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses
from nuanxin.settings import Settings

__all__ = ("EscalationController", "HouseholdController")

ERRORS = error_responses(400, 401, 403, 404, 409)


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
        actor: NamedDependency[CurrentUser],
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
        items, total = await read_model.list_households(
            user=actor,
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
        actor: NamedDependency[CurrentUser],
        address: Annotated[str, QueryParameter(name="address", min_length=1, max_length=300)],
    ) -> AddressLookup:
        return await locate_address(user=actor, address=address)

    @post(
        "/",
        operation_id="CreateHousehold",
        status_code=HTTP_201_CREATED,
        responses=ERRORS,
        summary="Register a household (unverified) in the jurisdiction",
        description=(
            "The ID number is validated (18 characters, birth date, check character) and kept "
            "only as a keyed hash and its last 4 characters. A person without papers may be "
            "registered for 先行救助 without one, saying why in `without_id` (`id_missing` in "
            "the answer): verification waits for the number, and an emergency's paperwork "
            "is not done until it is added. The same ID number, or the same "
            "head name and current address, anywhere in the system is refused with 409 before "
            "anything is saved. `region_code` is the county or township where the household "
            "is now (help goes where the hardship is); `lat`/`lon` default to its point. Needs "
            "are computed from the members, tags and the county's climate zone."
        ),
    )
    async def create_household(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        data: JSONBody[HouseholdCreate],
    ) -> HouseholdOut:
        if data.id_number is not None:
            identity = identity_of(data.id_number, secret_key=settings.secret_key)
        elif data.without_id.strip():
            identity = without_papers(
                head_name=data.head_name,
                current_address=data.current_address,
                secret_key=settings.secret_key,
            )
        else:
            raise Invalid(
                "id_number: required, unless the person has no papers (先行救助): then say so "
                "in without_id",
                field="id_number",
                message_id="id_number_required",
            )
        return await registry.create_household(
            user=actor, data=data, identity=identity, without_id=data.without_id.strip()
        )

    @get(
        "/{household_id:int}",
        operation_id="GetHousehold",
        responses=ERRORS,
        summary="One household (404 outside the jurisdiction)",
    )
    async def get_household(
        self, actor: NamedDependency[CurrentUser], household_id: FromPath[int]
    ) -> HouseholdOut:
        return await read_model.get_household(user=actor, household_id=household_id)

    @patch(
        "/{household_id:int}",
        operation_id="UpdateHousehold",
        responses=ERRORS,
        summary="Edit a household (fields left out stay); needs follow changed facts",
    )
    async def update_household(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        household_id: FromPath[int],
        data: JSONBody[HouseholdUpdate],
    ) -> HouseholdOut:
        return await registry.update_household(
            user=actor, household_id=household_id, data=data, secret_key=settings.secret_key
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
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        household_id: FromPath[int],
    ) -> HouseholdOut:
        return await verification.verify_household(
            user=actor,
            household_id=household_id,
            verification_months=settings.verification_months,
        )

    @get(
        "/{household_id:int}/needs",
        operation_id="ListHouseholdNeeds",
        responses=ERRORS,
        summary="The household's needs, each with the rule it came from",
    )
    async def list_needs(
        self, actor: NamedDependency[CurrentUser], household_id: FromPath[int]
    ) -> list[NeedOut]:
        return await need_records.list_needs(user=actor, household_id=household_id)

    @post(
        "/{household_id:int}/needs",
        operation_id="OverrideHouseholdNeed",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Set a need's quantity by hand, with a reason (survives recomputation)",
    )
    async def override_need(
        self,
        actor: NamedDependency[CurrentUser],
        household_id: FromPath[int],
        data: JSONBody[NeedOverride],
    ) -> NeedOut:
        return await need_records.override_need(user=actor, household_id=household_id, data=data)


class EscalationController(Controller):
    """一事一议: requests above the usual caps, decided one level up."""

    path = "/api/escalations"
    tags = ("households",)
    guards = (staff_and_admin,)
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @post(
        operation_id="RequestEscalation",
        status_code=HTTP_201_CREATED,
        responses=ERRORS,
        summary="Ask the level above for more than the usual cap, with a reason",
    )
    async def request_one(
        self, actor: NamedDependency[CurrentUser], data: JSONBody[EscalationIn]
    ) -> EscalationOut:
        return await escalations.request_escalation(actor=actor, data=data)

    @get(operation_id="ListEscalations", responses=ERRORS, summary="Case-by-case requests")
    async def list_all(
        self,
        actor: NamedDependency[CurrentUser],
        page: NamedDependency[Pagination],
        status: Annotated[EscalationStatus | None, QueryParameter(required=False)] = None,
    ) -> Page[EscalationOut]:
        return await escalations.list_escalations(actor=actor, page=page, status=status)

    @post(
        "/{escalation_id:int}/decide",
        operation_id="DecideEscalation",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Approve (binding on the next round) or reject, with a reason",
    )
    async def decide_one(
        self,
        actor: NamedDependency[CurrentUser],
        escalation_id: FromPath[int],
        data: JSONBody[DecisionIn],
    ) -> EscalationOut:
        return await escalations.decide(
            actor=actor, escalation_id=escalation_id, approve=data.approve, reason=data.reason
        )
