"""Notifications in pages: staff read the ones of their jurisdiction that failed.

The same service as the API's ``ListNotificationFailures`` (:func:`services.list_failures`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template

from nuanxin.guards import staff_and_admin
from nuanxin.i18n import N_
from nuanxin.identity import CurrentUser
from nuanxin.notifications import services
from nuanxin.pagination import Pagination
from nuanxin.web import PageController, page

__all__ = ("StaffNotificationPages",)

AnyRequest = Request[Any, Any, Any]
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
