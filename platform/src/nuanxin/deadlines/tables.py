"""Deadline notices: one row per record that went past a deadline, until it is dealt with."""

from __future__ import annotations

from piccolo.columns import Integer, Serial, Timestamptz, Varchar
from piccolo.constraints import Unique
from piccolo.table import Table


class DeadlineNotice(Table, tablename="deadline_notice"):
    """``kind`` (a NoticeKind) of the record ``entity_id``, noticed once, resolved once."""

    id = Serial(primary_key=True)
    kind = Varchar(length=32, index=True)
    entity_id = Integer()
    region_code = Varchar(length=12, index=True)
    due_at = Timestamptz()
    noticed_at = Timestamptz()
    resolved_at = Timestamptz(null=True, default=None, index=True)

    one_per_record = Unique(["kind", "entity_id"])
