"""Notifications (one row per message, its key unique) and who opted out of them."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from nuanxin.accounts.tables import Organization, User
from nuanxin.deliveries.tables import Visit


class Notification(Table, tablename="notification"):
    """One message of ``kind`` about ``subject``, to one recipient, by one channel.

    ``recipient`` names the party (``household:3``, ``user:5``, ``donation:9``); ``address``
    is the phone or email it goes to. ``params`` fill the template; a one-time code among
    them is erased once the message is sent. ``region_code`` decides which staff see it.
    """

    id = Serial(primary_key=True)

    kind = Varchar(length=32)
    subject = Varchar(length=120)
    channel = Varchar(length=8)
    recipient = Varchar(length=60, index=True)
    address = Varchar(length=200, default="")
    language = Varchar(length=5, default="zh")
    params = JSON(default={})
    region_code = Varchar(length=12, index=True, default="")
    status = Varchar(length=12, index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=None, index=True)
    last_error = Varchar(length=300, default="")
    provider_ref = Varchar(length=100, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)

    one_per_subject = Unique(["kind", "subject"])
    attempts_not_negative = Check("attempts >= 0")


class NotificationPreference(Table, tablename="notification_preference"):
    """A party's choices: opted out of every message, its language, an email (accounts)."""

    id = Serial(primary_key=True)

    recipient = Varchar(length=60, unique=True)  # household:3, user:5, email:<keyed hash>
    opted_out = Boolean(default=False)
    language = Varchar(length=5, default="zh")
    email = Varchar(length=200, default="")
    updated_at = Timestamptz()


class Appointment(Table, tablename="visit_appointment"):
    """The day staff told a household its visit will come (by SMS, with the visit's code).

    The couriers of the visiting charity get that day's list in the morning.
    """

    id = Serial(primary_key=True)

    visit = ForeignKey(Visit, unique=True, null=False, on_delete=OnDelete.restrict)
    organization = ForeignKey(Organization, index=True, null=False, on_delete=OnDelete.restrict)
    region_code = Varchar(length=12, index=True)
    visit_on = Date(index=True)
    scheduled_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
