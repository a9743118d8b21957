"""Households: registering, editing and verifying them, and their needs.

Rules kept here (the controllers only translate HTTP):

* Staff act only on households whose current region lies in their jurisdiction; elsewhere a
  household is answered as not found (404). Charities never reach households through this
  module's API.
* An ID number is validated (format, birth date, check character) and never stored: only
  ``keyed_hash(secret_key, number)`` and the last four characters are.
* Before a household is saved, the same ID number (by keyed hash) or the same head name and
  current address anywhere in the system refuses it (409). Inside the caller's jurisdiction
  the answer names the existing household's reference; outside it, only the county whose
  civil affairs to contact, never the other record's personal data.
* Needs are computed by :mod:`nuanxin.households.needs` on create and when the facts they
  depend on change; a staff override (with a reason) survives recomputation.
* Verification lasts ``Settings.verification_months``; an expired one counts as unverified.
* Every change writes an audit entry in its transaction, without the ID number or full phone.
"""

from __future__ import annotations

import json
import secrets
from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.columns.combination import Or

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict, DomainError, Invalid, NotFound
from nuanxin.households import needs as rules
from nuanxin.households.identity import IdNumberError, normalise_id_number
from nuanxin.households.locate import candidate_divisions
from nuanxin.households.schemas import (
    AddressLookup,
    HouseholdFields,
    HouseholdOut,
    HouseholdUpdate,
    MemberIn,
    MemberOut,
    NeedOut,
    NeedOverride,
    RegionChoice,
    VerificationFilter,
)
from nuanxin.households.tables import Category, Household, Member, Need, VerificationStatus
from nuanxin.identity import CurrentUser, ensure_visible, jurisdiction_where, keyed_hash
from nuanxin.offers import services as offers
from nuanxin.offers.catalogue import seed_catalogue
from nuanxin.privacy import mask_id, mask_name, mask_phone
from nuanxin.regions.services import RegionRecord, get_region, get_region_by_id

__all__ = (
    "Identity",
    "add_months",
    "create_household",
    "get_household",
    "identity_of",
    "list_households",
    "list_needs",
    "locate_address",
    "override_need",
    "update_household",
    "verify_household",
)

HOUSEHOLD_LEVELS = ("county", "township")
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """What is kept of an ID number: its keyed hash and last four characters."""

    id_hash: str
    id_last4: str


def identity_of(id_number: str, *, secret_key: str, field: str = "id_number") -> Identity:
    """Validate an ID number and keep only its keyed hash and last four (400 if invalid)."""
    try:
        number = normalise_id_number(id_number)
    except IdNumberError as invalid:
        raise Invalid(f"{field}: {invalid}", error="validation_error", field=field) from None
    return Identity(id_hash=keyed_hash(secret_key, number), id_last4=number[-4:])


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _now() -> datetime:
    return datetime.now(UTC)


def _winter(now: datetime) -> int:
    """The year the current (or coming) winter starts in."""
    return now.year if now.month >= 7 else now.year - 1


def _invalid(field: str, detail: str) -> DomainError:
    return Invalid(f"{field}: {detail}", error="validation_error", field=field)


async def resolve_region(
    user: CurrentUser, code: str, *, field: str = "region_code"
) -> RegionRecord:
    """A county or township in the user's jurisdiction where a household may be placed."""
    region = await get_region(code)
    if region is None:
        raise _invalid(field, f"no region has the code {code}")
    if region.level not in HOUSEHOLD_LEVELS:
        raise _invalid(field, "pick a county or township, not a province or city")
    if not user.covers(region.code):
        raise NotFound("No such region in your jurisdiction", field=field)
    return region


def _check_members(members: Sequence[MemberIn], lives_alone: bool, now: datetime) -> None:
    for index, member in enumerate(members):
        if member.birth_year > now.year:
            raise _invalid(f"members[{index}].birth_year", "lies in the future")
    if lives_alone and len(members) != 1:
        raise _invalid("lives_alone", "a household living alone has exactly one member")


async def locate_address(*, user: CurrentUser, address: str) -> AddressLookup:
    """Pre-fill a household's region from free text (staff still pick it).

    Candidates are the loaded regions the offline gazetteer reads the address as, those in
    the user's jurisdiction first.
    """
    division, divisions, problem = candidate_divisions(address)
    choices: list[RegionChoice] = []
    for candidate in divisions:
        region = await get_region(candidate.code)
        if region is not None:
            choices.append(
                RegionChoice(
                    code=region.code,
                    name=region.name,
                    full_name=region.full_name,
                    level=region.level,
                    lat=region.lat,
                    lon=region.lon,
                    in_jurisdiction=user.covers(region.code),
                )
            )
    choices.sort(key=lambda choice: (not choice.in_jurisdiction, choice.code))
    single = choices[0] if division is not None and choices else None
    if division is not None and single is None:
        problem = f"{division.full_name} is not served by this platform"
    return AddressLookup(region=single, candidates=choices, problem=problem)


