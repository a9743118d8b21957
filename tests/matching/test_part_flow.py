"""The exact solve of one part, on fixed rounds: phase one's level counts by nested cuts
equal those of the rank-cost min-cost flow, phase two reaches the LP optimum, and the
distance unit is the one asked for. Fixed seeds, few and fast: these are the tests that
mutation testing runs for ``matching.flow`` (issue 19); ``test_flow.py`` draws many more
rounds with hypothesis."""

from __future__ import annotations

import math

import numpy as np
import pytest

import matching.flow
from matching import Household, Need, Offer, Problem, problem_to_arrays, solve
from matching.face import direct
from matching.flow import (
    RESOLUTIONS_KM,
    SolverError,
    _coarser,
    _layout,
    _merge_neighbourhoods,
    _phase_one,
    level_counts,
    solve_part,
)
from matching.geo import great_circle_km
from matching.network import Part, build_network
from matching.reference import feasibility_errors, lp_optimum, random_problem, rank_cost_flow


def _parts(seed: int, offers: int, households: int, spread_km: float = 40.0) -> list[Part]:
    problem = random_problem(
        np.random.default_rng(seed), offers=offers, households=households, spread_km=spread_km
    )
    return list(build_network(problem_to_arrays(problem)).parts)


def _rank_cost_counts(part: Part) -> list[int]:
    """c_t by one min-cost flow with rank gains on the part as built (nothing merged)."""
    counts: list[int] = rank_cost_flow(direct(part), int(part.offer_supply.sum()))[0].tolist()
    return counts


@pytest.mark.parametrize("seed", range(8))
def test_level_counts_by_nested_cuts_equal_the_rank_cost_counts(seed: int) -> None:
    for part in _parts(seed, offers=12, households=40):
        assert level_counts(part).tolist() == _rank_cost_counts(part)


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


