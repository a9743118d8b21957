"""Imports read what Excel writes on Chinese Windows: CSV in GB18030/GBK, and .xlsx."""

from __future__ import annotations

import io

import httpx
from openpyxl import Workbook

from nuanxin.help_requests.tables import HelpRequest
from tests.nuanxin.households.helpers import build_place, id_number

IMPORT = "/api/help-requests/import"
HEADER: list[object] = [
    "姓名",
    "身份证号",
    "电话",
    "现住址",
    "区划代码",
    "类别",
    "人口",
    "情况说明",
]


def _rows() -> list[list[object]]:
    return [
        HEADER,
        [
            "刘一",
            id_number(sequence=1),
            "13800000001",
            "康金街道幸福村",
            "230111005",
            "低保",
            2,
            "缺煤",
        ],
        [],
        ["李四", "", "abc", "", "", "富人", 99, ""],
    ]


async def test_a_csv_saved_by_excel_in_gbk_is_imported(client: httpx.AsyncClient) -> None:
    place = await build_place()
    text = "\r\n".join(",".join(str(cell) for cell in row) for row in _rows()) + "\r\n"
    content = text.encode("gbk")
    files = {"file": ("导出.csv", content, "text/csv")}
    response = await client.post(IMPORT, files=files, headers=place.staff)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["imported"] == 1
    assert {error["row"] for error in report["errors"]} == {4}  # blank row 3 still counts
    names = await HelpRequest.select(HelpRequest.person_name).run()
    assert names == [{"person_name": "刘一"}]


async def test_an_xlsx_workbook_is_imported_with_numbers_as_text(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for cells in _rows():
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    files = {"file": ("导出.xlsx", out.getvalue(), "application/octet-stream")}
    response = await client.post(IMPORT, files=files, headers=place.staff)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["imported"] == 1
    assert {error["row"] for error in report["errors"]} == {4}
    row = await HelpRequest.select().first().run()
    assert row is not None and row["household_size"] == 2


async def test_a_file_that_is_no_text_is_refused_at_the_file_field(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    files = {"file": ("x.csv", b"\xff\xfe\x00\xd8\x00\xdc\x81\x30", "text/csv")}
    response = await client.post(IMPORT, files=files, headers=place.staff)
    assert response.status_code == 400
    assert response.json()["field"] == "file"
