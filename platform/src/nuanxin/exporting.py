"""Staff lists as spreadsheets: the rows the list shows under the same filters, as CSV (UTF-8
with BOM, for Excel) or ``.xlsx``, each export written to the audit trail.

The rows come from the same services as the pages, so they are masked as the viewer's role
requires (ID numbers as their last 4 characters, phones in full only to staff of the
jurisdiction). :func:`export` writes the entry and answers the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from litestar import Response

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Invalid
from nuanxin.identity import CurrentUser
from nuanxin.spreadsheets import FORMATS, Sheet, to_csv, to_xlsx

__all__ = ("MAX_EXPORT_ROWS", "MEDIA_TYPES", "export", "export_format", "json_text")

#: The most rows one export holds (a filter narrows a larger list).
MAX_EXPORT_ROWS = 50_000
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def json_text(value: Mapping[str, Any]) -> str:
    """A change of the audit trail as readable JSON (Chinese kept as it is)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str) if value else ""


def export_format(value: str) -> str:
    """``csv`` or ``xlsx`` (400 on ``format`` otherwise)."""
    if value not in FORMATS:
        raise Invalid("Export as csv or xlsx", field="format")
    return value


async def export(
    *,
    actor: CurrentUser,
    what: str,
    sheet: Sheet,
    fmt: str,
    filters: Mapping[str, Any],
) -> Response[bytes]:
    """The file of ``sheet``; an ``export.<what>`` audit entry says who took how many rows,
    under which filters (in the staff member's jurisdiction, so that it is read there)."""
    fmt = export_format(fmt)
    body = to_csv(sheet) if fmt == "csv" else to_xlsx(sheet)
    async with atomic():
        await record(
            actor=actor,
            action=f"export.{what}",
            entity="export",
            entity_id=what,
            after={
                "format": fmt,
                "rows": len(sheet.rows),
                "filters": {k: str(v) for k, v in filters.items() if v not in (None, "")},
            },
            region_code=actor.jurisdiction_code,
        )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    name = f"{sheet.title}-{stamp}.{fmt}"
    return Response(
        content=body,
        media_type=MEDIA_TYPES[fmt],
        headers={
            "content-disposition": (
                f"attachment; filename=\"{what}-{stamp}.{fmt}\"; filename*=UTF-8''{quote(name)}"
            ),
            "cache-control": "no-store",
        },
    )