# -- duplicates -------------------------------------------------------------------------------


async def _county_name(code: str) -> str:
    county = await get_region(code[:6])
    return county.full_name if county is not None else code[:6]


async def check_duplicate(
    *,
    user: CurrentUser,
    id_hash: str,
    head_name: str,
    current_address: str,
    exclude_id: int | None = None,
) -> None:
    """Refuse (409) a household already registered under this ID or name and address."""
    for field, condition in (
        ("id_number", Household.id_hash == id_hash),
        (
            "head_name",
            (Household.head_name == head_name) & (Household.current_address == current_address),
        ),
    ):
        query = Household.select(Household.id, Household.reference, Household.region.code)
        query = query.where(condition)
        if exclude_id is not None:
            query = query.where(Household.id != exclude_id)
        found = await query.first().run()
        if found is None:
            continue
        what = "this ID number" if field == "id_number" else "this name and current address"
        if user.covers(str(found["region.code"])):
            raise Conflict(
                f"A household with {what} is already registered: {found['reference']}",
                error="duplicate_household",
                field=field,
            )
        county = await _county_name(str(found["region.code"]))
        raise Conflict(
            f"A household with {what} is already registered in another jurisdiction; "
            f"contact the civil affairs of {county}",
            error="duplicate_household",
            field=field,
        )


# -- reading ----------------------------------------------------------------------------------

_COLUMNS = (
    *Household.all_columns(),
    Household.region.code,
    Household.region.name,
)


def _is_current(row: dict[str, Any], now: datetime) -> bool:
    expires = row["verification_expires_at"]
    return bool(
        row["status"] == VerificationStatus.verified and expires is not None and expires > now
    )


def _facts(
    *,
    category: str,
    members: Sequence[MemberIn | MemberOut],
    lives_alone: bool,
    tags: Sequence[str],
    latitude: float,
    now: datetime,
) -> rules.HouseholdFacts:
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


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value) if value else []
    return [str(tag) for tag in value or []]


async def _members_of(household_ids: Sequence[int]) -> dict[int, list[MemberOut]]:
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


async def _region_lat(region_id: int) -> float:
    region = await get_region_by_id(region_id)
    return region.lat if region is not None else 0.0


def _out(
    row: dict[str, Any],
    members: list[MemberOut],
    user: CurrentUser,
    *,
    latitude: float,
    now: datetime,
) -> HouseholdOut:
    code = str(row["region.code"])
    tags = _tags(row["tags"])
    weight = rules.priority(
        _facts(
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
        id_number=mask_id(str(row["id_last4"])),
        phone=str(row["phone"]) if user.covers(code) else mask_phone(str(row["phone"])),
        registered_address=str(row["registered_address"]),
        current_address=str(row["current_address"]),
        region_code=code,
        region_name=str(row["region.name"]),
        lat=float(row["lat"]),
        lon=float(row["lon"]),
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
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _row(household_id: int, user: CurrentUser) -> dict[str, Any]:
    row = await Household.select(*_COLUMNS).where(Household.id == household_id).first().run()
    if row is None:
        raise NotFound("No such household in your jurisdiction")
    ensure_visible(user, what="household", region_codes=[str(row["region.code"])])
    return dict(row)


async def _detail(household_id: int, user: CurrentUser) -> HouseholdOut:
    row = await _row(household_id, user)
    members = await _members_of([household_id])
    latitude = await _region_lat(int(row["region"]))
    return _out(row, members[household_id], user, latitude=latitude, now=_now())


async def get_household(*, user: CurrentUser, household_id: int) -> HouseholdOut:
    """One household of the user's jurisdiction (404 outside it)."""
    return await _detail(household_id, user)


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
    now = _now()
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
        conditions.append(Household.verification_expires_at > now)
    elif verification is VerificationFilter.expired:
        conditions.append(Household.status == VerificationStatus.verified.value)
        conditions.append(Household.verification_expires_at <= now)
    elif verification is VerificationFilter.unverified:
        conditions.append(Household.status != VerificationStatus.verified.value)
    if region_prefix:
        conditions.append(Household.region.code.like(region_prefix + "%"))
    if search:
        term = search.strip()
        conditions.append(
            Or(Household.reference == term.upper(), Household.head_name.like(f"%{term}%"))
        )
    query = Household.select(*_COLUMNS).order_by(Household.id, ascending=False)
    count = Household.count()
    if conditions:
        query = query.where(*conditions)
        count = count.where(*conditions)
    rows = await query.limit(limit).offset(offset).run()
    total = await count.run()
    members = await _members_of([int(row["id"]) for row in rows])
    latitudes: dict[int, float] = {}
    for row in rows:
        region_id = int(row["region"])
        if region_id not in latitudes:
            latitudes[region_id] = await _region_lat(region_id)
    items = [
        _out(row, members[int(row["id"])], user, latitude=latitudes[int(row["region"])], now=now)
        for row in rows
    ]
    return items, int(total)


# -- writing ----------------------------------------------------------------------------------


def _snapshot(row: dict[str, Any], member_count: int) -> dict[str, Any]:
    """A household as the audit trail keeps it: no ID number, phone masked, name masked."""
    return {
        "reference": row["reference"],
        "category": row["category"],
        "head_name": mask_name(str(row["head_name"])),
        "phone": mask_phone(str(row["phone"])),
        "region_code": row["region.code"],
        "lat": row["lat"],
        "lon": row["lon"],
        "tags": _tags(row["tags"]),
        "lives_alone": row["lives_alone"],
        "members": member_count,
        "status": row["status"],
        "verification_expires_at": None
        if row["verification_expires_at"] is None
        else row["verification_expires_at"].isoformat(),
    }


async def _new_reference(county_code: str) -> str:
    while True:
        tail = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))
        reference = f"HH{county_code[:6]}{tail}"
        taken = await Household.exists().where(Household.reference == reference).run()
        if not taken:
            return reference


