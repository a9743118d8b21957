"""The gazetteer fixture: complete, consistent, WGS-84, with the names people write."""

from __future__ import annotations

from collections import Counter

import pytest

from nuanxin.regions.gazetteer import Gazetteer, short_names


def test_every_level_is_there_in_its_official_size(gazetteer: Gazetteer) -> None:
    counts = Counter(division.level for division in gazetteer)
    assert counts["province"] == 33
    assert counts["city"] == 333
    assert counts["county"] == 2845
    assert counts["township"] > 38_000


def test_codes_are_official_and_parents_are_one_level_up_or_more(gazetteer: Gazetteer) -> None:
    order = {"province": 0, "city": 1, "county": 2, "township": 3}
    for division in gazetteer:
        assert len(division.code) == (9 if division.level == "township" else 6)
        assert division.code.isdigit()
        if division.parent is None:
            assert division.level == "province"
            continue
        parent = gazetteer.by_code[division.parent]
        assert order[parent.level] < order[division.level]
        assert division.code.startswith(parent.code[:2])


def test_every_point_lies_in_china(gazetteer: Gazetteer) -> None:
    for division in gazetteer:
        assert 3.0 < division.lat < 54.0, division
        assert 73.0 < division.lon < 136.0, division


def test_coordinates_are_wgs84_not_the_sources_gcj02() -> None:
    # 呼兰区 in the source is (45.889686, 126.587797), GCJ-02; WGS-84 lies ~500 m south-west.
    from nuanxin.regions.gazetteer import load_gazetteer

    huland = load_gazetteer().by_code["230111"]
    assert huland.lat == pytest.approx(45.887580, abs=1e-6)
    assert huland.lon == pytest.approx(126.581966, abs=1e-6)


def test_townships_take_their_countys_point(gazetteer: Gazetteer) -> None:
    township = gazetteer.by_code["230111005"]
    county = gazetteer.by_code["230111"]
    assert township.name == "康金街道"
    assert (township.lat, township.lon) == (county.lat, county.lon)
    assert township.full_name == "黑龙江省哈尔滨市呼兰区康金街道"


@pytest.mark.parametrize(
    ("name", "level", "expected"),
    [
        ("哈尔滨市", "city", ("哈尔滨",)),
        ("呼兰区", "county", ("呼兰",)),
        ("内蒙古自治区", "province", ("内蒙", "内蒙古", "内蒙古省")),
        ("黑龙江省", "province", ("黑龙江",)),
        ("延边朝鲜族自治州", "city", ("延边", "延边州")),
        ("博尔塔拉蒙古自治州", "city", ("博尔塔拉", "博尔塔拉州")),
        ("积石山保安族东乡族撒拉族自治县", "county", ("积石山", "积石山县")),
        ("鄂温克族自治旗", "county", ("鄂温克",)),
        ("涉县", "county", ()),
        ("康金街道", "township", ()),
    ],
)
def test_short_names_are_the_ones_people_write(
    name: str, level: str, expected: tuple[str, ...]
) -> None:
    assert short_names(name, level) == expected  # type: ignore[arg-type]


def test_descendants_walk_the_whole_subtree(gazetteer: Gazetteer) -> None:
    under = list(gazetteer.descendants("230100"))
    assert {d.level for d in under} == {"county", "township"}
    assert all(gazetteer.is_within(d.code, "230100") for d in under)
    assert gazetteer.county_of("230111005") == gazetteer.by_code["230111"]
    assert gazetteer.county_of("230100") is None
