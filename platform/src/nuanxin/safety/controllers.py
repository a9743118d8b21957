"""The JSON API of heating safety: follow-ups by township, cold spells, a visit's checklist.

The checklist itself arrives with the courier's confirmation (``POST /api/visits/{id}/confirm``,
field ``safety``); these routes read and follow it up. Staff only, within their jurisdiction;
a charity reads the checklists of its own visits.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from nuanxin.guards import staff_and_admin
from nuanxin.identity import CurrentUser
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses
from nuanxin.safety import services
from nuanxin.safety.schemas import (
    ColdSpellIn,
    ColdSpellOut,
    FollowUpDoneIn,
    FollowUpOut,
    SafetyCheckOut,
)
from nuanxin.safety.services import SafetyPolicy
from nuanxin.settings import Settings

__all__ = ("SafetyCheckController", "SafetyFollowUpController")

ERRORS = error_responses(400, 401, 403, 404, 409)
State = Annotated[
    str | None,
    QueryParameter(
        name="state",
        pattern=r"^(due|overdue|upcoming|done)$",
        required=False,
        description="due (inside its window today), overdue, upcoming, or done; "
        "default: every open one",
    ),
]
RegionCode = Annotated[
    str | None,
    QueryParameter(
        pattern=r"^\d{6,12}$",
        required=False,
        description="a township's (or county's) code: its follow-ups and those under it",
    ),
]


class SafetyFollowUpController(Controller):
    """Follow-up calls and visits after coal, a stove or an electric blanket."""

    path = "/api/safety"
    tags = ("safety",)
    guards = [staff_and_admin]  # noqa: RUF012
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @get(
        "/follow-ups",
        operation_id="ListSafetyFollowUps",
        responses=ERRORS,
        summary="Heating-safety follow-ups of my jurisdiction, by township, urgent first",
        description=(
            "Each follow-up is due between `due_from` and `due_by` (both days included, in "
            '`TIMEZONE`); `state` says where it stands today. Kinds: `door_answer` (a "no" '
            "on the checklist, urgent, by the next day), `door_check` (coal or a stove "
            "confirmed without the checklist, within 7 days), `cold_spell` (within 7 days of "
            "the county's first cold spell), `peak_recheck` (1 December to 31 January), "
            "`blanket_check` (an electric blanket's fold and age check, in the same peak)."
        ),
    )
    async def list_follow_ups(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        page: NamedDependency[Pagination],
        due_state: State = None,
        region_code: RegionCode = None,
    ) -> Page[FollowUpOut]:
        return await services.list_follow_ups(
            actor=actor,
            page=page,
            today=SafetyPolicy.of(settings).today(),
            state=due_state,
            region_code=region_code,
        )

    @post(
        "/follow-ups/{follow_up_id:int}/done",
        operation_id="CompleteSafetyFollowUp",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Mark a follow-up done, with what was found (once; audited)",
    )
    async def complete(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        follow_up_id: FromPath[int],
        data: JSONBody[FollowUpDoneIn],
    ) -> FollowUpOut:
        return await services.complete_follow_up(
            actor=actor,
            follow_up_id=follow_up_id,
            note=data.note.strip() or data.note,
            today=SafetyPolicy.of(settings).today(),
        )

    @put(
        "/cold-spells",
        operation_id="SetColdSpell",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Set a county's first cold spell of the winter (its cold-spell follow-ups move)",
        description=(
            "Without one, the first cold spell is `FIRST_COLD_SPELL` (15 November by default). "
            "The winter is the date's (July to June). Open `cold_spell` follow-ups of the "
            "county and winter get the window from the new date (or their delivery, when "
            "later) to 7 days after."
        ),
    )
    async def set_cold_spell(
        self, actor: NamedDependency[CurrentUser], data: JSONBody[ColdSpellIn]
    ) -> ColdSpellOut:
        return await services.set_cold_spell(actor=actor, data=data)


class SafetyCheckController(Controller):
    """The checklist a courier filled in at the door of a visit."""

    path = "/api/safety/visits"
    tags = ("safety",)

    @get(
        "/{visit_id:int}",
        operation_id="GetVisitSafetyCheck",
        responses=ERRORS,
        summary="The heating-safety checklist of a visit (staff, or the visiting charity)",
    )
    async def get_check(
        self, actor: NamedDependency[CurrentUser], visit_id: FromPath[int]
    ) -> SafetyCheckOut:
        return await services.get_check(actor=actor, visit_id=visit_id)
