"""The audit trail: who changed what, when, with the state before and after."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from nuanxin.accounts.tables import User


class AuditEntry(Table, tablename="audit_entry"):
    """One state change. Personal data is masked before it is written here."""

    id = Serial(primary_key=True)

    actor = ForeignKey(User, null=True, default=None, index=True, on_delete=OnDelete.restrict)
    actor_label = Varchar(length=100)  # username, or "public" / "system" / "stripe"
    action = Varchar(length=60, index=True)  # e.g. household.verify
    entity = Varchar(length=40, index=True)
    entity_id = Varchar(length=40, index=True)
    before = JSON(default={})
    after = JSON(default={})
    created_at = Timestamptz(index=True)
    # The region of the record the entry is about (staff read their jurisdiction's trail).
    region_code = Varchar(length=12, null=True, default=None, index=True)
