"""The needs rules, as a pure module: facts in, needs out."""

from __future__ import annotations

from dataclasses import replace

from nuanxin.households.needs import (
    HouseholdFacts,
    Person,
    StoredNeed,
    climate_zone,
    compute_needs,
    priority,
    reconcile,
)

WINTER = 2026


def facts(**changes: object) -> HouseholdFacts:
    base = HouseholdFacts(
        category="dibao",
        members=(Person(birth_year=1980, sex="M"), Person(birth_year=1982, sex="F")),
        lives_alone=False,
        tags=frozenset({"electricity", "coal_stove"}),
        latitude=45.9,
        winter=WINTER,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def quantities(f: HouseholdFacts) -> dict[str, int]:
    return {need.item_code: need.quantity for need in compute_needs(f)}


def test_the_climate_zone_follows_the_latitude() -> None:
    assert climate_zone(47.3).value == "severe_cold"
    assert climate_zone(45.0).value == "severe_cold"
    assert climate_zone(39.9).value == "cold"
    assert climate_zone(30.6).value == "mild"


def test_coal_scales_with_the_climate_zone_and_household_size() -> None:
    assert quantities(facts(latitude=46.0))["coal"] == 40
    assert quantities(facts(latitude=40.0))["coal"] == 24
    assert quantities(facts(latitude=30.0))["coal"] == 12
    four = tuple(Person(birth_year=1980) for _ in range(4))
    assert quantities(facts(latitude=40.0, members=four))["coal"] == 36


def test_coal_only_with_a_coal_stove_and_blankets_only_with_electricity() -> None:
    none = quantities(facts(tags=frozenset()))
    assert "coal" not in none and "electric_blanket" not in none and "stove" not in none
    heated = quantities(facts(tags=frozenset({"coal_stove", "electricity", "central_heating"})))
    assert "coal" not in heated and "electric_blanket" not in heated
    cold_home = quantities(facts(tags=frozenset({"no_heating"})))
    assert cold_home["stove"] == 1


def test_coats_follow_each_members_age_and_quilts_the_household_size() -> None:
    members = (
        Person(birth_year=WINTER - 3),
        Person(birth_year=WINTER - 8),
        Person(birth_year=WINTER - 12),
        Person(birth_year=WINTER - 40, sex="M"),
        Person(birth_year=WINTER - 70, sex="F"),
    )
    got = quantities(facts(members=members, latitude=40.0))
    assert got["coat_child_110"] == got["coat_child_130"] == got["coat_child_150"] == 1
    assert got["coat_adult_l"] == 1 and got["coat_adult_m"] == 1
    assert got["quilt"] == 3
    assert quantities(facts(members=members, latitude=46.0))["quilt"] == 4


def test_category_sets_the_base_weight_and_vulnerability_raises_it() -> None:
    assert priority(facts(category="extremely_poor")).weight > priority(facts()).weight
    assert priority(facts()).weight > priority(facts(category="near_dibao")).weight
    assert (
        priority(facts(category="near_dibao")).weight > priority(facts(category="temporary")).weight
    )
    alone = facts(members=(Person(birth_year=WINTER - 80, disability_level=1),), lives_alone=True)
    got = priority(alone)
    assert got.weight == 2.0 + 0.5 + 1.0 + 0.5
    assert any("独居" in reason for reason in got.reasons_zh)
    assert all(need.weight == got.weight for need in compute_needs(alone))


def test_every_need_explains_itself_in_chinese_and_english() -> None:
    for need in compute_needs(facts(tags=frozenset({"coal_stove", "electricity", "no_heating"}))):
        assert need.rule_zh and need.rule_en
        assert " | " in need.rule and len(need.rule) <= 200


def test_an_override_survives_recomputation() -> None:
    stored = [
        StoredNeed(item_code="quilt", quantity=6, allocated=0, override_reason="房屋漏风"),
        StoredNeed(item_code="coal", quantity=40, allocated=0),
    ]
    fresh = compute_needs(facts(tags=frozenset({"electricity"})))
    plans = {plan.item_code: plan for plan in reconcile(fresh, stored, weight=2.0)}
    assert plans["quilt"].quantity == 6 and plans["quilt"].override_reason == "房屋漏风"
    assert plans["coal"].quantity == 0  # no coal stove any more, nothing allocated
    assert plans["electric_blanket"].quantity == 1


def test_recomputation_never_falls_below_what_is_allocated() -> None:
    stored = [StoredNeed(item_code="coal", quantity=40, allocated=10)]
    plans = {
        p.item_code: p
        for p in reconcile(compute_needs(facts(tags=frozenset())), stored, weight=2.0)
    }
    assert plans["coal"].quantity == 10
    more = compute_needs(facts(latitude=30.0))  # 12 bags in the mild zone
    plans = {
        p.item_code: p
        for p in reconcile(
            more, [StoredNeed(item_code="coal", quantity=40, allocated=20)], weight=2.0
        )
    }
    assert plans["coal"].quantity == 20


def test_the_rules_are_deterministic() -> None:
    assert compute_needs(facts()) == compute_needs(facts())
