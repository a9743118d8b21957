"""What staff and accounts do with notifications: read the failures, choose, opt out.

* Staff read the notifications of their jurisdiction that failed or wait for another attempt
  (:func:`list_failures`), the address masked and no parameter shown (no code, ever).
* Every account chooses for itself (:func:`my_preference`, :func:`set_my_preference`):
  opted out, language, and an email for staff digests.
* Staff opt a household of their jurisdiction out, or choose its language, when it asks
  (:func:`set_household_preference`); the change is audited.
"""

from __future__ import annotations

from typing import Any

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Forbidden, Invalid, NotFound
from nuanxin.households.tables import Household
from nuanxin.identity import CurrentUser, Role, ensure_visible, jurisdiction_where
from nuanxin.notifications.outbox import mask_address
from nuanxin.notifications.preferences import Preference, preference, set_preference
from nuanxin.notifications.schemas import NotificationOut, PreferenceIn, PreferenceOut
from nuanxin.notifications.tables import Notification
from nuanxin.notifications.vocabulary import TROUBLED, Language
from nuanxin.pagination import Page, Pagination

__all__ = (
    "list_failures",
    "my_preference",
    "set_household_preference",
    "set_my_preference",
)

EMAIL_MAX = 200


def _out(row: dict[str, Any]) -> NotificationOut:
    return NotificationOut(
        id=int(row["id"]),
        kind=str(row["kind"]),
        channel=str(row["channel"]),
        recipient=str(row["recipient"]),
        address=mask_address(str(row["address"])),
        language=str(row["language"]),
        status=str(row["status"]),
        attempts=int(row["attempts"]),
        last_error=str(row["last_error"]),
        next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def list_failures(*, actor: CurrentUser, page: Pagination) -> Page[NotificationOut]:
    """Failed notifications and those waiting for another attempt, newest first."""
    if actor.role not in (Role.admin, Role.staff):
        raise Forbidden("Only civil affairs staff read the notifications")
    where: Any = Notification.status.is_in(list(TROUBLED))
    scope = jurisdiction_where(actor, Notification.region_code)
    if scope is not None:
        where = where & scope
    rows = (
        await Notification.select(*Notification.all_columns(exclude=[Notification.params]))
        .where(where)
        .order_by(Notification.updated_at, ascending=False)
        .order_by(Notification.id, ascending=False)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    total = await Notification.count().where(where).run()
    return Page(
        items=[_out(row) for row in rows], total=int(total), limit=page.limit, offset=page.offset
    )


def _preference_out(recipient: str, chosen: Preference) -> PreferenceOut:
    return PreferenceOut(
        recipient=recipient,
        opted_out=chosen.opted_out,
        language=str(chosen.language),
        email=chosen.email,
    )


def _language(value: str | None) -> Language | None:
    if value is None:
        return None
    try:
        return Language(value)
    except ValueError:
        raise Invalid(
            "The language is zh or en", field="language", message_id="invalid_language"
        ) from None


def _email(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = value.strip()
    if cleaned and (
        len(cleaned) > EMAIL_MAX or cleaned.count("@") != 1 or any(ch.isspace() for ch in cleaned)
    ):
        raise Invalid("Not an email address", field="email", message_id="invalid_email")
    return cleaned


def _something(data: PreferenceIn) -> None:
    if data.opted_out is None and data.language is None and data.email is None:
        raise Invalid(
            "Give opted_out, language or email", field="opted_out", message_id="nothing_to_change"
        )


async def my_preference(*, actor: CurrentUser) -> PreferenceOut:
    recipient = f"user:{actor.id}"
    return _preference_out(recipient, await preference(recipient))


async def set_my_preference(*, actor: CurrentUser, data: PreferenceIn) -> PreferenceOut:
    _something(data)
    recipient = f"user:{actor.id}"
    async with atomic():
        before = await preference(recipient)
        chosen = await set_preference(
            recipient,
            opted_out=data.opted_out,
            language=_language(data.language),
            email=_email(data.email),
        )
        await record(
            actor=actor,
            action="notification.preference",
            entity="account",
            entity_id=actor.id,
            before={"opted_out": before.opted_out, "language": str(before.language)},
            after={"opted_out": chosen.opted_out, "language": str(chosen.language)},
        )
    return _preference_out(recipient, chosen)


async def set_household_preference(
    *, actor: CurrentUser, household_id: int, data: PreferenceIn
) -> PreferenceOut:
    """Staff, for a household of their jurisdiction that asked (no email: households get SMS)."""
    if actor.role not in (Role.admin, Role.staff):
        raise Forbidden("Only civil affairs staff change a household's notifications")
    if data.email is not None:
        raise Invalid(
            "Households are told by SMS only", field="email", message_id="household_sms_only"
        )
    _something(data)
    recipient = f"household:{household_id}"
    async with atomic():
        row = (
            await Household.select(Household.id, Household.region._.code)
            .where(Household.id == household_id)
            .first()
            .run()
        )
        if row is None:
            raise NotFound(
                "No such household", message_id="not_found", params={"what": "household"}
            )
        ensure_visible(actor, what="household", region_codes=[str(row["region.code"])])
        before = await preference(recipient)
        chosen = await set_preference(
            recipient, opted_out=data.opted_out, language=_language(data.language)
        )
        await record(
            actor=actor,
            action="notification.preference",
            entity="household",
            entity_id=household_id,
            before={"opted_out": before.opted_out, "language": str(before.language)},
            after={"opted_out": chosen.opted_out, "language": str(chosen.language)},
        )
    return _preference_out(recipient, chosen)
