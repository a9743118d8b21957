"""The households read model: rows of the jurisdiction turned into :class:`HouseholdOut`.

* Staff see households whose current region lies in their jurisdiction; elsewhere a household
  is answered as not found (:func:`nuanxin.identity.ensure_visible`, and
  :func:`nuanxin.identity.jurisdiction_where` in lists). Admins see all.
* The ID number is shown masked (its last four characters), the phone in full only to staff
  of the household's jurisdiction.
* The priority weight and its reasons are computed by :mod:`nuanxin.households.needs` from
  the stored facts, never stored.
* A verification counts only until it expires (``is_verification_current``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from piccolo.columns.combination import Or

from nuanxin.errors import NotFound
from nuanxin.households import needs as rules
from nuanxin.households.schemas import HouseholdOut, MemberIn, MemberOut
from nuanxin.households.tables import Household, Member
from nuanxin.households.vocabulary import Category, VerificationFilter, VerificationStatus
from nuanxin.identity import CurrentUser, ensure_visible, jurisdiction_where
from nuanxin.privacy import mask_id, mask_name, mask_phone
from nuanxin.regions.services import get_region_by_id

__all__ = (
    "COLUMNS",
    "facts_of",
    "get_household",
    "household_detail",
    "household_out",
    "household_row",
    "list_households",
    "members_of",
    "now",
    "region_lat",
    "snapshot",
    "tags_of",
)

COLUMNS = (
    *Household.all_columns(),
    Household.region.code,
    Household.region.name,
)
"""A household row with the code and name of its region."""


def now() -> datetime:
    return datetime.now(UTC)


def _winter(moment: datetime) -> int:
    """The year the current (or coming) winter starts in."""
    return moment.year if moment.month >= 7 else moment.year - 1


def _is_current(row: dict[str, Any], moment: datetime) -> bool:
    expires = row["verification_expires_at"]
    return bool(
        row["status"] == VerificationStatus.verified and expires is not None and expires > moment
    )


def facts_of(
    *,
    category: str,
    members: Sequence[MemberIn | MemberOut],
    lives_alone: bool,
    tags: Sequence[str],
    latitude: float,
    now: datetime,
) -> rules.HouseholdFacts:
    """What the needs rules read of a household."""
    return rules.HouseholdFacts(
        category=category,
        members=tuple(
            rules.Person(birth_year=m.birth_year, sex=m.sex, disability_level=m.disability_level)
            for m in members
        ),
        lives_alone=lives_alone,
        tags=frozenset(str(tag) for tag in tags),
        latitude=latitude,
        winter=_winter(now),
    )


def tags_of(value: Any) -> list[str]:
    """The stored tags (a JSON list, or its text on SQLite)."""
    if isinstance(value, str):
        value = json.loads(value) if value else []
    return [str(tag) for tag in value or []]


async def members_of(household_ids: Sequence[int]) -> dict[int, list[MemberOut]]:
    """The members of each household, in the order they were entered."""
    found: dict[int, list[MemberOut]] = {hid: [] for hid in household_ids}
    if not household_ids:
        return found
    rows = (
        await Member.select()
        .where(Member.household.is_in(list(household_ids)))
        .order_by(Member.id)
        .run()
    )
    for row in rows:
        found[int(row["household"])].append(
            MemberOut(
                id=int(row["id"]),
                birth_year=int(row["birth_year"]),
                sex=str(row["sex"]),
                relation=str(row["relation"]),
                disability_level=int(row["disability_level"]),
            )
        )
    return found


async def region_lat(region_id: int) -> float:
    """The latitude of a region (the climate zone of the needs rules reads it)."""
    region = await get_region_by_id(region_id)
    return region.lat if region is not None else 0.0


def household_out(
    row: dict[str, Any],
    members: list[MemberOut],
    user: CurrentUser,
    *,
    latitude: float,
    now: datetime,
) -> HouseholdOut:
    """The one place a household DTO is built (masking included)."""
    code = str(row["region.code"])
    tags = tags_of(row["tags"])
    weight = rules.priority(
        facts_of(
            category=row["category"],
            members=members,
            lives_alone=bool(row["lives_alone"]),
            tags=tags,
            latitude=latitude,
            now=now,
        )
    )
    return HouseholdOut(
        id=int(row["id"]),
        reference=str(row["reference"]),
        category=Category(row["category"]),
        head_name=str(row["head_name"]),
        id_number=mask_id(str(row["id_last4"])) if row["id_last4"] else "",
        phone=str(row["phone"]) if user.covers(code) else mask_phone(str(row["phone"])),
        registered_address=str(row["registered_address"]),
        current_address=str(row["current_address"]),
        region_code=code,
        region_name=str(row["region.name"]),
        lat=float(row["lat"]),
        lon=float(row["lon"]),
        location_source=str(row["location_source"]),
        tags=tags,
        lives_alone=bool(row["lives_alone"]),
        status=VerificationStatus(row["status"]),
        verified_by=row["verified_by"],
        verified_at=row["verified_at"],
        verification_expires_at=row["verification_expires_at"],
        is_verification_current=_is_current(row, now),
        members=members,
        priority_weight=weight.weight,
        priority_reasons_zh=list(weight.reasons_zh),
        priority_reasons_en=list(weight.reasons_en),
        notes=str(row["notes"]),
        id_missing=not row["id_last4"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def household_row(household_id: int, user: CurrentUser) -> dict[str, Any]:
    """The household's row, if the user may see it (not found otherwise)."""
    row = await Household.select(*COLUMNS).where(Household.id == household_id).first().run()
    if row is None:
        raise NotFound(
            "No such household in your jurisdiction", message_id="household_not_in_jurisdiction"
        )
    ensure_visible(user, what="household", region_codes=[str(row["region.code"])])
    return dict(row)


