"""Property tests: every answer is feasible, optimal against moves, deterministic, and equal
to HiGHS' LP optimum."""

from __future__ import annotations

import math

from hypothesis import given, settings
from tests.matching.strategies import problems

from matching import Household, Offer, Problem, Solution, solve
from matching.geo import great_circle_km
from matching.reference import feasibility_errors, lp_optimum


def _unit_weights(household: Household, kind: str) -> list[float]:
    """Every unit weight of a household for a kind, best first."""
    units: list[float] = []
    for need in household.needs:
        if need.kind == kind:
            units.extend(need.unit_weight(u) for u in range(need.quantity))
    return sorted(units, reverse=True)


def _improving_move(problem: Problem, solution: Solution) -> str | None:
    """A single-unit move that improves the lexicographic objective, if there is one."""
    spare = {o.id: o.quantity for o in problem.offers}
    served: dict[tuple[str, str], int] = {}
    flows: dict[tuple[str, str], int] = {}
    for a in solution.assignments:
        spare[a.offer] -= a.quantity
        served[(a.household, a.kind)] = served.get((a.household, a.kind), 0) + a.quantity
        flows[(a.offer, a.household)] = a.quantity

    def eligible(offer: Offer, household: Household) -> float | None:
        km = float(great_circle_km(offer.lat, offer.lon, household.lat, household.lon))
        ok = km <= offer.radius_km and offer.requires <= household.tags
        return km if ok else None

    def marginal(household: Household, kind: str) -> tuple[float | None, float | None]:
        units = _unit_weights(household, kind)
        count = served.get((household.id, kind), 0)
        last = units[count - 1] if count else None
        nxt = units[count] if count < len(units) else None
        return last, nxt

    for offer in problem.offers:
        for receiver in problem.households:
            km_new = eligible(offer, receiver)
            if km_new is None:
                continue
            _, gain = marginal(receiver, offer.kind)
            if gain is not None and spare[offer.id] > 0:
                return f"add a unit of {offer.id} to {receiver.id}"
            # Move one unit of this offer from a current receiver to this one.
            for donor in problem.households:
                if flows.get((offer.id, donor.id), 0) == 0 or donor is receiver:
                    continue
                loss, _ = marginal(donor, offer.kind)
                assert loss is not None
                km_old = float(great_circle_km(offer.lat, offer.lon, donor.lat, donor.lon))
                if gain is not None and (gain > loss or (gain == loss and km_new < km_old - 1e-6)):
                    return f"move a unit of {offer.id} from {donor.id} to {receiver.id}"
            # Serve one of this household's units from this offer instead of another.
            for other in problem.offers:
                if other.kind != offer.kind or flows.get((other.id, receiver.id), 0) == 0:
                    continue
                km_old = float(great_circle_km(other.lat, other.lon, receiver.lat, receiver.lon))
                if spare[offer.id] > 0 and km_new < km_old - 1e-6:
                    return f"serve {receiver.id} from {offer.id} instead of {other.id}"
    return None


@settings(max_examples=150, deadline=None)
@given(problems())
def test_every_result_is_feasible(problem: Problem) -> None:
    assert feasibility_errors(problem, solve(problem)) == []


@settings(max_examples=150, deadline=None)
@given(problems())
def test_no_single_unit_move_improves_the_result(problem: Problem) -> None:
    assert _improving_move(problem, solve(problem)) is None


@settings(max_examples=80, deadline=None)
@given(problems())
def test_both_objectives_equal_the_lp_optimum_of_highs(problem: Problem) -> None:
    solution, best = solve(problem), lp_optimum(problem)
    assert math.isclose(
        solution.totals.weighted_units, best.weighted_units, rel_tol=1e-9, abs_tol=1e-9
    )
    assert math.isclose(solution.totals.unit_km, best.unit_km, rel_tol=1e-7, abs_tol=1e-6)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_the_same_input_gives_the_same_output(problem: Problem) -> None:
    first, second = solve(problem), solve(problem)
    assert first.assignments == second.assignments
    assert first.unmet == second.unmet
    assert first.totals == second.totals


@settings(max_examples=60, deadline=None)
@given(problems())
def test_the_greedy_answer_is_feasible_and_within_its_proven_bound(problem: Problem) -> None:
    interim: list[Solution] = []
    solve(problem, progress=lambda p: interim.extend([p.interim] if p.interim else []))
    assert len(interim) == 1
    greedy = interim[0]
    assert feasibility_errors(problem, greedy) == []
    best = lp_optimum(problem)
    assert greedy.totals.weighted_units <= best.weighted_units + 1e-9
    assert greedy.stats.weighted_units_bound >= best.weighted_units - 1e-9
    assert math.isclose(
        greedy.stats.gap,
        greedy.stats.weighted_units_bound - greedy.totals.weighted_units,
        abs_tol=1e-9,
    )
