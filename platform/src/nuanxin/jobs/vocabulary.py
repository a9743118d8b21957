"""The names of the jobs' tasks and the states of an embedded job."""

from __future__ import annotations

from enum import StrEnum

__all__ = ("EmbeddedStatus", "TaskName")


class TaskName(StrEnum):
    """Every task a worker knows; a job names one of these (never a function path)."""

    run_round = "rounds.run"
    paperwork_overdue = "deadlines.paperwork_overdue"
    stale_cases = "deadlines.stale_cases"
    verification_expiry = "deadlines.verification_expiry"
    retention = "retention"
    send_notification = "notifications.send"
    retry_notifications = "notifications.retry"
    visit_delivered = "notifications.visit_delivered"
    courier_days = "notifications.courier_days"
    staff_deadlines = "notifications.staff_deadlines"


class EmbeddedStatus(StrEnum):
    todo = "todo"
    doing = "doing"
    succeeded = "succeeded"
    failed = "failed"
