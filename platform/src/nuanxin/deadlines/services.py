"""The periodic duties' records: which records are past a deadline, noticed once each.

:func:`keep` makes the notices of one kind agree with what its area reports as due now: a new
notice for each record newly past due, the notice of a record no longer due resolved, a
resolved one opened again if its record is due again. Run twice, the second run finds nothing
to change: the duties are safe to run twice, at once or one after the other (one notice per
record and kind is also a unique constraint).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from nuanxin.db import atomic
from nuanxin.deadlines.tables import DeadlineNotice
from nuanxin.deadlines.vocabulary import Due, NoticeKind
from nuanxin.deliveries import deadlines as deliveries
from nuanxin.help_requests import deadlines as help_requests
from nuanxin.households import deadlines as households

__all__ = ("FINDERS", "RESOLVED_KEPT_DAYS", "Kept", "forget_resolved", "keep", "open_notices")

RESOLVED_KEPT_DAYS = 90

FINDERS: dict[NoticeKind, Callable[..., Awaitable[list[Due]]]] = {
    NoticeKind.paperwork_overdue: deliveries.overdue_paperwork,
    NoticeKind.stale_delivery: deliveries.stale_deliveries,
    NoticeKind.stale_request: help_requests.stale_requests,
    NoticeKind.verification_expired: households.expired_verifications,
}


@dataclass(frozen=True, slots=True)
class Kept:
    noticed: int
    resolved: int


async def keep(kind: NoticeKind, *, now: datetime) -> Kept:
    """Bring the notices of ``kind`` in line with what is due at ``now``."""
    async with atomic():
        due = {item.entity_id: item for item in await FINDERS[kind](now=now)}
        known = {
            int(row["entity_id"]): row
            for row in await DeadlineNotice.select(
                DeadlineNotice.id, DeadlineNotice.entity_id, DeadlineNotice.resolved_at
            )
            .where(DeadlineNotice.kind == kind)
            .run()
        }
        new = [item for entity_id, item in sorted(due.items()) if entity_id not in known]
        again = [
            int(row["id"])
            for entity_id, row in known.items()
            if entity_id in due and row["resolved_at"] is not None
        ]
        gone = [
            int(row["id"])
            for entity_id, row in known.items()
            if entity_id not in due and row["resolved_at"] is None
        ]
        await _insert(kind, new, now)
        if again:
            await (
                DeadlineNotice.update(
                    {DeadlineNotice.resolved_at: None, DeadlineNotice.noticed_at: now}
                )
                .where(DeadlineNotice.id.is_in(again))
                .run()
            )
        if gone:
            await (
                DeadlineNotice.update({DeadlineNotice.resolved_at: now})
                .where(DeadlineNotice.id.is_in(gone))
                .run()
            )
    return Kept(noticed=len(new) + len(again), resolved=len(gone))


async def _insert(kind: NoticeKind, items: Sequence[Due], now: datetime) -> None:
    for start in range(0, len(items), 500):
        await (
            DeadlineNotice.insert(
                *(
                    DeadlineNotice(
                        kind=kind,
                        entity_id=item.entity_id,
                        region_code=item.region_code,
                        due_at=item.due_at,
                        noticed_at=now,
                    )
                    for item in items[start : start + 500]
                )
            )
            .on_conflict(action="DO NOTHING")  # another run got there first
            .run()
        )


async def open_notices(kind: NoticeKind, *, region_prefix: str | None = None) -> list[int]:
    """The ids of the records of ``kind`` noticed and not yet resolved (under a region)."""
    where = (DeadlineNotice.kind == kind) & DeadlineNotice.resolved_at.is_null()
    if region_prefix is not None:
        where = where & DeadlineNotice.region_code.like(region_prefix + "%")
    rows = await (
        DeadlineNotice.select(DeadlineNotice.entity_id)
        .where(where)
        .order_by(DeadlineNotice.entity_id)
        .run()
    )
    return [int(row["entity_id"]) for row in rows]


async def forget_resolved(*, now: datetime) -> int:
    """Delete notices resolved more than :data:`RESOLVED_KEPT_DAYS` ago; how many."""
    async with atomic():
        gone = (
            await DeadlineNotice.delete()
            .where(DeadlineNotice.resolved_at < now - timedelta(days=RESOLVED_KEPT_DAYS))
            .returning(DeadlineNotice.id)
            .run()
        )
    return len(gone)
