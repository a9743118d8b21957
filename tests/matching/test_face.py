"""Phase two on phase one's optimal face (``matching.face``): the nested cuts' potentials
certify the rank-cost flow, the restricted network keeps a least-distance max-weight flow
(solved piece by piece or at once), and every way it can fail sends the part back to the
full network, with the same answer."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from tests.matching.networks import hand_network

import matching.flow
from matching import Household, Need, Offer, Problem, problem_to_arrays, solve
from matching.cuts import threshold_cuts
from matching.face import Direct, direct, solve_on_face
from matching.flow import RESOLUTIONS_KM, PartFlow, _phase_one, solve_part
from matching.network import Part, build_network
from matching.reference import eligible_pairs, feasibility_errors, rank_cost_flow


def _many_levels(seed: int, households: int = 40) -> Problem:
    """Coal by the bag: each household's bags weigh a little less one after the other, so
    a part has hundreds of levels, most of them served in part."""
    rng = np.random.default_rng(seed)
    # Warehouses of two offers each, of different radii: chains of two positions.
    points = rng.uniform(-0.3, 0.3, size=(4, 2))
    offers = tuple(
        Offer(
            id=f"o{i}",
            kind="coal",
            quantity=int(rng.integers(3, 12)),
            lat=40.0 + float(points[i // 2, 0]),
            lon=116.0 + float(points[i // 2, 1]),
            radius_km=(15.0, 25.0, 40.0)[(i + int(rng.integers(2))) % 3],
        )
        for i in range(8)
    )
    homes = []
    for h in range(households):
        bags = int(rng.integers(2, 7))
        first = float(rng.uniform(1.0, 9.0))
        weights = tuple(round(first * 0.9**j, 3) for j in range(bags))
        homes.append(
            Household(
                id=f"h{h}",
                lat=40.0 + float(rng.uniform(-0.3, 0.3)),
                lon=116.0 + float(rng.uniform(-0.3, 0.3)),
                needs=(Need(kind="coal", quantity=bags, weights=weights),),
            )
        )
    return Problem(offers=offers, households=tuple(homes))


def _parts(seed: int) -> list[Part]:
    parts = list(build_network(problem_to_arrays(_many_levels(seed))).parts)
    assert any(len(set(p.level_rank.tolist())) > 64 for p in parts)
    assert any(len(p.chain_tail) > 0 for p in parts)
    return parts


def _largest_on_face(seed: int) -> tuple[Part, np.ndarray, np.ndarray, Direct]:
    """The round's part of most level arcs, its phase-one counts and potentials, its network."""
    part = max(_parts(seed), key=lambda p: len(p.level_rank))
    counts, potential = _phase_one(part)
    return part, counts, potential, direct(part)


def _on_full_network(part: Part, monkeypatch: pytest.MonkeyPatch) -> PartFlow:
    """The part solved with a node per level, as when the face fails."""
    with monkeypatch.context() as patch:
        patch.setattr(matching.flow, "_solve_on_face", lambda *_: None)
        return solve_part(part)


def _distance(part: Part, flow: PartFlow) -> int:
    units = np.rint(part.pair_km / flow.resolution_km).astype(np.int64)
    return int((flow.pair_flow * units).sum())


def _level_units(part: Part, flow: PartFlow) -> list[int]:
    _, level = np.unique(part.level_rank, return_inverse=True)
    units: list[int] = np.bincount(level, weights=flow.level_flow).astype(np.int64).tolist()
    return units


