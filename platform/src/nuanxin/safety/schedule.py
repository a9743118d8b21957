"""When each heating-safety follow-up is due: pure functions over dates (no I/O).

A follow-up has a window, ``due_from`` to ``due_by``, both days included; it is *due* inside
it, *overdue* after it (:func:`due_state`). Dates are local days (the platform's time zone).

* **Winter**: a day from July on belongs to the winter starting that year, a day before July
  to the winter that started the year before (:func:`winter_of`).
* **First cold spell**: a date per county and winter set by staff, else the setting
  ``FIRST_COLD_SPELL`` (``MM-DD`` of the winter's first year, 15 November by default).
  A visit with coal or a stove is followed by a call or visit **within 7 days of the first
  cold spell**: from the cold spell (or the delivery, when it came later) to 7 days after
  (:func:`cold_spell_window`).
* **Peak**: carbon-monoxide poisoning peaks in December and January. Coal or a stove gets a
  re-check, an electric blanket a fold and age check, between 1 December (or the delivery,
  when later) and 31 January (:func:`peak_window`); nothing is scheduled for a delivery after
  the peak.
* **Urgent**: a "no" at the door is followed up by the next day (:data:`URGENT_DAYS`); coal or
  a stove confirmed without the checklist gets its door check within 7 days.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from nuanxin.safety.vocabulary import DueState, FollowUpKind

__all__ = (
    "COLD_SPELL_DAYS",
    "DOOR_CHECK_DAYS",
    "URGENT_DAYS",
    "Window",
    "cold_spell_window",
    "default_cold_spell",
    "due_state",
    "follow_ups_for",
    "peak_window",
    "winter_of",
)

COLD_SPELL_DAYS = 7
DOOR_CHECK_DAYS = 7
URGENT_DAYS = 1
PEAK_START = (12, 1)
PEAK_END = (1, 31)


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    kind: FollowUpKind
    due_from: date
    due_by: date
    urgent: bool = False


def winter_of(day: date) -> int:
    """The year the winter of ``day`` starts in (July to June)."""
    return day.year if day.month >= 7 else day.year - 1


def default_cold_spell(winter: int, month_day: tuple[int, int]) -> date:
    """The first cold spell of a winter when staff set none for the county (the setting)."""
    month, day = month_day
    year = winter if month >= 7 else winter + 1
    if (month, day) == (2, 29) and not calendar.isleap(year):
        day = 28
    return date(year, month, day)


def cold_spell_window(*, cold_spell: date, delivered_on: date) -> Window:
    """Within 7 days of the first cold spell (of the delivery, when it came after it)."""
    start = max(cold_spell, delivered_on)
    return Window(
        kind=FollowUpKind.cold_spell,
        due_from=start,
        due_by=start + timedelta(days=COLD_SPELL_DAYS),
    )


def peak_window(*, delivered_on: date, kind: FollowUpKind) -> Window | None:
    """1 December (or the delivery, when later) to 31 January; None after the peak."""
    winter = winter_of(delivered_on)
    start = date(winter, *PEAK_START)
    end = date(winter + 1, *PEAK_END)
    if delivered_on > end:
        return None
    return Window(kind=kind, due_from=max(start, delivered_on), due_by=end)


def follow_ups_for(
    *,
    delivered_on: date,
    cold_spell: date,
    heating: bool,
    blanket: bool,
    checked: bool,
    answered_no: bool,
) -> tuple[Window, ...]:
    """The follow-ups a confirmed visit brings.

    ``heating``: it held coal or a stove; ``blanket``: an electric blanket; ``checked``: the
    checklist was filled in at the door; ``answered_no``: one of its answers was "no".
    """
    found: list[Window] = []
    if heating:
        if answered_no:
            found.append(
                Window(
                    kind=FollowUpKind.door_answer,
                    due_from=delivered_on,
                    due_by=delivered_on + timedelta(days=URGENT_DAYS),
                    urgent=True,
                )
            )
        if not checked:
            found.append(
                Window(
                    kind=FollowUpKind.door_check,
                    due_from=delivered_on,
                    due_by=delivered_on + timedelta(days=DOOR_CHECK_DAYS),
                )
            )
        found.append(cold_spell_window(cold_spell=cold_spell, delivered_on=delivered_on))
        peak = peak_window(delivered_on=delivered_on, kind=FollowUpKind.peak_recheck)
        if peak is not None:
            found.append(peak)
    if blanket:
        check = peak_window(delivered_on=delivered_on, kind=FollowUpKind.blanket_check)
        if check is not None:
            found.append(check)
    return tuple(found)


def due_state(*, due_from: date, due_by: date, today: date) -> DueState:
    """Upcoming before the window, due inside it (both ends), overdue after it."""
    if today < due_from:
        return DueState.upcoming
    if today <= due_by:
        return DueState.due
    return DueState.overdue
