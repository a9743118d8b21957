"""Loading the gazetteer into the region table: complete, linked, idempotent; subtree lookups."""

from __future__ import annotations

import csv
from pathlib import Path

from nuanxin.regions.gazetteer import DEFAULT_PATH, Gazetteer, load_gazetteer
from nuanxin.regions.services import (
    children_of,
    descendant_ids,
    get_region,
    get_region_by_id,
    load_regions,
    subtree_prefix,
    within,
)
from nuanxin.regions.tables import Region


def _heilongjiang(tmp_path: Path, rename: dict[str, str] | None = None) -> Gazetteer:
    """The fixture cut down to one province (about 1,300 rows), so the test stays fast."""
    path = tmp_path / "heilongjiang.csv"
    with DEFAULT_PATH.open(encoding="utf-8", newline="") as src:
        rows = [row for row in csv.DictReader(src) if row["code"].startswith("23")]
    for row in rows:
        row["name"] = (rename or {}).get(row["code"], row["name"])
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return load_gazetteer(path)


async def test_loading_twice_adds_nothing_and_links_parents(db: None, tmp_path: Path) -> None:
    gazetteer = _heilongjiang(tmp_path)
    assert await load_regions(gazetteer=gazetteer, batch_size=300) == len(gazetteer)
    assert await Region.count() == len(gazetteer)
    assert await load_regions(gazetteer=gazetteer) == len(gazetteer)
    assert await Region.count() == len(gazetteer)

    kangjin = await get_region("230111005")
    assert kangjin is not None
    assert kangjin.full_name == "黑龙江省哈尔滨市呼兰区康金街道"
    assert kangjin.level == "township"
    assert kangjin.parent_id is not None
    hulan = await get_region_by_id(kangjin.parent_id)
    assert hulan is not None
    assert hulan.code == "230111"
    assert (kangjin.lat, kangjin.lon) == (hulan.lat, hulan.lon)
    assert await get_region("110105") is None


async def test_a_changed_fixture_updates_rows_in_place(db: None, tmp_path: Path) -> None:
    await load_regions(gazetteer=_heilongjiang(tmp_path))
    before = await get_region("230111")
    renamed = _heilongjiang(tmp_path, rename={"230111": "呼兰新区"})
    await load_regions(gazetteer=renamed)
    after = await get_region("230111")
    assert before is not None
    assert after is not None
    assert after.id == before.id
    assert after.name == "呼兰新区"
    assert await Region.count() == len(renamed)


async def test_a_region_and_everything_under_it(db: None, tmp_path: Path) -> None:
    gazetteer = _heilongjiang(tmp_path)
    await load_regions(gazetteer=gazetteer)
    harbin = await descendant_ids("230100")
    expected = 1 + sum(1 for _ in gazetteer.descendants("230100"))
    assert len(harbin) == expected
    hulan = await get_region("230111")
    assert hulan is not None
    assert hulan.id in harbin
    assert len(await descendant_ids("230111", include_self=False)) == len(
        gazetteer.children["230111"]
    )
    assert [r.code for r in await children_of(None)] == ["230000"]
    assert {r.code for r in await children_of("230111")} == set(gazetteer.children["230111"])
    assert await descendant_ids("999999") == []


def test_code_prefixes_match_the_tree_exactly(gazetteer: Gazetteer) -> None:
    by_prefix = {
        level: {subtree_prefix(d.code, level): d.code for d in gazetteer if d.level == level}
        for level in ("province", "city", "county")
    }
    for division in gazetteer:
        for ancestor in gazetteer.path(division.code):  # under it => shares its prefix
            assert within(division.code, ancestor.code, ancestor.level)
        for level, prefixes in by_prefix.items():  # shares a prefix => under it
            holder = prefixes.get(subtree_prefix(division.code, level))
            if holder is not None:
                assert gazetteer.is_within(division.code, holder)
    assert within("230111005", "230100", "city")
    assert not within("220104", "230100", "city")
