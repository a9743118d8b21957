"""The needs rules at their exact edges (issue 19): ages, latitudes, sizes and reasons."""

from __future__ import annotations

import pytest

from nuanxin.households.needs import (
    HouseholdFacts,
    Person,
    StoredNeed,
    climate_zone,
    coat_for,
    compute_needs,
    join_rule,
    priority,
    reconcile,
    split_rule,
)

WINTER = 2026


def facts(
    members: tuple[Person, ...],
    *,
    tags: frozenset[str] = frozenset(),
    latitude: float = 40.0,
    category: str = "dibao",
    lives_alone: bool = False,
) -> HouseholdFacts:
    return HouseholdFacts(
        category=category,
        members=members,
        lives_alone=lives_alone,
        tags=tags,
        latitude=latitude,
        winter=WINTER,
    )


@pytest.mark.parametrize(
    ("age", "coat"),
    [
        (0, "coat_child_110"),
        (5, "coat_child_110"),
        (6, "coat_child_130"),
        (9, "coat_child_130"),
        (10, "coat_child_150"),
        (13, "coat_child_150"),
        (14, "coat_adult_m"),
    ],
)
def test_a_childs_coat_is_sized_by_age_at_the_exact_birthdays(age: int, coat: str) -> None:
    assert coat_for(Person(birth_year=WINTER - age), WINTER) == coat


def test_an_adult_coat_is_large_for_men_and_medium_for_women_and_unrecorded_sex() -> None:
    assert coat_for(Person(birth_year=1980, sex="M"), WINTER) == "coat_adult_l"
    assert coat_for(Person(birth_year=1980, sex="F"), WINTER) == "coat_adult_m"
    assert coat_for(Person(birth_year=1980), WINTER) == "coat_adult_m"
    assert coat_for(Person(birth_year=2013, sex="M"), WINTER) == "coat_child_150"


def test_a_member_counts_as_elderly_from_exactly_sixty() -> None:
    sixty = priority(facts((Person(birth_year=WINTER - 60),)))
    fifty_nine = priority(facts((Person(birth_year=WINTER - 59),)))
    assert (sixty.weight, fifty_nine.weight) == (2.5, 2.0)
    assert sixty.reasons_en[1:] == ("1 member(s) aged 60 or more: +0.5",)
    assert sixty.reasons_zh[1:] == ("1名60岁以上老人+0.5",)
    assert len(fifty_nine.reasons_en) == 1
    two = priority(facts((Person(birth_year=1940), Person(birth_year=1950))))
    assert two.weight == 2.5 and two.reasons_en[-1] == "2 member(s) aged 60 or more: +0.5"


@pytest.mark.parametrize(("level", "bonus"), [(1, 1.0), (2, 1.0), (3, 0.5), (4, 0.5)])
def test_the_most_severe_disability_sets_the_bonus(level: int, bonus: float) -> None:
    members = (Person(birth_year=1990, disability_level=level), Person(birth_year=1991))
    got = priority(facts(members))
    assert got.weight == 2.0 + bonus
    assert got.reasons_en[-1] == f"disability level {level}: +{bonus:g}"
    assert got.reasons_zh[-1] == f"残疾{level}级+{bonus:g}"
    both = (
        Person(birth_year=1990, disability_level=4),
        Person(birth_year=1991, disability_level=level),
    )
    assert priority(facts(both)).weight == 2.0 + bonus


def test_living_alone_and_the_category_set_the_weight() -> None:
    alone = priority(facts((Person(birth_year=1990),), lives_alone=True, category="extremely_poor"))
    assert alone.weight == 3.5
    assert alone.reasons_en[0].endswith(": base weight 3")
    assert alone.reasons_en[1:] == ("lives alone: +0.5",)
    assert alone.reasons_zh[-1] == "独居+0.5"
    assert priority(facts((), category="unknown")).weight == 1.0
    assert priority(facts((), category="near_dibao")).weight == 1.5
    assert priority(facts((), category="temporary")).weight == 1.0


def test_the_zones_begin_at_exactly_thirty_eight_and_forty_five_degrees() -> None:
    assert climate_zone(45.0).value == "severe_cold"
    assert climate_zone(44.99).value == "cold"
    assert climate_zone(38.0).value == "cold"
    assert climate_zone(37.99).value == "mild"