def _residual_reduced_costs(network: Direct, flows: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """Reduced costs of every arc of the residual network (backward arcs negated)."""
    reduced = network.costs + pi[network.tails] - pi[network.heads]
    room, used = flows < network.capacities, flows > 0
    return np.concatenate([reduced[room], -reduced[used]])


def _network_simplex(problem: Problem) -> tuple[float, float]:
    """(weighted units, unit-km) of the lexicographic optimum by networkx's network simplex,
    exact in integers: a household's units gain their weight's rank times a constant larger
    than any total of distances (in micrometres), pairs are offer -> household as listed.

    The LP reference keeps the weight within 1e-9 of its optimum, and with weights 0.001
    apart that slack buys a fraction of a unit: a few metres less than the true optimum.
    """
    weights = sorted({w for h in problem.households for n in h.needs for w in (n.weights or ())})
    rank = {w: r + 1 for r, w in enumerate(weights)}
    pairs = eligible_pairs(problem)
    micro = [round(km * 1e6) for *_, km in pairs]
    units = sum(n.quantity for h in problem.households for n in h.needs)
    big = (units + 1) * (max(micro, default=0) + 1)
    graph = nx.DiGraph()
    graph.add_edge("t", "s", weight=0)
    for i, offer in enumerate(problem.offers):
        graph.add_edge("s", ("o", i), capacity=offer.quantity, weight=0)
    for (i, h, _, _), cost in zip(pairs, micro, strict=True):
        graph.add_edge(("o", i), ("h", h), weight=cost)
    for h, household in enumerate(problem.households):
        for need in household.needs:
            for j, weight in enumerate(need.weights or ()):
                graph.add_edge(("h", h), ("u", h, j), capacity=1, weight=-rank[weight] * big)
                graph.add_edge(("u", h, j), "t", weight=0)
    _, flow = nx.network_simplex(graph)
    served = [
        need.weights[j]
        for h, household in enumerate(problem.households)
        for need in household.needs
        for j in range(need.quantity)
        if need.weights and flow[("h", h)][("u", h, j)]
    ]
    km = sum(flow[("o", i)][("h", h)] * km for (i, h, _, km) in pairs if flow[("o", i)][("h", h)])
    return math.fsum(served), km


@pytest.mark.parametrize("seed", range(6))
def test_many_level_rounds_reach_the_exact_optimum_of_both_objectives(seed: int) -> None:
    problem = _many_levels(seed)
    solution = solve(problem)
    weighted, km = _network_simplex(problem)
    assert feasibility_errors(problem, solution) == []
    assert math.isclose(solution.totals.weighted_units, weighted, rel_tol=1e-12)
    # Distances compared in whole micrometres: each unit's rounding at most half of one.
    assert abs(solution.totals.unit_km - km) <= solution.totals.units * 1e-6


@pytest.mark.parametrize("seed", range(6))
def test_the_face_keeps_the_least_distance_of_the_full_network(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for part in _parts(seed):
        counts, _ = _phase_one(part)
        on_face, full = solve_part(part), _on_full_network(part, monkeypatch)
        assert on_face.resolution_km == full.resolution_km
        assert _level_units(part, on_face) == _level_units(part, full) == counts.tolist()
        assert _distance(part, on_face) == _distance(part, full)
        # The level arcs carry what the pair arcs bring, node by node.
        into = np.bincount(part.pair_demand, on_face.pair_flow, len(part.demand_quantity))
        out = np.bincount(part.level_demand, on_face.level_flow, len(part.demand_quantity))
        assert into.tolist() == out.tolist()


@pytest.mark.parametrize("seed", range(4))
def test_the_cuts_potentials_leave_no_residual_arc_of_the_rank_cost_flow_negative(
    seed: int,
) -> None:
    for part in _parts(seed):
        network = direct(part)
        counts, flows = rank_cost_flow(network, int(part.offer_supply.sum()))
        cut_counts, pi = threshold_cuts(network)
        assert cut_counts.tolist() == counts.tolist()
        assert int(_residual_reduced_costs(network, flows, pi).min()) >= 0
        assert pi[0] == pi[1] == 0
        # And a flow that is not optimal (nothing served at all) does not fit them.
        assert int(counts.sum()) > 0
        assert int(_residual_reduced_costs(network, np.zeros_like(flows), pi).min()) < 0


def test_potentials_that_fit_no_max_weight_flow_send_the_part_to_the_full_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    part, counts, potential, network = _largest_on_face(1)
    # Potentials 0 make every level arc's reduced cost negative: all of it would have to be
    # served, more than the stock can give.
    assert int(part.level_count.sum()) > int(part.offer_supply.sum())
    zeros = np.zeros_like(potential)
    _, status = solve_on_face(network, zeros, counts, part.pair_km, RESOLUTIONS_KM[0])
    assert status == "infeasible"
    with monkeypatch.context() as patch:
        patch.setattr(matching.flow, "_phase_one", lambda p: (_phase_one(p)[0], zeros))
        fallen_back = solve_part(part)
    full = _on_full_network(part, monkeypatch)
    assert _distance(part, fallen_back) == _distance(part, full)
    assert _level_units(part, fallen_back) == counts.tolist()


def test_a_face_flow_serving_other_level_counts_than_phase_one_is_refused() -> None:
    part, counts, potential, network = _largest_on_face(2)
    _, status = solve_on_face(network, potential, counts, part.pair_km, RESOLUTIONS_KM[0])
    assert status == "optimal"
    # One unit moved from the highest served level to the lowest one: the total is the
    # same, but the face only holds flows with phase one's own counts.
    served = np.flatnonzero(counts)
    wrong = counts.copy()
    wrong[served[-1]] -= 1
    wrong[0] += 1
    assert wrong[0] != counts[0]
    _, status = solve_on_face(network, potential, wrong, part.pair_km, RESOLUTIONS_KM[0])
    assert status == "infeasible"


def test_distances_too_fine_for_the_solver_are_coarsened_on_the_face_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    part, counts, potential, network = _largest_on_face(3)
    # A unit of 1e-17 km puts the longest pair near 2**62 before OR-Tools scales it.
    too_fine = 1e-17
    assert float(part.pair_km.max()) / too_fine * (network.nodes + 1) > 2**62
    _, status = solve_on_face(network, potential, counts, part.pair_km, too_fine)
    assert status == "cost range"
    monkeypatch.setattr(matching.flow, "RESOLUTIONS_KM", (too_fine, 1e-16, 1e-15, *RESOLUTIONS_KM))
    flow = matching.flow._solve_on_face(part, network, potential, counts, too_fine)
    assert flow is not None
    assert flow.resolution_km == RESOLUTIONS_KM[0]
    assert _level_units(part, flow) == counts.tolist()


def test_a_part_of_many_levels_never_builds_the_network_with_a_node_per_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    part = max(_parts(0), key=lambda p: len(p.level_rank))
    expected = solve_part(part)

    def refuse(_: Part) -> None:
        raise AssertionError("the network with a node per level was built")

    monkeypatch.setattr(matching.flow, "_layout", refuse)
    got = solve_part(part)
    assert got.pair_flow.tolist() == expected.pair_flow.tolist()
    assert got.level_flow.tolist() == expected.level_flow.tolist()


def test_each_piece_of_the_face_is_one_potential_with_a_sink_of_its_own() -> None:
    _, counts, potential, network = _largest_on_face(4)
    reduced = network.costs + potential[network.tails] - potential[network.heads]
    open_arcs = np.flatnonzero(reduced == 0)
    supplies = np.zeros(network.nodes, dtype=np.int64)
    supplies[0], supplies[1] = int(counts.sum()), -int(counts.sum())
    full = reduced < 0
    np.subtract.at(supplies, network.tails[full], network.capacities[full])
    np.add.at(supplies, network.heads[full], network.capacities[full])
    tails, heads, node_supply = matching.face._split_sink(network, potential, open_arcs, supplies)
    values = np.unique(potential)
    assert len(node_supply) == network.nodes + len(values)
    inner = heads < network.nodes
    # Arcs of cost 0 join nodes of one potential; level arcs end at their potential's sink.
    assert (potential[tails[inner]] == potential[heads[inner]]).all()
    sinks = heads[~inner] - network.nodes
    assert (values[sinks] == potential[tails[~inner]]).all()
    assert len(set(potential[tails[~inner]].tolist())) > 1
    # Nothing is lost or made: each potential's sink takes what its nodes are left with, and
    # the sink of the network keeps nothing.
    assert int(node_supply.sum()) == 0
    assert node_supply[1] == 0
    for value in values.tolist():
        members = np.flatnonzero(potential == value)
        members = members[members > 1]
        sink = network.nodes + int(np.searchsorted(values, value))
        if value == potential[0]:
            assert node_supply[sink] == 0
            assert int(node_supply[members].sum()) + node_supply[0] == 0
        else:
            assert int(node_supply[members].sum()) == -node_supply[sink]


def test_small_pieces_are_solved_together_and_every_arc_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    piece_of_arc = np.array([2, 0, 2, 5, 0, 2, 3, 3, 3, 3, 5])  # pieces 1 and 4 have no arc
    monkeypatch.setattr(matching.face, "_BATCH_ARCS", 3)
    batches = matching.face._batches(piece_of_arc, 6)
    # Pieces in order: 0 (2 arcs) and 2 (3) make 5 >= 3; 3 (4) alone; 5 (2) left over.
    assert [sorted(piece_of_arc[b].tolist()) for b in batches] == [
        [0, 0, 2, 2, 2],
        [3, 3, 3, 3],
        [5, 5],
    ]
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(piece_of_arc)))


