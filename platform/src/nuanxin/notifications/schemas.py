"""The notifications' DTOs (msgspec Structs, never tables)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

__all__ = ("AppointmentOut", "NotificationOut", "PreferenceIn", "PreferenceOut", "ScheduleIn")


class ScheduleIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    visit_on: date


class AppointmentOut(msgspec.Struct, kw_only=True):
    visit_id: int
    visit_on: date
    notification_id: int | None
    status: str  # the household's SMS: queued, or skipped (opted out, no phone)


class NotificationOut(msgspec.Struct, kw_only=True):
    """A notification as staff see it: the address masked, no parameter (no code)."""

    id: int
    kind: str
    channel: str
    recipient: str
    address: str  # masked
    language: str
    status: str
    attempts: int
    last_error: str
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime


class PreferenceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    opted_out: bool | None = None
    language: str | None = None  # zh or en
    email: str | None = None  # accounts only: where staff digests go instead of SMS


class PreferenceOut(msgspec.Struct, kw_only=True):
    recipient: str
    opted_out: bool
    language: str
    email: str
