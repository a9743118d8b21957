"""DTOs of the heating-safety area."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from nuanxin.safety.vocabulary import CoAlarm

__all__ = (
    "ColdSpellIn",
    "ColdSpellOut",
    "FollowUpDoneIn",
    "FollowUpOut",
    "SafetyCheckOut",
    "SafetyChecklistIn",
)


class SafetyChecklistIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The courier's checklist at the door of a visit bringing coal or a stove.

    Every answer is required; "no" (``false``, or ``co_alarm: "missing"``) is a valid answer
    and opens an urgent follow-up for staff.
    """

    chimney_sealed: bool  # the flue joints are sealed
    vent: bool  # a vent (风斗) is fitted and open
    stove_not_in_bedroom: bool
    co_alarm: CoAlarm  # present, installed by the courier, or missing
    leaflet: bool  # the safety leaflet (明白纸) was handed over


class SafetyCheckOut(msgspec.Struct, kw_only=True):
    visit_id: int
    chimney_sealed: bool
    vent: bool
    stove_not_in_bedroom: bool
    co_alarm: CoAlarm
    leaflet: bool
    problems: list[str]
    recorded_at: datetime


class FollowUpOut(msgspec.Struct, kw_only=True):
    """A follow-up call or visit; ``state`` says where it stands today (or ``done``).

    ``recipient`` is masked; ``phone`` is there because the follow-up is a call.
    """

    id: int
    kind: str
    urgent: bool
    problems: list[str]
    status: str
    state: str
    due_from: date
    due_by: date
    delivered_on: date
    household_id: int
    household_reference: str
    recipient: str
    phone: str
    county: str
    township: str
    region_code: str
    visit_id: int | None
    note: str
    created_at: datetime
    done_at: datetime | None


class FollowUpDoneIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What was found on the call or visit (who, what was checked, what was fixed)."""

    note: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class ColdSpellIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The first cold spell of the winter in a county (the winter is the date's)."""

    region_code: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]
    starts_on: date


class ColdSpellOut(msgspec.Struct, kw_only=True):
    region_code: str
    county: str
    winter: int
    starts_on: date
    rescheduled: int  # open cold-spell follow-ups whose window moved
