"""Registering and editing households (the household register).

Rules kept here (the faces only translate HTTP):

* Staff place households only in counties or townships of their jurisdiction
  (:func:`nuanxin.households.locate.resolve_region`); a household elsewhere is not found.
  Charities never reach households through this area's API.
* An ID number is validated and never stored: only its keyed hash and last four characters
  (:func:`nuanxin.households.identity.identity_of`).
* A duplicate is refused before anything is saved (:mod:`nuanxin.households.duplicates`).
* Needs are computed on create and recomputed when the facts they depend on change
  (:mod:`nuanxin.households.need_records`); a staff override survives recomputation.
* Every change writes an audit entry in its transaction, without the ID number or full phone.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import DomainError, Invalid
from nuanxin.households.duplicates import check_duplicate
from nuanxin.households.identity import Identity, identity_of
from nuanxin.households.locate import resolve_region
from nuanxin.households.locations import region_point_source
from nuanxin.households.need_records import recompute_needs
from nuanxin.households.read_model import (
    COLUMNS,
    facts_of,
    household_detail,
    household_row,
    members_of,
    now,
    region_lat,
    snapshot,
    tags_of,
)
from nuanxin.households.schemas import (
    HouseholdFields,
    HouseholdOut,
    HouseholdUpdate,
    MemberIn,
    MemberOut,
)
from nuanxin.households.tables import Household, Member
from nuanxin.households.vocabulary import LocationSource
from nuanxin.identity import CurrentUser

__all__ = ("create_household", "update_household")

_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _invalid(field: str, detail: str) -> DomainError:
    return Invalid(f"{field}: {detail}", error="validation_error", field=field)


def _check_members(members: Sequence[MemberIn], lives_alone: bool, moment: datetime) -> None:
    for index, member in enumerate(members):
        if member.birth_year > moment.year:
            raise _invalid(f"members[{index}].birth_year", "lies in the future")
    if lives_alone and len(members) != 1:
        raise _invalid("lives_alone", "a household living alone has exactly one member")


async def _new_reference(county_code: str) -> str:
    while True:
        tail = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))
        reference = f"HH{county_code[:6]}{tail}"
        taken = await Household.exists().where(Household.reference == reference).run()
        if not taken:
            return reference


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
    without_id: str = "",
) -> HouseholdOut:
    """Register a household (status unverified) with its members and computed needs.

    Refused before anything is written: a region outside the jurisdiction (404), an invalid
    member list (400), a duplicate (409, see :func:`check_duplicate`).
    """
    moment = now()
    region = await resolve_region(user, data.region_code)
    _check_members(data.members, data.lives_alone, moment)
    head_name, address = data.head_name.strip(), data.current_address.strip()
    async with atomic():
        await check_duplicate(
            user=user,
            id_hash=identity.id_hash if identity.id_last4 else "",  # without papers: no number
            head_name=head_name,
            current_address=address,
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
                    location_source=(
                        LocationSource.pin
                        if data.lat is not None and data.lon is not None
                        else await region_point_source(region)
                    ),
                    tags=sorted({tag.value for tag in data.tags}),
                    lives_alone=data.lives_alone,
                    notes=data.notes,
                    created_at=moment,
                    updated_at=moment,
                )
            )
            .returning(Household.id)
            .run()
        )
        household_id = int(rows[0]["id"])
        await _insert_members(household_id, data.members)
        facts = facts_of(
            category=data.category.value,
            members=data.members,
            lives_alone=data.lives_alone,
            tags=[tag.value for tag in data.tags],
            latitude=region.lat,
            now=moment,
        )
        await recompute_needs(household_id, facts, moment)
        created = await household_row(household_id, user)
        await record(
            actor=user,
            action=action_label,
            entity="household",
            entity_id=household_id,
            after=snapshot(created, len(data.members))
            | ({"without_id": without_id} if not identity.id_last4 else {}),
            region_code=region.code,
        )
    return await household_detail(household_id, user)


_RECOMPUTING = ("category", "members", "lives_alone", "tags", "region_code")


async def update_household(
    *, user: CurrentUser, household_id: int, data: HouseholdUpdate, secret_key: str
) -> HouseholdOut:
    """Change a household; needs are recomputed when their facts change."""
    moment = now()
    async with atomic():
        row = await household_row(household_id, user)
        members = (await members_of([household_id]))[household_id]
        before = snapshot(row, len(members))
        values: dict[Any, Any] = {Household.updated_at: moment}
        latitude = await region_lat(int(row["region"]))
        if data.region_code is not None and data.region_code != row["region.code"]:
            region = await resolve_region(user, data.region_code)
            latitude = region.lat
            values[Household.region] = region.id
            values[Household.lat] = region.lat if data.lat is None else data.lat
            values[Household.lon] = region.lon if data.lon is None else data.lon
            values[Household.location_source] = await region_point_source(region)
        if data.lat is not None:
            values[Household.lat] = data.lat
        if data.lon is not None:
            values[Household.lon] = data.lon
        if data.lat is not None or data.lon is not None:
            values[Household.location_source] = LocationSource.pin
        lives_alone = bool(row["lives_alone"]) if data.lives_alone is None else data.lives_alone
        new_members: Sequence[MemberIn | MemberOut] = members
        if data.members is not None:
            _check_members(data.members, lives_alone, moment)
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
            tags = tags_of(row["tags"]) if data.tags is None else [t.value for t in data.tags]
            category = row["category"] if data.category is None else data.category.value
            facts = facts_of(
                category=category,
                members=new_members,
                lives_alone=lives_alone,
                tags=tags,
                latitude=latitude,
                now=moment,
            )
            await recompute_needs(household_id, facts, moment)
        after_row = (
            await Household.select(*COLUMNS).where(Household.id == household_id).first().run()
        )
        assert after_row is not None
        await record(
            actor=user,
            action="household.update",
            entity="household",
            entity_id=household_id,
            before=before,
            after=snapshot(after_row, len(new_members)),
            region_code=str(after_row["region.code"]),
        )
    return await household_detail(household_id, user)
