"""'Not received' in pages: a household reports with the code on its slip (public, rate
limited as the API's ``ReportNotReceived``), and staff read the cases of their jurisdiction and
resolve each one (redelivered, received after all, or written off) with a note.

The same services as the API: :func:`confirmation.report_not_received`,
:func:`services.list_cases`, :func:`cases.resolve_case`.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from nuanxin.deliveries import cases, confirmation, services
from nuanxin.deliveries.schemas import CaseResolveIn
from nuanxin.deliveries.vocabulary import CaseOutcome
from nuanxin.errors import DomainError, NotFound
from nuanxin.forms import FormState, blank, refused
from nuanxin.guards import staff_and_admin
from nuanxin.i18n import N_
from nuanxin.identity import CurrentUser, Role
from nuanxin.limits import Guess
from nuanxin.pagination import Pagination
from nuanxin.settings import Settings
from nuanxin.web import PageController, done, gettext_for, page

__all__ = ("NotReceivedPages", "StaffCasePages")

AnyRequest = Request[Any, Any, Any]
URL_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
PER_PAGE = 50
WORDS = (N_("case_open"), N_("case_resolved"))  # ``_("case_" ~ status)`` in the template
OUTCOMES = {
    CaseOutcome.redelivered: N_("Redelivered: the charity brought the goods again"),
    CaseOutcome.received: N_("Received after all: the household had the goods"),
    CaseOutcome.written_off: N_("Written off: the goods are lost; the need is open again"),
}


class NotReceivedForm(msgspec.Struct, kw_only=True):
    code: str = ""
    description: str = ""


class ResolveForm(msgspec.Struct, kw_only=True):
    outcome: str = ""
    note: str = ""


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
    """Staff read the 'not received' cases of their jurisdiction, newest first, and resolve
    each one on its own page."""

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

    async def _case(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        case_id: int,
        form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        _ = gettext_for(request)
        case = await cases.get_case(actor=actor, case_id=case_id)
        delivery = await services.get_delivery(actor=actor, delivery_id=case.delivery_id)
        return page(
            request,
            "staff/case.html.j2",
            {
                "c": case,
                "d": delivery,
                "outcomes": [(o.value, _(words)) for o, words in OUTCOMES.items()],
                "outcome_words": {o.value: _(words) for o, words in OUTCOMES.items()},
                "form": form or blank(),
                "may_resolve": actor.role is Role.staff,
            },
            status_code=status_code,
        )

    @get("/{case_id:int}")
    async def one(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], case_id: FromPath[int]
    ) -> Template:
        return await self._case(request, actor, case_id)

    @post("/{case_id:int}/resolve", status_code=303)
    async def resolve(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        case_id: FromPath[int],
        data: Annotated[ResolveForm, URL_FORM],
    ) -> Template | Redirect:
        """Settle the case once, with its outcome and a note (audited)."""
        _ = gettext_for(request)
        problems: dict[str, str] = {}
        if data.outcome not in {o.value for o in CaseOutcome}:
            problems["outcome"] = _("Choose how the case ended")
        if not data.note.strip():
            problems["note"] = _("Say what was done: who checked, when and how")
        elif len(data.note.strip()) > 300:
            problems["note"] = _("The note is too long: 300 characters at most")
        if problems:
            form = FormState(values=msgspec.structs.asdict(data), errors=problems)
            return await self._case(request, actor, case_id, form, 400)
        try:
            await cases.resolve_case(
                actor=actor,
                case_id=case_id,
                data=CaseResolveIn(outcome=CaseOutcome(data.outcome), note=data.note.strip()),
            )
        except DomainError as exc:
            form = refused(request, exc, data)
            if "status" in form.errors:  # resolved meanwhile: the whole form's problem
                form = FormState(values=form.values, errors={"": form.errors["status"]})
            return await self._case(request, actor, case_id, form, 400)
        return done(
            request,
            _("Case no. %(id)d is resolved.") % {"id": case_id},
            "/staff/cases",
        )
