"""Who opted out of notifications, and in which language and where a party wants them.

A party is named as a notification's ``recipient``: ``household:3``, ``user:5`` or, for a
donor known only by an email, ``email:<digest of the address>``. Opting out stops every
message to the party from then on, those already queued included (the job checks again).
"""

from __future__ import annotations

from datetime import UTC, datetime

from nuanxin.db import atomic
from nuanxin.identity import digest, keyed_hash
from nuanxin.notifications.tables import NotificationPreference
from nuanxin.notifications.vocabulary import Language

__all__ = (
    "Preference",
    "email_recipient",
    "is_opted_out",
    "opt_out_token",
    "preference",
    "set_preference",
)


def email_recipient(address: str) -> str:
    """The recipient key of a donor known by an email address (its digest, not the address)."""
    return "email:" + digest(address.strip().lower())[:40]


def opt_out_token(secret_key: str, recipient: str) -> str:
    """What an email's opt-out link carries besides the recipient: only the platform makes it."""
    return keyed_hash(secret_key, "opt-out:" + recipient)[:32]


class Preference:
    __slots__ = ("email", "language", "opted_out")

    def __init__(self, *, opted_out: bool, language: Language, email: str) -> None:
        self.opted_out = opted_out
        self.language = language
        self.email = email


async def preference(recipient: str) -> Preference:
    row = (
        await NotificationPreference.select(
            NotificationPreference.opted_out,
            NotificationPreference.language,
            NotificationPreference.email,
        )
        .where(NotificationPreference.recipient == recipient)
        .first()
        .run()
    )
    if row is None:
        return Preference(opted_out=False, language=Language.zh, email="")
    return Preference(
        opted_out=bool(row["opted_out"]), language=Language(row["language"]), email=row["email"]
    )


async def is_opted_out(recipient: str) -> bool:
    return (await preference(recipient)).opted_out


async def set_preference(
    recipient: str,
    *,
    opted_out: bool | None = None,
    language: Language | None = None,
    email: str | None = None,
) -> Preference:
    """Change what is given, keep the rest; the party's preference after the change."""
    now = datetime.now(UTC)
    async with atomic():
        current = await preference(recipient)
        chosen = Preference(
            opted_out=current.opted_out if opted_out is None else opted_out,
            language=current.language if language is None else language,
            email=current.email if email is None else email.strip(),
        )
        await (
            NotificationPreference.insert(
                NotificationPreference(
                    recipient=recipient,
                    opted_out=chosen.opted_out,
                    language=chosen.language,
                    email=chosen.email,
                    updated_at=now,
                )
            )
            .on_conflict(
                target=NotificationPreference.recipient,
                action="DO UPDATE",
                values=[
                    NotificationPreference.opted_out,
                    NotificationPreference.language,
                    NotificationPreference.email,
                    NotificationPreference.updated_at,
                ],
            )
            .run()
        )
    return chosen
