"""'Not received' in pages: a household reports with the code on its slip (public, rate
limited as the API's ``ReportNotReceived``), and staff read the cases of their jurisdiction.

The same services as the API: :func:`confirmation.report_not_received`,
:func:`services.list_cases`.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from nuanxin.deliveries import confirmation, services
from nuanxin.errors import DomainError, NotFound
from nuanxin.forms import FormState, blank, refused
from nuanxin.guards import staff_and_admin
from nuanxin.i18n import N_
from nuanxin.identity import CurrentUser
from nuanxin.limits import Guess
from nuanxin.pagination import Pagination
from nuanxin.settings import Settings
from nuanxin.web import PageController, done, gettext_for, page

__all__ = ("NotReceivedPages", "StaffCasePages")

AnyRequest = Request[Any, Any, Any]
URL_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
PER_PAGE = 50
WORDS = (N_("case_open"), N_("case_resolved"))  # ``_("case_" ~ status)`` in the template


class NotReceivedForm(msgspec.Struct, kw_only=True):
    code: str = ""
    description: str = ""


class NotReceivedPages(PageController):
    """A household whose goods did not arrive says so with the code on its slip."""

    path = "/not-received"

    @get("/", exclude_from_auth=True)
    async def form(self, request: AnyRequest) -> Template:
        return page(request, "help/not_received.html.j2", {"form": blank()})

    @post("/", exclude_from_auth=True, status_code=303, guessing=Guess.not_received)
    async def submit(
        self,
        request: AnyRequest,
        settings: NamedDependency[Settings],
        data: Annotated[NotReceivedForm, URL_FORM],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            case = await confirmation.report_not_received(
                secret_key=settings.secret_key,
                code=data.code,
                description=data.description.strip()[:500],
            )
        except NotFound:
            # No delivery has this code: a mistyped code, said at the field (never a 404).
            form = FormState(
                values=msgspec.structs.asdict(data),
                errors={"code": _("No delivery has this code: check the 8 digits on the slip")},
            )
            return page(request, "help/not_received.html.j2", {"form": form}, status_code=400)
        except DomainError as exc:
            form = refused(request, exc, data)
            if "code" in form.errors:
                form = FormState(
                    values=form.values,
                    errors={"code": _("The code has 8 digits, as printed on the slip")},
                )
            return page(request, "help/not_received.html.j2", {"form": form}, status_code=400)
        return done(
            request,
            _(
                "Thank you: case no. %(id)d is opened. The civil affairs staff of your county "
                "look into it and call you."
            )
            % {"id": case.id},
            "/not-received",
        )


class StaffCasePages(PageController):
    """Staff read the 'not received' cases of their jurisdiction, newest first."""

    path = "/staff/cases"
    guards = [staff_and_admin]  # noqa: RUF012

    @get("/")
    async def index(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        offset: FromQuery[int] = 0,
    ) -> Template:
        found = await services.list_cases(
            actor=actor, page=Pagination(limit=PER_PAGE, offset=max(offset, 0))
        )
        return page(request, "staff/cases.html.j2", {"found": found})
