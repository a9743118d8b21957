"""The JSON API of notifications: schedule a visit (the household's SMS), failures, opt-outs."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from litestar import Controller, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from nuanxin.guards import staff_and_admin
from nuanxin.identity import CurrentUser
from nuanxin.notifications import compose, services
from nuanxin.notifications.schemas import (
    AppointmentOut,
    NotificationOut,
    PreferenceIn,
    PreferenceOut,
    ScheduleIn,
)
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses
from nuanxin.settings import Settings

__all__ = ("NotificationController", "VisitScheduleController")

ERRORS = error_responses(400, 401, 403, 404, 409)


class VisitScheduleController(Controller):
    path = "/api/visits"
    tags = ("notifications",)

    @post(
        "/{visit_id:int}/schedule",
        operation_id="ScheduleVisit",
        status_code=HTTP_201_CREATED,
        guards=[staff_and_admin],
        responses=ERRORS,
        summary="Set the visit's day and tell the household by SMS, with the visit's code "
        "(once; a slip printed afterwards has a new code)",
    )
    async def schedule(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        visit_id: FromPath[int],
        data: JSONBody[ScheduleIn],
    ) -> AppointmentOut:
        today = datetime.now(ZoneInfo(settings.timezone)).date()
        return await compose.schedule_visit(
            actor=actor,
            secret_key=settings.secret_key,
            hotline=settings.hotline,
            visit_id=visit_id,
            visit_on=data.visit_on,
            today=today,
        )


class NotificationController(Controller):
    path = "/api/notifications"
    tags = ("notifications",)
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @get(
        "/failures",
        operation_id="ListNotificationFailures",
        guards=[staff_and_admin],
        responses=ERRORS,
        summary="Notifications of my jurisdiction that failed or wait for another attempt",
    )
    async def failures(
        self, actor: NamedDependency[CurrentUser], page: NamedDependency[Pagination]
    ) -> Page[NotificationOut]:
        return await services.list_failures(actor=actor, page=page)

    @get(
        "/preferences",
        operation_id="GetMyNotificationPreference",
        responses=ERRORS,
        summary="My notifications: opted out or not, language, email",
    )
    async def mine(self, actor: NamedDependency[CurrentUser]) -> PreferenceOut:
        return await services.my_preference(actor=actor)

    @put(
        "/preferences",
        operation_id="SetMyNotificationPreference",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Opt out of (or back into) notifications; choose their language and email",
    )
    async def set_mine(
        self, actor: NamedDependency[CurrentUser], data: JSONBody[PreferenceIn]
    ) -> PreferenceOut:
        return await services.set_my_preference(actor=actor, data=data)

    @put(
        "/households/{household_id:int}",
        operation_id="SetHouseholdNotificationPreference",
        status_code=HTTP_200_OK,
        guards=[staff_and_admin],
        responses=ERRORS,
        summary="Opt a household out of SMS (or back in), or choose its language, as it asked",
    )
    async def set_household(
        self,
        actor: NamedDependency[CurrentUser],
        household_id: FromPath[int],
        data: JSONBody[PreferenceIn],
    ) -> PreferenceOut:
        return await services.set_household_preference(
            actor=actor, household_id=household_id, data=data
        )
