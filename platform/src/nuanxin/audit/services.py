"""The audit trail: every state change writes one entry, inside the change's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nuanxin.accounts.security import CurrentUser
from nuanxin.audit.tables import AuditEntry

__all__ = ("record",)


async def record(
    *,
    actor: CurrentUser | None,
    action: str,
    entity: str,
    entity_id: int | str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> None:
    """Write one audit entry (call it inside the service's ``atomic()`` block)."""
    await AuditEntry.insert(
        AuditEntry(
            actor=None if actor is None else actor.id,
            actor_label=actor_label or (actor.username if actor else "system"),
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before or {},
            after=after or {},
            created_at=datetime.now(UTC),
        )
    ).run()
