"""The tasks: plain async functions calling the services, one per :class:`TaskName`.

A task may run twice (a worker killed after the work but before the job was marked done is
retried elsewhere), so every task is idempotent: a round stores its proposals only while it is
still running; the periodic duties record states that a second run finds already recorded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nuanxin.deadlines import services as deadlines
from nuanxin.deadlines.vocabulary import NoticeKind
from nuanxin.jobs.queue import forget_finished
from nuanxin.jobs.vocabulary import TaskName
from nuanxin.rounds import services as rounds

__all__ = ("PERIODIC", "TASKS", "Periodic")


async def run_round(*, round_id: int) -> None:
    await rounds.run_round(round_id)


async def paperwork_overdue() -> None:
    """先行救助 paperwork past its deadline: noticed (and resolved once done)."""
    await deadlines.keep(NoticeKind.paperwork_overdue, now=datetime.now(UTC))


async def stale_cases() -> None:
    """Deliveries pending and help requests open for too long."""
    now = datetime.now(UTC)
    await deadlines.keep(NoticeKind.stale_delivery, now=now)
    await deadlines.keep(NoticeKind.stale_request, now=now)


async def verification_expiry() -> None:
    """Households whose verification has lapsed (their needs wait for a new verification)."""
    await deadlines.keep(NoticeKind.verification_expired, now=datetime.now(UTC))


async def retention() -> None:
    """Forget what is kept only for a while: resolved notices, finished jobs."""
    now = datetime.now(UTC)
    await deadlines.forget_resolved(now=now)
    await forget_finished(now=now)


TASKS: dict[TaskName, Callable[..., Awaitable[Any]]] = {
    TaskName.run_round: run_round,
    TaskName.paperwork_overdue: paperwork_overdue,
    TaskName.stale_cases: stale_cases,
    TaskName.verification_expiry: verification_expiry,
    TaskName.retention: retention,
}


@dataclass(frozen=True, slots=True)
class Periodic:
    """A task run on a schedule (``cron``: minute hour day month weekday)."""

    task: TaskName
    cron: str


PERIODIC: tuple[Periodic, ...] = (
    Periodic(TaskName.paperwork_overdue, "*/15 * * * *"),
    Periodic(TaskName.stale_cases, "7 * * * *"),
    Periodic(TaskName.verification_expiry, "17 * * * *"),
    Periodic(TaskName.retention, "37 3 * * *"),
)
