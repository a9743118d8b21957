"""The JSON API of deliveries and household visits: lists, slips, confirmation, failure.

A visit (one household, one charity, one trip) carries one code for all its items; the
per-delivery routes act on the delivery's visit (a slip, a confirmation, staff confirmation)
or on the one item (a failure), for clients written before visits.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from nuanxin.deliveries import (
    cases,
    confirmation,
    emergencies,
    offline,
    progress,
    services,
    visits,
)
from nuanxin.deliveries.schemas import (
    BatchIn,
    CaseOut,
    CaseResolveIn,
    ConfirmIn,
    ConfirmOut,
    DeliveryOut,
    FailIn,
    NotReceivedIn,
    OfflineReviewOut,
    ReviewResolveIn,
    SlipOut,
    StaffConfirmIn,
    VisitOut,
)
from nuanxin.deliveries.vocabulary import ReviewStatus
from nuanxin.guards import staff_and_admin
from nuanxin.identity import CurrentUser
from nuanxin.limits import Guess
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses
from nuanxin.safety.services import SafetyPolicy
from nuanxin.settings import Settings

__all__ = (
    "DeliveryController",
    "DeliveryReportController",
    "EmergencyController",
    "OfflineReviewController",
    "ProgressController",
    "VisitController",
)

ERRORS = error_responses(400, 401, 403, 404, 409)
SAFETY_NOTE = (
    "A visit bringing coal or a stove takes the courier's heating-safety checklist in `safety`: "
    "`chimney_sealed`, `vent` (风斗), `stove_not_in_bedroom`, `leaflet` (明白纸), each true or "
    "false, and `co_alarm` (`present`, `installed` or `missing`). Every answer is required "
    'when `safety` is sent; a "no" (false, `missing`) is accepted and opens an urgent '
    "follow-up for staff. `safety` is optional here (the courier's page requires it): such a "
    "visit confirmed without it gets a door-check follow-up within 7 days. `safety` sent for a "
    "visit without coal or a stove is refused (400, field `safety`), before the code is checked."
)
OFFLINE_NOTE = (
    "With an `Idempotency-Key` header the confirmation happens at most once: the same key "
    "again answers what the first request did. A confirmation typed without a network and "
    "sent later says `offline: true` (a key is then required), with `at_door` and, with the "
    "courier's consent, `position`: its right code closes the visit at the time at the door; "
    "a wrong code, or any code for a locked visit or one with an offline code already waiting, "
    "is held for staff (`held_for_review`, `review_id`) and never counts toward the lock."
)
CODE_ERRORS = error_responses(400, 401, 403, 404, 409, 423, 429)
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=offline.IDEMPOTENCY_HEADER,
        required=False,
        max_length=64,
        description="A UUID the client makes once per confirmation: sent again (a replay "
        "after a lost answer, or a queue of offline confirmations), it changes nothing and "
        "answers as the first time did.",
    ),
]
Status = Annotated[
    str | None,
    QueryParameter(pattern=r"^(pending|delivered|failed|locked)$", required=False),
]


class DeliveryController(Controller):
    path = "/api/deliveries"
    tags = ("deliveries",)
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @get(
        operation_id="ListDeliveries",
        responses=ERRORS,
        summary="My charity's deliveries (staff: my jurisdiction's), by township",
    )
    async def list(
        self,
        actor: NamedDependency[CurrentUser],
        page: NamedDependency[Pagination],
        status: Status = None,
    ) -> Page[DeliveryOut]:
        return await services.list_deliveries(actor=actor, page=page, status=status)

    @get("/{delivery_id:int}", operation_id="GetDelivery", responses=ERRORS, summary="One delivery")
    async def get_one(
        self, actor: NamedDependency[CurrentUser], delivery_id: FromPath[int]
    ) -> DeliveryOut:
        return await services.get_delivery(actor=actor, delivery_id=delivery_id)

    @post(
        "/{delivery_id:int}/slip",
        operation_id="IssueDeliverySlip",
        status_code=HTTP_201_CREATED,
        guards=[staff_and_admin],
        responses=ERRORS,
        summary="Print the slip of the delivery's visit: a new code (earlier codes stop working)",
    )
    async def slip(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        delivery_id: FromPath[int],
    ) -> SlipOut:
        await services.get_delivery(actor=actor, delivery_id=delivery_id)
        return await confirmation.issue_slip(
            actor=actor,
            secret_key=settings.secret_key,
            visit_id=await confirmation.visit_of(delivery_id),
            delivery_id=delivery_id,
        )

    @post(
        "/{delivery_id:int}/confirm",
        operation_id="ConfirmDelivery",
        guessing=Guess.delivery_code,
        status_code=HTTP_200_OK,
        responses=CODE_ERRORS,
        summary="The courier confirms the delivery's visit with the household's code",
        description=SAFETY_NOTE,
    )
    async def confirm(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        delivery_id: FromPath[int],
        data: JSONBody[ConfirmIn],
    ) -> ConfirmOut:
        await services.get_delivery(actor=actor, delivery_id=delivery_id)
        return await confirmation.confirm(
            actor=actor,
            secret_key=settings.secret_key,
            visit_id=await confirmation.visit_of(delivery_id),
            code=data.code,
            delivery_id=delivery_id,
            checklist=data.safety,
            policy=SafetyPolicy.of(settings),
        )

    @post(
        "/{delivery_id:int}/staff-confirm",
        operation_id="StaffConfirmDelivery",
        status_code=HTTP_200_OK,
        guards=[staff_and_admin],
        responses=ERRORS,
        summary="Staff confirm a hand-over they witnessed (the delivery's whole visit)",
    )
    async def staff_confirm(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        delivery_id: FromPath[int],
        data: JSONBody[StaffConfirmIn],
    ) -> ConfirmOut:
        await services.get_delivery(actor=actor, delivery_id=delivery_id)
        return await confirmation.staff_confirm(
            actor=actor,
            visit_id=await confirmation.visit_of(delivery_id),
            reason=data.reason,
            delivery_id=delivery_id,
            policy=SafetyPolicy.of(settings),
        )

    @post(
        "/{delivery_id:int}/fail",
        operation_id="FailDelivery",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Record one failed item: its stock returns to the pool; the visit's rest stay open",
    )
    async def fail(
        self,
        actor: NamedDependency[CurrentUser],
        delivery_id: FromPath[int],
        data: JSONBody[FailIn],
    ) -> DeliveryOut:
        await confirmation.fail_delivery(actor=actor, delivery_id=delivery_id, reason=data.reason)
        return await services.get_delivery(actor=actor, delivery_id=delivery_id)

    @get(
        "/cases",
        operation_id="ListDeliveryCases",
        guards=[staff_and_admin],
        responses=ERRORS,
        summary="'Not received' reports in my jurisdiction",
    )
    async def cases(
        self, actor: NamedDependency[CurrentUser], page: NamedDependency[Pagination]
    ) -> Page[CaseOut]:
        return await services.list_cases(actor=actor, page=page)

    @post(
        "/cases/{case_id:int}/resolve",
        operation_id="ResolveDeliveryCase",
        status_code=HTTP_200_OK,
        guards=[staff_and_admin],
        responses=ERRORS,
        summary="Settle a 'not received' case: redelivered, received after all, or written off",
        description=(
            "Once per case, with a note. `written_off` returns the units to the household's "
            "unmet need (the stock stays spent), so a later round can serve it again."
        ),
    )
    async def resolve_case(
        self,
        actor: NamedDependency[CurrentUser],
        case_id: FromPath[int],
        data: JSONBody[CaseResolveIn],
    ) -> CaseOut:
        return await cases.resolve_case(actor=actor, case_id=case_id, data=data)


class VisitController(Controller):
    """Household visits: one slip and one code for what a charity brings a household."""

    path = "/api/visits"
    tags = ("deliveries",)
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @get(
        operation_id="ListVisits",
        responses=ERRORS,
        summary="My charity's visits (staff: my jurisdiction's), by township; q searches",
    )
    async def list_all(
        self,
        actor: NamedDependency[CurrentUser],
        page: NamedDependency[Pagination],
        status: Status = None,
        q: Annotated[str | None, QueryParameter(max_length=100, required=False)] = None,
        region_code: Annotated[
            str | None, QueryParameter(pattern=r"^\d{6,12}$", required=False)
        ] = None,
    ) -> Page[VisitOut]:
        return await visits.list_visits(
            actor=actor, page=page, status=status, q=q, region_code=region_code
        )

    @get("/{visit_id:int}", operation_id="GetVisit", responses=ERRORS, summary="One visit")
    async def get_one(
        self, actor: NamedDependency[CurrentUser], visit_id: FromPath[int]
    ) -> VisitOut:
        return await visits.get_visit(actor=actor, visit_id=visit_id)

    @post(
        "/{visit_id:int}/slip",
        operation_id="IssueVisitSlip",
        status_code=HTTP_201_CREATED,
        guards=[staff_and_admin],
        responses=ERRORS,
        summary="Print (or reprint, 补打) the visit's slip: a new code, the old one dead, "
        "the wrong-code count reset, a locked visit open again",
    )
    async def slip(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        visit_id: FromPath[int],
    ) -> SlipOut:
        return await confirmation.issue_slip(
            actor=actor, secret_key=settings.secret_key, visit_id=visit_id
        )

    @post(
        "/slips",
        operation_id="IssueVisitSlips",
        status_code=HTTP_201_CREATED,
        guards=[staff_and_admin],
        responses=ERRORS,
        summary="Print many visits' slips at once (new codes for all, or none)",
    )
    async def slips(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        data: JSONBody[BatchIn],
    ) -> list[SlipOut]:
        return await confirmation.issue_slips(
            actor=actor, secret_key=settings.secret_key, visit_ids=data.visit_ids
        )

    @post(
        "/{visit_id:int}/confirm",
        operation_id="ConfirmVisit",
        guessing=Guess.visit_code,
        status_code=HTTP_200_OK,
        responses=CODE_ERRORS,
        summary="The courier confirms the visit with the household's code (five wrong codes "
        "lock it)",
        description=SAFETY_NOTE + " " + OFFLINE_NOTE,
    )
    async def confirm(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        visit_id: FromPath[int],
        data: JSONBody[ConfirmIn],
        idempotency_key: IdempotencyKey = None,
    ) -> ConfirmOut:
        return await offline.confirm_once(
            actor=actor,
            secret_key=settings.secret_key,
            visit_id=visit_id,
            data=data,
            key=idempotency_key,
            policy=SafetyPolicy.of(settings),
        )

    @post(
        "/{visit_id:int}/staff-confirm",
        operation_id="StaffConfirmVisit",
        status_code=HTTP_200_OK,
        guards=[staff_and_admin],
        responses=ERRORS,
        summary="Staff confirm a visit they witnessed",
    )
    async def staff_confirm(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        visit_id: FromPath[int],
        data: JSONBody[StaffConfirmIn],
    ) -> ConfirmOut:
        return await confirmation.staff_confirm(
            actor=actor,
            visit_id=visit_id,
            reason=data.reason,
            policy=SafetyPolicy.of(settings),
        )

    @post(
        "/{visit_id:int}/fail",
        operation_id="FailVisit",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Record a failed visit: the stock of all its open items returns to the pool",
    )
    async def fail(
        self,
        actor: NamedDependency[CurrentUser],
        visit_id: FromPath[int],
        data: JSONBody[FailIn],
    ) -> VisitOut:
        await confirmation.fail(actor=actor, visit_id=visit_id, reason=data.reason)
        return await visits.get_visit(actor=actor, visit_id=visit_id)


class OfflineReviewController(Controller):
    """Confirmations typed without a network that could not close their visit: staff decide."""

    path = "/api/offline-reviews"
    tags = ("deliveries",)
    guards = [staff_and_admin]  # noqa: RUF012
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @get(
        operation_id="ListOfflineReviews",
        responses=ERRORS,
        summary="Offline confirmations held for staff in my jurisdiction (status: open by default)",
    )
    async def list_all(
        self,
        actor: NamedDependency[CurrentUser],
        page: NamedDependency[Pagination],
        status: Annotated[ReviewStatus, QueryParameter(required=False)] = ReviewStatus.open,
    ) -> Page[OfflineReviewOut]:
        return await offline.list_reviews(actor=actor, page=page, status=status)

    @post(
        "/{review_id:int}/resolve",
        operation_id="ResolveOfflineReview",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Settle a held offline confirmation: delivered (the visit is confirmed) or "
        "dismissed",
    )
    async def resolve(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        review_id: FromPath[int],
        data: JSONBody[ReviewResolveIn],
    ) -> OfflineReviewOut:
        return await offline.resolve_review(
            actor=actor, review_id=review_id, data=data, policy=SafetyPolicy.of(settings)
        )


class DeliveryReportController(Controller):
    path = "/api/delivery-reports"
    tags = ("deliveries",)

    @post(
        operation_id="ReportNotReceived",
        guessing=Guess.not_received,
        exclude_from_auth=True,
        security=[{}],
        status_code=HTTP_201_CREATED,
        responses=error_responses(400, 403, 404, 409, 429),
        summary="A household reports with its code that the goods did not arrive",
    )
    async def report(
        self, settings: NamedDependency[Settings], data: JSONBody[NotReceivedIn]
    ) -> CaseOut:
        return await confirmation.report_not_received(
            secret_key=settings.secret_key, code=data.code, description=data.description
        )


class EmergencyController(Controller):
    """先行救助: one household helped at once, the paperwork after."""

    path = "/api/emergencies"
    tags = ("deliveries",)
    guards = [staff_and_admin]  # noqa: RUF012
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @post(
        operation_id="AssistFirst",
        status_code=HTTP_201_CREATED,
        responses=ERRORS,
        summary="Allocate to one household now from the chosen or nearest stock",
    )
    async def assist(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        data: JSONBody[emergencies.EmergencyIn],
    ) -> emergencies.EmergencyOut:
        return await emergencies.assist_first(
            actor=actor,
            data=data,
            paperwork_days=settings.emergency_paperwork_days,
        )

    @get(
        operation_id="ListEmergencies",
        responses=ERRORS,
        summary="Emergency allocations of my jurisdiction (overdue=true: paperwork overdue)",
    )
    async def list_all(
        self,
        actor: NamedDependency[CurrentUser],
        page: NamedDependency[Pagination],
        overdue: Annotated[bool, QueryParameter(required=False)] = False,
    ) -> Page[emergencies.EmergencyOut]:
        return await emergencies.list_emergencies(actor=actor, page=page, overdue_only=overdue)

    @post(
        "/{allocation_id:int}/paperwork",
        operation_id="CompleteEmergencyPaperwork",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="The paperwork of an emergency allocation is done",
    )
    async def paperwork(
        self, actor: NamedDependency[CurrentUser], allocation_id: FromPath[int]
    ) -> emergencies.EmergencyOut:
        return await emergencies.complete_paperwork(actor=actor, allocation_id=allocation_id)


class ProgressController(Controller):
    """The staff dashboard's figures as JSON: the same service the page draws."""

    path = "/api/progress"
    tags = ("deliveries",)
    guards = [staff_and_admin]  # noqa: RUF012

    @get(
        operation_id="GetProgress",
        responses=error_responses(401, 403),
        summary="My jurisdiction's progress: deliveries by week, unmet need, stale work",
        description=(
            "The figures of the staff dashboard (`/staff/`) for the caller's jurisdiction "
            "(everything for admins): units delivered per week, township and kind; unmet "
            "need per place; deliveries pending for 14 days or more; help requests open for "
            "7 days or more; emergency paperwork overdue."
        ),
    )
    async def get_progress(self, actor: NamedDependency[CurrentUser]) -> progress.Progress:
        return await progress.progress(actor=actor)
