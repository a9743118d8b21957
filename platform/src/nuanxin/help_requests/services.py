"""Help requests (主动发现): public reports, hotline calls, imports, and their triage.

* A request lands in the queue of the jurisdiction where the person is NOW (its region, a
  county or township), whoever reported it and wherever they are registered.
* Staff see the queue of their jurisdiction (others' requests are not found, 404), convert a
  request into a household (through the households service: the same checks, duplicates
  included; the household still needs verification) or close it with a reason.
* An import of candidate households (CSV, :mod:`nuanxin.help_requests.imports`) lands in the
  same queue.
* Every change writes an audit entry in its transaction, with phones masked and never an ID
  number (imports keep only its keyed hash and last four characters).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict, DomainError, Invalid, NotFound
from nuanxin.help_requests.schemas import (
    CloseRequest,
    Conversion,
    HelpRequestConversion,
    HelpRequestCreate,
    HelpRequestOut,
    HelpRequestReceived,
)
from nuanxin.help_requests.tables import HelpRequest
from nuanxin.help_requests.vocabulary import HelpRequestStatus, Source
from nuanxin.households.identity import Identity, identity_of
from nuanxin.households.locate import LOCATABLE_LEVELS, candidate_divisions
from nuanxin.households.registry import create_household
from nuanxin.identity import CurrentUser, ensure_visible, jurisdiction_where
from nuanxin.privacy import mask_id, mask_name, mask_phone
from nuanxin.regions.services import RegionRecord, get_region

__all__ = (
    "close_request",
    "convert_request",
    "create_request",
    "get_request",
    "list_requests",
    "locate",
    "now",
)


def now() -> datetime:
    return datetime.now(UTC)


def _invalid(field: str, detail: str) -> DomainError:
    return Invalid(f"{field}: {detail}", error="validation_error", field=field)


# -- where the person is ------------------------------------------------------------------------


async def _region_of_code(code: str, field: str) -> RegionRecord:
    region = await get_region(code)
    if region is None:
        raise _invalid(field, f"no region has the code {code}")
    if region.level not in LOCATABLE_LEVELS:
        raise _invalid(field, "pick a county or township, not a province or city")
    return region


def _candidates(divisions: Any) -> str:
    names = [f"{d.full_name} ({d.code})" for d in list(divisions)[:8]]
    return "、".join(names)


async def locate(*, region_code: str | None, address: str) -> RegionRecord:
    """The county or township where the person is: the code given, or the address's county.

    An address the offline gazetteer cannot place in one county or township is a 400 naming
    ``address``, with the candidates it saw.
    """
    if region_code:
        return await _region_of_code(region_code, "region_code")
    if not address.strip():
        raise _invalid("region_code", "give region_code, or an address naming the county")
    division, candidates, problem = candidate_divisions(address)
    if division is None:
        found = _candidates(candidates)
        raise _invalid(
            "address",
            f"the county of this address is unclear ({problem}); "
            + (f"candidates: {found}" if found else "name the province, city and county"),
        )
    region = await get_region(division.code)
    if region is None and division.level == "township":
        region = await get_region(division.code[:6])
    if region is None:
        raise _invalid("address", f"{division.full_name} is not served by this platform")
    return region


# -- reading ------------------------------------------------------------------------------------

_COLUMNS = (*HelpRequest.all_columns(), HelpRequest.region.code, HelpRequest.region.name)


def _out(row: dict[str, Any], user: CurrentUser | None) -> HelpRequestOut:
    code = str(row["region.code"])
    phone = str(row["phone"])
    return HelpRequestOut(
        id=int(row["id"]),
        source=Source(row["source"]),
        status=HelpRequestStatus(row["status"]),
        region_code=code,
        region_name=str(row["region.name"]),
        person_name=str(row["person_name"]),
        address=str(row["address"]),
        phone=phone if user is not None and user.covers(code) else mask_phone(phone),
        description=str(row["description"]),
        reporter_contact=str(row["reporter_contact"]),
        id_number=mask_id(str(row["id_last4"])) if row["id_last4"] else None,
        category=str(row["category"]),
        household_size=int(row["household_size"]),
        close_reason=str(row["close_reason"]),
        household_id=row["household"],
        logged_by=row["logged_by"],
        created_at=row["created_at"],
        closed_at=row["closed_at"],
    )


async def _row(request_id: int, user: CurrentUser) -> dict[str, Any]:
    row = await HelpRequest.select(*_COLUMNS).where(HelpRequest.id == request_id).first().run()
    if row is None:
        raise NotFound("No such help request in your jurisdiction")
    ensure_visible(user, what="help request", region_codes=[str(row["region.code"])])
    return dict(row)


async def get_request(*, user: CurrentUser, request_id: int) -> HelpRequestOut:
    return _out(await _row(request_id, user), user)


async def list_requests(
    *,
    user: CurrentUser,
    status: HelpRequestStatus | None = None,
    source: Source | None = None,
    limit: int,
    offset: int,
) -> tuple[list[HelpRequestOut], int]:
    """The triage queue of the user's jurisdiction, oldest first."""
    conditions: list[Any] = []
    inside = jurisdiction_where(user, HelpRequest.region.code)
    if inside is not None:
        conditions.append(inside)
    if status is not None:
        conditions.append(HelpRequest.status == status.value)
    if source is not None:
        conditions.append(HelpRequest.source == source.value)
    query = HelpRequest.select(*_COLUMNS).order_by(HelpRequest.id)
    count = HelpRequest.count()
    if conditions:
        query = query.where(*conditions)
        count = count.where(*conditions)
    rows = await query.limit(limit).offset(offset).run()
    return [_out(row, user) for row in rows], int(await count.run())


