"""Importing candidate households from a CSV into the triage queue.

* The file is what the low-income monitoring platform exports: CSV in UTF-8 (with or without
  BOM) or GB18030/GBK (as Excel writes it on Chinese Windows), or ``.xlsx``
  (:func:`nuanxin.spreadsheets.read_rows`); a header naming the columns in Chinese or
  English (:data:`IMPORT_COLUMNS`), at most :data:`MAX_IMPORT_BYTES` and
  :data:`MAX_IMPORT_ROWS` (413 beyond).
* Every row is checked; a row with any error is reported (row number, field, message; the
  header is row 1) and nothing of it is imported. Good rows are imported together in one
  transaction, with one ``import.run`` audit entry.
* A row lands in the queue of the county or township where the person lives now
  (:func:`nuanxin.help_requests.services.locate`); rows outside the importer's jurisdiction
  are errors.
* An ID number is kept only as its keyed hash and last four characters.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import DomainError, Invalid, TooLarge
from nuanxin.help_requests.schemas import ImportReport, RowError
from nuanxin.help_requests.services import locate, now
from nuanxin.help_requests.tables import HelpRequest
from nuanxin.help_requests.vocabulary import Source
from nuanxin.households.identity import Identity, identity_of
from nuanxin.households.vocabulary import Category
from nuanxin.identity import CurrentUser
from nuanxin.regions.services import RegionRecord
from nuanxin.spreadsheets import read_rows

__all__ = ("IMPORT_COLUMNS", "MAX_IMPORT_BYTES", "MAX_IMPORT_ROWS", "import_candidates")

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 10_000

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

CATEGORY_WORDS: dict[str, Category] = {
    "低保": Category.dibao,
    "低保户": Category.dibao,
    "特困": Category.extremely_poor,
    "特困人员": Category.extremely_poor,
    "特困供养": Category.extremely_poor,
    "低保边缘": Category.near_dibao,
    "低保边缘家庭": Category.near_dibao,
    "临时救助": Category.temporary,
    "临时": Category.temporary,
    **{category.value: category for category in Category},
}
"""The category words a CSV may use (as the monitoring platform writes them, or ours)."""


def _invalid(field: str, detail: str) -> DomainError:
    return Invalid(f"{field}: {detail}", error="validation_error", field=field)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Candidate:
    row: int
    region: RegionRecord
    name: str
    identity: Identity | None
    phone: str
    address: str
    category: str
    size: int
    description: str


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

    unstorable = sorted(field for field, value in cells.items() if "\x00" in value)
    for field in unstorable:  # no text holds NUL bytes (PostgreSQL refuses them, SQLite not)
        error(field, "NUL bytes are not allowed in text")
    if unstorable:
        return None

    name = cells.get("name", "").strip()
    if not name:
        error("name", "the name is empty")
    elif len(name) > 100:
        error("name", "the name is longer than 100 characters")
    identity = None
    if cells.get("id_number", "").strip():
        try:
            identity = identity_of(cells["id_number"], secret_key=secret_key)
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
            category = CATEGORY_WORDS[category.lower()].value
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
        table = read_rows(content)
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
    moment = now()
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
                            created_at=moment,
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
            entity_id=f"{user.id}-{moment:%Y%m%dT%H%M%S}",
            after={
                "rows": rows,
                "imported": len(ids),
                "failed_rows": len({e.row for e in errors}),
                "request_ids": ids,
            },
            region_code=user.jurisdiction_code,
        )
    return ImportReport(rows=rows, imported=len(ids), request_ids=ids, errors=errors)
