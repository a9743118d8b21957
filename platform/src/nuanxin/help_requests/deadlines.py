"""Help requests left open too long, for the periodic duties (:mod:`nuanxin.deadlines`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from nuanxin.deadlines.vocabulary import Due
from nuanxin.help_requests.tables import HelpRequest
from nuanxin.help_requests.vocabulary import HelpRequestStatus

__all__ = ("STALE_REQUEST_DAYS", "stale_requests")

STALE_REQUEST_DAYS = 7  # as the staff dashboard counts them


async def stale_requests(*, now: datetime) -> list[Due]:
    limit = now - timedelta(days=STALE_REQUEST_DAYS)
    rows = (
        await HelpRequest.select(HelpRequest.id, HelpRequest.created_at, HelpRequest.region._.code)
        .where((HelpRequest.status == HelpRequestStatus.open) & (HelpRequest.created_at < limit))
        .order_by(HelpRequest.id)
        .run()
    )
    return [
        Due(
            entity_id=int(row["id"]),
            region_code=str(row["region.code"]),
            due_at=row["created_at"] + timedelta(days=STALE_REQUEST_DAYS),
        )
        for row in rows
    ]
