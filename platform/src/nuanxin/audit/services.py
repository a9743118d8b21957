"""The audit trail: every state change writes one entry, inside the change's transaction.

Entries about a record in a region carry its ``region_code``, so that staff read the trail of
their jurisdiction (:func:`list_entries`); admins read all of it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nuanxin.audit.tables import AuditEntry
from nuanxin.db import batched, rows_table
from nuanxin.identity import CurrentUser, jurisdiction_where

__all__ = ("AuditRecord", "list_entries", "record", "record_bulk", "record_many")


async def record(
    *,
    actor: CurrentUser | None,
    action: str,
    entity: str,
    entity_id: int | str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_label: str | None = None,
    region_code: str | None = None,
) -> None:
    """Write one audit entry (call it inside the service's ``atomic()`` block).

    ``region_code`` is the region of the record the entry is about (a household's, a help
    request's ...): staff whose jurisdiction covers it read the entry. Raw SQL, as
    :func:`record_many` writes its rows: nearly every write writes one of these, and building
    the Piccolo row and its insert cost more CPU than the database spent on it.
    """
    await _insert(
        now=datetime.now(UTC),
        actor_id=None if actor is None else actor.id,
        label=actor_label or (actor.username if actor else "system"),
        action=action,
        entity=entity,
        rows=[(str(entity_id), before or {}, after or {}, region_code)],
    )


async def record_bulk(*, entity: str, ids: Sequence[int], label: str) -> None:
    """One entry for rows a loader wrote in bulk (``label`` names the loader): the id range and
    the count, so that the trail says where every row came from."""
    if ids:
        await record(
            actor=None,
            actor_label=label,
            action=f"{entity}.bulk_create",
            entity=entity,
            entity_id=f"{ids[0]}-{ids[-1]}",
            after={"count": len(ids)},
        )


async def record_many(
    *,
    actor: CurrentUser | None,
    action: str,
    entity: str,
    entries: list[tuple[int | str, dict[str, Any], dict[str, Any], str | None]],
) -> None:
    """Write one entry per ``(entity_id, before, after, region_code)``, in batches.

    For bulk changes (approving a round's proposals): the same trail as :func:`record`
    called for each, in one ``INSERT ... SELECT`` per batch.
    """
    now = datetime.now(UTC)
    label = actor.username if actor else "system"
    actor_id = None if actor is None else actor.id
    for chunk in batched(entries):
        await _insert(
            now=now,
            actor_id=actor_id,
            label=label,
            action=action,
            entity=entity,
            rows=[
                (str(entity_id), before, after, region_code)
                for entity_id, before, after, region_code in chunk
            ],
        )


async def _insert(
    *,
    now: datetime,
    actor_id: int | None,
    label: str,
    action: str,
    entity: str,
    rows: list[tuple[str, dict[str, Any], dict[str, Any], str | None]],
) -> None:
    """One ``INSERT ... SELECT`` of ``(entity_id, before, after, region_code)`` rows."""
    table, args = rows_table(_ENTRY_ROWS, rows)
    await AuditEntry.raw(
        "INSERT INTO audit_entry (actor, actor_label, action, entity, entity_id, before,"
        " after, created_at, region_code)"
        " SELECT {}, {}, {}, {}, t.entity_id, t.before, t.after, {}, t.region_code"
        f" FROM {table}",
        actor_id,
        label,
        action,
        entity,
        now,
        *args,
    ).run()


_ENTRY_ROWS = (
    ("entity_id", "text"),
    ("before", "json"),
    ("after", "json"),
    ("region_code", "text"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    id: int
    actor_id: int | None
    actor_label: str
    action: str
    entity: str
    entity_id: str
    region_code: str | None
    before: dict[str, Any]
    after: dict[str, Any]
    created_at: datetime


def _aware(moment: datetime) -> datetime:
    """A date-time without a zone is read as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):  # Piccolo hands JSON columns back as text
        value = json.loads(value) if value else {}
    return dict(value) if isinstance(value, dict) else {}


async def list_entries(
    *,
    user: CurrentUser,
    entity: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
    offset: int,
) -> tuple[list[AuditRecord], int]:
    """Entries the user may read, newest first, and how many there are in all.

    Admins read every entry; staff those about records in their jurisdiction (entries
    without a region, e.g. about accounts, are the admins' only).
    """
    conditions: list[Any] = []
    reach = jurisdiction_where(user, AuditEntry.region_code)
    if reach is not None:
        conditions.append(reach)
        conditions.append(AuditEntry.region_code.is_not_null())
    if entity:
        conditions.append(AuditEntry.entity == entity)
    if action:
        conditions.append(AuditEntry.action == action)
    if since is not None:
        conditions.append(AuditEntry.created_at >= _aware(since))
    if until is not None:
        conditions.append(AuditEntry.created_at <= _aware(until))
    query = AuditEntry.select().order_by(AuditEntry.created_at, AuditEntry.id, ascending=False)
    count = AuditEntry.count()
    if conditions:
        query = query.where(*conditions)
        count = count.where(*conditions)
    rows = await query.limit(limit).offset(offset).run()
    total = await count.run()
    return [
        AuditRecord(
            id=int(row["id"]),
            actor_id=None if row["actor"] is None else int(row["actor"]),
            actor_label=str(row["actor_label"]),
            action=str(row["action"]),
            entity=str(row["entity"]),
            entity_id=str(row["entity_id"]),
            region_code=row["region_code"],
            before=_json(row["before"]),
            after=_json(row["after"]),
            created_at=row["created_at"],
        )
        for row in rows
    ], int(total)
