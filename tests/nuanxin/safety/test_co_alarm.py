"""A carbon-monoxide alarm is a catalogue item, proposed to households that burn coal or get a
stove and have none."""

from __future__ import annotations

import httpx

from nuanxin.households.needs import HouseholdFacts, Person, compute_needs
from nuanxin.i18n import catalogue
from nuanxin.labels import item_label, item_unit, tag_label
from tests.nuanxin.loop_world import build_loop


def needs(tags: set[str], latitude: float = 45.9) -> dict[str, int]:
    facts = HouseholdFacts(
        category="dibao",
        members=(Person(birth_year=1950, sex="F"),),
        lives_alone=True,
        tags=frozenset(tags),
        latitude=latitude,
        winter=2026,
    )
    return {need.item_code: need.quantity for need in compute_needs(facts)}


def test_a_household_that_burns_coal_or_gets_a_stove_is_proposed_one_alarm() -> None:
    assert needs({"coal_stove"})["co_alarm"] == 1
    assert needs({"coal_stove", "electricity"}, latitude=30.0)["co_alarm"] == 1
    assert needs({"no_heating"})["co_alarm"] == 1
    assert needs({"no_heating", "coal_stove"})["co_alarm"] == 1, "one alarm, never two"


def test_no_alarm_for_a_household_that_has_one_or_burns_nothing() -> None:
    assert "co_alarm" not in needs({"coal_stove", "co_alarm"})
    assert "co_alarm" not in needs({"no_heating", "co_alarm"})
    assert "co_alarm" not in needs({"coal_stove", "central_heating"}), "no coal, no alarm"
    assert "co_alarm" not in needs({"electricity"})
    assert "co_alarm" not in needs({"gas_heating", "kang"})


def test_the_alarm_need_explains_itself_in_both_languages() -> None:
    facts = HouseholdFacts(
        category="dibao",
        members=(Person(birth_year=1950),),
        lives_alone=False,
        tags=frozenset({"coal_stove"}),
        latitude=45.9,
        winter=2026,
    )
    [alarm] = [n for n in compute_needs(facts) if n.item_code == "co_alarm"]
    assert "一氧化碳报警器" in alarm.rule_zh and "carbon-monoxide alarm" in alarm.rule_en
    coal = next(n for n in compute_needs(facts) if n.item_code == "coal")
    assert alarm.weight == coal.weight, "the alarm carries the household's priority"


def test_the_alarm_and_its_tag_have_words_in_both_languages() -> None:
    zh, en = catalogue("zh-CN").gettext, catalogue("en").gettext
    assert item_label("co_alarm", "zh-CN", zh) == "一氧化碳报警器"
    assert item_label("co_alarm", "en", en) == "Carbon monoxide alarm"
    assert item_unit("co_alarm", zh) == "个"
    assert tag_label("co_alarm", zh) == "已装一氧化碳报警器"


async def test_the_catalogue_holds_a_co_alarm(client: httpx.AsyncClient, db: None) -> None:
    loop = await build_loop()
    items = await client.get("/api/items", headers=loop.auth("charity"))
    assert items.status_code == 200
    [alarm] = [i for i in items.json() if i["code"] == "co_alarm"]
    assert alarm["kind"] == "co_alarm" and alarm["name_zh"] == "一氧化碳报警器"
    assert alarm["requires"] == []
