"""Spreadsheets in and out of the staff pages: a round's proposals and the deliveries export
with the rows of one's jurisdiction only, in the reader's words, the recipient's name masked as
the list masks it, times in Shanghai's time, each export audited (another county's round is
not found); the import page reads a CSV saved by Excel in GBK, and an .xlsx workbook."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import httpx
from openpyxl import Workbook, load_workbook

from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries.tables import Delivery
from nuanxin.help_requests.tables import HelpRequest
from nuanxin.households.identity import check_character
from nuanxin.households.tables import Household
from tests.nuanxin.authz.model import ADMIN, CHARITY, NEIGHBOUR, STAFF
from tests.nuanxin.authz.world import World
from tests.nuanxin.pages.conftest import get_page


def id_number(first17: str) -> str:
    return first17 + check_character(first17)


def _csv(answer: httpx.Response) -> list[list[str]]:
    assert answer.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


async def test_a_rounds_proposals_export_as_csv_in_the_readers_words(
    client: httpx.AsyncClient, world: World
) -> None:
    listed = await get_page(client, world, STAFF, "/staff/rounds")
    assert f"/staff/export/rounds/{world.round_id}/proposals?format=csv" in listed.text
    path = f"/staff/export/rounds/{world.round_id}/proposals"
    answer = await client.get(f"{path}?format=csv&lang=zh-CN", headers=world.headers(STAFF))
    assert answer.status_code == 200
    rows = _csv(answer)
    assert rows[0][:4] == ["编号", "家庭", "类别", "物资"]
    assert len(rows) >= 2
    assert "quilt" not in answer.content.decode("utf-8-sig")  # items in words, not codes
    assert "低保" in rows[1][2]
    entry = await AuditEntry.select().where(AuditEntry.action == "export.proposals").first().run()
    assert entry is not None


async def test_another_countys_round_is_not_found_and_a_charity_cannot_export(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/staff/export/rounds/{world.round_id}/proposals?format=csv"
    assert (await client.get(path, headers=world.headers(NEIGHBOUR))).status_code == 404
    assert (await client.get(path, headers=world.headers(CHARITY))).status_code == 403
    deliveries = "/staff/export/deliveries?format=csv"
    assert (await client.get(deliveries, headers=world.headers(CHARITY))).status_code == 403
    elsewhere = await client.get(deliveries, headers=world.headers(NEIGHBOUR))
    assert elsewhere.status_code == 200
    assert len(_csv(elsewhere)) == 1  # the headings only: county A's delivery is not B's


async def test_the_deliveries_export_masks_the_recipient_and_writes_shanghai_time(
    client: httpx.AsyncClient, world: World
) -> None:
    page = await get_page(client, world, STAFF, "/staff/deliveries")
    assert "/staff/export/deliveries?format=xlsx&status=pending" in page.text
    head = (
        await Household.select(Household.head_name)
        .where(Household.id == world.household_id)
        .first()
        .run()
    )
    assert head is not None
    answer = await client.get(
        "/staff/export/deliveries?format=xlsx&status=pending&lang=en",
        headers=world.headers(ADMIN),
    )
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).worksheets[0]
    assert sheet.cell(row=1, column=3).value == "Recipient"
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [v[0] for v in values] == [world.delivery_id]
    assert values[0][2] == head["head_name"][0] + "*" * (len(head["head_name"]) - 1)
    assert head["head_name"] not in str(values)
    assert values[0][9] and values[0][9] != "pending"  # a status in words, not its code
    await (
        Delivery.update(
            {
                Delivery.status: "delivered",
                Delivery.confirmed_at: datetime(2026, 12, 3, 2, 30, tzinfo=UTC),
            }
        )
        .where(Delivery.id == world.delivery_id)
        .run()
    )
    delivered = await client.get(
        "/staff/export/deliveries?format=csv&status=delivered", headers=world.headers(STAFF)
    )
    rows = _csv(delivered)
    assert rows[1][-1] == "2026-12-03 10:30"  # 02:30 UTC is 10:30 in Shanghai
    other_township = await client.get(
        "/staff/export/deliveries?format=csv&status=delivered&township=230112",
        headers=world.headers(STAFF),
    )
    assert len(_csv(other_township)) == 1


IMPORT_ROWS: list[list[object]] = [
    ["姓名", "身份证号", "电话", "现住址", "区划代码", "类别", "人口", "情况说明"],
    [
        "刘一",
        id_number("23011119500101001"),
        "13800000001",
        "康金街道幸福村",
        "230111005",
        "低保",
        2,
        "缺煤",
    ],
    ["李四", "", "abc", "", "", "富人", 99, ""],
]


async def test_the_import_page_reads_a_csv_saved_by_excel_in_gbk(
    client: httpx.AsyncClient, world: World
) -> None:
    form = await get_page(client, world, STAFF, "/staff/help-requests")
    assert ".xlsx" in form.text
    text = "\r\n".join(",".join(str(c) for c in row) for row in IMPORT_ROWS) + "\r\n"
    answer = await client.post(
        "/staff/help-requests/import?lang=zh-CN",
        files={"file": ("低保监测.csv", text.encode("gbk"), "text/csv")},
        headers=world.headers(STAFF),
    )
    assert answer.status_code == 200, answer.text
    assert "共 2 行，已导入 1 行。" in answer.text
    assert await HelpRequest.count().where(HelpRequest.person_name == "刘一").run() == 1


async def test_the_import_page_reads_an_xlsx_workbook(
    client: httpx.AsyncClient, world: World
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for cells in IMPORT_ROWS:
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    answer = await client.post(
        "/staff/help-requests/import?lang=en",
        files={"file": ("monitoring.xlsx", out.getvalue(), "application/octet-stream")},
        headers=world.headers(STAFF),
    )
    assert answer.status_code == 200, answer.text
    assert "1 of 2 rows imported" in answer.text
    assert await HelpRequest.count().where(HelpRequest.person_name == "刘一").run() == 1
