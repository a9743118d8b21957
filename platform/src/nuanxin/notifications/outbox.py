"""The outbox: a notification is written once, then sent by a job, retried, or given up on.

* :func:`notify` writes the notification in the caller's transaction and defers its job
  there (a rollback leaves neither). ``(kind, subject)`` is unique in the database: a second
  :func:`notify` of the same message, even a concurrent one, writes nothing and sends
  nothing. A recipient who opted out gets a ``skipped`` row and no job.
* :func:`send` (the job) claims the row in one conditional update (``queued``/``retrying``
  and due -> ``sending``), so two jobs for one message send it once. It checks the opt-out
  again, sends through the SMS port or the mailer, and records ``sent`` (the one-time code,
  kept encrypted until then, is erased from the row), ``retrying`` with the next attempt
  after :data:`BACKOFF_SECONDS`, or ``failed`` (refused for good, or :data:`MAX_ATTEMPTS`
  used): staff see the last two.
* :func:`retry_due` (a periodic duty) defers the jobs of messages whose next attempt is due,
  and marks ``failed`` a message left ``sending`` by a worker that died while sending: its
  outcome is unknown, and a message is sent at most once, so it is not sent again by itself.
* Logs name a notification by id and kind, its address masked; never its text or code.

The senders come from the settings (:func:`configure`; read from the environment on first
use in a worker, which has no app to hand them over).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from cryptography.fernet import Fernet, InvalidToken

from nuanxin.db import atomic
from nuanxin.jobs.queue import defer
from nuanxin.jobs.vocabulary import TaskName
from nuanxin.notifications.mail import Email, Mailer, mailer
from nuanxin.notifications.preferences import is_opted_out, opt_out_token
from nuanxin.notifications.refusal import ProviderError
from nuanxin.notifications.sms import Sms, SmsPort, sms_port
from nuanxin.notifications.tables import Notification
from nuanxin.notifications.templates import PARAMS, opt_out_line, render
from nuanxin.notifications.vocabulary import Channel, Kind, Language, Status
from nuanxin.privacy import mask_phone
from nuanxin.settings import Settings

__all__ = (
    "BACKOFF_SECONDS",
    "MAX_ATTEMPTS",
    "SECRET_PARAMS",
    "Senders",
    "configure",
    "forget_old",
    "mask_address",
    "notify",
    "reset",
    "retry_due",
    "send",
    "senders",
)

logger = logging.getLogger("nuanxin.notifications")

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (60, 300, 1800, 7200)  # after the 1st, 2nd, 3rd, 4th failure
STUCK_AFTER = timedelta(minutes=10)
KEPT_DAYS = 90
SECRET_PARAMS = frozenset({"code"})  # encrypted in the row; erased once sent or skipped
SEALED = "sealed:"


@dataclass(frozen=True, slots=True)
class Senders:
    sms: SmsPort | None
    mail: Mailer | None
    hotline: str = "12345"
    timezone: str = "Asia/Shanghai"
    secret_key: str = ""
    public_url: str = ""


_current: dict[str, Senders] = {}


def configure(settings: Settings) -> Senders:
    """The senders ``settings`` describe, used by every job of this process from now on."""
    built = Senders(
        sms=sms_port(settings),
        mail=mailer(settings),
        hotline=settings.hotline,
        timezone=settings.timezone,
        secret_key=settings.secret_key,
        public_url=settings.public_url,
    )
    _current["senders"] = built
    return built


def senders() -> Senders:
    return _current.get("senders") or configure(Settings.from_env())


def mask_address(address: str) -> str:
    """A phone as ``139****5678``, an email as ``d***@example.org``."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    return mask_phone(address)