async def _item_ids() -> dict[str, int]:
    """Catalogue item ids by code, from the offers area (seeded when it is missing)."""
    items = await offers.list_items()
    if not items:
        await seed_catalogue()
        items = await offers.list_items()
    return {item.code: item.id for item in items}


async def _recompute_needs(household_id: int, facts: rules.HouseholdFacts, now: datetime) -> None:
    """Store the needs the rules give, keeping overrides (see :func:`needs.reconcile`)."""
    items = await _item_ids()
    codes = {item_id: code for code, item_id in items.items()}
    stored_rows = await Need.select().where(Need.household == household_id).run()
    stored = [
        rules.StoredNeed(
            item_code=codes[int(row["item"])],
            quantity=int(row["quantity"]),
            allocated=int(row["allocated"]),
            override_reason=str(row["override_reason"]),
        )
        for row in stored_rows
    ]
    by_code = {codes[int(row["item"])]: int(row["id"]) for row in stored_rows}
    weight = rules.priority(facts).weight
    for plan in rules.reconcile(rules.compute_needs(facts), stored, weight=weight):
        values: dict[Any, Any] = {
            Need.quantity: plan.quantity,
            Need.weight: plan.weight,
            Need.rule: plan.rule,
            Need.override_reason: plan.override_reason,
            Need.updated_at: now,
        }
        if plan.item_code in by_code:
            await Need.update(values).where(Need.id == by_code[plan.item_code]).run()
        elif plan.quantity > 0:
            await Need.insert(
                Need(
                    household=household_id,
                    item=items[plan.item_code],
                    quantity=plan.quantity,
                    weight=plan.weight,
                    rule=plan.rule,
                    override_reason=plan.override_reason,
                    updated_at=now,
                )
            ).run()


async def _insert_members(household_id: int, members: Sequence[MemberIn]) -> None:
    await Member.insert(
        *(
            Member(
                household=household_id,
                relation=m.relation,
                birth_year=m.birth_year,
                sex=m.sex,
                disability_level=m.disability_level,
            )
            for m in members
        )
    ).run()


