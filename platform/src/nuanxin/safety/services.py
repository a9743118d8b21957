"""Heating safety: the checklist at the door, follow-ups through the winter, cold spells.

Rules (the dates are in :mod:`nuanxin.safety.schedule`):

* A visit that brings **coal or a stove** (item kinds ``coal``, ``stove``) asks the courier a
  checklist: chimney sealed, vent (风斗), stove not in the bedroom, carbon-monoxide alarm
  present or installed, leaflet (明白纸) handed over. Every answer is required when the
  checklist is sent; "no" is an answer, and opens an **urgent** follow-up. A checklist sent for
  a visit without coal or a stove is refused (field ``safety``).
* The checklist is required on the courier's page; through the API it is optional, for the
  clients and offline queues written before it. Coal or a stove confirmed without it (or by
  staff) brings a follow-up to do the door check within 7 days instead.
* When such a visit is confirmed, :func:`after_delivery` (inside the confirmation's
  transaction) stores the checklist and schedules the follow-ups: a call or visit within 7
  days of the county's first cold spell, a re-check in the December-January peak, and for an
  electric blanket a fold and age check. At most one follow-up of a kind per visit.
* An alarm present or installed tags the household ``co_alarm`` (its needs then propose none:
  :mod:`nuanxin.households.alarms`).
* Staff list the open follow-ups of their jurisdiction by township (due, overdue, upcoming)
  and mark each done once with a note (audited). Staff over a county set its first cold spell
  of a winter; the open cold-spell follow-ups of that county and winter move with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from nuanxin.audit.services import record
from nuanxin.db import atomic, rows_table
from nuanxin.errors import Conflict, Forbidden, Invalid, NotFound
from nuanxin.households import alarms
from nuanxin.identity import (
    CurrentUser,
    Role,
    ensure_visible,
    jurisdiction_where,
    subtree_prefix,
)
from nuanxin.offers.tables import Item as ItemTable
from nuanxin.pagination import Page, Pagination
from nuanxin.privacy import mask_name
from nuanxin.regions.services import get_region
from nuanxin.safety import schedule
from nuanxin.safety.schemas import (
    ColdSpellIn,
    ColdSpellOut,
    FollowUpOut,
    SafetyChecklistIn,
    SafetyCheckOut,
)
from nuanxin.safety.tables import ColdSpell, FollowUp, SafetyCheck
from nuanxin.safety.vocabulary import (
    CoAlarm,
    DueState,
    FollowUpKind,
    FollowUpStatus,
    Question,
)
from nuanxin.settings import Settings

__all__ = (
    "BLANKET_KINDS",
    "HEATING_KINDS",
    "SafetyPolicy",
    "after_delivery",
    "asks_checklist",
    "complete_follow_up",
    "follow_up_townships",
    "get_check",
    "list_follow_ups",
    "problems_of",
    "set_cold_spell",
    "visit_follow_ups",
)

HEATING_KINDS = frozenset({"coal", "stove"})
BLANKET_KINDS = frozenset({"electric_blanket"})


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyPolicy:
    """What the schedule reads from the settings: the default first cold spell, the zone."""

    first_cold_spell: tuple[int, int] = (11, 15)
    timezone: str = "Asia/Shanghai"

    @classmethod
    def of(cls, settings: Settings) -> SafetyPolicy:
        return cls(first_cold_spell=settings.first_cold_spell, timezone=settings.timezone)

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.timezone)).date()

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.timezone)).date()


def problems_of(checklist: SafetyChecklistIn) -> list[str]:
    """The questions answered "no", in the checklist's order."""
    answers = {
        Question.chimney_sealed: checklist.chimney_sealed,
        Question.vent: checklist.vent,
        Question.stove_not_in_bedroom: checklist.stove_not_in_bedroom,
        Question.co_alarm: checklist.co_alarm is not CoAlarm.missing,
        Question.leaflet: checklist.leaflet,
    }
    return [question.value for question, yes in answers.items() if not yes]