def _fernet(secret_key: str) -> Fernet:
    key = hmac.new(secret_key.encode("utf-8"), b"notification-params", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _sealed(params: dict[str, str]) -> dict[str, str]:
    """The secret parameters encrypted (SECRET_KEY): the table never holds a code in clear."""
    fernet = _fernet(senders().secret_key)
    return {
        key: SEALED + fernet.encrypt(value.encode("utf-8")).decode("ascii")
        if key in SECRET_PARAMS
        else value
        for key, value in params.items()
    }


def _opened(params: dict[str, Any]) -> dict[str, str]:
    fernet = _fernet(senders().secret_key)
    opened: dict[str, str] = {}
    for key, value in params.items():
        text = str(value)
        if text.startswith(SEALED):
            try:
                text = fernet.decrypt(text.removeprefix(SEALED).encode("ascii")).decode("utf-8")
            except InvalidToken:
                raise ProviderError(
                    "a parameter sealed with another SECRET_KEY", retry=False
                ) from None
        opened[key] = text
    return opened


def _public(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if key not in SECRET_PARAMS}


async def notify(
    *,
    kind: Kind,
    subject: str,
    recipient: str,
    channel: Channel,
    address: str,
    language: Language,
    params: dict[str, str],
    region_code: str = "",
) -> int | None:
    """Write the message and defer its job; None if this (kind, subject) was written before."""
    now = datetime.now(UTC)
    async with atomic():
        opted_out = await is_opted_out(recipient)
        status = Status.queued
        reason = ""
        if opted_out:
            status, reason = Status.skipped, "opted_out"
        elif not address:
            status, reason = Status.skipped, "no_address"
        rows = (
            await Notification.insert(
                Notification(
                    kind=kind,
                    subject=subject,
                    channel=channel,
                    recipient=recipient,
                    address=address,
                    language=language,
                    params=_sealed(params) if status is Status.queued else _public(params),
                    region_code=region_code,
                    status=status,
                    last_error=reason,
                    created_at=now,
                    updated_at=now,
                )
            )
            .on_conflict(action="DO NOTHING")  # (kind, subject) is unique: written once
            .returning(Notification.id)
            .run()
        )
        if not rows:
            return None
        notification_id = int(rows[0]["id"])
        if status is Status.queued:
            await defer(TaskName.send_notification, notification_id=notification_id)
    logger.info(
        "notification %s (%s) to %s: %s", notification_id, kind, mask_address(address), status
    )
    return notification_id


async def _claim(notification_id: int, now: datetime) -> dict[str, Any] | None:
    async with atomic():
        rows = (
            await Notification.update(
                {
                    Notification.status: Status.sending,
                    Notification.attempts: Notification.attempts + 1,
                    Notification.updated_at: now,
                }
            )
            .where(
                (Notification.id == notification_id)
                & Notification.status.is_in([Status.queued, Status.retrying])
                & (Notification.next_attempt_at.is_null() | (Notification.next_attempt_at <= now))
            )
            .returning(*Notification.all_columns())
            .run()
        )
    return dict(rows[0]) if rows else None


async def _finish(row: dict[str, Any], status: Status, **changes: Any) -> None:
    values: dict[Any, Any] = {
        Notification.status: status,
        Notification.updated_at: datetime.now(UTC),
    }
    for name, value in changes.items():
        values[getattr(Notification, name)] = value
    if status in (Status.sent, Status.skipped, Status.failed):
        values[Notification.params] = _public(_params(row))
        values[Notification.next_attempt_at] = None
    async with atomic():
        await Notification.update(values).where(Notification.id == row["id"]).run()


def _params(row: dict[str, Any]) -> dict[str, Any]:
    value = row["params"]
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value or {})


async def _deliver(out: Senders, row: dict[str, Any]) -> tuple[str, str]:
    """Send through the row's channel: (provider name, provider's id). ProviderError if not."""
    kind, language = Kind(row["kind"]), Language(row["language"])
    params = _opened(_params(row))
    if row["channel"] == Channel.sms:
        if out.sms is None:
            raise _NotConfigured
        sms = Sms(
            phone=str(row["address"]),
            template=f"{kind}.{language}",
            params=tuple((name, params.get(name, "")) for name in PARAMS[kind]),
        )
        return out.sms.name, await out.sms.send(sms)
    if out.mail is None:
        raise _NotConfigured
    text = render(kind, language, params)
    body = text.body
    if out.public_url and str(row["recipient"]).startswith("email:"):
        body += "\n\n" + opt_out_line(language, _opt_out_url(out, str(row["recipient"])))
    email = Email(to=str(row["address"]), subject=text.subject, body=body, language=language)
    return out.mail.name, await out.mail.send(email)


