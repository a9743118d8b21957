"""Help requests (主动发现): public reports, hotline calls, imports, and their triage.

* A request lands in the queue of the jurisdiction where the person is NOW (its region, a
  county or township), whoever reported it and wherever they are registered.
* Staff see the queue of their jurisdiction (others' requests are not found, 404), convert a
  request into a household (through the households service: the same checks, duplicates
  included; the household still needs verification) or close it with a reason.
* An import of candidate households (CSV, see :func:`import_candidates`) lands in the same
  queue: every row is checked, a row with any error is not imported at all, good rows are.
* Every change writes an audit entry in its transaction, with phones masked and never an ID
  number (imports keep only its keyed hash and last four characters).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict, DomainError, Invalid, NotFound, TooLarge
from nuanxin.help_requests.schemas import (
    CloseRequest,
    Conversion,
    HelpRequestConversion,
    HelpRequestCreate,
    HelpRequestOut,
    HelpRequestReceived,
    ImportReport,
    RowError,
)
from nuanxin.help_requests.tables import HelpRequest, HelpRequestStatus, Source
from nuanxin.households import services as households
from nuanxin.households.locate import candidate_divisions
from nuanxin.households.tables import Category
from nuanxin.identity import CurrentUser, ensure_visible, jurisdiction_where
from nuanxin.privacy import mask_id, mask_name, mask_phone
from nuanxin.regions.services import RegionRecord, get_region

__all__ = (
    "IMPORT_COLUMNS",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "close_request",
    "convert_request",
    "create_request",
    "get_request",
    "import_candidates",
    "list_requests",
)

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 10_000
REQUEST_LEVELS = ("county", "township")

IMPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "户主姓名", "name"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "id_number"),
    "phone": ("电话", "联系电话", "手机号", "phone"),
    "address": ("现住址", "现居住地址", "居住地址", "address"),
    "region_code": ("区划代码", "行政区划代码", "region_code"),
    "category": ("类别", "救助类别", "人员类别", "category"),
    "members": ("人口", "家庭人口", "家庭人口数", "members"),
    "description": ("情况说明", "备注", "description"),
}
"""Accepted headers (Chinese as a monitoring platform exports them, or English) by column."""

CATEGORY_WORDS: dict[str, str] = {
    "低保": "dibao",
    "低保户": "dibao",
    "特困": "extremely_poor",
    "特困人员": "extremely_poor",
    "特困供养": "extremely_poor",
    "低保边缘": "near_dibao",
    "低保边缘家庭": "near_dibao",
    "临时救助": "temporary",
    "临时": "temporary",
    **{category.value: category.value for category in Category},
}


def _now() -> datetime:
    return datetime.now(UTC)


def _invalid(field: str, detail: str) -> DomainError:
    return Invalid(f"{field}: {detail}", error="validation_error", field=field)


# -- where the person is ------------------------------------------------------------------------


async def _region_of_code(code: str, field: str) -> RegionRecord:
    region = await get_region(code)
    if region is None:
        raise _invalid(field, f"no region has the code {code}")
    if region.level not in REQUEST_LEVELS:
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
                    created_at=_now(),
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
    if row["status"] != HelpRequestStatus.open.value:
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
            identity = households.identity_of(data.id_number, secret_key=secret_key)
        elif row["id_hash"]:
            identity = households.Identity(id_hash=row["id_hash"], id_last4=row["id_last4"])
        else:
            raise _invalid("id_number", "the request carries no ID number: give one")
        household = await households.create_household(user=user, data=data, identity=identity)
        await (
            HelpRequest.update(
                {
                    HelpRequest.status: HelpRequestStatus.converted.value,
                    HelpRequest.household: household.id,
                    HelpRequest.closed_at: _now(),
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
                    HelpRequest.closed_at: _now(),
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


# -- import -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Candidate:
    row: int
    region: RegionRecord
    name: str
    identity: households.Identity | None
    phone: str
    address: str
    category: str
    size: int
    description: str


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _invalid("file", "the file is not UTF-8 text (save the CSV as UTF-8)") from None


def _header_map(header: list[str]) -> dict[str, int]:
    """Column -> index of the header cell naming it (unknown columns are ignored)."""
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = cell.strip().lower()
        for column, aliases in IMPORT_COLUMNS.items():
            if name in aliases and column not in found:
                found[column] = index
    if "name" not in found:
        raise _invalid("file", "the header has no 姓名/name column")
    if "address" not in found and "region_code" not in found:
        raise _invalid("file", "the header needs a 现住址/address or 区划代码/region_code column")
    return found


def _region_code_of(raw: str) -> str:
    """6/9-digit codes as they are; a 12-digit statistical code shortened to its level."""
    code = raw.strip()
    if len(code) == 12 and code.isdigit():
        code = code[:9]
        if code.endswith("000"):
            code = code[:6]
    return code


async def _candidate(
    user: CurrentUser,
    number: int,
    cells: dict[str, str],
    secret_key: str,
    errors: list[RowError],
    regions: dict[str, RegionRecord | DomainError],
) -> _Candidate | None:
    before = len(errors)

    def error(field: str, message: str) -> None:
        errors.append(RowError(row=number, field=field, message=message))

    name = cells.get("name", "").strip()
    if not name:
        error("name", "the name is empty")
    elif len(name) > 100:
        error("name", "the name is longer than 100 characters")
    identity = None
    if cells.get("id_number", "").strip():
        try:
            identity = households.identity_of(cells["id_number"], secret_key=secret_key)
        except DomainError as invalid:
            error("id_number", invalid.detail.removeprefix("id_number: "))
    phone = cells.get("phone", "").strip()
    if len(phone) > 20 or any(ch not in "0123456789+- " for ch in phone):
        error("phone", "a phone number has at most 20 digits, +, - or spaces")
    address = cells.get("address", "").strip()
    if len(address) > 300:
        error("address", "the address is longer than 300 characters")
    category = cells.get("category", "").strip()
    if category:
        if category.lower() not in CATEGORY_WORDS:
            error("category", f"unknown category {category!r} (低保, 特困, 低保边缘, 临时救助)")
        else:
            category = CATEGORY_WORDS[category.lower()]
    size = 0
    if cells.get("members", "").strip():
        try:
            size = int(cells["members"].strip())
        except ValueError:
            size = -1
        if not 1 <= size <= 20:
            error("members", "the household size is a whole number from 1 to 20")
    description = cells.get("description", "").strip()[:2000]
    region = None
    code = _region_code_of(cells.get("region_code", ""))
    key = code or f"address:{address}"
    if key not in regions:
        try:
            regions[key] = await locate(region_code=code or None, address=address)
        except DomainError as unplaced:
            regions[key] = unplaced
    answer = regions[key]
    field = "region_code" if code else "address"
    if isinstance(answer, DomainError):
        field = answer.field or field
        error(field, answer.detail.removeprefix(f"{field}: "))
    elif not user.covers(answer.code):
        error(field, f"{answer.full_name} is outside your jurisdiction")
    else:
        region = answer
    if len(errors) > before or region is None:
        return None
    return _Candidate(
        row=number,
        region=region,
        name=name,
        identity=identity,
        phone=phone,
        address=address,
        category=category,
        size=size,
        description=description,
    )


async def import_candidates(*, user: CurrentUser, content: bytes, secret_key: str) -> ImportReport:
    """Read a CSV of candidate households into the triage queue, row by row.

    A row with any error is reported (row number, field, message; the header is row 1) and
    nothing of it is imported; good rows are imported together in one transaction, with one
    ``import.run`` audit entry.
    """
    if len(content) > MAX_IMPORT_BYTES:
        raise TooLarge(
            f"file: the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB",
            field="file",
        )
    try:
        table = list(csv.reader(io.StringIO(_decode(content))))
    except csv.Error as broken:
        raise _invalid("file", f"the file is not valid CSV ({broken})") from None
    if not table:
        raise _invalid("file", "the file is empty")
    columns = _header_map(table[0])
    numbered = [
        (number, cells)
        for number, cells in enumerate(table[1:], start=2)
        if any(cell.strip() for cell in cells)
    ]
    rows = len(numbered)
    if rows > MAX_IMPORT_ROWS:
        raise TooLarge(
            f"file: {rows} rows, more than {MAX_IMPORT_ROWS}; split the file",
            field="file",
        )
    errors: list[RowError] = []
    candidates: list[_Candidate] = []
    regions: dict[str, RegionRecord | DomainError] = {}
    for number, record_cells in numbered:
        cells = {
            column: record_cells[index] if index < len(record_cells) else ""
            for column, index in columns.items()
        }
        found = await _candidate(user, number, cells, secret_key, errors, regions)
        if found is not None:
            candidates.append(found)
    ids: list[int] = []
    now = _now()
    async with atomic():
        if candidates:
            inserted = (
                await HelpRequest.insert(
                    *(
                        HelpRequest(
                            source=Source.import_.value,
                            region=c.region.id,
                            person_name=c.name,
                            address=c.address,
                            phone=c.phone,
                            description=c.description,
                            logged_by=user.id,
                            created_at=now,
                            id_hash="" if c.identity is None else c.identity.id_hash,
                            id_last4="" if c.identity is None else c.identity.id_last4,
                            category=c.category,
                            household_size=c.size,
                        )
                        for c in candidates
                    )
                )
                .returning(HelpRequest.id)
                .run()
            )
            ids = sorted(int(row["id"]) for row in inserted)
        await record(
            actor=user,
            action="import.run",
            entity="import",
            entity_id=f"{user.id}-{now:%Y%m%dT%H%M%S}",
            after={
                "rows": rows,
                "imported": len(ids),
                "failed_rows": len({e.row for e in errors}),
                "request_ids": ids,
            },
            region_code=user.jurisdiction_code,
        )
    return ImportReport(rows=rows, imported=len(ids), request_ids=ids, errors=errors)
