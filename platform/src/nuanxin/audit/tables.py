"""The audit trail: who changed what, when, with the state before and after."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

# The audit trail lies below every area and imports none: the account that acted is named
# lazily (the accounts app's ``User``, table ``account``); the column is what it always was.
_ACCOUNT = LazyTableReference(table_class_name="User", app_name="accounts")


class AuditEntry(Table, tablename="audit_entry"):
    """One state change. Personal data is masked before it is written here."""

    id = Serial(primary_key=True)

    actor: ForeignKey[Table] = ForeignKey(
        _ACCOUNT, null=True, default=None, index=True, on_delete=OnDelete.restrict
    )
    actor_label = Varchar(length=100)  # username, or "public" / "system" / "stripe"
    action = Varchar(length=60, index=True)  # e.g. household.verify
    entity = Varchar(length=40, index=True)
    entity_id = Varchar(length=40, index=True)
    before = JSON(default={})
    after = JSON(default={})
    created_at = Timestamptz(index=True)
    # The region of the record the entry is about (staff read their jurisdiction's trail).
    region_code = Varchar(length=12, null=True, default=None, index=True)
