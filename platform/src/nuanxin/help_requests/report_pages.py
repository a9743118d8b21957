"""Reporting a person in difficulty: the public form at ``/help`` and the hotline call that
staff log at ``/staff/hotline``. Both go through :func:`services.create_request` (as the API's
``ReportHelpRequest`` and ``LogHotlineCall``), into the queue of the county where the person is."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from nuanxin.errors import DomainError
from nuanxin.forms import FormState, blank, refused
from nuanxin.guards import staff_and_admin
from nuanxin.help_requests import services
from nuanxin.help_requests.schemas import HelpRequestCreate, HelpRequestReceived
from nuanxin.help_requests.vocabulary import Source
from nuanxin.identity import CurrentUser
from nuanxin.regions.services import resolve_region
from nuanxin.web import PageController, done, gettext_for, page

__all__ = ("HotlinePages", "PublicHelpPages")

AnyRequest = Request[Any, Any, Any]
URL_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


class ReportForm(msgspec.Struct, kw_only=True):
    """The report as typed: the region is searched by name, or named in the address."""

    region: str = ""
    address: str = ""
    description: str = ""
    person_name: str = ""
    person_phone: str = ""
    reporter_contact: str = ""


async def _report(
    request: AnyRequest, data: ReportForm, user: CurrentUser | None, source: Source
) -> HelpRequestReceived:
    region_code = None
    if data.region.strip():
        region_code = (await resolve_region(data.region, field="region")).code
    return await services.create_request(
        user=user,
        source=source,
        data=msgspec.convert(
            {
                "region_code": region_code,
                "address": data.address.strip(),
                "description": data.description.strip(),
                "person_name": data.person_name.strip(),
                "person_phone": data.person_phone.strip(),
                "reporter_contact": data.reporter_contact.strip(),
            },
            HelpRequestCreate,
        ),
    )


def _refused(request: AnyRequest, exc: Exception, data: ReportForm) -> FormState:
    _ = gettext_for(request)
    return refused(
        request,
        exc,
        data,
        invalid={
            "description": _("Say what is wrong, in a few words"),
            "address": _("The address is too long"),
            "person_phone": _("Enter a phone number, digits only, e.g. 13800000000"),
            "person_name": _("The name is too long"),
            "reporter_contact": _("Your contact is too long"),
        },
        aliases={"region_code": "region"},
    )


REFUSED = (DomainError, msgspec.ValidationError)


class PublicHelpPages(PageController):
    """Anyone reports a person in difficulty; the county's civil affairs staff look into it."""

    path = "/help"

    @get("/", exclude_from_auth=True)
    async def form(self, request: AnyRequest) -> Template:
        return page(request, "help/report.html.j2", {"form": blank(), "staff": False})

    @post("/", exclude_from_auth=True, status_code=303)
    async def submit(
        self, request: AnyRequest, data: Annotated[ReportForm, URL_FORM]
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            received = await _report(request, data, None, Source.public)
        except REFUSED as exc:
            form = _refused(request, exc, data)
            return page(
                request, "help/report.html.j2", {"form": form, "staff": False}, status_code=400
            )
        return done(
            request,
            _(
                "Thank you: report no. %(id)d reached the civil affairs staff of %(region)s. "
                "They visit or call within a few days."
            )
            % {"id": received.id, "region": received.region_name},
            "/help",
        )


class HotlinePages(PageController):
    """Staff log a hotline call (12345, 12349): it joins the queue of the person's county."""

    path = "/staff/hotline"
    guards = [staff_and_admin]  # noqa: RUF012

    @get("/")
    async def form(self, request: AnyRequest) -> Template:
        return page(request, "help/report.html.j2", {"form": blank(), "staff": True})

    @post("/", status_code=303)
    async def submit(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        data: Annotated[ReportForm, URL_FORM],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            received = await _report(request, data, actor, Source.hotline)
        except REFUSED as exc:
            form = _refused(request, exc, data)
            return page(
                request, "help/report.html.j2", {"form": form, "staff": True}, status_code=400
            )
        return done(
            request,
            _("Call logged as help request #%(id)d, in the queue of %(region)s.")
            % {"id": received.id, "region": received.region_name},
            "/staff/hotline",
        )