@pytest.mark.parametrize("batch_arcs", [1, 10**9])
def test_the_face_solved_piece_by_piece_or_all_at_once_gives_the_same_distance(
    batch_arcs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    part, counts, potential, network = _largest_on_face(5)
    expected = solve_part(part)
    monkeypatch.setattr(matching.face, "_BATCH_ARCS", batch_arcs)
    flows, status = solve_on_face(network, potential, counts, part.pair_km, RESOLUTIONS_KM[0])
    assert status == "optimal"
    got = PartFlow(
        pair_flow=flows[network.pairs],
        level_flow=flows[network.levels],
        resolution_km=RESOLUTIONS_KM[0],
    )
    assert _distance(part, got) == _distance(part, expected)
    assert _level_units(part, got) == counts.tolist()


def test_pieces_of_one_arc_each_close_a_batch_once_it_is_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(matching.face, "_BATCH_ARCS", 2)
    batches = matching.face._batches(np.array([3, 2, 1, 0, 4]), 5)
    assert [b.tolist() for b in batches] == [[3, 2], [1, 0], [4]]


def test_a_balanced_piece_the_solver_finds_no_flow_for_is_infeasible() -> None:
    # Potentials 0: the level arc (2 units) is fixed full, the pair arc carries 1 at most.
    network = hand_network([2], [(0, 0, 1)], [(0, 0, 2)])
    zeros = np.zeros(network.nodes, dtype=np.int64)
    _, status = solve_on_face(network, zeros, np.array([2]), np.array([1.0]), 1e-9)
    assert status == "infeasible"


def test_a_piece_without_arcs_left_with_units_is_infeasible_even_if_the_counts_add_up() -> None:
    # Source, sink, offer, B (level 0, reached by the offer), D (level 1, reached by none).
    # With these potentials the pair arc is fixed full and B's level arc left out: B keeps
    # a unit it cannot pass on. D's level arc is fixed full with nothing coming in. Every
    # piece with arcs is balanced and the level counts add up, but no flow does that.
    network = hand_network([1], [(0, 0, 1)], [(0, 0, 1), (1, 1, 1)])
    potential = np.array([0, 0, 0, 2, 1])
    _, status = solve_on_face(network, potential, np.array([0, 1]), np.array([1.0]), 1e-9)
    assert status == "infeasible"
