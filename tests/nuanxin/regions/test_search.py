"""Looking a region code up by name or code: public, paged, narrowed by level."""

from __future__ import annotations

import httpx

from tests.nuanxin.loop_world import COUNTY, region


async def _regions() -> None:
    province = await region("230000", "黑龙江省", "province", None, COUNTY)
    city = await region("230100", "哈尔滨市", "city", province, COUNTY)
    county = await region("230111", "呼兰区", "county", city, COUNTY)
    await region("230111001", "呼兰街道", "township", county, COUNTY)
    await region("230111100", "康金街道", "township", county, COUNTY)
    await region("230112", "阿城区", "county", city, COUNTY)


async def test_anyone_finds_a_region_code_by_name_shortest_first(
    client: httpx.AsyncClient, db: None
) -> None:
    await _regions()
    found = await client.get("/api/regions", params={"q": "呼兰"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert [(r["code"], r["level"]) for r in body["items"]] == [
        ("230111", "county"),
        ("230111001", "township"),
    ]
    assert body["total"] == 2
    counties = await client.get("/api/regions", params={"q": "呼兰", "level": "county"})
    assert [r["code"] for r in counties.json()["items"]] == ["230111"]
    by_code = await client.get("/api/regions", params={"q": "2301", "limit": 2, "offset": 1})
    assert by_code.json()["total"] == 5 and len(by_code.json()["items"]) == 2


async def test_a_search_says_what_is_wrong_with_it(client: httpx.AsyncClient, db: None) -> None:
    await _regions()
    for params, field in (
        ({"q": ""}, "q"),
        ({"q": "%"}, "q"),
        ({"q": "呼兰", "level": "village"}, "level"),
        ({}, "q"),
    ):
        answer = await client.get("/api/regions", params=params)
        assert answer.status_code == 400, (params, answer.text)
        assert answer.json()["field"] == field, (params, answer.json())
    assert (await client.get("/api/regions", params={"q": "_"})).status_code == 400
