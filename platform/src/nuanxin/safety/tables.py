"""Heating safety: the checklist a courier fills in at the door, follow-ups, cold spells."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from nuanxin.accounts.tables import User
from nuanxin.deliveries.tables import Visit
from nuanxin.households.tables import Household
from nuanxin.regions.tables import Region
from nuanxin.safety.vocabulary import CoAlarm, FollowUpKind, FollowUpStatus


class SafetyCheck(Table, tablename="safety_check"):
    """The checklist of a visit that brought coal or a stove: one per visit, as answered."""

    id = Serial(primary_key=True)

    visit = ForeignKey(Visit, unique=True, null=False, on_delete=OnDelete.restrict)
    household = ForeignKey(Household, index=True, null=False, on_delete=OnDelete.restrict)
    chimney_sealed = Boolean()
    vent = Boolean()  # 风斗
    stove_not_in_bedroom = Boolean()
    co_alarm = Varchar(length=10, choices=CoAlarm)
    leaflet = Boolean()  # 明白纸
    recorded_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    recorded_at = Timestamptz()


class FollowUp(Table, tablename="safety_follow_up"):
    """A call or visit to make between ``due_from`` and ``due_by`` (both days included)."""

    id = Serial(primary_key=True)

    household = ForeignKey(Household, index=True, null=False, on_delete=OnDelete.restrict)
    visit = ForeignKey(Visit, index=True, null=True, default=None, on_delete=OnDelete.restrict)
    kind = Varchar(length=16, choices=FollowUpKind)
    urgent = Boolean(default=False)
    problems = JSON(default=[])  # the questions answered "no" (Question values)
    winter = Integer()
    delivered_on = Date()
    due_from = Date(index=True)
    due_by = Date(index=True)
    status = Varchar(length=8, choices=FollowUpStatus, default=FollowUpStatus.open, index=True)
    note = Varchar(length=300, default="")
    done_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    done_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()

    one_per_visit_and_kind = Unique(["visit", "kind"])
    window_in_order = Check("due_from <= due_by")


class ColdSpell(Table, tablename="cold_spell"):
    """The first cold spell of a winter in a county, as staff set it."""

    id = Serial(primary_key=True)

    region = ForeignKey(Region, null=False, on_delete=OnDelete.restrict)
    winter = Integer()
    starts_on = Date()
    set_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    set_at = Timestamptz()

    one_per_county_and_winter = Unique(["region", "winter"])
