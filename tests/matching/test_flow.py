"""The fast paths of the exact solve give the same optimum as the plain formulations."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import problem_to_arrays, solve
from matching.flow import _layout, _min_cost_flow, level_counts
from matching.network import build_network
from matching.reference import feasibility_errors, lp_optimum, random_problem

seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=60, deadline=None)
@given(seeds)
def test_level_counts_from_max_flows_equal_those_of_the_rank_cost_min_cost_flow(seed: int) -> None:
    problem = random_problem(np.random.default_rng(seed), offers=12, households=40)
    for part in build_network(problem_to_arrays(problem)).parts:
        layout = _layout(part)
        costs = np.zeros(len(layout.tails), dtype=np.int64)
        _, level_of_arc = np.unique(part.level_rank, return_inverse=True)
        costs[layout.demand_levels] = -(level_of_arc.reshape(-1) + 1)
        flows = _min_cost_flow(layout, layout.capacities, costs, int(part.offer_supply.sum()))
        assert flows is not None
        assert level_counts(part).tolist() == flows[layout.level_sinks].tolist()


@settings(max_examples=25, deadline=None)
@given(seeds)
def test_larger_random_instances_match_the_lp_optimum(seed: int) -> None:
    problem = random_problem(np.random.default_rng(seed), offers=25, households=70)
    solution, best = solve(problem), lp_optimum(problem)
    assert feasibility_errors(problem, solution) == []
    assert math.isclose(
        solution.totals.weighted_units, best.weighted_units, rel_tol=1e-9, abs_tol=1e-9
    )
    assert math.isclose(solution.totals.unit_km, best.unit_km, rel_tol=1e-7, abs_tol=1e-6)
