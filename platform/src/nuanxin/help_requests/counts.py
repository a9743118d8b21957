"""Counts of help requests for dashboards (the staff progress page)."""

from __future__ import annotations

from datetime import datetime

from nuanxin.help_requests.tables import HelpRequest
from nuanxin.help_requests.vocabulary import HelpRequestStatus
from nuanxin.identity import CurrentUser, jurisdiction_where

__all__ = ("count_open_requests",)


async def count_open_requests(*, actor: CurrentUser, created_before: datetime) -> int:
    """Open help requests in the caller's jurisdiction made before ``created_before``."""
    query = HelpRequest.count().where(
        (HelpRequest.status == HelpRequestStatus.open) & (HelpRequest.created_at < created_before)
    )
    clause = jurisdiction_where(actor, HelpRequest.region._.code)
    if clause is not None:
        query = query.where(clause)
    return int(await query.run())