def test_coal_is_half_again_from_exactly_four_people() -> None:
    three = tuple(Person(birth_year=1980 + i) for i in range(3))
    four = (*three, Person(birth_year=1990))
    stove = frozenset({"coal_stove"})
    coal = {n.item_code: n for n in compute_needs(facts(three, tags=stove, latitude=30.0))}["coal"]
    assert coal.quantity == 12
    assert coal.rule_en == "coal stove, mild zone: 12 bags per household per winter"
    assert coal.rule_zh == "有煤炉，温和区每户每冬12袋"
    more = {n.item_code: n for n in compute_needs(facts(four, tags=stove, latitude=30.0))}["coal"]
    assert more.quantity == 18
    assert more.rule_en.endswith(", +50% for 4 or more people")
    assert more.rule_zh.endswith("，4人以上户加半")
    heated = frozenset({"coal_stove", "central_heating", "electricity"})
    assert {n.item_code for n in compute_needs(facts(four, tags=heated))} == {
        "coat_adult_m",
        "quilt",
    }


def test_quilts_and_blankets_are_one_per_two_people_rounded_up() -> None:
    three = tuple(Person(birth_year=1980 + i, sex="F") for i in range(3))
    needs = {n.item_code: n for n in compute_needs(facts(three, tags=frozenset({"electricity"})))}
    assert needs["quilt"].quantity == 2
    assert needs["quilt"].rule_en == "one quilt per two people: 3 -> 2"
    assert needs["quilt"].rule_zh == "每两人一床棉被：3人2床"
    assert needs["electric_blanket"].quantity == 2
    assert needs["electric_blanket"].rule_en.endswith("one blanket per two people: 2")
    assert needs["coat_adult_m"].quantity == 3
    assert needs["coat_adult_m"].rule_en == "one coat per person: 3 adult(ren), size by age"
    assert needs["coat_adult_m"].rule_zh == "每人一件棉衣：3名成人（按年龄定尺码）"
    north = {n.item_code: n for n in compute_needs(facts(three, latitude=45.0))}["quilt"]
    assert north.quantity == 3 and north.rule_en.endswith(", +1 in the severe-cold zone")
    assert north.rule_zh.endswith("，严寒区加1床")
    assert compute_needs(facts((), tags=frozenset({"electricity"}))) == ()
    child = compute_needs(facts((Person(birth_year=WINTER - 3),)))[0]
    assert child.rule_en == "one coat per person: 1 child(ren), size by age"
    assert child.rule_zh == "每人一件棉衣：1名儿童（按年龄定尺码）"


def test_a_household_without_heating_needs_one_stove_with_every_need_weighted_alike() -> None:
    needs = compute_needs(facts((Person(birth_year=1950),), tags=frozenset({"no_heating"})))
    stove = {n.item_code: n for n in needs}["stove"]
    assert (stove.quantity, stove.rule_en) == (1, "no heating: one heating stove")
    assert stove.rule_zh == "无取暖设施，配取暖炉一台"
    assert {n.weight for n in needs} == {2.5}
    assert [n.item_code for n in needs] == sorted(n.item_code for n in needs)


def test_a_rule_is_stored_in_both_languages_and_read_back() -> None:
    assert join_rule("中", "en") == "中 | en"
    assert split_rule("中 | en") == ("中", "en")
    assert split_rule("只有中文") == ("只有中文", "只有中文")
    # the first separator parts the languages: an English text may hold one of its own
    assert split_rule("中 | a | b") == ("中", "a | b")
    need = compute_needs(facts((Person(birth_year=1950),)))[0]
    assert need.rule == f"{need.rule_zh} | {need.rule_en}"


def test_a_need_the_rules_drop_falls_to_what_is_allocated_and_keeps_an_override() -> None:
    stored = [
        StoredNeed(item_code="stove", quantity=1, allocated=0),
        StoredNeed(item_code="coal", quantity=40, allocated=10),
        StoredNeed(item_code="quilt", quantity=5, allocated=0, override_reason="多人同住"),
    ]
    plans = {p.item_code: p for p in reconcile((), stored, weight=2.0)}
    assert (plans["stove"].quantity, plans["coal"].quantity) == (0, 10)
    assert plans["coal"].rule == "按规则已不需要 | no longer needed by the rules"
    assert plans["coal"].weight == 2.0 and plans["coal"].override_reason == ""
    assert (plans["quilt"].quantity, plans["quilt"].override_reason) == (5, "多人同住")
    assert plans["quilt"].rule == "按规则已不需要 | no longer needed by the rules"
    computed = compute_needs(facts((Person(birth_year=1950),)))
    again = {p.item_code: p for p in reconcile(computed, stored, weight=3.0)}
    assert again["quilt"].rule == computed[-1].rule and again["quilt"].weight == 3.0
    assert again["coat_adult_m"].weight == 2.5 and again["coat_adult_m"].quantity == 1
    assert again["coat_adult_m"].override_reason == "", "a computed need carries no override"
    assert again["coat_adult_m"].rule == computed[0].rule, "and the rule it was computed by"


