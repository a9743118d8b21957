"""The exact solve of one part, on fixed rounds: phase one's level counts by bisection
equal those of the rank-cost min-cost flow, phase two reaches the LP optimum, and the
distance unit is the one asked for. Fixed seeds, few and fast: these are the tests that
mutation testing runs for ``matching.flow`` (issue 19); ``test_flow.py`` draws many more
rounds with hypothesis."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matching import problem_to_arrays, solve
from matching.flow import (
    RESOLUTIONS_KM,
    _bisected_counts,
    _layout,
    _merge_neighbourhoods,
    _ranked_counts,
    level_counts,
    solve_part,
)
from matching.geo import great_circle_km
from matching.network import Part, build_network
from matching.reference import feasibility_errors, lp_optimum, random_problem


def _parts(seed: int, offers: int, households: int, spread_km: float = 40.0) -> list[Part]:
    problem = random_problem(
        np.random.default_rng(seed), offers=offers, households=households, spread_km=spread_km
    )
    return list(build_network(problem_to_arrays(problem)).parts)


def _rank_cost_counts(part: Part) -> list[int]:
    """c_t by one min-cost flow with rank gains on the part as built (nothing merged)."""
    layout = _layout(part)
    counts: list[int] = _ranked_counts(layout, int(part.offer_supply.sum())).tolist()
    return counts


@pytest.mark.parametrize("seed", range(8))
def test_level_counts_by_bisection_equal_the_rank_cost_counts(seed: int) -> None:
    for part in _parts(seed, offers=12, households=40):
        expected = _rank_cost_counts(part)
        assert level_counts(part).tolist() == expected
        # Bisection alone, with room for every max flow it wants, on the merged part.
        merged = _layout(_merge_neighbourhoods(part))
        bisected = _bisected_counts(merged, max_flows=10**6)
        assert bisected is not None
        assert bisected.tolist() == expected


@pytest.mark.parametrize("seed", range(6))
def test_random_rounds_reach_the_lp_optimum_of_both_objectives(seed: int) -> None:
    problem = random_problem(np.random.default_rng(100 + seed), offers=25, households=70)
    solution, best = solve(problem), lp_optimum(problem)
    assert feasibility_errors(problem, solution) == []
    assert math.isclose(
        solution.totals.weighted_units, best.weighted_units, rel_tol=1e-9, abs_tol=1e-9
    )
    assert math.isclose(solution.totals.unit_km, best.unit_km, rel_tol=1e-7, abs_tol=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_merged_neighbourhoods_serve_the_same_level_counts_as_the_nodes_apart(seed: int) -> None:
    # Households crowd onto few points: many demand nodes reach the same entries.
    for part in _parts(200 + seed, offers=6, households=60, spread_km=10.0):
        merged = _merge_neighbourhoods(part)
        assert len(merged.demand_quantity) <= len(part.demand_quantity)
        assert int(merged.demand_quantity.sum()) == int(part.demand_quantity.sum())
        assert int(merged.level_count.sum()) == int(part.level_count.sum())
        assert _rank_cost_counts(merged) == _rank_cost_counts(part)


def test_a_part_solved_with_a_coarser_finest_unit_compares_distances_in_that_unit() -> None:
    (part, *_) = _parts(7, offers=12, households=40)
    finest = solve_part(part)
    assert finest.resolution_km == RESOLUTIONS_KM[0]
    for unit in (RESOLUTIONS_KM[3], RESOLUTIONS_KM[6], RESOLUTIONS_KM[-1]):
        coarse = solve_part(part, finest_km=unit)
        assert coarse.resolution_km == unit
        # The unit only breaks ties of distance: as many units are served.
        assert int(coarse.pair_flow.sum()) == int(finest.pair_flow.sum())


def test_a_part_whose_farthest_pair_is_near_half_the_globe_rounds_in_a_coarser_unit() -> None:
    # 20 000 km / 1e-9 km x (nodes + 1) passes the solver's budget once there are more than
    # about 1 800 nodes: the unit must be chosen from the part's largest distance and size.
    from matching import Household, Need, Offer, Problem

    households = tuple(
        Household(
            id=f"h{i}",
            lat=-39.0 + (i // 50) * 0.01,
            lon=-64.0 + (i % 50) * 0.01,
            needs=(Need(kind="coal", quantity=1, weight=1.0),),
        )
        for i in range(1900)
    )
    home = Household(id="home", lat=39.9, lon=116.4, needs=households[0].needs)
    offer = Offer(id="o", kind="coal", quantity=5, lat=39.9, lon=116.4, radius_km=20_000.0)
    problem = Problem(offers=(offer,), households=(home, *households))
    (part,) = build_network(problem_to_arrays(problem)).parts
    max_km = max(
        float(great_circle_km(offer.lat, offer.lon, h.lat, h.lon)) for h in problem.households
    )
    # Source, sink, the offer, the demand nodes and the one priority level.
    nodes = 2 + 1 + len(part.demand_quantity) + 1
    flow = solve_part(part)
    fits = [r for r in RESOLUTIONS_KM if max_km / r * (nodes + 1) <= 2**55]
    assert flow.resolution_km == fits[0] > RESOLUTIONS_KM[0]
