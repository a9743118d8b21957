"""Reports on a solved problem: the marginal value of one more unit, the unmet need by region,
and exact "what if" answers, each checked by solving again from scratch."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.matching.strategies import problems

from matching import (
    Household,
    MarginalValue,
    Need,
    Offer,
    Problem,
    Solution,
    WhatIf,
    parse_instance,
    problem_to_arrays,
    solve,
    solve_arrays,
    what_if_radius,
    what_if_stock,
)
from matching.geo import great_circle_km
from matching.reference import random_problem

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "matching"
GOLDEN = sorted(p for p in FIXTURES.glob("*.json") if not p.name.endswith(".expected.json"))


def _one_more(problem: Problem, offer: str) -> Problem:
    offers = tuple(
        dataclasses.replace(o, quantity=o.quantity + 1) if o.id == offer else o
        for o in problem.offers
    )
    return dataclasses.replace(problem, offers=offers)


def _check_marginals(problem: Problem, solution: Solution) -> None:
    """Every row equals solving again with its unit added; no other offer at the point is
    worth more; every (kind, point) with stock has a row."""
    rows = {(m.kind, m.lat, m.lon): m for m in solution.marginal_values}
    stocked = {(o.kind, float(o.lat), float(o.lon)) for o in problem.offers if o.quantity > 0}
    assert set(rows) == stocked
    for offer in problem.offers:
        if offer.quantity == 0:
            continue
        row = rows[(offer.kind, float(offer.lat), float(offer.lon))]
        again = solve(_one_more(problem, offer.id), reports=False)
        gained = again.totals.weighted_units - solution.totals.weighted_units
        if offer.id == row.offer:
            change = again.totals.unit_km - solution.totals.unit_km
            _assert_row_is(row, gained, change, problem, solution)
        else:
            assert gained <= row.weighted_units + 1e-9


def _assert_row_is(
    row: MarginalValue, gained: float, unit_km: float, problem: Problem, before: Solution
) -> None:
    assert math.isclose(row.weighted_units, gained, rel_tol=1e-12, abs_tol=1e-9)
    if row.weighted_units == 0:
        assert row.household is None
        assert row.unit_km is None
        return
    assert row.unit_km is not None
    assert math.isclose(row.unit_km, unit_km, rel_tol=1e-9, abs_tol=1e-6)
    # The household it reaches waits for a unit of the kind now, at that distance (the new
    # optimum may serve another household as good instead: optima tie).
    assert row.household is not None
    assert any(u.household == row.household and u.kind == row.kind for u in before.unmet)
    household = next(h for h in problem.households if h.id == row.household)
    assert row.distance_km == float(great_circle_km(row.lat, row.lon, household.lat, household.lon))


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_marginal_values_equal_solving_again_with_one_more_unit(path: Path) -> None:
    problem = parse_instance(json.loads(path.read_text("utf-8"))).problem
    _check_marginals(problem, solve(problem))


@settings(max_examples=80, deadline=None)
@given(problems())
def test_random_marginal_values_equal_solving_again_with_one_more_unit(problem: Problem) -> None:
    _check_marginals(problem, solve(problem))


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_larger_random_marginal_values_equal_solving_again(seed: int) -> None:
    problem = random_problem(np.random.default_rng(seed), offers=10, households=30)
    _check_marginals(problem, solve(problem))


def test_one_more_coat_goes_to_the_waiting_household_at_its_distance() -> None:
    problem = parse_instance(
        json.loads((FIXTURES / "per_unit_weights.json").read_text("utf-8"))
    ).problem
    solution = solve(problem)
    (row,) = [m for m in solution.marginal_values if m.kind == "quilt"]
    assert row.weighted_units == 2.0  # h1's second quilt (weights 5, 2, 1): h2 has both
    assert row.household == "h1"
    assert row.distance_km is not None and math.isclose(row.distance_km, 11.119508372418744)


def _with_regions(problem: Problem, regions: list[str | None]) -> Problem:
    households = tuple(
        dataclasses.replace(h, region=regions[i % len(regions)])
        for i, h in enumerate(problem.households)
    )
    return dataclasses.replace(problem, households=households)


@settings(max_examples=60, deadline=None)
@given(problems(), st.lists(st.sampled_from(["110101", "110102", None]), min_size=1, max_size=3))
def test_unmet_by_region_adds_up_the_unserved_units_of_each_region_kind_and_priority(
    problem: Problem, regions: list[str | None]
) -> None:
    problem = _with_regions(problem, regions)
    solution = solve(problem)
    served: Counter[tuple[str, str]] = Counter()
    for a in solution.assignments:
        served[(a.household, a.kind)] += a.quantity
    expected: Counter[tuple[str | None, str, float]] = Counter()
    households: dict[tuple[str | None, str, float], set[str]] = {}
    for h in problem.households:
        for kind in {n.kind for n in h.needs}:
            units = sorted(
                (n.unit_weight(u) for n in h.needs if n.kind == kind for u in range(n.quantity)),
                reverse=True,
            )
            for weight in units[served[(h.id, kind)] :]:
                expected[(h.region, kind, weight)] += 1
                households.setdefault((h.region, kind, weight), set()).add(h.id)
    got = {(r.region, r.kind, r.weight): (r.units, r.households) for r in solution.unmet_by_region}
    assert got == {key: (units, len(households[key])) for key, units in expected.items()}


def test_a_region_must_be_a_non_empty_string() -> None:
    data = json.loads((FIXTURES / "per_unit_weights.json").read_text("utf-8"))
    data["households"][0]["region"] = ""
    with pytest.raises(ValueError, match=r"households\[0\] \(id 'h1'\)\.region"):
        parse_instance(data)
    data["households"][0]["region"] = "110101"
    household = parse_instance(data).problem.households[0]
    assert isinstance(household, Household)
    assert household.region == "110101"


def _served(solution: Solution) -> int:
    return len({a.household for a in solution.assignments})


@settings(max_examples=40, deadline=None)
@given(problems(), st.integers(1, 3), st.sampled_from([3.0, 8.0, 30.0]), st.booleans())
def test_what_if_more_stock_equals_solving_the_changed_problem(
    problem: Problem, quantity: int, radius: float, coal: bool
) -> None:
    arrays = problem_to_arrays(problem)
    before = solve(problem)
    kind, requires = ("coal", ("coal_stove",)) if coal else ("quilt", ())
    answer = what_if_stock(
        arrays,
        solve_arrays(arrays),
        kind=kind,
        lat=40.06,
        lon=116.08,
        quantity=quantity,
        radius_km=radius,
        requires=requires,
    )
    extra = Offer(
        id="extra",
        kind=kind,
        quantity=quantity,
        lat=40.06,
        lon=116.08,
        radius_km=radius,
        requires=frozenset(requires),
    )
    after = solve(dataclasses.replace(problem, offers=(*problem.offers, extra)))
    _same_change(answer, before, after)


@settings(max_examples=40, deadline=None)
@given(problems(), st.sampled_from([10.0, 20.0, 60.0]))
def test_what_if_a_wider_radius_equals_solving_the_changed_problem(
    problem: Problem, radius: float
) -> None:
    if not problem.offers:
        return
    arrays = problem_to_arrays(problem)
    offer = problem.offers[0]
    answer = what_if_radius(arrays, solve_arrays(arrays), offer=offer.id, radius_km=radius)
    widened = dataclasses.replace(offer, radius_km=radius)
    after = solve(dataclasses.replace(problem, offers=(widened, *problem.offers[1:])))
    _same_change(answer, solve(problem), after)


def _same_change(answer: WhatIf, before: Solution, after: Solution) -> None:
    assert answer.households_served == _served(after) - _served(before)
    assert answer.units == after.totals.units - before.totals.units
    assert math.isclose(
        answer.weighted_units,
        after.totals.weighted_units - before.totals.weighted_units,
        rel_tol=1e-9,
        abs_tol=1e-9,
    )
    assert math.isclose(
        answer.unit_km, after.totals.unit_km - before.totals.unit_km, rel_tol=1e-9, abs_tol=1e-6
    )


def test_unmet_by_region_keeps_one_row_per_priority_when_households_outnumber_needs() -> None:
    def household(i: int, needs: tuple[Need, ...]) -> Household:
        return Household(
            id=f"h{i}", lat=40.0, lon=116.0, tags=frozenset(), needs=needs, region="110101"
        )

    problem = Problem(
        offers=(),
        households=(
            household(0, (Need(kind="coal", quantity=2, weights=(2.0, 1.0)),)),
            household(1, ()),
            household(2, ()),
            household(3, (Need(kind="coal", quantity=1, weights=(2.0,)),)),
        ),
    )
    rows = {(r.kind, r.weight): (r.units, r.households) for r in solve(problem).unmet_by_region}
    assert len(solve(problem).unmet_by_region) == len(rows) == 2
    assert rows == {("coal", 2.0): (2, 2), ("coal", 1.0): (1, 1)}