async def household_detail(household_id: int, user: CurrentUser) -> HouseholdOut:
    row = await household_row(household_id, user)
    members = await members_of([household_id])
    latitude = await region_lat(int(row["region"]))
    return household_out(row, members[household_id], user, latitude=latitude, now=now())


async def get_household(*, user: CurrentUser, household_id: int) -> HouseholdOut:
    """One household of the user's jurisdiction (404 outside it)."""
    return await household_detail(household_id, user)


async def list_households(
    *,
    user: CurrentUser,
    category: Category | None = None,
    status: VerificationStatus | None = None,
    verification: VerificationFilter | None = None,
    region_prefix: str | None = None,
    search: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[HouseholdOut], int]:
    """Households of the user's jurisdiction, newest first, filtered; and the total."""
    moment = now()
    conditions: list[Any] = []
    inside = jurisdiction_where(user, Household.region.code)
    if inside is not None:
        conditions.append(inside)
    if category is not None:
        conditions.append(Household.category == category.value)
    if status is not None:
        conditions.append(Household.status == status.value)
    if verification is VerificationFilter.current:
        conditions.append(Household.status == VerificationStatus.verified.value)
        conditions.append(Household.verification_expires_at > moment)
    elif verification is VerificationFilter.expired:
        conditions.append(Household.status == VerificationStatus.verified.value)
        conditions.append(Household.verification_expires_at <= moment)
    elif verification is VerificationFilter.unverified:
        conditions.append(Household.status != VerificationStatus.verified.value)
    if region_prefix:
        conditions.append(Household.region.code.like(region_prefix + "%"))
    if search:
        term = search.strip()
        conditions.append(
            Or(Household.reference == term.upper(), Household.head_name.like(f"%{term}%"))
        )
    query = Household.select(*COLUMNS).order_by(Household.id, ascending=False)
    count = Household.count()
    if conditions:
        query = query.where(*conditions)
        count = count.where(*conditions)
    rows = await query.limit(limit).offset(offset).run()
    total = await count.run()
    members = await members_of([int(row["id"]) for row in rows])
    latitudes: dict[int, float] = {}
    for row in rows:
        region_id = int(row["region"])
        if region_id not in latitudes:
            latitudes[region_id] = await region_lat(region_id)
    items = [
        household_out(
            row,
            members[int(row["id"])],
            user,
            latitude=latitudes[int(row["region"])],
            now=moment,
        )
        for row in rows
    ]
    return items, int(total)


def snapshot(row: dict[str, Any], member_count: int) -> dict[str, Any]:
    """A household as the audit trail keeps it: no ID number, phone masked, name masked."""
    return {
        "reference": row["reference"],
        "category": row["category"],
        "head_name": mask_name(str(row["head_name"])),
        "phone": mask_phone(str(row["phone"])),
        "region_code": row["region.code"],
        "lat": row["lat"],
        "lon": row["lon"],
        "tags": tags_of(row["tags"]),
        "lives_alone": row["lives_alone"],
        "members": member_count,
        "status": row["status"],
        "verification_expires_at": None
        if row["verification_expires_at"] is None
        else row["verification_expires_at"].isoformat(),
    }
