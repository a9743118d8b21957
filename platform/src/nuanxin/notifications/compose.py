"""The four kinds of message, each composed from the areas' services and queued once.

* :func:`schedule_visit` (staff): the household is told by SMS the day of its visit and the
  visit's one-time code (a new code, as a printed slip would carry: printing a slip later
  gives another one and this one stops working). Not for a household that opted out or has
  no phone: no code is issued, and staff print the slip instead.
* :func:`courier_days` (each morning): each courier of a charity with visits that day gets
  the day's list (household references and townships, never names).
* :func:`visit_delivered` (the job deferred when a visit is confirmed): each donor whose gift
  went into the delivered goods, with an email, learns the county it reached; once per gift
  and county, never the household.
* :func:`staff_deadlines` (each morning, from the deadline scans' notices): each staff member
  with something open in their jurisdiction gets the day's counts, once a day, by email when
  they gave one, otherwise by SMS.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from nuanxin.accounts.tables import User
from nuanxin.db import atomic
from nuanxin.deadlines import services as deadlines
from nuanxin.deadlines.vocabulary import NoticeKind
from nuanxin.deliveries import confirmation
from nuanxin.deliveries.tables import Delivery
from nuanxin.deliveries.visits import ensure_visit_reach, load_visit
from nuanxin.deliveries.vocabulary import DeliveryStatus, VisitStatus
from nuanxin.donations.tables import Donation, Purchase
from nuanxin.donations.vocabulary import PAID, DonationKind
from nuanxin.errors import Conflict, Forbidden, Invalid
from nuanxin.households.tables import Household
from nuanxin.households.vocabulary import VerificationStatus
from nuanxin.identity import CurrentUser, Role, subtree_prefix
from nuanxin.notifications.outbox import notify, senders
from nuanxin.notifications.preferences import email_recipient, preference
from nuanxin.notifications.schemas import AppointmentOut
from nuanxin.notifications.tables import Appointment, Notification
from nuanxin.notifications.vocabulary import Channel, Kind, Language
from nuanxin.regions.tables import Region

__all__ = (
    "EXPIRING_WITHIN",
    "courier_days",
    "schedule_visit",
    "staff_deadlines",
    "visit_delivered",
)

EXPIRING_WITHIN = timedelta(days=30)
STOPS_SHOWN = 8  # an SMS stays short: the rest is on the courier's page
MORNING_HOUR = 7  # couriers' lists go out from 07:00 local time
STAFF_MORNING_HOUR = 8  # staff's deadlines from 08:00


def day_label(day: date, language: Language) -> str:
    return format_date(
        day,
        format="M月d日" if language is Language.zh else "d MMM",
        locale=("zh_CN" if language is Language.zh else "en"),
    )


def _today(now: datetime) -> date:
    return now.astimezone(ZoneInfo(senders().timezone)).date()


async def schedule_visit(
    *, actor: CurrentUser, secret_key: str, hotline: str, visit_id: int, visit_on: date, today: date
) -> AppointmentOut:
    """Set the visit's day and tell the household by SMS, with the visit's code. Once."""
    if actor.role not in (Role.admin, Role.staff):
        raise Forbidden("Only civil affairs staff schedule visits")
    if not today <= visit_on <= today + timedelta(days=60):
        raise Invalid(
            "The visit's day is today or within 60 days",
            field="visit_on",
            message_id="visit_day_out_of_range",
        )
    async with atomic():
        row = await load_visit(visit_id)
        ensure_visit_reach(actor, row)
        if row["status"] not in (VisitStatus.pending, VisitStatus.locked):
            raise Conflict(
                f"The visit is {row['status']}: nothing to schedule",
                error="visit_closed",
                message_id="no_slip_to_print",
            )
        inserted = (
            await Appointment.insert(
                Appointment(
                    visit=visit_id,
                    organization=int(row["organization"]),
                    region_code=str(row["household.region.code"]),
                    visit_on=visit_on,
                    scheduled_by=actor.id,
                    created_at=datetime.now(tz=ZoneInfo("UTC")),
                )
            )
            .on_conflict(action="DO NOTHING")
            .returning(Appointment.id)
            .run()
        )
        if not inserted:
            raise Conflict(
                "This visit was scheduled already",
                error="already_scheduled",
                message_id="visit_already_scheduled",
            )
        household_id = int(row["household"])
        recipient = f"household:{household_id}"
        wanted = await preference(recipient)
        phone = str(row["household.phone"] or "")
        params = {"date": day_label(visit_on, wanted.language), "hotline": hotline}
        if phone and not wanted.opted_out:
            slip = await confirmation.issue_slip(
                actor=actor, secret_key=secret_key, visit_id=visit_id
            )
            params["code"] = slip.code
        notification_id = await notify(
            kind=Kind.visit_code,
            subject=f"visit:{visit_id}",
            recipient=recipient,
            channel=Channel.sms,
            address=phone,
            language=wanted.language,
            params=params,
            region_code=str(row["household.region.code"]),
        )
        status = "queued"
        if notification_id is not None:
            found = (
                await Notification.select(Notification.status)
                .where(Notification.id == notification_id)
                .first()
                .run()
            )
            status = str(found["status"]) if found else status
    return AppointmentOut(
        visit_id=visit_id, visit_on=visit_on, notification_id=notification_id, status=status
    )


async def courier_days(*, now: datetime) -> int:
    """Queue today's list for each courier of a charity with visits today; how many queued."""
    local = now.astimezone(ZoneInfo(senders().timezone))
    if local.hour < MORNING_HOUR:  # the embedded worker runs this hourly: not at night
        return 0
    today = local.date()
    queued = 0
    async with atomic():
        rows = (
            await Appointment.select(
                Appointment.region_code,
                Appointment.organization,
                Appointment.visit._.household._.reference,
                Appointment.visit._.household._.region._.name,
            )
            .where(
                (Appointment.visit_on == today)
                & Appointment.visit._.status.is_in([VisitStatus.pending, VisitStatus.locked])
            )
            .order_by(Appointment.id)
            .run()
        )
        stops: dict[int, list[str]] = defaultdict(list)
        regions: dict[int, str] = {}
        for row in rows:
            regions.setdefault(int(row["organization"]), str(row["region_code"]))
            stops[int(row["organization"])].append(
                f"{row['visit.household.reference']} {row['visit.household.region.name']}"
            )
        if not stops:
            return 0
        couriers = (
            await User.select(User.id, User.organization, User.phone)
            .where(
                (User.role == Role.courier)
                & User.organization.is_in(list(stops))
                & (User.is_active == True)  # noqa: E712 - a Piccolo expression
            )
            .order_by(User.id)
            .run()
        )
        for courier in couriers:
            listed = stops[int(courier["organization"])]
            recipient = f"user:{courier['id']}"
            wanted = await preference(recipient)
            more = len(listed) - STOPS_SHOWN
            shown = (
                "、".join(listed[:STOPS_SHOWN])
                if wanted.language is Language.zh
                else ("; ".join(listed[:STOPS_SHOWN]))
            )
            if more > 0:
                shown += f" 等{more}户" if wanted.language is Language.zh else f" and {more} more"
            written = await notify(
                kind=Kind.courier_day,
                subject=f"courier:{courier['id']}:{today.isoformat()}",
                recipient=recipient,
                channel=Channel.sms,
                address=str(courier["phone"] or ""),
                language=wanted.language,
                params={
                    "date": day_label(today, wanted.language),
                    "count": str(len(listed)),
                    "stops": shown,
                },
                region_code=regions[int(courier["organization"])],  # staff there see failures
            )
            queued += written is not None
    return queued


