"""What a notification is about, how it travels, and where it stands."""

from __future__ import annotations

from enum import StrEnum

__all__ = ("Channel", "Kind", "Language", "Status")


class Kind(StrEnum):
    """One kind of message; at most one per subject (a unique key in the database)."""

    visit_code = "visit_code"  # to a household: the visit's date and its one-time code
    courier_day = "courier_day"  # to a courier: the day's visits
    donor_delivered = "donor_delivered"  # to a donor: the gift was delivered in a county
    staff_deadlines = "staff_deadlines"  # to staff: overdue paperwork, stale cases, expiries


class Channel(StrEnum):
    sms = "sms"
    email = "email"


class Language(StrEnum):
    """The recipient's language: the templates exist in both."""

    zh = "zh"
    en = "en"


class Status(StrEnum):
    queued = "queued"  # waiting for its job
    sending = "sending"  # a job holds it (never sent again if the worker dies here)
    retrying = "retrying"  # the provider failed for now: tried again at next_attempt_at
    sent = "sent"
    skipped = "skipped"  # opted out, no provider configured, or no address
    failed = "failed"  # refused for good, or out of attempts: shown to staff


#: The states staff are shown as failures to look at.
TROUBLED = (Status.retrying, Status.failed)
