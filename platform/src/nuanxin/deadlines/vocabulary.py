"""What a deadline notice is about, and the shape in which the areas report what is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ("Due", "NoticeKind")


class NoticeKind(StrEnum):
    paperwork_overdue = "paperwork_overdue"  # 先行救助 paperwork past its deadline
    stale_delivery = "stale_delivery"  # a delivery pending for too long
    stale_request = "stale_request"  # a help request open for too long
    verification_expired = "verification_expired"  # a household's verification has lapsed


@dataclass(frozen=True, slots=True, kw_only=True)
class Due:
    """One record past its deadline, as its area reports it."""

    entity_id: int
    region_code: str
    due_at: datetime