def _opt_out_url(out: Senders, recipient: str) -> str:
    query = urlencode({"r": recipient, "t": opt_out_token(out.secret_key, recipient)})
    return f"{out.public_url}/notifications/opt-out?{query}"


class _NotConfigured(Exception):  # noqa: N818 - a signal inside this module, not an error
    pass


async def send(*, notification_id: int) -> Status | None:
    """The job: send one notification at most once; its new status (None: nothing to do)."""
    now = datetime.now(UTC)
    row = await _claim(notification_id, now)
    if row is None:
        logger.info("notification %s: not due or already handled", notification_id)
        return None
    label = f"notification {row['id']} ({row['kind']}) to {mask_address(str(row['address']))}"
    if await is_opted_out(str(row["recipient"])):
        await _finish(row, Status.skipped, last_error="opted_out")
        logger.info("%s: skipped, opted out", label)
        return Status.skipped
    try:
        provider, reference = await _deliver(senders(), row)
    except _NotConfigured:
        await _finish(row, Status.skipped, last_error=f"no {row['channel']} provider configured")
        logger.warning("%s: skipped, no %s provider configured", label, row["channel"])
        return Status.skipped
    except ProviderError as refused:
        attempts = int(row["attempts"])
        if refused.retry and attempts < MAX_ATTEMPTS:
            wait = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
            await _finish(
                row,
                Status.retrying,
                last_error=refused.code,
                next_attempt_at=now + timedelta(seconds=wait),
            )
            logger.warning(
                "%s: attempt %s failed (%s), again in %ss", label, attempts, refused.code, wait
            )
            return Status.retrying
        await _finish(row, Status.failed, last_error=refused.code)
        logger.error("%s: failed after %s attempts (%s)", label, attempts, refused.code)
        return Status.failed
    await _finish(
        row, Status.sent, sent_at=datetime.now(UTC), provider_ref=f"{provider}:{reference}"[:100]
    )
    logger.info("%s: sent through %s", label, provider)
    return Status.sent


async def retry_due(*, now: datetime) -> int:
    """Defer the jobs of messages due for another attempt; give up on stuck sends. How many."""
    async with atomic():
        due = (
            await Notification.select(Notification.id)
            .where((Notification.status == Status.retrying) & (Notification.next_attempt_at <= now))
            .order_by(Notification.id)
            .limit(500)
            .run()
        )
        for row in due:
            await defer(TaskName.send_notification, notification_id=int(row["id"]))
        stuck = (
            await Notification.select(Notification.id, Notification.params)
            .where(
                (Notification.status == Status.sending)
                & (Notification.updated_at < now - STUCK_AFTER)
            )
            .run()
        )
        for row in stuck:
            await _finish(
                row, Status.failed, last_error="outcome unknown: the sender stopped while sending"
            )
    return len(due)


async def forget_old(*, now: datetime) -> int:
    """Delete messages that ended (sent, skipped, failed) over :data:`KEPT_DAYS` ago; how many.

    Their addresses go with them. A subject is never asked for again that late (a visit is
    scheduled once, a day's list and digest name their day), so nothing is sent twice.
    """
    async with atomic():
        gone = (
            await Notification.delete()
            .where(
                Notification.status.is_in([Status.sent, Status.skipped, Status.failed])
                & (Notification.updated_at < now - timedelta(days=KEPT_DAYS))
            )
            .returning(Notification.id)
            .run()
        )
    return len(gone)


def reset() -> None:
    """Forget the configured senders (the next job reads the environment again)."""
    _current.clear()