async def create_household(
    *,
    user: CurrentUser,
    data: HouseholdFields,
    identity: Identity,
    action_label: str = "household.create",
) -> HouseholdOut:
    """Register a household (status unverified) with its members and computed needs.

    Refused before anything is written: a region outside the jurisdiction (404), an invalid
    member list (400), a duplicate (409, see :func:`check_duplicate`).
    """
    now = _now()
    region = await resolve_region(user, data.region_code)
    _check_members(data.members, data.lives_alone, now)
    head_name, address = data.head_name.strip(), data.current_address.strip()
    async with atomic():
        await check_duplicate(
            user=user, id_hash=identity.id_hash, head_name=head_name, current_address=address
        )
        rows = (
            await Household.insert(
                Household(
                    reference=await _new_reference(region.code),
                    category=data.category.value,
                    head_name=head_name,
                    id_hash=identity.id_hash,
                    id_last4=identity.id_last4,
                    phone=data.phone.strip(),
                    registered_address=data.registered_address.strip(),
                    current_address=address,
                    region=region.id,
                    lat=region.lat if data.lat is None else data.lat,
                    lon=region.lon if data.lon is None else data.lon,
                    tags=sorted({tag.value for tag in data.tags}),
                    lives_alone=data.lives_alone,
                    notes=data.notes,
                    created_at=now,
                    updated_at=now,
                )
            )
            .returning(Household.id)
            .run()
        )
        household_id = int(rows[0]["id"])
        await _insert_members(household_id, data.members)
        facts = _facts(
            category=data.category.value,
            members=data.members,
            lives_alone=data.lives_alone,
            tags=[tag.value for tag in data.tags],
            latitude=region.lat,
            now=now,
        )
        await _recompute_needs(household_id, facts, now)
        created = await _row(household_id, user)
        await record(
            actor=user,
            action=action_label,
            entity="household",
            entity_id=household_id,
            after=_snapshot(created, len(data.members)),
            region_code=region.code,
        )
    return await _detail(household_id, user)


_RECOMPUTING = ("category", "members", "lives_alone", "tags", "region_code")


async def update_household(
    *, user: CurrentUser, household_id: int, data: HouseholdUpdate, secret_key: str
) -> HouseholdOut:
    """Change a household; needs are recomputed when their facts change."""
    now = _now()
    async with atomic():
        row = await _row(household_id, user)
        members = (await _members_of([household_id]))[household_id]
        before = _snapshot(row, len(members))
        values: dict[Any, Any] = {Household.updated_at: now}
        latitude = await _region_lat(int(row["region"]))
        if data.region_code is not None and data.region_code != row["region.code"]:
            region = await resolve_region(user, data.region_code)
            latitude = region.lat
            values[Household.region] = region.id
            values[Household.lat] = region.lat if data.lat is None else data.lat
            values[Household.lon] = region.lon if data.lon is None else data.lon
        if data.lat is not None:
            values[Household.lat] = data.lat
        if data.lon is not None:
            values[Household.lon] = data.lon
        lives_alone = bool(row["lives_alone"]) if data.lives_alone is None else data.lives_alone
        new_members: Sequence[MemberIn | MemberOut] = members
        if data.members is not None:
            _check_members(data.members, lives_alone, now)
            new_members = data.members
        elif data.lives_alone is not None and lives_alone and len(members) != 1:
            raise _invalid("lives_alone", "a household living alone has exactly one member")
        head_name = str(row["head_name"]) if data.head_name is None else data.head_name.strip()
        address = (
            str(row["current_address"])
            if data.current_address is None
            else data.current_address.strip()
        )
        id_hash = str(row["id_hash"])
        if data.id_number is not None:
            identity = identity_of(data.id_number, secret_key=secret_key)
            id_hash = identity.id_hash
            values[Household.id_hash] = identity.id_hash
            values[Household.id_last4] = identity.id_last4
        if (
            id_hash != row["id_hash"]
            or head_name != row["head_name"]
            or address != row["current_address"]
        ):
            await check_duplicate(
                user=user,
                id_hash=id_hash,
                head_name=head_name,
                current_address=address,
                exclude_id=household_id,
            )
        simple: dict[Any, Any] = {
            Household.category: None if data.category is None else data.category.value,
            Household.head_name: None if data.head_name is None else head_name,
            Household.phone: None if data.phone is None else data.phone.strip(),
            Household.registered_address: None
            if data.registered_address is None
            else data.registered_address.strip(),
            Household.current_address: None if data.current_address is None else address,
            Household.lives_alone: data.lives_alone,
            Household.tags: None if data.tags is None else sorted({tag.value for tag in data.tags}),
            Household.notes: data.notes,
        }
        values.update({column: value for column, value in simple.items() if value is not None})
        await Household.update(values).where(Household.id == household_id).run()
        if data.members is not None:
            await Member.delete().where(Member.household == household_id).run()
            await _insert_members(household_id, data.members)
        if any(getattr(data, name) is not None for name in _RECOMPUTING):
            tags = _tags(row["tags"]) if data.tags is None else [t.value for t in data.tags]
            category = row["category"] if data.category is None else data.category.value
            facts = _facts(
                category=category,
                members=new_members,
                lives_alone=lives_alone,
                tags=tags,
                latitude=latitude,
                now=now,
            )
            await _recompute_needs(household_id, facts, now)
        after_row = (
            await Household.select(*_COLUMNS).where(Household.id == household_id).first().run()
        )
        assert after_row is not None
        await record(
            actor=user,
            action="household.update",
            entity="household",
            entity_id=household_id,
            before=before,
            after=_snapshot(after_row, len(new_members)),
            region_code=str(after_row["region.code"]),
        )
    return await _detail(household_id, user)