async def _county(region_code: str) -> dict[str, Any]:
    row = (
        await Region.select(Region.code, Region.name)
        .where(Region.code.like(region_code[:6] + "%") & (Region.level == "county"))
        .first()
        .run()
    )
    return dict(row) if row else {"code": region_code[:6], "name": region_code[:6]}


async def _donations_of_offer(offer_id: int) -> list[dict[str, Any]]:
    """The gifts that became this offer's goods: goods given into it, money that bought it."""
    columns = (Donation.id, Donation.donor_email)
    goods = (
        await Donation.select(*columns)
        .where((Donation.offer == offer_id) & (Donation.kind == DonationKind.goods))
        .run()
    )
    campaigns = [
        int(row["campaign"])
        for row in await Purchase.select(Purchase.campaign).where(Purchase.offer == offer_id).run()
    ]
    money: list[dict[str, Any]] = []
    if campaigns:
        money = (
            await Donation.select(*columns)
            .where(
                Donation.campaign.is_in(campaigns)
                & (Donation.kind == DonationKind.money)
                & Donation.status.is_in(list(PAID))
            )
            .run()
        )
    return [row for row in [*goods, *money] if str(row["donor_email"] or "").strip()]


async def visit_delivered(*, visit_id: int) -> int:
    """Tell the donors behind a delivered visit's goods where they went; how many queued."""
    queued = 0
    async with atomic():
        rows = (
            await Delivery.select(
                Delivery.confirmed_at,
                Delivery.allocation._.offer,
                Delivery.allocation._.offer._.item._.name_zh,
                Delivery.allocation._.offer._.item._.name_en,
                Delivery.visit._.household._.region._.code,
            )
            .where((Delivery.visit == visit_id) & (Delivery.status == DeliveryStatus.delivered))
            .run()
        )
        for row in rows:
            county = await _county(str(row["visit.household.region.code"]))
            day = (
                (row["confirmed_at"] or datetime.now(tz=ZoneInfo("UTC")))
                .astimezone(ZoneInfo(senders().timezone))
                .date()
            )
            for gift in await _donations_of_offer(int(row["allocation.offer"])):
                address = str(gift["donor_email"]).strip()
                recipient = email_recipient(address)
                wanted = await preference(recipient)
                zh = wanted.language is Language.zh
                written = await notify(
                    kind=Kind.donor_delivered,
                    subject=f"donation:{gift['id']}:county:{county['code']}",
                    recipient=recipient,
                    channel=Channel.email,
                    address=address,
                    language=wanted.language,
                    params={
                        "county": str(county["name"]),
                        "item": str(
                            row[
                                "allocation.offer.item.name_zh"
                                if zh
                                else "allocation.offer.item.name_en"
                            ]
                        ),
                        "date": day_label(day, wanted.language),
                    },
                    region_code=str(county["code"]),
                )
                queued += written is not None
    return queued


