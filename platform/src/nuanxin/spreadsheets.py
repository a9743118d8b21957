"""Spreadsheets in and out: what staff lists export, and what imports read.

Out: a :class:`Sheet` (headings in the reader's language, rows of plain values) becomes CSV,
UTF-8 with a byte-order mark so that Excel on Chinese Windows opens it as UTF-8
(:func:`to_csv`), or ``.xlsx`` through openpyxl (:func:`to_xlsx`).

In: :func:`read_rows` takes the bytes of an upload: ``.xlsx`` (a zip: openpyxl reads the first
sheet), or CSV in UTF-8 (with or without BOM) or GB18030, the superset of GBK that Excel writes
on Chinese Windows ("CSV (逗号分隔)").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from nuanxin.errors import Invalid
from nuanxin.i18n import DEFAULT_TIMEZONE

__all__ = ("FORMATS", "Sheet", "decode_csv", "read_rows", "to_csv", "to_xlsx")

FORMATS = ("csv", "xlsx")
BOM = "\ufeff"
ZIP_MAGIC = b"PK\x03\x04"
MAX_ROWS = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Sheet:
    """A table to export: ``title`` names the sheet and the file; times are written in
    ``timezone`` (the deployment's, Asia/Shanghai by default), never in UTC."""

    title: str
    headings: Sequence[str]
    rows: Sequence[Sequence[Any]]
    timezone: str = DEFAULT_TIMEZONE


def _cell(value: Any, zone: ZoneInfo | None = None) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None and zone is not None:
            value = value.astimezone(zone)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float, str)):
        return value
    return str(value)


def _safe(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _number(value):
        return "'" + value
    return value


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(sheet: Sheet) -> bytes:
    """CSV for Excel: UTF-8 with BOM, CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(sheet.headings)
    zone = ZoneInfo(sheet.timezone)
    for row in sheet.rows:
        writer.writerow([_safe(_cell(v, zone)) for v in row])
    return (BOM + out.getvalue()).encode("utf-8")


def to_xlsx(sheet: Sheet) -> bytes:
    """An ``.xlsx`` workbook of one sheet, the headings in bold and frozen."""
    book = Workbook()
    page = book.active
    assert page is not None
    page.title = sheet.title[:31] or "Sheet1"
    page.append(list(sheet.headings))
    for cell in page[1]:
        cell.font = Font(bold=True)
    zone = ZoneInfo(sheet.timezone)
    for row in sheet.rows:
        page.append([_safe(_cell(v, zone)) for v in row])
    page.freeze_panes = "A2"
    for index, heading in enumerate(sheet.headings, start=1):
        page.column_dimensions[get_column_letter(index)].width = max(
            10, min(40, len(str(heading)) * 2 + 4)
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def decode_csv(content: bytes) -> str:
    """The text of a CSV: UTF-8 (BOM or not), else GB18030 (which covers GBK and GB2312)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise Invalid(
            "The file is neither UTF-8 nor GB18030 text: save it as CSV or .xlsx",
            field="file",
            error="validation_error",
            message_id="file_encoding",
        ) from exc


def read_rows(content: bytes) -> list[list[str]]:
    """The rows of an upload (the heading row first, blank rows kept so that row numbers
    match the file's), every cell as text. A broken CSV raises :class:`csv.Error`."""
    if content.startswith(ZIP_MAGIC):
        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:
            raise Invalid(
                "The .xlsx file cannot be read",
                error="validation_error",
                field="file",
                message_id="file_unreadable",
            ) from exc
        sheet = book.worksheets[0]
        rows: list[list[str]] = []
        for values in sheet.iter_rows(values_only=True):
            if len(rows) > MAX_ROWS:
                break
            rows.append(["" if v is None else _text(v) for v in values])
        book.close()
        return rows
    return list(csv.reader(io.StringIO(decode_csv(content))))


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps 1950 as 1950.0
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return str(value)
