"""What a household needs this winter, from rules: a pure module (no I/O, frozen data).

:func:`compute_needs` turns the facts of a household into needs (item code, quantity, the
priority weight of each unit, and the rule in Chinese and English):

* **Coats**: one per member, by age this winter: children under 6 ``coat_child_110``, 6–9
  ``coat_child_130``, 10–13 ``coat_child_150``; from 14 an adult coat (``coat_adult_l`` for
  men, ``coat_adult_m`` for women and when the sex is not recorded).
* **Quilts**: one per two people (rounded up), one more in the severe-cold zone.
* **Coal** (25 kg bags, only with a ``coal_stove`` and without ``central_heating``): per
  household per winter by the climate zone of the county: severe cold 40, cold 24, mild 12;
  half as much again for households of four or more.
* **Electric blankets** (only with ``electricity`` and without ``central_heating``): one per
  two people (rounded up).
* **Stove**: one when the household has ``no_heating``.
* **Carbon-monoxide alarm** (``co_alarm``): one for a household that receives coal (the coal
  rule above applies) or a stove, unless it has the ``co_alarm`` tag (an alarm is installed).

The climate zone comes from the latitude of the county (:func:`climate_zone`): severe cold
north of 45°N, cold from 38°N to 45°N, mild below.

The **priority weight** (:func:`priority`) starts from the category (extremely poor 3,
dibao 2, near-dibao 1.5, temporary 1) and rises for elderly members (60 or older: +0.5),
disability (level 1–2: +1, level 3–4: +0.5; the most severe member counts) and living
alone (+0.5). Every need of the household carries it.

Staff may override a need's quantity with a reason; :func:`reconcile` merges a fresh
computation with the stored needs so that an override survives recomputation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nuanxin.households.vocabulary import Category, ClimateZone, Tag

__all__ = (
    "CATEGORY_WEIGHT",
    "TAGS",
    "ClimateZone",
    "ComputedNeed",
    "HouseholdFacts",
    "NeedPlan",
    "Person",
    "Priority",
    "StoredNeed",
    "climate_zone",
    "coat_for",
    "compute_needs",
    "priority",
    "reconcile",
)

TAGS: tuple[str, ...] = tuple(tag.value for tag in Tag)
"""The fixed vocabulary of a household's heating and supply situation."""

CATEGORY_WEIGHT: dict[str, float] = {
    Category.extremely_poor: 3.0,
    Category.dibao: 2.0,
    Category.near_dibao: 1.5,
    Category.temporary: 1.0,
}

#: Each category in words, Chinese and English, for the reasons (never its code).
CATEGORY_WORDS: dict[str, tuple[str, str]] = {
    Category.extremely_poor: ("特困", "extreme hardship (tekun)"),
    Category.dibao: ("低保", "minimum living allowance (dibao)"),
    Category.near_dibao: ("低保边缘", "near the minimum living allowance"),
    Category.temporary: ("临时救助", "temporary assistance"),
}

ELDERLY_AGE = 60
ADULT_AGE = 14
SEVERE_COLD_LAT = 45.0
COLD_LAT = 38.0
COAL_BAGS = {ClimateZone.severe_cold: 40, ClimateZone.cold: 24, ClimateZone.mild: 12}
LARGE_HOUSEHOLD = 4
RULE_LENGTH = 200  # Need.rule