async def _kinds(item_codes: Iterable[str]) -> set[str]:
    """The kinds of these catalogue items. A confirmation asks twice (does the visit take the
    checklist; which follow-ups): one small raw statement, the same whatever the items, where
    the catalogue read through :func:`nuanxin.offers.services.list_items` built every item."""
    wanted = set(item_codes)
    rows = await ItemTable.raw("SELECT code, kind FROM item").run()
    return {str(row["kind"]) for row in rows if row["code"] in wanted}


async def asks_checklist(
    *, item_codes: Iterable[str], checklist: SafetyChecklistIn | None = None
) -> bool:
    """Whether items still to hand over call for the checklist (coal or a stove).

    Refuses a checklist sent for a visit that brings neither (field ``safety``).
    """
    heating = bool(await _kinds(item_codes) & HEATING_KINDS)
    if checklist is not None and not heating:
        raise Invalid(
            "The safety checklist is only for visits that bring coal or a stove",
            field="safety",
            message_id="safety_not_asked",
        )
    return heating


#: A visit's follow-up windows as rows (:func:`nuanxin.db.rows_table`), for one insert.
_WINDOW_ROWS = (
    ("kind", "text"),
    ("urgent", "bool"),
    ("problems", "json"),
    ("due_from", "date"),
    ("due_by", "date"),
)


async def _cold_spell(county_code: str, winter: int, policy: SafetyPolicy) -> date:
    rows = await ColdSpell.raw(
        "SELECT cold_spell.starts_on FROM cold_spell "
        "JOIN region ON region.id = cold_spell.region "
        "WHERE region.code = {} AND cold_spell.winter = {} LIMIT 1",
        county_code,
        winter,
    ).run()
    if rows:
        return rows[0]["starts_on"]  # type: ignore[no-any-return]
    return schedule.default_cold_spell(winter, policy.first_cold_spell)


async def after_delivery(
    *,
    actor: CurrentUser,
    visit_id: int,
    household_id: int,
    region_code: str,
    item_codes: Iterable[str],
    checklist: SafetyChecklistIn | None,
    policy: SafetyPolicy,
    delivered_at: datetime,
) -> list[int]:
    """Store the checklist and schedule the follow-ups of a visit just confirmed.

    Runs inside the confirmation's transaction; returns the new follow-ups' ids.
    """
    kinds = await _kinds(item_codes)
    heating = bool(kinds & HEATING_KINDS)
    blanket = bool(kinds & BLANKET_KINDS)
    if not heating and not blanket:
        return []
    problems = problems_of(checklist) if checklist is not None and heating else []
    if checklist is not None and heating:
        await SafetyCheck.insert(
            SafetyCheck(
                visit=visit_id,
                household=household_id,
                chimney_sealed=checklist.chimney_sealed,
                vent=checklist.vent,
                stove_not_in_bedroom=checklist.stove_not_in_bedroom,
                co_alarm=checklist.co_alarm,
                leaflet=checklist.leaflet,
                recorded_by=actor.id,
                recorded_at=delivered_at,
            )
        ).run()
    if checklist is not None and heating and checklist.co_alarm is not CoAlarm.missing:
        await alarms.note_co_alarm(actor=actor, household_id=household_id, moment=delivered_at)
    delivered_on = policy.local_day(delivered_at)
    winter = schedule.winter_of(delivered_on)
    county = subtree_prefix(region_code, "county")
    windows = schedule.follow_ups_for(
        delivered_on=delivered_on,
        cold_spell=await _cold_spell(county, winter, policy),
        heating=heating,
        blanket=blanket,
        checked=checklist is not None,
        answered_no=bool(problems),
    )
    # One insert for the visit's windows (each Piccolo insert built a row object and its SQL).
    table, args = rows_table(
        _WINDOW_ROWS,
        [
            (
                window.kind.value,
                window.urgent,
                problems if window.kind is FollowUpKind.door_answer else [],
                window.due_from,
                window.due_by,
            )
            for window in windows
        ],
    )
    inserted = (
        await FollowUp.raw(
            "INSERT INTO safety_follow_up (household, visit, kind, urgent, problems, winter, "
            "delivered_on, due_from, due_by, status, note, created_at) "
            "SELECT {}, {}, t.kind, t.urgent, t.problems, {}, {}, t.due_from, t.due_by, {}, '', {} "
            f"FROM {table} RETURNING id",
            household_id,
            visit_id,
            winter,
            delivered_on,
            FollowUpStatus.open.value,
            delivered_at,
            *args,
        ).run()
        if windows
        else []
    )
    made = sorted(int(row["id"]) for row in inserted)
    await record(
        actor=actor,
        action="safety.schedule",
        entity="visit",
        entity_id=visit_id,
        after={
            "checklist": checklist is not None and heating,
            "problems": problems,
            "follow_ups": made,
        },
        region_code=region_code,
    )
    return made


