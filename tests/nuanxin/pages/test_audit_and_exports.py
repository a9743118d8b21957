"""The audit trail in a page, and staff lists as spreadsheets: CSV with a BOM for Excel,
.xlsx, the rows of one's jurisdiction only, masked as the list masks them, each export
audited."""

from __future__ import annotations

import csv
import io
import json

import httpx
from openpyxl import load_workbook

from nuanxin.audit.tables import AuditEntry
from tests.nuanxin.authz.model import ADMIN, CHARITY, NEIGHBOUR, STAFF
from tests.nuanxin.authz.world import World
from tests.nuanxin.pages.conftest import get_page


async def _some_entries(client: httpx.AsyncClient, world: World) -> None:
    await client.post(
        f"/staff/charities/{world.charity_x_id}/suspend",
        data={"reason": "核查中"},
        headers=world.headers(STAFF),
    )


async def test_staff_read_the_audit_trail_of_their_jurisdiction_with_filters(
    client: httpx.AsyncClient, world: World
) -> None:
    await _some_entries(client, world)
    mine = await get_page(client, world, STAFF, "/staff/audit")
    assert mine.status_code == 200
    assert "操作记录" in mine.text
    assert "organization.suspend" in mine.text
    assert "导出 CSV（当前筛选，" in mine.text
    filtered = await get_page(client, world, STAFF, "/staff/audit?entity=household")
    assert "organization.suspend" not in filtered.text
    bad_date = await get_page(client, world, STAFF, "/staff/audit?since=12/10/2026")
    assert 'aria-invalid="true"' in bad_date.text
    elsewhere = await get_page(client, world, NEIGHBOUR, "/staff/audit")
    assert "organization.suspend" not in elsewhere.text
    assert (await get_page(client, world, CHARITY, "/staff/audit")).status_code == 403


async def test_a_csv_export_opens_in_excel_and_is_audited(
    client: httpx.AsyncClient, world: World
) -> None:
    answer = await client.get(
        "/staff/export/households?format=csv&lang=zh-CN", headers=world.headers(STAFF)
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][0] == "编号"
    assert len(rows) == 2  # county A's household, not county B's
    assert "11010519491231002X" not in answer.text  # ID numbers stay masked
    entry = await AuditEntry.select().where(AuditEntry.action == "export.households").first().run()
    assert entry is not None
    after = entry["after"]
    assert (json.loads(after) if isinstance(after, str) else after)["rows"] == 1


async def test_an_xlsx_export_holds_the_list_in_the_readers_language(
    client: httpx.AsyncClient, world: World
) -> None:
    answer = await client.get(
        "/staff/export/help-requests?format=xlsx&status=open&lang=en",
        headers=world.headers(ADMIN),
    )
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content))
    sheet = book.worksheets[0]
    assert sheet.cell(row=1, column=1).value == "Number"
    assert sheet.max_row >= 2
    refused = await client.get("/staff/export/households?format=pdf", headers=world.headers(STAFF))
    assert refused.status_code == 400