async def verify_household(
    *, user: CurrentUser, household_id: int, verification_months: int
) -> HouseholdOut:
    """Staff vouch for the household: verified now, until ``verification_months`` from now."""
    now = _now()
    async with atomic():
        row = await _row(household_id, user)
        members = (await _members_of([household_id]))[household_id]
        expires = add_months(now, verification_months)
        await (
            Household.update(
                {
                    Household.status: VerificationStatus.verified.value,
                    Household.verified_by: user.id,
                    Household.verified_at: now,
                    Household.verification_expires_at: expires,
                    Household.updated_at: now,
                }
            )
            .where(Household.id == household_id)
            .run()
        )
        after = {**row, "status": "verified", "verification_expires_at": expires}
        await record(
            actor=user,
            action="household.verify",
            entity="household",
            entity_id=household_id,
            before=_snapshot(row, len(members)),
            after=_snapshot(after, len(members)),
            region_code=str(row["region.code"]),
        )
    return await _detail(household_id, user)


# -- needs ------------------------------------------------------------------------------------


def _need_out(row: dict[str, Any]) -> NeedOut:
    zh, en = rules.split_rule(str(row["rule"]))
    return NeedOut(
        id=int(row["id"]),
        household_id=int(row["household"]),
        item_code=str(row["item.code"]),
        quantity=int(row["quantity"]),
        allocated=int(row["allocated"]),
        weight=float(row["weight"]),
        rule_zh=zh,
        rule_en=en,
        override_reason=str(row["override_reason"]),
        updated_at=row["updated_at"],
    )


async def list_needs(*, user: CurrentUser, household_id: int) -> list[NeedOut]:
    """The household's needs, by item code."""
    await _row(household_id, user)
    rows = (
        await Need.select(*Need.all_columns(), Need.item.code)
        .where(Need.household == household_id)
        .order_by(Need.item.code)
        .run()
    )
    return [_need_out(row) for row in rows]


async def override_need(*, user: CurrentUser, household_id: int, data: NeedOverride) -> NeedOut:
    """Set a need's quantity by hand, with a reason that survives recomputation."""
    now = _now()
    async with atomic():
        row = await _row(household_id, user)
        items = await _item_ids()
        item_id = items.get(data.item_code)
        if item_id is None:
            raise _invalid("item_code", f"no catalogue item has the code {data.item_code}")
        existing = (
            await Need.select()
            .where((Need.household == household_id) & (Need.item == item_id))
            .first()
            .run()
        )
        if existing is not None and data.quantity < int(existing["allocated"]):
            raise Conflict(
                f"quantity: {existing['allocated']} units are already allocated; "
                "a need cannot be set below what is allocated",
                error="below_allocated",
                field="quantity",
            )
        before: dict[str, Any] = {}
        if existing is None:
            rule = rules.join_rule("工作人员手工设定", "set by staff")
            weight = (
                await Need.select(Need.weight).where(Need.household == household_id).first().run()
            )
            await Need.insert(
                Need(
                    household=household_id,
                    item=item_id,
                    quantity=data.quantity,
                    weight=float(weight["weight"]) if weight else 1.0,
                    rule=rule,
                    override_reason=data.reason,
                    updated_at=now,
                )
            ).run()
        else:
            before = {
                "quantity": existing["quantity"],
                "override_reason": existing["override_reason"],
            }
            await (
                Need.update(
                    {
                        Need.quantity: data.quantity,
                        Need.override_reason: data.reason,
                        Need.updated_at: now,
                    }
                )
                .where(Need.id == existing["id"])
                .run()
            )
        saved = (
            await Need.select(*Need.all_columns(), Need.item.code)
            .where((Need.household == household_id) & (Need.item == item_id))
            .first()
            .run()
        )
        assert saved is not None
        await record(
            actor=user,
            action="need.override",
            entity="need",
            entity_id=int(saved["id"]),
            before={"household": row["reference"], "item": data.item_code, **before},
            after={
                "household": row["reference"],
                "item": data.item_code,
                "quantity": data.quantity,
                "override_reason": data.reason,
            },
            region_code=str(row["region.code"]),
        )
    return _need_out(saved)