async def visit_follow_ups(
    *, actor: CurrentUser, visit_id: int, today: date
) -> tuple[SafetyCheckOut | None, list[FollowUpOut]]:
    """A visit's checklist (None when none was filled in) and its follow-ups, for staff who
    already reached the visit (its page)."""
    _refuse_non_staff(actor)
    try:
        check = await get_check(actor=actor, visit_id=visit_id)
    except NotFound:
        check = None
    query = FollowUp.select(*FOLLOW_UP_COLUMNS).where(FollowUp.visit == visit_id)
    scope = jurisdiction_where(actor, FollowUp.household._.region._.code)
    if scope is not None:
        query = query.where(scope)
    rows = await query.order_by(FollowUp.due_by).order_by(FollowUp.id).output(load_json=True).run()
    return check, [_out(row, today) for row in rows]


async def get_check(*, actor: CurrentUser, visit_id: int) -> SafetyCheckOut:
    """The checklist of a visit (staff of the household's jurisdiction, the charity)."""
    row = (
        await SafetyCheck.select(
            *SafetyCheck.all_columns(),
            SafetyCheck.visit._.organization,
            SafetyCheck.household._.region._.code,
        )
        .where(SafetyCheck.visit == visit_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFound("No safety checklist for this visit", message_id="not_found")
    ensure_visible(
        actor,
        what="visit",
        region_codes=(str(row["household.region.code"]),),
        organization_id=int(row["visit.organization"]),
    )
    checklist = SafetyChecklistIn(
        chimney_sealed=bool(row["chimney_sealed"]),
        vent=bool(row["vent"]),
        stove_not_in_bedroom=bool(row["stove_not_in_bedroom"]),
        co_alarm=CoAlarm(row["co_alarm"]),
        leaflet=bool(row["leaflet"]),
    )
    return SafetyCheckOut(
        visit_id=visit_id,
        chimney_sealed=checklist.chimney_sealed,
        vent=checklist.vent,
        stove_not_in_bedroom=checklist.stove_not_in_bedroom,
        co_alarm=checklist.co_alarm,
        leaflet=checklist.leaflet,
        problems=problems_of(checklist),
        recorded_at=row["recorded_at"],
    )


# -- follow-ups -------------------------------------------------------------------------------

FOLLOW_UP_COLUMNS = (
    FollowUp.id,
    FollowUp.kind,
    FollowUp.urgent,
    FollowUp.problems,
    FollowUp.status,
    FollowUp.due_from,
    FollowUp.due_by,
    FollowUp.delivered_on,
    FollowUp.household,
    FollowUp.visit,
    FollowUp.note,
    FollowUp.created_at,
    FollowUp.done_at,
    FollowUp.household._.reference,
    FollowUp.household._.head_name,
    FollowUp.household._.phone,
    FollowUp.household._.region._.code,
    FollowUp.household._.region._.name,
    FollowUp.household._.region._.level,
    FollowUp.household._.region._.parent._.name,
)


def _refuse_non_staff(actor: CurrentUser) -> None:
    if actor.role not in (Role.admin, Role.staff):
        raise Forbidden("Only civil affairs staff follow up on heating safety")


def _state(row: dict[str, Any], today: date) -> str:
    if row["status"] == FollowUpStatus.done:
        return FollowUpStatus.done.value
    return schedule.due_state(due_from=row["due_from"], due_by=row["due_by"], today=today).value


def _out(row: dict[str, Any], today: date) -> FollowUpOut:
    township_level = row["household.region.level"] == "township"
    problems = row["problems"]
    return FollowUpOut(
        id=int(row["id"]),
        kind=str(row["kind"]),
        urgent=bool(row["urgent"]),
        problems=[str(p) for p in problems] if isinstance(problems, list) else [],
        status=str(row["status"]),
        state=_state(row, today),
        due_from=row["due_from"],
        due_by=row["due_by"],
        delivered_on=row["delivered_on"],
        household_id=int(row["household"]),
        household_reference=str(row["household.reference"]),
        recipient=mask_name(str(row["household.head_name"])),
        phone=str(row["household.phone"] or ""),
        county=str(
            row["household.region.parent.name"] if township_level else row["household.region.name"]
        ),
        township=str(row["household.region.name"]) if township_level else "",
        region_code=str(row["household.region.code"]),
        visit_id=None if row["visit"] is None else int(row["visit"]),
        note=str(row["note"]),
        created_at=row["created_at"],
        done_at=row["done_at"],
    )


def _state_where(state: str | None, today: date) -> Any:
    if state == FollowUpStatus.done:
        return FollowUp.status == FollowUpStatus.done
    open_ = FollowUp.status == FollowUpStatus.open
    if state == DueState.due:
        return open_ & (FollowUp.due_from <= today) & (FollowUp.due_by >= today)
    if state == DueState.overdue:
        return open_ & (FollowUp.due_by < today)
    if state == DueState.upcoming:
        return open_ & (FollowUp.due_from > today)
    return open_


async def list_follow_ups(
    *,
    actor: CurrentUser,
    page: Pagination,
    today: date,
    state: str | None = None,
    region_code: str | None = None,
) -> Page[FollowUpOut]:
    """The jurisdiction's follow-ups by township, urgent first, then by the last day.

    ``state``: ``due``, ``overdue``, ``upcoming`` (open ones; all open ones when None) or
    ``done``. ``region_code`` narrows to a township (or county) and everything under it.
    """
    _refuse_non_staff(actor)
    clauses: list[Any] = [_state_where(state, today)]
    scope = jurisdiction_where(actor, FollowUp.household._.region._.code)
    if scope is not None:
        clauses.append(scope)
    if region_code:
        clauses.append(FollowUp.household._.region._.code.like(region_code + "%"))
    query = FollowUp.select(*FOLLOW_UP_COLUMNS)
    count = FollowUp.count()
    for clause in clauses:
        query = query.where(clause)
        count = count.where(clause)
    rows = (
        await query.order_by(FollowUp.household._.region._.code)
        .order_by(FollowUp.urgent, ascending=False)
        .order_by(FollowUp.due_by)
        .order_by(FollowUp.id)
        .limit(page.limit)
        .offset(page.offset)
        .output(load_json=True)
        .run()
    )
    return Page(
        items=[_out(row, today) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


async def _load(follow_up_id: int) -> dict[str, Any]:
    row = (
        await FollowUp.select(*FOLLOW_UP_COLUMNS)
        .where(FollowUp.id == follow_up_id)
        .first()
        .output(load_json=True)
        .run()
    )
    if row is None:
        raise NotFound("No such follow-up", message_id="not_found", params={"what": "follow-up"})
    return dict(row)


async def complete_follow_up(
    *, actor: CurrentUser, follow_up_id: int, note: str, today: date
) -> FollowUpOut:
    """Mark an open follow-up done with what was found; once only (audited)."""
    _refuse_non_staff(actor)
    async with atomic():
        row = await _load(follow_up_id)
        ensure_visible(actor, what="follow-up", region_codes=(str(row["household.region.code"]),))
        now = datetime.now(UTC)
        updated = (
            await FollowUp.update(
                {
                    FollowUp.status: FollowUpStatus.done,
                    FollowUp.note: note,
                    FollowUp.done_by: actor.id,
                    FollowUp.done_at: now,
                }
            )
            .where((FollowUp.id == follow_up_id) & (FollowUp.status == FollowUpStatus.open))
            .returning(FollowUp.id)
            .run()
        )
        if not updated:
            raise Conflict(
                "This follow-up is already done",
                error="follow_up_done",
                message_id="follow_up_done",
            )
        await record(
            actor=actor,
            action="safety.follow_up_done",
            entity="safety_follow_up",
            entity_id=follow_up_id,
            before={"status": str(row["status"]), "kind": str(row["kind"])},
            after={"status": FollowUpStatus.done.value, "note": note},
            region_code=str(row["household.region.code"]),
        )
        done = await _load(follow_up_id)
    return _out(done, today)


# -- cold spells ------------------------------------------------------------------------------


async def set_cold_spell(*, actor: CurrentUser, data: ColdSpellIn) -> ColdSpellOut:
    """Set a county's first cold spell of the winter; its open cold-spell follow-ups move."""
    _refuse_non_staff(actor)
    region = await get_region(data.region_code)
    if region is None:
        raise Invalid(
            f"No region has the code {data.region_code}",
            field="region_code",
            message_id="unknown_region",
        )
    if region.level != "county":
        raise Invalid(
            "A cold spell is set for a county", field="region_code", message_id="not_a_county"
        )
    if not actor.covers(region.code):
        raise Invalid(
            "This county is not in your jurisdiction",
            field="region_code",
            message_id="region_not_in_jurisdiction",
        )
    winter = schedule.winter_of(data.starts_on)
    now = datetime.now(UTC)
    async with atomic():
        existing = (
            await ColdSpell.select(ColdSpell.id, ColdSpell.starts_on)
            .where((ColdSpell.region == region.id) & (ColdSpell.winter == winter))
            .first()
            .run()
        )
        if existing is None:
            await ColdSpell.insert(
                ColdSpell(
                    region=region.id,
                    winter=winter,
                    starts_on=data.starts_on,
                    set_by=actor.id,
                    set_at=now,
                )
            ).run()
        else:
            await (
                ColdSpell.update(
                    {
                        ColdSpell.starts_on: data.starts_on,
                        ColdSpell.set_by: actor.id,
                        ColdSpell.set_at: now,
                    }
                )
                .where(ColdSpell.id == existing["id"])
                .run()
            )
        moved = 0
        for row in (
            await FollowUp.select(FollowUp.id, FollowUp.delivered_on)
            .where(
                (FollowUp.kind == FollowUpKind.cold_spell)
                & (FollowUp.status == FollowUpStatus.open)
                & (FollowUp.winter == winter)
                & FollowUp.household._.region._.code.like(region.code + "%")
            )
            .run()
        ):
            window = schedule.cold_spell_window(
                cold_spell=data.starts_on, delivered_on=row["delivered_on"]
            )
            await (
                FollowUp.update(
                    {FollowUp.due_from: window.due_from, FollowUp.due_by: window.due_by}
                )
                .where(FollowUp.id == row["id"])
                .run()
            )
            moved += 1
        await record(
            actor=actor,
            action="safety.cold_spell",
            entity="region",
            entity_id=region.code,
            before=None
            if existing is None
            else {"starts_on": existing["starts_on"].isoformat(), "winter": winter},
            after={"starts_on": data.starts_on.isoformat(), "winter": winter, "moved": moved},
            region_code=region.code,
        )
    return ColdSpellOut(
        region_code=region.code,
        county=region.name,
        winter=winter,
        starts_on=data.starts_on,
        rescheduled=moved,
    )


async def follow_up_townships(*, actor: CurrentUser) -> list[tuple[str, str]]:
    """(code, "county township") of the places with open follow-ups in the jurisdiction."""
    _refuse_non_staff(actor)
    query = FollowUp.select(
        FollowUp.household._.region._.code,
        FollowUp.household._.region._.name,
        FollowUp.household._.region._.level,
        FollowUp.household._.region._.parent._.name,
    ).where(FollowUp.status == FollowUpStatus.open)
    scope = jurisdiction_where(actor, FollowUp.household._.region._.code)
    if scope is not None:
        query = query.where(scope)
    places: dict[str, str] = {}
    for row in await query.distinct().run():
        township = row["household.region.level"] == "township"
        name = (
            f"{row['household.region.parent.name']} {row['household.region.name']}"
            if township
            else str(row["household.region.name"])
        )
        places[str(row["household.region.code"])] = name
    return sorted(places.items())
