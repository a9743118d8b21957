"""The engine's rules on small hand-made rounds: reach, tags, kinds, priorities, distances,
which units are served and why the rest are not (issue 19: the exact boundaries)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pytest

import matching.network
from matching import Household, Need, Offer, Problem, Solution, problem_to_arrays, solve
from matching.engine import solve_arrays
from matching.flow import RESOLUTIONS_KM, choose_resolution
from matching.geo import great_circle_km
from matching.model import ArraySolution
from matching.network import build_network
from matching.reference import feasibility_errors, lp_optimum

DEPOT = (39.90, 116.40)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(great_circle_km(a[0], a[1], b[0], b[1]))


def _east(km: float) -> tuple[float, float]:
    """A point ``km`` east of the depot (along its parallel, near enough for these tests)."""
    return DEPOT[0], DEPOT[1] + km / (111.32 * math.cos(math.radians(DEPOT[0])))


def _offer(
    name: str,
    quantity: int,
    *,
    at: tuple[float, float] = DEPOT,
    radius: float = 50.0,
    kind: str = "coal",
    requires: Iterable[str] = (),
) -> Offer:
    return Offer(
        id=name,
        kind=kind,
        quantity=quantity,
        lat=at[0],
        lon=at[1],
        radius_km=radius,
        requires=frozenset(requires),
    )


def _household(
    name: str, at: tuple[float, float], *needs: Need, tags: Iterable[str] = ()
) -> Household:
    return Household(id=name, lat=at[0], lon=at[1], tags=frozenset(tags), needs=needs)


def _coal(quantity: int, weight: float = 1.0) -> Need:
    return Need(kind="coal", quantity=quantity, weight=weight)


def _given(solution: Solution) -> dict[tuple[str, str], int]:
    """Units by (offer, household)."""
    given: dict[tuple[str, str], int] = {}
    for a in solution.assignments:
        given[(a.offer, a.household)] = given.get((a.offer, a.household), 0) + a.quantity
    return given


def _unmet(solution: Solution) -> dict[tuple[str, str], int]:
    return {(u.household, u.kind): u.quantity for u in solution.unmet}


def _checked(problem: Problem) -> Solution:
    """The answer, held to feasibility and to the LP optimum of both objectives."""
    solution = solve(problem)
    assert feasibility_errors(problem, solution) == []
    best = lp_optimum(problem)
    assert math.isclose(solution.totals.weighted_units, best.weighted_units, abs_tol=1e-9)
    assert math.isclose(solution.totals.unit_km, best.unit_km, rel_tol=1e-7, abs_tol=1e-6)
    assert solution.stats.optimal
    return solution


def _columns(problem: Problem) -> ArraySolution:
    return solve_arrays(problem_to_arrays(problem))


def test_a_household_exactly_at_an_offers_radius_is_reachable() -> None:
    home = _east(12.0)
    exact = _km(DEPOT, home)
    problem = Problem(
        offers=(_offer("o", 1, radius=exact),), households=(_household("h", home, _coal(1)),)
    )
    solution = _checked(problem)
    assert _given(solution) == {("o", "h"): 1}
    assert solution.assignments[0].distance_km == exact


def test_a_household_a_hair_beyond_an_offers_radius_is_out_of_reach() -> None:
    home = _east(12.0)
    just_short = float(np.nextafter(_km(DEPOT, home), 0.0))
    problem = Problem(
        offers=(_offer("o", 1, radius=just_short),),
        households=(_household("h", home, _coal(1)),),
    )
    solution = _checked(problem)
    assert solution.assignments == ()
    assert [(u.household, u.quantity) for u in solution.unmet] == [("h", 1)]
    assert "no eligible offer within reach" in solution.unmet[0].reason


def test_of_two_offers_at_one_point_a_household_between_their_radii_uses_only_the_wider() -> None:
    far, near = _east(10.0), _east(1.0)
    problem = Problem(
        offers=(_offer("narrow", 2, radius=5.0), _offer("wide", 1, radius=20.0)),
        households=(_household("far", far, _coal(2)), _household("near", near, _coal(2))),
    )
    solution = _checked(problem)
    assert _given(solution) == {("wide", "far"): 1, ("narrow", "near"): 2}
    assert _unmet(solution) == {("far", "coal"): 1}


def test_the_wider_offer_of_a_point_serves_the_far_household_even_when_listed_first() -> None:
    far, near = _east(10.0), _east(1.0)
    problem = Problem(
        offers=(
            _offer("wide", 1, radius=20.0),
            _offer("mid", 1, radius=12.0),
            _offer("narrow", 1, radius=5.0),
        ),
        households=(_household("near", near, _coal(1)), _household("far", far, _coal(2))),
    )
    solution = _checked(problem)
    given = _given(solution)
    assert given[("narrow", "near")] == 1
    assert given.get(("wide", "far"), 0) + given.get(("mid", "far"), 0) == 2


def test_an_offer_requiring_a_tag_skips_households_without_it() -> None:
    home = _east(2.0)
    problem = Problem(
        offers=(_offer("stove", 2, requires={"coal_stove"}),),
        households=(
            _household("without", home, _coal(1, 9.0), tags={"electricity"}),
            _household("with", home, _coal(1, 1.0), tags={"coal_stove", "electricity"}),
        ),
    )
    solution = _checked(problem)
    assert _given(solution) == {("stove", "with"): 1}
    assert "no eligible offer within reach" in solution.unmet[0].reason


def test_a_required_tag_is_checked_among_many_tags() -> None:
    # More than 62 distinct required tags: a household's tags span several words of bits.
    tags = [f"tag{i:03d}" for i in range(130)]
    home = _east(1.0)
    offers = tuple(_offer(f"o{i}", 1, requires={tag}, kind=f"k{i}") for i, tag in enumerate(tags))
    households = (
        _household(
            "h",
            home,
            *(Need(kind=f"k{i}", quantity=1, weight=1.0) for i in range(len(tags))),
            tags={tags[3], tags[70], tags[129]},
        ),
    )
    solution = _checked(Problem(offers=offers, households=households))
    assert sorted(a.offer for a in solution.assignments) == ["o129", "o3", "o70"]


def test_an_offer_requiring_two_tags_serves_only_a_household_with_both() -> None:
    home = _east(1.0)
    problem = Problem(
        offers=(_offer("o", 3, requires={"electricity", "coal_stove"}),),
        households=(
            _household("one", home, _coal(1), tags={"electricity"}),
            _household("other", home, _coal(1), tags={"coal_stove"}),
            _household("both", home, _coal(1), tags={"coal_stove", "electricity", "elderly"}),
        ),
    )
    assert _given(_checked(problem)) == {("o", "both"): 1}


def test_households_at_one_point_each_receive_their_own_units() -> None:
    home = _east(3.0)
    problem = Problem(
        offers=(_offer("o", 5, requires={"coal_stove"}),),
        households=(
            _household("a", home, _coal(2), tags={"coal_stove"}),
            _household("b", home, _coal(1), tags={"coal_stove", "elderly"}),
            _household("c", home, _coal(4), tags={"electricity"}),
            _household("d", home, _coal(2, 0.5), tags={"coal_stove"}),
        ),
    )
    solution = _checked(problem)
    assert _given(solution) == {("o", "a"): 2, ("o", "b"): 1, ("o", "d"): 2}
    assert _unmet(solution) == {("c", "coal"): 4}


def test_a_higher_priority_is_served_before_a_nearer_household() -> None:
    problem = Problem(
        offers=(_offer("o", 1),),
        households=(
            _household("near", _east(1.0), _coal(1, 1.0)),
            _household("urgent", _east(30.0), _coal(1, 2.0)),
        ),
    )
    solution = _checked(problem)
    assert _given(solution) == {("o", "urgent"): 1}
    assert _unmet(solution) == {("near", "coal"): 1}
    assert "higher-priority or nearer" in solution.unmet[0].reason


def test_among_equal_priorities_the_nearest_stock_is_used() -> None:
    problem = Problem(
        offers=(_offer("far", 1, at=_east(9.0)), _offer("near", 1, at=_east(2.5))),
        households=(_household("h", _east(3.0), _coal(1)),),
    )
    assert _given(_checked(problem)) == {("near", "h"): 1}


def test_kinds_never_mix_and_a_kind_nobody_offers_is_said_so() -> None:
    home = _east(1.0)
    problem = Problem(
        offers=(_offer("coal", 5), _offer("empty_quilts", 0, kind="quilt")),
        households=(
            _household(
                "h",
                home,
                _coal(1),
                Need(kind="quilt", quantity=2, weight=3.0),
                Need(kind="stove", quantity=1, weight=2.0),
            ),
        ),
    )
    solution = _checked(problem)
    assert [(a.offer, a.kind, a.quantity) for a in solution.assignments] == [("coal", "coal", 1)]
    reasons = {u.kind: u.reason for u in solution.unmet}
    assert set(reasons) == {"quilt", "stove"}
    assert all("no offer of this kind" in r for r in reasons.values())
    assert "priority 3" in reasons["quilt"] and "priority 2" in reasons["stove"]


def test_the_best_units_of_a_need_are_served_and_the_rest_keep_their_priority() -> None:
    home = _east(1.0)
    problem = Problem(
        offers=(_offer("o", 3),),
        households=(
            _household("many", home, Need(kind="coal", quantity=4, weights=(9.0, 6.0, 2.0, 1.0))),
            _household("one", _east(2.0), _coal(1, 4.0)),
        ),
    )
    columns = _columns(problem)
    solution = _checked(problem)
    assert _given(solution) == {("o", "many"): 2, ("o", "one"): 1}
    assert columns.need_served.tolist() == [2, 1]
    assert columns.unmet_quantity.tolist() == [2]
    assert columns.unmet_weight.tolist() == [2.0]
    assert columns.unmet_cause.tolist() == [2]
    many = next(a for a in solution.assignments if a.household == "many")
    assert "9 (unit 1), 6 (unit 2)" in many.reason
    assert "priority 2" in solution.unmet[0].reason


def test_units_of_one_weight_read_as_one_group_in_the_reason() -> None:
    problem = Problem(
        offers=(_offer("o", 3, radius=7.5),),
        households=(_household("h", _east(4.0), Need(kind="coal", quantity=5, weight=2.5)),),
    )
    solution = _checked(problem)
    (row,) = solution.assignments
    assert row.quantity == 3
    assert "priority 2.5 (units 1–3)" in row.reason
    assert "within 7.5 km" in row.reason
    assert f"{row.distance_km:.1f} km away" in row.reason


def test_one_households_units_from_two_offers_continue_where_the_first_stops() -> None:
    problem = Problem(
        offers=(_offer("near", 2, at=_east(1.0)), _offer("far", 2, at=_east(8.0))),
        households=(
            _household("h", _east(1.5), Need(kind="coal", quantity=4, weights=(5, 5, 3, 3))),
        ),
    )
    columns = _columns(problem)
    solution = _checked(problem)
    assert _given(solution) == {("near", "h"): 2, ("far", "h"): 2}
    spans = sorted(
        zip(
            columns.priority_first.tolist(),
            columns.priority_stop.tolist(),
            columns.priority_weight.tolist(),
            strict=True,
        )
    )
    assert spans == [(0, 2, 5.0), (2, 4, 3.0)]


def test_needs_of_nothing_and_offers_of_nothing_make_no_rows() -> None:
    home = _east(1.0)
    problem = Problem(
        offers=(_offer("none", 0), _offer("some", 1)),
        households=(
            _household("idle", home, _coal(0)),
            _household("h", home, _coal(0), _coal(1)),
        ),
    )
    solution = _checked(problem)
    assert _given(solution) == {("some", "h"): 1}
    assert solution.unmet == ()
    assert solution.totals.units == 1


def test_each_small_component_solved_as_its_own_part_gives_the_same_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    towns = [(39.0 + i, 116.0) for i in range(4)]
    problem = Problem(
        offers=tuple(_offer(f"o{i}", 2, at=t, radius=30.0) for i, t in enumerate(towns)),
        households=tuple(
            _household(f"h{i}{j}", (t[0] + 0.01 * j, t[1]), _coal(1, 1.0 + j))
            for i, t in enumerate(towns)
            for j in range(3)
        ),
    )
    together = _checked(problem)
    monkeypatch.setattr(matching.network, "PART_MIN_ARCS", 1)
    apart = _checked(problem)
    assert together.stats.parts == 1
    assert apart.stats.parts == len(towns)
    assert _given(apart) == _given(together)
    assert {u.household for u in apart.unmet} == {f"h{i}0" for i in range(len(towns))}


def test_candidate_pairs_count_each_offer_and_household_within_reach() -> None:
    problem = Problem(
        offers=(
            _offer("a", 1, radius=5.0),
            _offer("b", 1, at=_east(20.0), radius=5.0),
            _offer("c", 1, at=_east(20.0), radius=5.0, kind="quilt"),
        ),
        households=(
            _household("near_a", _east(1.0), _coal(1)),
            _household("near_b", _east(19.0), _coal(1), Need(kind="quilt", quantity=1, weight=1)),
            _household("nowhere", _east(40.0), _coal(1)),
        ),
    )
    solution = _checked(problem)
    assert solution.stats.candidate_pairs == 3
    assert _given(solution) == {("a", "near_a"): 1, ("b", "near_b"): 1, ("c", "near_b"): 1}


def test_a_tag_no_offer_asks_for_never_stands_in_for_one_an_offer_requires() -> None:
    # 62 required tags fill one word of bits exactly; the household has none of them.
    required = [f"need{i:02d}" for i in range(62)]
    problem = Problem(
        offers=tuple(
            _offer(f"o{i}", 1, kind=f"k{i:02d}", requires={tag}) for i, tag in enumerate(required)
        ),
        households=(
            _household(
                "h",
                _east(1.0),
                *(Need(kind=f"k{i:02d}", quantity=1, weight=1.0) for i in range(62)),
                tags={"zz_unasked", "zz_other"},
            ),
        ),
    )
    solution = _checked(problem)
    assert solution.assignments == ()
    assert len(solution.unmet) == 62


def test_offers_of_one_kind_with_different_requirements_among_many_tags() -> None:
    tags = [f"tag{i:03d}" for i in range(70)]
    home = _east(1.0)
    problem = Problem(
        offers=(
            _offer("first", 1, requires={tags[1]}),
            _offer("last", 1, requires={tags[69]}, at=_east(0.5)),
            _offer("both", 1, requires={tags[1], tags[69]}, at=_east(2.0)),
            # Every tag is required by some offer: the masks take two words.
            _offer("stove", 1, requires=set(tags), kind="stove"),
        ),
        households=(
            _household("h1", home, _coal(2), tags={tags[1], tags[5]}),
            _household("h69", _east(1.2), _coal(2), tags={tags[69]}),
            _household("hboth", _east(1.4), _coal(1, 0.5), tags={tags[1], tags[69]}),
        ),
    )
    solution = _checked(problem)
    given = _given(solution)
    assert given[("first", "h1")] == 1 and given[("last", "h69")] == 1
    assert given[("both", "hboth")] == 1
    assert sum(given.values()) == 3


def test_a_need_of_nothing_makes_no_candidate_pair_and_no_part() -> None:
    problem = Problem(
        offers=(_offer("quilts", 3, kind="quilt"), _offer("coal", 3)),
        households=(
            _household("none", _east(1.0), Need(kind="quilt", quantity=0, weight=1.0)),
            _household("zero", _east(2.0), _coal(0)),
            _household("one", _east(3.0), _coal(1)),
        ),
    )
    solution = _checked(problem)
    assert solution.stats.candidate_pairs == 1
    assert solution.stats.parts == 1
    assert _given(solution) == {("coal", "one"): 1}


def _towns(households_per_town: list[int]) -> Problem:
    """Towns a degree of latitude apart, each with one offer reaching all its households."""
    towns = [(39.0 + i, 116.0) for i in range(len(households_per_town))]
    return Problem(
        offers=tuple(_offer(f"o{i}", 2, at=t, radius=30.0) for i, t in enumerate(towns)),
        households=tuple(
            _household(f"h{i}{j}", (t[0] + 0.01 * j, t[1]), _coal(1, 1.0 + j))
            for i, (t, n) in enumerate(zip(towns, households_per_town, strict=True))
            for j in range(n)
        ),
    )


def test_a_part_closes_once_it_holds_the_minimum_of_arcs(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each town is a component of one arc per household.
    problem = _towns([3, 1, 3, 1])
    together = _checked(problem)
    monkeypatch.setattr(matching.network, "PART_MIN_ARCS", 3)
    apart = _checked(problem)
    # Parts: {3 arcs}, {1 + 3 arcs}, {1 arc: the rest}.
    assert apart.stats.parts == 3
    assert apart.stats.arcs == together.stats.arcs == 8
    assert _given(apart) == _given(together)
    even = _towns([3, 3, 3])
    monkeypatch.setattr(matching.network, "PART_MIN_ARCS", 3)
    assert _checked(even).stats.parts == 3


def test_an_offer_and_a_household_out_of_everyones_reach_belong_to_no_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two towns, each its own part; a third offer and a household far from everything.
    monkeypatch.setattr(matching.network, "PART_MIN_ARCS", 1)
    problem = Problem(
        offers=(
            _offer("a", 2, at=(39.0, 116.0), radius=30.0),
            _offer("b", 2, at=(40.0, 116.0), radius=30.0),
            _offer("lonely", 2, at=(45.0, 116.0), radius=30.0),
        ),
        households=(
            _household("ha", (39.01, 116.0), _coal(1)),
            _household("hb", (40.01, 116.0), _coal(1)),
            _household("alone", (30.0, 116.0), _coal(1)),
        ),
    )
    parts = build_network(problem_to_arrays(problem)).parts
    assert [p.offer_index.tolist() for p in parts] == [[0], [1]]
    assert [p.member_need.tolist() for p in parts] == [[0], [1]]
    assert _unmet(_checked(problem)) == {("alone", "coal"): 1}


def test_many_priority_levels_are_served_best_first_like_the_lp_optimum() -> None:
    # Coal by the bag, each bag weighing a little less: 80 levels, most of them served in part.
    bags = tuple(100.0 - i for i in range(80))
    problem = Problem(
        offers=(_offer("near", 50, at=_east(1.0)), _offer("far", 40, at=_east(6.0), radius=9.0)),
        households=(
            _household("a", _east(2.0), Need(kind="coal", quantity=80, weights=bags)),
            _household("b", _east(3.0), Need(kind="coal", quantity=40, weights=bags[::2])),
        ),
    )
    columns = _columns(problem)
    solution = _checked(problem)
    assert solution.totals.units == 90
    # Every unit served weighs at least as much as every unit left unserved.
    served = [
        w
        for w, first, stop in zip(
            columns.priority_weight.tolist(),
            columns.priority_first.tolist(),
            columns.priority_stop.tolist(),
            strict=True,
        )
        for _ in range(first, stop)
    ]
    assert len(served) == 90
    assert min(served) >= max(columns.unmet_weight.tolist())


def test_distances_are_compared_in_the_finest_unit_whose_costs_fit_the_solvers_budget() -> None:
    budget = 2**55
    cases = [(0.0, 10), (12.5, 10), (3000.0, 5_000), (40_000.0, 2_000_000), (budget * 5e-10, 2)]
    for max_km, nodes in cases:
        unit = choose_resolution(max_km, nodes)
        assert unit in RESOLUTIONS_KM
        assert max_km / unit * (nodes + 1) <= budget
        finer = RESOLUTIONS_KM[: RESOLUTIONS_KM.index(unit)]
        assert all(max_km / f * (nodes + 1) > budget for f in finer)
    # A cost exactly at the budget still fits.
    at_budget = budget / (3 + 1) * RESOLUTIONS_KM[2]
    assert choose_resolution(at_budget, 3) == RESOLUTIONS_KM[2]
    # Never finer than asked, and whole km when nothing finer fits.
    assert choose_resolution(1.0, 1, finest_km=RESOLUTIONS_KM[4]) == RESOLUTIONS_KM[4]
    assert choose_resolution(1.0, 1, finest_km=RESOLUTIONS_KM[3]) == RESOLUTIONS_KM[3]
    assert choose_resolution(1e30, 10) == RESOLUTIONS_KM[-1]
