"""DTOs of the audit area (msgspec Structs, never tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = ("AuditEntryOut",)


class AuditEntryOut(msgspec.Struct, kw_only=True):
    """One state change: who, when, what, and the (masked) state before and after."""

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
