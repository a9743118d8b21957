"""The maps' offline base: approximate county areas drawn around the seats."""

from __future__ import annotations

import itertools
import math

import httpx

from nuanxin.regions.gazetteer import Gazetteer
from nuanxin.regions.outlines import MAX_AREAS, Bounds, areas_for, cell


def _contains(ring: tuple[tuple[float, float], ...], lon: float, lat: float) -> bool:
    inside = False
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        if (y0 > lat) != (y1 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def test_a_county_area_is_a_closed_ring_around_its_seat(gazetteer: Gazetteer) -> None:
    hulan = gazetteer.get("230111")
    assert hulan is not None
    ring = cell("230111")
    assert len(ring) >= 4 and ring[0] == ring[-1]
    assert _contains(ring, hulan.lon, hulan.lat)


def test_a_seat_lies_in_its_own_area_and_in_no_neighbours(gazetteer: Gazetteer) -> None:
    areas = areas_for(region="230100")  # 哈尔滨市: districts close together, counties far apart
    assert len(areas) >= 15
    for area in areas:
        holders = [other.code for other in areas if _contains(other.ring, area.lon, area.lat)]
        assert holders == [area.code], area.name


def test_an_open_side_reaches_tens_of_kilometres_not_hundreds() -> None:
    # 呼兰区 sits at the edge of Harbin's districts: it still reaches north to its neighbours,
    # and an area never spans more than the level's limit.
    ring = cell("230111")
    north = max(lat for _, lat in ring)
    assert 20 < (north - 45.89) * 110.6 < 90
    for code in ("230111", "230183", "653101"):  # 呼兰区, 尚志市, 喀什市
        points = cell(code)
        scale = 111.3 * math.cos(math.radians(points[0][1]))
        span = max(
            math.dist((a[0] * scale, a[1] * 110.6), (b[0] * scale, b[1] * 110.6))
            for a in points
            for b in points
        )
        assert span < 2 * 90 + 1, code


def test_a_township_or_an_unknown_code_has_no_area() -> None:
    assert cell("230111005") == ()
    assert cell("999999") == ()


def test_a_province_jurisdiction_gets_its_counties() -> None:
    areas = areas_for(region="230000")
    assert 100 < len(areas) < MAX_AREAS
    assert {a.level for a in areas} == {"county"}
    assert all(a.in_region for a in areas)


def test_a_county_is_framed_by_its_neighbours() -> None:
    areas = areas_for(region="230111")
    inside = [a.name for a in areas if a.in_region]
    assert inside == ["呼兰区"]
    assert {"松北区", "兰西县"} <= {a.name for a in areas}


def test_a_township_jurisdiction_shows_its_county() -> None:
    assert [a.name for a in areas_for(region="230111005") if a.in_region] == ["呼兰区"]


def test_a_box_too_wide_for_counties_shows_prefectures_or_provinces() -> None:
    china = Bounds(west=73.0, south=18.0, east=135.0, north=53.5)
    areas = areas_for(bounds=china)
    assert 0 < len(areas) <= MAX_AREAS
    assert {a.level for a in areas} <= {"city", "province"}


def test_a_box_is_parsed_or_refused() -> None:
    assert Bounds.parse("126.1,45.5,127.0,46.2") == Bounds(
        west=126.1, south=45.5, east=127.0, north=46.2
    )
    for bad in ("", "1,2,3", "a,b,c,d", "10,10,5,5", "nan,1,2,3", "0,-91,1,1"):
        assert Bounds.parse(bad) is None


async def test_the_outlines_are_public_geojson(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/regions/outlines", params={"region": "230111"})
    assert answer.status_code == 200
    assert "max-age=86400" in answer.headers["cache-control"]
    body = answer.json()
    assert body["type"] == "FeatureCollection"
    feature = next(f for f in body["features"] if f["properties"]["code"] == "230111")
    assert feature["properties"] == {
        "code": "230111",
        "name": "呼兰区",
        "level": "county",
        "lat": feature["properties"]["lat"],
        "lon": feature["properties"]["lon"],
        "in_region": True,
        "approximate": True,
    }
    assert feature["geometry"]["type"] == "Polygon"
    ring = feature["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and 120 < ring[0][0] < 130  # (lon, lat), WGS-84


async def test_the_outlines_of_a_box_and_bad_boxes(client: httpx.AsyncClient) -> None:
    box = await client.get("/api/regions/outlines", params={"bbox": "126.3,45.6,126.9,46.1"})
    assert {f["properties"]["name"] for f in box.json()["features"]} >= {"呼兰区", "道里区"}
    assert (await client.get("/api/regions/outlines")).json()["features"] == []
    for params in ({"bbox": "1,2,3"}, {"region": "23"}, {"region": "abcdef"}):
        assert (await client.get("/api/regions/outlines", params=params)).status_code == 400
