"""Notifications in pages: staff read the ones of their jurisdiction that failed.

The same service as the API's ``ListNotificationFailures`` (:func:`services.list_failures`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from nuanxin.deliveries import visits
from nuanxin.deliveries.vocabulary import VisitStatus
from nuanxin.errors import DomainError
from nuanxin.forms import FormState, refused
from nuanxin.guards import staff_and_admin
from nuanxin.i18n import N_
from nuanxin.identity import CurrentUser
from nuanxin.notifications import compose, services
from nuanxin.pagination import Pagination
from nuanxin.settings import Settings
from nuanxin.web import PageController, done, gettext_for, page

__all__ = ("StaffNotificationPages", "StaffVisitSchedulePages")

AnyRequest = Request[Any, Any, Any]
URL_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
PER_PAGE = 50
# ``_("notification_" ~ kind)``, ``_("notification_" ~ status)`` and channels in the template
WORDS = (
    N_("notification_visit_code"),
    N_("notification_courier_day"),
    N_("notification_donor_delivered"),
    N_("notification_staff_deadlines"),
    N_("notification_retrying"),
    N_("notification_failed"),
    N_("notification_sms"),
    N_("notification_email"),
)


class StaffNotificationPages(PageController):
    """Staff read the failed notifications of their jurisdiction, most recent first."""

    path = "/staff/notifications"
    guards = [staff_and_admin]  # noqa: RUF012

    @get("/")
    async def index(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        offset: FromQuery[int] = 0,
    ) -> Template:
        found = await services.list_failures(
            actor=actor, page=Pagination(limit=PER_PAGE, offset=max(offset, 0))
        )
        return page(request, "staff/notifications.html.j2", {"found": found})


class ScheduleForm(msgspec.Struct, kw_only=True):
    visit_on: str = ""


class StaffVisitSchedulePages(PageController):
    """On a visit's page, staff send the household the visit's day and its code by SMS."""

    path = "/staff/visits"
    guards = [staff_and_admin]  # noqa: RUF012

    @post("/{visit_id:int}/schedule", status_code=303)
    async def schedule(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        visit_id: FromPath[int],
        data: Annotated[ScheduleForm, URL_FORM],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            visit_on = date.fromisoformat(data.visit_on.strip())
        except ValueError:
            form = FormState(
                values={"visit_on": data.visit_on},
                errors={"visit_on": _("Today or within the next 60 days")},
            )
            return await self._again(request, actor, visit_id, form)
        try:
            scheduled = await compose.schedule_visit(
                actor=actor,
                secret_key=settings.secret_key,
                hotline=settings.hotline,
                visit_id=visit_id,
                visit_on=visit_on,
                today=datetime.now(ZoneInfo(settings.timezone)).date(),
            )
        except DomainError as exc:
            return await self._again(request, actor, visit_id, refused(request, exc, data))
        if scheduled.status == "skipped":
            message = _(
                "The visit's day is set, but the household gets no text message (no phone, or it "
                "asked for none): print its slip."
            )
        else:
            message = _("The household will get the day and the code by text message.")
        return done(request, message, f"/staff/visits/{visit_id}")

    async def _again(
        self, request: AnyRequest, actor: CurrentUser, visit_id: int, form: FormState
    ) -> Template:
        visit = await visits.get_visit(actor=actor, visit_id=visit_id)
        return page(
            request,
            "staff/visit.html.j2",
            {
                "v": visit,
                "open": visit.status in (VisitStatus.pending, VisitStatus.locked),
                "form": form,
            },
            status_code=400,
        )
