"""When heating-safety follow-ups fall due: the first cold spell, the December-January peak."""

from __future__ import annotations

from datetime import date

from nuanxin.safety.schedule import (
    cold_spell_window,
    default_cold_spell,
    due_state,
    follow_ups_for,
    peak_window,
    winter_of,
)
from nuanxin.safety.vocabulary import DueState, FollowUpKind

PEAK = FollowUpKind.peak_recheck


def test_a_winter_runs_from_july_to_june() -> None:
    assert winter_of(date(2026, 7, 1)) == 2026
    assert winter_of(date(2026, 6, 30)) == 2025
    assert winter_of(date(2027, 1, 31)) == 2026


def test_the_cold_spell_call_is_due_within_exactly_7_days_of_the_cold_spell() -> None:
    window = cold_spell_window(cold_spell=date(2026, 11, 15), delivered_on=date(2026, 11, 2))
    assert (window.due_from, window.due_by) == (date(2026, 11, 15), date(2026, 11, 22))
    state = {
        day: due_state(due_from=window.due_from, due_by=window.due_by, today=date(2026, 11, day))
        for day in (14, 15, 22, 23)
    }
    assert state == {
        14: DueState.upcoming,
        15: DueState.due,
        22: DueState.due,  # the seventh day is still in time
        23: DueState.overdue,
    }


def test_a_delivery_after_the_cold_spell_is_called_within_7_days_of_itself() -> None:
    window = cold_spell_window(cold_spell=date(2026, 11, 15), delivered_on=date(2026, 11, 30))
    assert (window.due_from, window.due_by) == (date(2026, 11, 30), date(2026, 12, 7))
    same_day = cold_spell_window(cold_spell=date(2026, 11, 15), delivered_on=date(2026, 11, 15))
    assert (same_day.due_from, same_day.due_by) == (date(2026, 11, 15), date(2026, 11, 22))


def test_the_peak_recheck_runs_from_december_1_to_january_31() -> None:
    def window(day: date) -> tuple[date, date] | None:
        found = peak_window(delivered_on=day, kind=PEAK)
        return None if found is None else (found.due_from, found.due_by)

    end = date(2027, 1, 31)
    assert window(date(2026, 10, 20)) == (date(2026, 12, 1), end)
    assert window(date(2026, 11, 30)) == (date(2026, 12, 1), end)
    assert window(date(2026, 12, 1)) == (date(2026, 12, 1), end)
    assert window(date(2027, 1, 15)) == (date(2027, 1, 15), end)
    assert window(date(2027, 1, 31)) == (end, end), "the last day of the peak still counts"
    assert window(date(2027, 2, 1)) is None, "after the peak nothing is scheduled"


def test_the_default_cold_spell_is_a_day_of_the_winter() -> None:
    assert default_cold_spell(2026, (11, 15)) == date(2026, 11, 15)
    assert default_cold_spell(2026, (1, 10)) == date(2027, 1, 10)
    assert default_cold_spell(2026, (2, 29)) == date(2027, 2, 28)
    assert default_cold_spell(2027, (2, 29)) == date(2028, 2, 29)


def test_a_no_is_followed_up_the_next_day_and_a_missing_checklist_within_7_days() -> None:
    windows = follow_ups_for(
        delivered_on=date(2026, 12, 3),
        cold_spell=date(2026, 11, 15),
        heating=True,
        blanket=True,
        checked=True,
        answered_no=True,
    )
    by_kind = {w.kind: w for w in windows}
    assert set(by_kind) == {
        FollowUpKind.door_answer,
        FollowUpKind.cold_spell,
        FollowUpKind.peak_recheck,
        FollowUpKind.blanket_check,
    }
    urgent = by_kind[FollowUpKind.door_answer]
    assert urgent.urgent and (urgent.due_from, urgent.due_by) == (
        date(2026, 12, 3),
        date(2026, 12, 4),
    )
    assert [w.kind for w in windows if w.urgent] == [FollowUpKind.door_answer]
    unchecked = follow_ups_for(
        delivered_on=date(2026, 12, 3),
        cold_spell=date(2026, 11, 15),
        heating=True,
        blanket=False,
        checked=False,
        answered_no=False,
    )
    door = next(w for w in unchecked if w.kind is FollowUpKind.door_check)
    assert (door.due_by - door.due_from).days == 7 and not door.urgent
    quilt = follow_ups_for(
        delivered_on=date(2026, 12, 3),
        cold_spell=date(2026, 11, 15),
        heating=False,
        blanket=False,
        checked=False,
        answered_no=False,
    )
    assert quilt == ()


def test_the_first_cold_spell_setting_is_a_month_and_day() -> None:
    from nuanxin.settings import Settings, SettingsError

    base = {"NUANXIN_ENV": "test", "SECRET_KEY": "k" * 40, "NUANXIN_VAR_DIR": "/tmp/nx-safety"}
    assert Settings.from_env(base).first_cold_spell == (11, 15)
    assert Settings.from_env({**base, "FIRST_COLD_SPELL": "12-01"}).first_cold_spell == (12, 1)
    for bad in ("11/15", "13-01", "11-31", "soon"):
        try:
            Settings.from_env({**base, "FIRST_COLD_SPELL": bad})
        except SettingsError as refused:
            assert refused.variable == "FIRST_COLD_SPELL"
        else:
            raise AssertionError(f"{bad!r} was accepted")