ZONE_NAMES = {
    ClimateZone.severe_cold: ("严寒区", "severe-cold zone"),
    ClimateZone.cold: ("寒冷区", "cold zone"),
    ClimateZone.mild: ("温和区", "mild zone"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    birth_year: int
    sex: str = ""  # "M", "F" or "" (not recorded)
    disability_level: int = 0  # 0 none, 1 (most severe) .. 4


@dataclass(frozen=True, slots=True, kw_only=True)
class HouseholdFacts:
    category: str
    members: tuple[Person, ...]
    lives_alone: bool
    tags: frozenset[str]
    latitude: float  # of the county where the household is now
    winter: int  # the year the winter starts in (ages are counted in it)


@dataclass(frozen=True, slots=True, kw_only=True)
class ComputedNeed:
    item_code: str
    quantity: int
    weight: float
    rule_zh: str
    rule_en: str

    @property
    def rule(self) -> str:
        """Both languages in one line, as stored (``中文 | English``)."""
        return join_rule(self.rule_zh, self.rule_en)


@dataclass(frozen=True, slots=True, kw_only=True)
class Priority:
    weight: float
    reasons_zh: tuple[str, ...]
    reasons_en: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredNeed:
    item_code: str
    quantity: int
    allocated: int
    override_reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedPlan:
    """What to store for one item after a recomputation."""

    item_code: str
    quantity: int
    weight: float
    rule: str
    override_reason: str


def join_rule(zh: str, en: str) -> str:
    text = f"{zh} | {en}"
    return text if len(text) <= RULE_LENGTH else text[: RULE_LENGTH - 1] + "…"


def split_rule(rule: str) -> tuple[str, str]:
    """``中文 | English`` back into its two languages (the whole text twice if not joined)."""
    zh, sep, en = rule.partition(" | ")
    return (zh, en) if sep else (rule, rule)


def climate_zone(latitude: float) -> ClimateZone:
    """Severe cold north of 45°N, cold from 38°N to 45°N, mild below."""
    if latitude >= SEVERE_COLD_LAT:
        return ClimateZone.severe_cold
    if latitude >= COLD_LAT:
        return ClimateZone.cold
    return ClimateZone.mild


def coat_for(person: Person, winter: int) -> str:
    """The coat item for one person, by age this winter (and sex for adults)."""
    age = winter - person.birth_year
    if age < 6:
        return "coat_child_110"
    if age < 10:
        return "coat_child_130"
    if age < ADULT_AGE:
        return "coat_child_150"
    return "coat_adult_l" if person.sex == "M" else "coat_adult_m"


def priority(facts: HouseholdFacts) -> Priority:
    """The weight of each unit of the household's needs, with its reasons."""
    weight = CATEGORY_WEIGHT.get(facts.category, 1.0)
    category_zh, category_en = CATEGORY_WORDS.get(facts.category, ("其他", "other"))
    zh = [f"{category_zh}，基础权重 {weight:g}"]
    en = [f"{category_en}: base weight {weight:g}"]
    elderly = sum(1 for p in facts.members if facts.winter - p.birth_year >= ELDERLY_AGE)
    if elderly:
        weight += 0.5
        zh.append(f"{elderly}名60岁以上老人+0.5")
        en.append(f"{elderly} member(s) aged 60 or more: +0.5")
    levels = [p.disability_level for p in facts.members if p.disability_level > 0]
    if levels:
        worst = min(levels)
        bonus = 1.0 if worst <= 2 else 0.5
        weight += bonus
        zh.append(f"残疾{worst}级+{bonus:g}")
        en.append(f"disability level {worst}: +{bonus:g}")
    if facts.lives_alone:
        weight += 0.5
        zh.append("独居+0.5")
        en.append("lives alone: +0.5")
    return Priority(weight=weight, reasons_zh=tuple(zh), reasons_en=tuple(en))


def compute_needs(facts: HouseholdFacts) -> tuple[ComputedNeed, ...]:
    """The household's needs by the rules of this module, sorted by item code."""
    weight = priority(facts).weight
    size = len(facts.members)
    zone = climate_zone(facts.latitude)
    zone_zh, zone_en = ZONE_NAMES[zone]
    heated = Tag.central_heating in facts.tags
    needs: list[ComputedNeed] = []

    coats: dict[str, int] = {}
    for person in facts.members:
        code = coat_for(person, facts.winter)
        coats[code] = coats.get(code, 0) + 1
    for code, count in coats.items():
        kind_zh, kind_en = ("儿童", "child") if code.startswith("coat_child") else ("成人", "adult")
        needs.append(
            ComputedNeed(
                item_code=code,
                quantity=count,
                weight=weight,
                rule_zh=f"每人一件棉衣：{count}名{kind_zh}（按年龄定尺码）",
                rule_en=f"one coat per person: {count} {kind_en}(ren), size by age",
            )
        )

    if size:
        beds = math.ceil(size / 2)
        extra = 1 if zone is ClimateZone.severe_cold else 0
        needs.append(
            ComputedNeed(
                item_code="quilt",
                quantity=beds + extra,
                weight=weight,
                rule_zh=f"每两人一床棉被：{size}人{beds}床" + ("，严寒区加1床" if extra else ""),
                rule_en=f"one quilt per two people: {size} -> {beds}"
                + (", +1 in the severe-cold zone" if extra else ""),
            )
        )

    if Tag.coal_stove in facts.tags and not heated:
        bags = COAL_BAGS[zone]
        large = size >= LARGE_HOUSEHOLD
        quantity = math.ceil(bags * 1.5) if large else bags
        needs.append(
            ComputedNeed(
                item_code="coal",
                quantity=quantity,
                weight=weight,
                rule_zh=f"有煤炉，{zone_zh}每户每冬{bags}袋" + ("，4人以上户加半" if large else ""),
                rule_en=f"coal stove, {zone_en}: {bags} bags per household per winter"
                + (", +50% for 4 or more people" if large else ""),
            )
        )

    if Tag.electricity in facts.tags and not heated and size:
        blankets = math.ceil(size / 2)
        needs.append(
            ComputedNeed(
                item_code="electric_blanket",
                quantity=blankets,
                weight=weight,
                rule_zh=f"有电无集中供暖，每两人一条电热毯：{blankets}条",
                rule_en=f"electricity, no central heating: one blanket per two people: {blankets}",
            )
        )

    if Tag.no_heating in facts.tags:
        needs.append(
            ComputedNeed(
                item_code="stove",
                quantity=1,
                weight=weight,
                rule_zh="无取暖设施，配取暖炉一台",
                rule_en="no heating: one heating stove",
            )
        )
    burns_fuel = (Tag.coal_stove in facts.tags and not heated) or Tag.no_heating in facts.tags
    if burns_fuel and Tag.co_alarm not in facts.tags:
        needs.append(
            ComputedNeed(
                item_code="co_alarm",
                quantity=1,
                weight=weight,
                rule_zh="烧煤或用取暖炉，家中无一氧化碳报警器，配报警器一个",
                rule_en="coal or a heating stove and no carbon-monoxide alarm: one alarm",
            )
        )
    return tuple(sorted(needs, key=lambda need: need.item_code))


NO_LONGER = ("按规则已不需要", "no longer needed by the rules")


def reconcile(
    computed: Iterable[ComputedNeed], stored: Sequence[StoredNeed], *, weight: float
) -> tuple[NeedPlan, ...]:
    """Merge a fresh computation with the stored needs, item by item.

    * An overridden need (a stored ``override_reason``) keeps its quantity and reason; its
      weight follows the household's current priority.
    * Otherwise the computed quantity replaces the stored one (never below what is already
      allocated).
    * A stored need the rules no longer produce falls to what is already allocated.
    """
    fresh = {need.item_code: need for need in computed}
    old = {need.item_code: need for need in stored}
    plans: list[NeedPlan] = []
    for code in sorted(set(fresh) | set(old)):
        new, kept = fresh.get(code), old.get(code)
        if kept is not None and kept.override_reason:
            rule = new.rule if new is not None else join_rule(*NO_LONGER)
            plans.append(
                NeedPlan(
                    item_code=code,
                    quantity=kept.quantity,
                    weight=weight,
                    rule=rule,
                    override_reason=kept.override_reason,
                )
            )
        elif new is not None:
            floor = kept.allocated if kept is not None else 0
            plans.append(
                NeedPlan(
                    item_code=code,
                    quantity=max(new.quantity, floor),
                    weight=new.weight,
                    rule=new.rule,
                    override_reason="",
                )
            )
        elif kept is not None:
            plans.append(
                NeedPlan(
                    item_code=code,
                    quantity=kept.allocated,
                    weight=weight,
                    rule=join_rule(*NO_LONGER),
                    override_reason="",
                )
            )
    return tuple(plans)