def test_a_rule_longer_than_the_column_is_cut_to_fit_with_an_ellipsis() -> None:
    exact = join_rule("中" * 97, "e" * 100)
    assert len(exact) == 200 and not exact.endswith("…")
    cut = join_rule("中" * 98, "e" * 100)
    assert len(cut) == 200 and cut.endswith("e…")


@pytest.mark.parametrize(
    ("category", "zh", "en"),
    [
        ("extremely_poor", "特困，基础权重 3", "extreme hardship (tekun): base weight 3"),
        ("dibao", "低保，基础权重 2", "minimum living allowance (dibao): base weight 2"),
        (
            "near_dibao",
            "低保边缘，基础权重 1.5",
            "near the minimum living allowance: base weight 1.5",
        ),
        ("temporary", "临时救助，基础权重 1", "temporary assistance: base weight 1"),
        ("unknown", "其他，基础权重 1", "other: base weight 1"),
    ],
)
def test_the_first_reason_names_the_category_in_words_and_its_base_weight(
    category: str, zh: str, en: str
) -> None:
    got = priority(facts((Person(birth_year=1990),), category=category))
    assert (got.reasons_zh, got.reasons_en) == ((zh,), (en,))


@pytest.mark.parametrize(
    ("latitude", "bags", "zh", "en"),
    [
        (45.0, 40, "严寒区", "severe-cold zone"),
        (38.0, 24, "寒冷区", "cold zone"),
        (37.99, 12, "温和区", "mild zone"),
    ],
)
def test_coal_names_the_climate_zone_it_was_counted_for(
    latitude: float, bags: int, zh: str, en: str
) -> None:
    members = (Person(birth_year=1980),)
    needs = compute_needs(facts(members, tags=frozenset({"coal_stove"}), latitude=latitude))
    coal = {n.item_code: n for n in needs}["coal"]
    assert coal.quantity == bags
    assert coal.rule_zh == f"有煤炉，{zh}每户每冬{bags}袋"
    assert coal.rule_en == f"coal stove, {en}: {bags} bags per household per winter"


def test_an_electric_blanket_rule_says_why_in_both_languages() -> None:
    members = (Person(birth_year=1980), Person(birth_year=1981), Person(birth_year=1982))
    blanket = {
        n.item_code: n for n in compute_needs(facts(members, tags=frozenset({"electricity"})))
    }["electric_blanket"]
    assert blanket.rule_zh == "有电无集中供暖，每两人一条电热毯：2条"
    assert blanket.rule_en == "electricity, no central heating: one blanket per two people: 2"


@pytest.mark.parametrize(
    ("tags", "alarm"),
    [
        ({"coal_stove"}, True),
        ({"no_heating"}, True),
        ({"coal_stove", "central_heating"}, False),
        ({"coal_stove", "co_alarm"}, False),
        ({"no_heating", "co_alarm"}, False),
        ({"electricity"}, False),
    ],
)
def test_a_carbon_monoxide_alarm_goes_with_coal_or_a_stove_unless_one_is_installed(
    tags: set[str], alarm: bool
) -> None:
    needs = {
        n.item_code: n
        for n in compute_needs(facts((Person(birth_year=1980),), tags=frozenset(tags)))
    }
    assert ("co_alarm" in needs) is alarm
    if alarm:
        assert needs["co_alarm"].quantity == 1 and needs["co_alarm"].weight == 2.0
        assert needs["co_alarm"].rule_zh == "烧煤或用取暖炉，家中无一氧化碳报警器，配报警器一个"
        assert needs["co_alarm"].rule_en == (
            "coal or a heating stove and no carbon-monoxide alarm: one alarm"
        )