async def _counts(prefix: str, now: datetime) -> dict[str, int]:
    overdue = len(await deadlines.open_notices(NoticeKind.paperwork_overdue, region_prefix=prefix))
    stale = len(
        await deadlines.open_notices(NoticeKind.stale_delivery, region_prefix=prefix)
    ) + len(await deadlines.open_notices(NoticeKind.stale_request, region_prefix=prefix))
    expiring = (
        await Household.count()
        .where(
            (Household.status == VerificationStatus.verified)
            & (Household.verification_expires_at < now + EXPIRING_WITHIN)
            & Household.region._.code.like(prefix + "%")
        )
        .run()
    )
    return {"overdue": overdue, "stale": stale, "expiring": int(expiring)}


async def staff_deadlines(*, now: datetime) -> int:
    """Queue today's counts for each staff member with something open; how many queued."""
    local = now.astimezone(ZoneInfo(senders().timezone))
    if local.hour < STAFF_MORNING_HOUR:  # the embedded worker runs this hourly: not at night
        return 0
    today = local.date()
    queued = 0
    async with atomic():
        staff = (
            await User.select(
                User.id, User.phone, User.jurisdiction._.code, User.jurisdiction._.level
            )
            .where((User.role == Role.staff) & (User.is_active == True))  # noqa: E712
            .order_by(User.id)
            .run()
        )
        for member in staff:
            if member["jurisdiction.code"] is None:
                continue
            prefix = subtree_prefix(
                str(member["jurisdiction.code"]), str(member["jurisdiction.level"])
            )
            counts = await _counts(prefix, now)
            if not any(counts.values()):
                continue
            recipient = f"user:{member['id']}"
            wanted = await preference(recipient)
            channel = Channel.email if wanted.email else Channel.sms
            written = await notify(
                kind=Kind.staff_deadlines,
                subject=f"staff:{member['id']}:{today.isoformat()}",
                recipient=recipient,
                channel=channel,
                address=wanted.email or str(member["phone"] or ""),
                language=wanted.language,
                params={name: str(value) for name, value in counts.items()},
                region_code=str(member["jurisdiction.code"]),
            )
            queued += written is not None
    return queued