# -- writing ------------------------------------------------------------------------------------


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": row["source"],
        "status": row["status"],
        "region_code": row["region.code"],
        "person_name": mask_name(str(row["person_name"])),
        "phone": mask_phone(str(row["phone"])),
        "household": row["household"],
        "close_reason": row["close_reason"],
    }


async def create_request(
    *, user: CurrentUser | None, data: HelpRequestCreate, source: Source
) -> HelpRequestReceived:
    """A public report (``user`` None) or a hotline call logged by staff, into the queue of
    the region where the person is now (wherever the caller's own jurisdiction is)."""
    region = await locate(region_code=data.region_code, address=data.address)
    async with atomic():
        rows = (
            await HelpRequest.insert(
                HelpRequest(
                    source=source.value,
                    region=region.id,
                    person_name=data.person_name.strip(),
                    address=data.address.strip(),
                    phone=data.person_phone.strip(),
                    description=data.description.strip(),
                    reporter_contact=data.reporter_contact.strip(),
                    logged_by=None if user is None else user.id,
                    created_at=now(),
                )
            )
            .returning(HelpRequest.id)
            .run()
        )
        request_id = int(rows[0]["id"])
        saved = (
            await HelpRequest.select(*_COLUMNS).where(HelpRequest.id == request_id).first().run()
        )
        assert saved is not None
        await record(
            actor=user,
            actor_label=None if user is not None else "public",
            action="help_request.create",
            entity="help_request",
            entity_id=request_id,
            after=_snapshot(saved),
            region_code=region.code,
        )
    return HelpRequestReceived(
        id=request_id, status=HelpRequestStatus.open, region_name=region.full_name
    )


def _ensure_open(row: dict[str, Any]) -> None:
    if row["status"] != HelpRequestStatus.open:
        raise Conflict(
            f"This help request is already {row['status']}",
            error="not_open",
        )


async def convert_request(
    *, user: CurrentUser, request_id: int, data: HelpRequestConversion, secret_key: str
) -> Conversion:
    """Register the household the request is about (unverified) and link it."""
    async with atomic():
        row = await _row(request_id, user)
        _ensure_open(row)
        if data.id_number is not None:
            identity = identity_of(data.id_number, secret_key=secret_key)
        elif row["id_hash"]:
            identity = Identity(id_hash=row["id_hash"], id_last4=row["id_last4"])
        else:
            raise _invalid("id_number", "the request carries no ID number: give one")
        household = await create_household(user=user, data=data, identity=identity)
        await (
            HelpRequest.update(
                {
                    HelpRequest.status: HelpRequestStatus.converted.value,
                    HelpRequest.household: household.id,
                    HelpRequest.closed_at: now(),
                }
            )
            .where(HelpRequest.id == request_id)
            .run()
        )
        after = await _row(request_id, user)
        await record(
            actor=user,
            action="help_request.convert",
            entity="help_request",
            entity_id=request_id,
            before=_snapshot(row),
            after={**_snapshot(after), "household_reference": household.reference},
            region_code=str(row["region.code"]),
        )
    return Conversion(help_request=_out(after, user), household=household)


async def close_request(
    *, user: CurrentUser, request_id: int, data: CloseRequest
) -> HelpRequestOut:
    """Close a request without a household, with the reason."""
    async with atomic():
        row = await _row(request_id, user)
        _ensure_open(row)
        await (
            HelpRequest.update(
                {
                    HelpRequest.status: HelpRequestStatus.closed.value,
                    HelpRequest.close_reason: data.reason.strip(),
                    HelpRequest.closed_at: now(),
                }
            )
            .where(HelpRequest.id == request_id)
            .run()
        )
        after = await _row(request_id, user)
        await record(
            actor=user,
            action="help_request.close",
            entity="help_request",
            entity_id=request_id,
            before=_snapshot(row),
            after=_snapshot(after),
            region_code=str(row["region.code"]),
        )
    return _out(after, user)
