"""The staff's heating-safety page: open follow-ups by township, marked done with a note, and
the county's first cold spell. The same services as the API (:mod:`nuanxin.safety.services`).
"""

from __future__ import annotations

from datetime import date
from itertools import groupby
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from nuanxin.errors import DomainError, Invalid
from nuanxin.forms import FormState, blank, refused
from nuanxin.guards import staff_and_admin
from nuanxin.i18n import N_
from nuanxin.identity import CurrentUser
from nuanxin.pagination import MAX_LIMIT, Pagination
from nuanxin.regions.services import resolve_region
from nuanxin.safety import services
from nuanxin.safety.schemas import ColdSpellIn, FollowUpOut
from nuanxin.safety.services import SafetyPolicy
from nuanxin.settings import Settings
from nuanxin.web import PageController, done, gettext_for, page

__all__ = ("StaffSafetyPages",)

AnyRequest = Request[Any, Any, Any]
URL_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
STATES = ("", "due", "overdue", "upcoming", "done")

#: The words the template builds from codes (``_("follow_up_" ~ kind)`` ...), for the catalogues.
WORDS = (
    N_("follow_up_door_answer"),
    N_("follow_up_door_check"),
    N_("follow_up_cold_spell"),
    N_("follow_up_peak_recheck"),
    N_("follow_up_blanket_check"),
    N_("follow_up_state_"),
    N_("follow_up_state_due"),
    N_("follow_up_state_overdue"),
    N_("follow_up_state_upcoming"),
    N_("follow_up_state_done"),
    N_("safety_problem_chimney_sealed"),
    N_("safety_problem_vent"),
    N_("safety_problem_stove_not_in_bedroom"),
    N_("safety_problem_co_alarm"),
    N_("safety_problem_leaflet"),
)


class DoneForm(msgspec.Struct, kw_only=True):
    note: str = ""


class ColdSpellForm(msgspec.Struct, kw_only=True):
    county: str = ""
    starts_on: str = ""


def _by_township(found: list[FollowUpOut]) -> list[tuple[str, list[FollowUpOut]]]:
    return [
        (f"{group[0].county} {group[0].township}".strip(), group)
        for _, rows in groupby(found, key=lambda f: f.region_code)
        for group in [list(rows)]
    ]


class StaffSafetyPages(PageController):
    """Follow-ups after coal, a stove or an electric blanket, for staff of the jurisdiction."""

    path = "/staff/safety"
    guards = [staff_and_admin]  # noqa: RUF012

    async def _page(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        settings: Settings,
        *,
        done_form: FormState | None = None,
        cold_form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        state = request.query_params.get("state") or ""
        state = state if state in STATES else ""
        township = request.query_params.get("township") or ""
        township = township if township.isdigit() and len(township) <= 12 else ""
        try:
            offset = max(int(request.query_params.get("offset") or 0), 0)
        except ValueError:
            offset = 0
        today = SafetyPolicy.of(settings).today()
        found = await services.list_follow_ups(
            actor=actor,
            page=Pagination(limit=MAX_LIMIT, offset=offset),
            today=today,
            state=state or None,
            region_code=township or None,
        )
        return page(
            request,
            "staff/safety.html.j2",
            {
                "found": found,
                "groups": _by_township(found.items),
                "state": state,
                "states": STATES,
                "township": township,
                "townships": await services.follow_up_townships(actor=actor),
                "today": today,
                "done_form": done_form or blank(),
                "cold_form": cold_form or blank(),
                "default_cold_spell": date(2000, *settings.first_cold_spell),
            },
            status_code=status_code,
        )

    @get("/")
    async def index(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Template:
        return await self._page(request, actor, settings)

    @post("/follow-ups/{follow_up_id:int}/done", status_code=303)
    async def complete(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        follow_up_id: FromPath[int],
        data: Annotated[DoneForm, URL_FORM],
    ) -> Template | Redirect:
        """Mark a follow-up done with what was found (the note is required)."""
        _ = gettext_for(request)
        field = f"note-{follow_up_id}"
        note = data.note.strip()[:300]
        try:
            if not note:
                raise Invalid(_("Write what was checked and found"), field=field)
            await services.complete_follow_up(
                actor=actor,
                follow_up_id=follow_up_id,
                note=note,
                today=SafetyPolicy.of(settings).today(),
            )
        except DomainError as exc:
            form = refused(request, exc, {field: data.note})
            if field not in form.errors:  # a refusal of the follow-up itself (done already)
                form = FormState(
                    values=form.values, errors={field: next(iter(form.errors.values()))}
                )
            return await self._page(request, actor, settings, done_form=form, status_code=400)
        return done(request, _("Follow-up recorded."), "/staff/safety")

    @post("/cold-spells", status_code=303)
    async def cold_spell(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        data: Annotated[ColdSpellForm, URL_FORM],
    ) -> Template | Redirect:
        """Set a county's first cold spell; its open cold-spell follow-ups move with it."""
        _ = gettext_for(request)
        try:
            try:
                starts_on = date.fromisoformat(data.starts_on.strip())
            except ValueError:
                raise Invalid(
                    _("Write the date as year-month-day, e.g. 2026-12-10"), field="starts_on"
                ) from None
            county = await resolve_region(data.county, field="county", levels=("county",))
            made = await services.set_cold_spell(
                actor=actor, data=ColdSpellIn(region_code=county.code, starts_on=starts_on)
            )
        except DomainError as exc:
            form = refused(request, exc, data, aliases={"region_code": "county"})
            return await self._page(request, actor, settings, cold_form=form, status_code=400)
        return done(
            request,
            _("First cold spell of %(county)s set to %(date)s; %(n)d follow-ups moved.")
            % {"county": made.county, "date": made.starts_on.isoformat(), "n": made.rescheduled},
            "/staff/safety",
        )
