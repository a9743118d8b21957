"""Staff and one household visit: what it brings, its status, and what staff do about it.

Staff confirm a hand-over they witnessed (the household has no code, say) with a reason, or
record that the visit failed (its items' stock and needs return to the pool). The same
services as the API's ``StaffConfirmVisit`` and ``FailVisit``
(:func:`nuanxin.deliveries.confirmation.staff_confirm`, :func:`~.confirmation.fail`).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from nuanxin.deliveries import confirmation, visits
from nuanxin.deliveries.vocabulary import VisitStatus
from nuanxin.errors import DomainError
from nuanxin.forms import FormState, blank, refused
from nuanxin.guards import staff_and_admin
from nuanxin.identity import CurrentUser
from nuanxin.safety import services as safety
from nuanxin.safety.services import SafetyPolicy
from nuanxin.settings import Settings
from nuanxin.web import PageController, done, gettext_for, page

__all__ = ("StaffVisitPages",)

AnyRequest = Request[Any, Any, Any]
URL_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
MAX_REASON = 300


class WitnessForm(msgspec.Struct, kw_only=True):
    witness_reason: str = ""


class FailForm(msgspec.Struct, kw_only=True):
    fail_reason: str = ""


class StaffVisitPages(PageController):
    path = "/staff/visits"
    guards = [staff_and_admin]  # noqa: RUF012

    async def _visit(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        visit_id: int,
        form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        visit = await visits.get_visit(actor=actor, visit_id=visit_id)
        check, follow_ups = await safety.visit_follow_ups(
            actor=actor, visit_id=visit_id, today=SafetyPolicy().today()
        )
        return page(
            request,
            "staff/visit.html.j2",
            {
                "v": visit,
                "open": visit.status in (VisitStatus.pending, VisitStatus.locked),
                "form": form or blank(),
                "safety_check": check,
                "follow_ups": follow_ups,
            },
            status_code=status_code,
        )

    @get("/{visit_id:int}")
    async def one(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], visit_id: FromPath[int]
    ) -> Template:
        return await self._visit(request, actor, visit_id)

    def _reason(self, request: AnyRequest, name: str, typed: str, missing: str) -> FormState:
        _ = gettext_for(request)
        reason = typed.strip()
        if not reason:
            return FormState(values={name: typed}, errors={name: missing})
        if len(reason) > MAX_REASON:
            return FormState(
                values={name: typed},
                errors={name: _("The reason is too long: 300 characters at most")},
            )
        return FormState(values={name: reason})

    @post("/{visit_id:int}/confirm", status_code=303)
    async def witness(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        visit_id: FromPath[int],
        data: Annotated[WitnessForm, URL_FORM],
    ) -> Template | Redirect:
        """Confirm the whole visit as delivered, on the staff member's word (audited)."""
        _ = gettext_for(request)
        form = self._reason(
            request,
            "witness_reason",
            data.witness_reason,
            _("Say what you saw: when, where, who received the goods"),
        )
        if form.errors:
            return await self._visit(request, actor, visit_id, form, 400)
        try:
            await confirmation.staff_confirm(
                actor=actor,
                visit_id=visit_id,
                reason=form.value("witness_reason"),
                policy=SafetyPolicy.of(settings),
            )
        except DomainError as exc:
            refusal = refused(request, exc, data)
            return await self._visit(
                request, actor, visit_id, _whole_form(refusal, "witness_reason"), 400
            )
        return done(
            request,
            _("Visit confirmed as delivered, on your word."),
            f"/staff/visits/{visit_id}",
        )

    @post("/{visit_id:int}/fail", status_code=303)
    async def fail(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        visit_id: FromPath[int],
        data: Annotated[FailForm, URL_FORM],
    ) -> Template | Redirect:
        """Record the visit as failed: its open items' stock and needs return to the pool."""
        _ = gettext_for(request)
        form = self._reason(
            request,
            "fail_reason",
            data.fail_reason,
            _("Say why the goods could not be handed over"),
        )
        if form.errors:
            return await self._visit(request, actor, visit_id, form, 400)
        try:
            await confirmation.fail(
                actor=actor, visit_id=visit_id, reason=form.value("fail_reason")
            )
        except DomainError as exc:
            refusal = refused(request, exc, data)
            return await self._visit(
                request, actor, visit_id, _whole_form(refusal, "fail_reason"), 400
            )
        return done(
            request,
            _("Visit recorded as failed; its goods return to the pool."),
            f"/staff/visits/{visit_id}",
        )


def _whole_form(form: FormState, field: str) -> FormState:
    """A refusal of the service (a closed visit, say) shown at the form's reason field."""
    message = next(iter(form.errors.values()), "")
    return FormState(values=form.values, errors={field: message})
