"""A CSV of candidate households lands in the triage queue, checked row by row."""

from __future__ import annotations

import httpx
import pytest

from nuanxin.audit.tables import AuditEntry
from nuanxin.help_requests import imports
from nuanxin.help_requests.tables import HelpRequest
from tests.nuanxin.conftest import csrf_headers
from tests.nuanxin.helpers import assert_error
from tests.nuanxin.households.helpers import build_place, id_number

IMPORT = "/api/help-requests/import"


def upload(text: str, *, bom: bool = False) -> dict[str, tuple[str, bytes, str]]:
    data = ("\ufeff" if bom else "") + text
    return {"file": ("export.csv", data.encode("utf-8"), "text/csv")}


async def test_good_rows_are_imported_and_bad_rows_reported_by_number_and_field(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    bad_id = id_number(sequence=9)[:17] + ("1" if id_number(sequence=9)[17] != "1" else "2")
    csv_text = (
        "姓名,身份证号,电话,现住址,区划代码,类别,人口,情况说明\n"
        f"刘一,{id_number(sequence=1)},13800000001,康金街道幸福村,230111005,低保,2,缺煤\n"
        f"陈二,{bad_id},13800000002,呼兰区某村,230111,特困,1,\n"
        f"张三,{id_number(sequence=3)},13800000003,阿城区某村,230112,低保,3,\n"
        "李四,,abc,,,富人,99,\n"
        ",,,黑龙江省哈尔滨市呼兰区某屯,,,,\n"
        "周五,,,黑龙江省哈尔滨市呼兰区腰堡街道,,临时救助,,路边发现\n"
    )
    response = await client.post(IMPORT, files=upload(csv_text, bom=True), headers=place.staff)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["rows"] == 6
    assert report["imported"] == 2
    errors = {(error["row"], error["field"]) for error in report["errors"]}
    assert (3, "id_number") in errors
    assert (4, "region_code") in errors  # 阿城区 is outside county A
    assert {(5, "phone"), (5, "category"), (5, "members"), (5, "region_code")} <= errors
    assert (6, "name") in errors
    assert {error["row"] for error in report["errors"]} == {3, 4, 5, 6}
    rows = await HelpRequest.select().order_by(HelpRequest.id).run()
    assert [row["person_name"] for row in rows] == ["刘一", "周五"]
    assert rows[0]["source"] == "import" and rows[0]["category"] == "dibao"
    assert rows[0]["household_size"] == 2 and rows[0]["id_last4"] == id_number(sequence=1)[-4:]
    assert id_number(sequence=1) not in str(rows)
    assert "陈二" not in str(rows) and "张三" not in str(rows)
    entry = await AuditEntry.select().where(AuditEntry.action == "import.run").first().run()
    assert entry is not None and entry["region_code"] == "230111"

    queue = (
        await client.get("/api/help-requests", params={"source": "import"}, headers=place.staff)
    ).json()
    assert queue["total"] == 2
    assert queue["items"][0]["id_number"].endswith(id_number(sequence=1)[-4:])
    # An imported candidate converts without retyping the ID number.
    body = {
        "category": "dibao",
        "head_name": "刘一",
        "current_address": "康金街道幸福村",
        "region_code": "230111005",
        "members": [{"birth_year": 1960}],
    }
    converted = await client.post(
        f"/api/help-requests/{rows[0]['id']}/convert", json=body, headers=place.staff
    )
    assert converted.status_code == 201, converted.text
    assert converted.json()["household"]["id_number"].endswith(id_number(sequence=1)[-4:])


async def test_an_import_with_english_headers_and_no_bom_works(client: httpx.AsyncClient) -> None:
    place = await build_place()
    csv_text = "name,address,members\n孙六,黑龙江省哈尔滨市呼兰区康金街道,1\n"
    response = await client.post(IMPORT, files=upload(csv_text), headers=place.staff)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 1 and response.json()["errors"] == []


async def test_a_file_that_is_not_a_usable_csv_is_refused_whole(client: httpx.AsyncClient) -> None:
    place = await build_place()
    no_name = await client.post(IMPORT, files=upload("电话,现住址\n1,2\n"), headers=place.staff)
    assert assert_error(no_name, 400, "validation_error")["field"] == "file"
    # GB18030 and GBK are read (test_import_spreadsheets); bytes of no text encoding are not
    binary = {"file": ("x.csv", b"\xff\xfe\x00\xd8\x00\xdc\x81\x30", "text/csv")}
    not_text = await client.post(IMPORT, files=binary, headers=place.staff)
    assert assert_error(not_text, 400, "validation_error")["field"] == "file"
    assert await HelpRequest.count().run() == 0


async def test_an_oversized_import_is_a_413(client: httpx.AsyncClient) -> None:
    place = await build_place()
    big = "姓名,现住址\n" + ("张三,黑龙江省哈尔滨市呼兰区\n" * 300_000)
    response = await client.post(IMPORT, files=upload(big), headers=place.staff)
    assert response.status_code == 413, response.text[:200]
    assert await HelpRequest.count().run() == 0


async def test_only_staff_import(client: httpx.AsyncClient) -> None:
    place = await build_place()
    csv_text = "name,address\n孙六,黑龙江省哈尔滨市呼兰区\n"
    assert (
        await client.post(IMPORT, files=upload(csv_text), headers=place.charity)
    ).status_code == 403
    anonymous = await client.post(
        IMPORT, files=upload(csv_text), headers=await csrf_headers(client)
    )
    assert anonymous.status_code == 401
    assert await HelpRequest.count().run() == 0


async def test_an_import_with_too_many_rows_is_a_413_and_imports_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    place = await build_place()
    monkeypatch.setattr(imports, "MAX_IMPORT_ROWS", 2)
    csv_text = "name,region_code\n" + "".join(f"户{i},230111\n" for i in range(3))
    response = await client.post(IMPORT, files=upload(csv_text), headers=place.staff)
    body = assert_error(response, 413, "payload_too_large")
    assert body["field"] == "file"
    assert await HelpRequest.count().run() == 0