@pytest.mark.parametrize("past_the_budget", [False, True])
def test_a_part_at_the_edge_of_the_solvers_budget_rounds_in_the_finest_unit_that_fits(
    past_the_budget: bool,
) -> None:
    # Households on the far side of the globe: a largest distance near 20 000 km over
    # 1e-9 km fits the budget of 2**55 only while (nodes + 1) stays under about 1 800.
    # The part's nodes: source, sink, the offer, one per household, the one level.
    offer = Offer(id="o", kind="coal", quantity=5, lat=39.9, lon=116.4, radius_km=20_000.0)
    grid = [(-39.0 + (i // 50) * 0.01, -64.0 + (i % 50) * 0.01) for i in range(2000)]
    grid.sort(key=lambda p: float(great_circle_km(offer.lat, offer.lon, p[0], p[1])))
    count = 0
    for count in range(1700, len(grid)):
        max_km = float(great_circle_km(offer.lat, offer.lon, *grid[count - 1]))
        fits = max_km / RESOLUTIONS_KM[0] * (count + 4 + 1) <= 2**55
        # Just past the budget, or the last count that still fits.
        if (
            (not fits)
            if past_the_budget
            else (max_km / RESOLUTIONS_KM[0] * (count + 4 + 2) > 2**55 and fits)
        ):
            break
    households = tuple(
        Household(id=f"h{i}", lat=lat, lon=lon, needs=(Need(kind="coal", quantity=1, weight=1.0),))
        for i, (lat, lon) in enumerate(grid[:count])
    )
    (part,) = build_network(
        problem_to_arrays(Problem(offers=(offer,), households=households))
    ).parts
    assert len(part.demand_quantity) == count
    expected = next(r for r in RESOLUTIONS_KM if max_km / r * (count + 4 + 1) <= 2**55)
    assert (expected > RESOLUTIONS_KM[0]) == past_the_budget
    assert solve_part(part).resolution_km == expected


def test_lower_levels_served_in_full_below_partly_served_ones_are_counted_right() -> None:
    # Four priority levels in one part: the two low ones near a large offer (all served),
    # the two high ones far away, reached by one unit only (served in part).
    far, near = (39.0, 116.0), (41.0, 116.0)
    problem = Problem(
        offers=(
            Offer(id="big", kind="coal", quantity=10, lat=near[0], lon=near[1], radius_km=5.0),
            Offer(id="one", kind="coal", quantity=1, lat=far[0], lon=far[1], radius_km=5.0),
        ),
        households=tuple(
            Household(
                id=f"h{w}",
                lat=(near if w < 3 else far)[0],
                lon=(near if w < 3 else far)[1] + 0.001 * w,
                needs=(Need(kind="coal", quantity=2, weight=float(w)),),
            )
            for w in (1, 2, 3, 4)
        ),
    )
    (part,) = build_network(problem_to_arrays(problem)).parts
    assert len(set(part.level_rank.tolist())) == 4
    assert level_counts(part).tolist() == _rank_cost_counts(part)
    solution, best = solve(problem), lp_optimum(problem)
    assert math.isclose(solution.totals.weighted_units, best.weighted_units, abs_tol=1e-9)


def _hand_part(
    supply: list[int],
    arcs: list[tuple[int, int]],
    demand: list[int],
    ranks: list[int],
    km: float = 1.0,
) -> Part:
    """A part built by hand: each offer its own chain, arcs (offer, demand node), one
    member need and one priority level (its rank) per demand node."""
    n_demand = len(demand)
    offer, node = (np.array(column, dtype=np.int64) for column in zip(*arcs, strict=True))
    quantity = np.array(demand, dtype=np.int64)
    supplies = np.array(supply, dtype=np.int64)
    none = np.empty(0, dtype=np.int64)
    return Part(
        kind="coal",
        offer_index=np.arange(len(supply), dtype=np.int64),
        offer_supply=supplies,
        offer_radius=np.full(len(supply), 50.0),
        chain_tail=none,
        chain_head=none,
        chain_cap=none,
        demand_quantity=quantity,
        pair_offer=offer,
        pair_demand=node,
        pair_cap=np.minimum(quantity[node], supplies[offer]),
        pair_km=np.full(len(arcs), km),
        level_demand=np.arange(n_demand, dtype=np.int64),
        level_rank=np.array(ranks, dtype=np.int64),
        level_count=quantity,
        level_weight=np.array(ranks, dtype=np.float64) + 1.0,
        member_start=np.arange(n_demand + 1, dtype=np.int64),
        member_need=np.arange(n_demand, dtype=np.int64),
    )


def test_demand_nodes_merge_only_when_they_reach_exactly_the_same_entries() -> None:
    # Seven nodes, no two reaching the same entries. Laid end to end (node by node, entry
    # ascending) their entries are 0 1 | 2 3 | 0 2 | 1 3 | 2 | 0 | 1 2: the bytes of node
    # 0's entries followed by two bytes of node 1's are those of node 5's followed by two
    # bytes of node 6's, so a class key read past a node's own entries merges 0 and 5.
    reach = [[0, 1], [2, 3], [0, 2], [1, 3], [2], [0], [1, 2]]
    arcs = [(entry, node) for node, entries in enumerate(reach) for entry in entries]
    # Offer 0 has nothing left: node 5, the only one of the higher level, reaches no stock.
    part = _hand_part([0, 1, 1, 1], arcs, [1] * 7, [0, 0, 0, 0, 0, 1, 0])
    assert len(_merge_neighbourhoods(part).demand_quantity) == 7
    assert level_counts(part).tolist() == _rank_cost_counts(part) == [3, 0]


@pytest.mark.parametrize("ranks", [[0], [0, 1]])
def test_units_past_two_to_the_53_are_carried_exactly(
    ranks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Capacities are int64 all the way to the solver: as float64 they would lose the unit
    # past 2**53 (out of reach of any real round, in reach of the arithmetic).
    units = 2**53 + 1
    part = _hand_part([units, 2], [(0, 0), (1, 1)][: len(ranks)], [units, 2][: len(ranks)], ranks)
    layout = _layout(part)
    assert layout.capacities[: len(ranks)].tolist() == part.offer_supply[: len(ranks)].tolist()
    if len(ranks) > 1:
        # Two levels: on the face, where a unit lost would leave no flow of the counts.
        monkeypatch.setattr(matching.flow, "_layout", _refuse_layout)
    flow = solve_part(part)
    assert flow.pair_flow.tolist() == flow.level_flow.tolist() == [units, 2][: len(ranks)]


def test_pairs_under_a_kilometre_are_rounded_by_their_own_largest_distance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The unit is chosen from the part's largest distance, not from 1 km: with a budget
    # small enough that 1 km in the finest unit would not fit, 0.5 km still does.
    part = _hand_part([1, 1], [(0, 0), (1, 1)], [1, 1], [0, 0], km=0.5)
    network = direct(part)
    nodes = network.nodes + network.level_total  # as if with a node per level
    monkeypatch.setattr(matching.flow, "_COST_BUDGET", int(0.75 / RESOLUTIONS_KM[0] * (nodes + 1)))
    assert solve_part(part).resolution_km == RESOLUTIONS_KM[0]
    monkeypatch.setattr(matching.flow, "_COST_BUDGET", int(0.25 / RESOLUTIONS_KM[0] * (nodes + 1)))
    assert solve_part(part).resolution_km == RESOLUTIONS_KM[1]


def test_the_distance_unit_is_coarsened_a_thousandfold_and_never_past_whole_km() -> None:
    assert _coarser(RESOLUTIONS_KM[0]) == RESOLUTIONS_KM[3]
    assert _coarser(RESOLUTIONS_KM[-3]) == _coarser(RESOLUTIONS_KM[-2]) == RESOLUTIONS_KM[-1]
    with pytest.raises(SolverError, match=r"^distance costs out of range even in whole km$"):
        _coarser(RESOLUTIONS_KM[-1])


def test_the_full_network_coarsens_its_distance_unit_when_the_solver_refuses_the_costs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One level: the part is solved on the network with a node per level, in one go. A unit
    # of 1e-17 km puts 40 km at 4e18, which OR-Tools refuses once scaled by the nodes.
    part = _hand_part([2, 2], [(0, 0), (1, 1)], [2, 2], [0, 0], km=40.0)
    monkeypatch.setattr(matching.flow, "RESOLUTIONS_KM", (1e-17, 1e-16, 1e-15, *RESOLUTIONS_KM))
    monkeypatch.setattr(matching.flow, "choose_resolution", lambda *_: 1e-17)
    flow = solve_part(part)
    assert flow.resolution_km == RESOLUTIONS_KM[0]
    assert flow.pair_flow.tolist() == [2, 2]


def _refuse_layout(_: Part) -> None:
    raise AssertionError("the network with a node per level was built")


def _one_level_each(levels: int, stocked: bool = True) -> Part:
    """``levels`` nodes of one unit, node n of rank n, all reaching one offer with stock
    for all; the top node also reaches a second offer, empty unless ``stocked``."""
    arcs = [(0, n) for n in range(levels - 1)] + [(1, levels - 1)]
    return _hand_part([levels, int(stocked)], arcs, [1] * levels, list(range(levels)))


@pytest.mark.parametrize("levels", [2, 3, 64, 65, 300])
def test_phase_one_gives_counts_and_potentials_for_any_number_of_levels(
    levels: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    part = _one_level_each(levels)
    counts, potential = _phase_one(part)
    assert counts.tolist() == [1] * levels
    # Source and sink at 0; a node's level arc, full at every optimum, of reduced cost
    # pi(node) - 1 - level <= 0 (the nodes of one offer are merged in phase one).
    network = direct(part)
    assert potential[[0, 1]].tolist() == [0, 0]
    reduced = network.costs + potential[network.tails] - potential[network.heads]
    assert reduced[network.levels].max() <= 0

    # Phase two runs on the face: the network with a node per level is never built.
    monkeypatch.setattr(matching.flow, "_layout", _refuse_layout)
    assert solve_part(part).level_flow.tolist() == [1] * levels


def test_a_highest_level_no_stock_reaches_is_counted_as_zero_on_the_face(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    part = _one_level_each(70, stocked=False)
    counts, _ = _phase_one(part)
    assert counts.tolist() == [1] * 69 + [0]
    monkeypatch.setattr(matching.flow, "_layout", _refuse_layout)
    flow = solve_part(part)
    assert flow.level_flow.tolist() == [1] * 69 + [0]


def test_a_max_flow_the_solver_refuses_is_an_error_not_a_wrong_answer() -> None:
    # Two offers of 2**62 units each: more than int64 holds leaves the source, and OR-Tools
    # refuses the max flow as a possible overflow.
    part = _hand_part([2**62, 2**62], [(0, 0), (1, 1)], [2**62, 2**62], [0, 0])
    with pytest.raises(SolverError, match=r"^max flow ended with status .*OVERFLOW"):
        level_counts(part)
