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
from nuanxin.notifications import compose, outbox
from nuanxin.rounds import services as rounds

__all__ = ("PERIODIC", "TASKS", "Periodic")


async def run_round(*, round_id: int) -> None:
    await rounds.run_round(round_id)


async def paperwork_overdue() -> None:
    """先行救助 paperwork past its deadline: noticed (and resolved once done)."""
    now = datetime.now(UTC)
    await deadlines.keep(NoticeKind.paperwork_overdue, now=now)


async def stale_cases() -> None:
    """Deliveries pending and help requests open for too long."""
    now = datetime.now(UTC)
    await deadlines.keep(NoticeKind.stale_delivery, now=now)
    await deadlines.keep(NoticeKind.stale_request, now=now)


async def verification_expiry() -> None:
    """Households whose verification has lapsed (their needs wait for a new verification)."""
    now = datetime.now(UTC)
    await deadlines.keep(NoticeKind.verification_expired, now=now)


async def retention() -> None:
    """Forget what is kept only for a while: resolved notices, finished jobs, old messages."""
    now = datetime.now(UTC)
    await deadlines.forget_resolved(now=now)
    await forget_finished(now=now)
    await outbox.forget_old(now=now)


async def send_notification(*, notification_id: int) -> None:
    """One SMS or email, sent at most once (the outbox claims it first)."""
    await outbox.send(notification_id=notification_id)


async def retry_notifications() -> None:
    """Messages whose provider failed for now: their next attempt, once due."""
    await outbox.retry_due(now=datetime.now(UTC))


async def visit_delivered(*, visit_id: int) -> None:
    """A visit confirmed: its donors learn the county their gifts reached."""
    await compose.visit_delivered(visit_id=visit_id)


async def staff_deadlines() -> None:
    """Each staff member with deadlines open in the jurisdiction gets the day's counts (once a
    day; the counts are the deadline scans' notices, and a plain count of expiring checks)."""
    await compose.staff_deadlines(now=datetime.now(UTC))


async def courier_days() -> None:
    """Each courier with visits today gets the day's list (once a day)."""
    await compose.courier_days(now=datetime.now(UTC))


TASKS: dict[TaskName, Callable[..., Awaitable[Any]]] = {
    TaskName.run_round: run_round,
    TaskName.paperwork_overdue: paperwork_overdue,
    TaskName.stale_cases: stale_cases,
    TaskName.verification_expiry: verification_expiry,
    TaskName.retention: retention,
    TaskName.send_notification: send_notification,
    TaskName.retry_notifications: retry_notifications,
    TaskName.visit_delivered: visit_delivered,
    TaskName.courier_days: courier_days,
    TaskName.staff_deadlines: staff_deadlines,
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
    Periodic(TaskName.retry_notifications, "*/1 * * * *"),
    # 07:00 in Asia/Shanghai (Procrastinate reads cron in UTC); a second run sends nothing new
    Periodic(TaskName.courier_days, "0 23 * * *"),
    Periodic(TaskName.staff_deadlines, "30 0 * * *"),  # 08:30 in Asia/Shanghai
)
