"""The words of the heating-safety area: the checklist's answers, follow-ups and their states.

Tables, schemas, services and faces import these from here, never from ``tables.py``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ("CoAlarm", "DueState", "FollowUpKind", "FollowUpStatus", "Question")


class CoAlarm(StrEnum):
    """Whether the home has a carbon-monoxide alarm (一氧化碳报警器) when the courier leaves."""

    present = "present"  # one was there already
    installed = "installed"  # the courier installed one
    missing = "missing"  # none: a "no" answer


class Question(StrEnum):
    """The checklist's questions; a "no" to any of them opens an urgent follow-up."""

    chimney_sealed = "chimney_sealed"  # the flue joints are sealed
    vent = "vent"  # a vent (风斗) is fitted and open
    stove_not_in_bedroom = "stove_not_in_bedroom"
    co_alarm = "co_alarm"  # present or installed
    leaflet = "leaflet"  # the safety leaflet (明白纸) was handed over


class FollowUpKind(StrEnum):
    """Why a follow-up exists (see ``safety.schedule`` for when each is due)."""

    door_answer = "door_answer"  # a "no" on the checklist: urgent
    door_check = "door_check"  # coal or a stove confirmed without the checklist
    cold_spell = "cold_spell"  # a call or visit within 7 days of the first cold spell
    peak_recheck = "peak_recheck"  # a re-check in the December-January peak
    blanket_check = "blanket_check"  # an electric blanket: not folded, not too old


class FollowUpStatus(StrEnum):
    open = "open"
    done = "done"


class DueState(StrEnum):
    """Where an open follow-up stands on a given day (its window is ``due_from``-``due_by``)."""

    upcoming = "upcoming"  # its window has not opened
    due = "due"  # inside its window (both ends included)
    overdue = "overdue"  # its window closed and it is still open
