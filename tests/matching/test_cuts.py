"""Phase one by nested minimum cuts (``matching.cuts``): each node's threshold is where the
smallest source side of a minimum cut takes it in, the counts are those of the rank-cost
flow, the potentials are optimal for it, and it takes one maximum flow per halving."""

from __future__ import annotations

import dataclasses
import math
import types

import networkx as nx
import numpy as np
import pytest
from ortools.graph.python import max_flow
from tests.matching.networks import hand_network

import matching.cuts
from matching import Household, Need, Offer, Problem, problem_to_arrays
from matching.cuts import CutError, _thresholds, threshold_cuts
from matching.face import Direct, direct
from matching.flow import _merge_neighbourhoods
from matching.network import Part, build_network
from matching.reference import rank_cost_flow


def _bagged_parts(seed: int, households: int = 30) -> list[Part]:
    """Coal by the bag around two warehouses of two offers each (chains of two positions):
    each bag weighs a little less than the one before, dozens of levels in a part."""
    rng = np.random.default_rng(seed)
    offers = tuple(
        Offer(
            id=f"o{i}",
            kind="coal",
            quantity=int(rng.integers(0, 9)),
            lat=40.0 + 0.2 * (i // 2),
            lon=116.0,
            radius_km=(12.0, 30.0)[i % 2],
        )
        for i in range(4)
    )
    homes = tuple(
        Household(
            id=f"h{h}",
            lat=40.0 + float(rng.uniform(-0.2, 0.4)),
            lon=116.0 + float(rng.uniform(-0.2, 0.2)),
            needs=(
                Need(
                    kind="coal",
                    quantity=(bags := int(rng.integers(1, 5))),
                    weights=tuple(round(float(rng.uniform(1, 9)) * 0.9**j, 3) for j in range(bags)),
                ),
            ),
        )
        for h in range(households)
    )
    return list(build_network(problem_to_arrays(Problem(offers=offers, households=homes))).parts)


def _smallest_source_side(network: Direct, threshold: int) -> set[int]:
    """The nodes reached from the source in the residual network of a maximum flow with the
    levels >= ``threshold`` open, by networkx (parallel arcs added up)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(range(network.nodes))
    open_arcs = np.ones(len(network.tails), dtype=np.bool_)
    open_arcs[network.levels] = network.level_of_arc >= threshold
    for tail, head, capacity in zip(
        network.tails[open_arcs].tolist(),
        network.heads[open_arcs].tolist(),
        network.capacities[open_arcs].tolist(),
        strict=True,
    ):
        before = graph.get_edge_data(tail, head, {"capacity": 0})["capacity"]
        graph.add_edge(tail, head, capacity=before + capacity)
    _, flow = nx.maximum_flow(graph, 0, 1)
    residual = nx.DiGraph()
    for tail, head, data in graph.edges(data=True):
        if flow[tail][head] < data["capacity"]:
            residual.add_edge(tail, head)
        if flow[tail][head] > 0:
            residual.add_edge(head, tail)
    residual.add_node(0)
    return set(nx.descendants(residual, 0)) | {0}


@pytest.mark.parametrize("seed", range(5))
def test_each_threshold_is_where_the_smallest_minimum_cut_takes_the_node_in(seed: int) -> None:
    checked = 0
    for part in _bagged_parts(seed):
        network = direct(part)
        tau = _thresholds(network)
        assert tau[0] == -1
        assert tau[1] == network.level_total + 1
        for threshold in range(network.level_total):
            side = _smallest_source_side(network, threshold)
            for node in range(2, network.nodes):
                assert (node in side) == (tau[node] <= threshold), (node, threshold)
                checked += 1
    assert checked > 1000


@pytest.mark.parametrize("seed", range(5))
def test_counts_and_potentials_are_those_of_an_optimal_rank_cost_flow(seed: int) -> None:
    for part in _bagged_parts(seed):
        for network in (direct(part), direct(_merge_neighbourhoods(part))):
            counts, flows = rank_cost_flow(network, int(part.offer_supply.sum()))
            cut_counts, pi = threshold_cuts(network)
            assert cut_counts.tolist() == counts.tolist()
            assert pi[0] == pi[1] == 0
            assert pi.min() >= 0
            assert pi.max() <= network.level_total
            # Complementary slackness with that flow: room only on arcs of reduced cost
            # >= 0, flow only on arcs of reduced cost <= 0.
            reduced = network.costs + pi[network.tails] - pi[network.heads]
            assert reduced[flows < network.capacities].min(initial=0) >= 0
            assert reduced[flows > 0].max(initial=0) <= 0
            # The bound the potentials give is the optimal cost itself.
            bound = int((np.minimum(reduced, 0) * network.capacities).sum())
            assert bound == int((network.costs * flows).sum())


def test_thresholds_of_a_network_worked_by_hand() -> None:
    # One offer of 2 units; node A (level 1) and node B (level 0) of one unit each.
    # With both levels open both are served and the source's arc is full: the smallest
    # source side is the source alone. With level 1 only, A is served and the offer keeps
    # a unit, which still reaches B: the source side is {source, offer, B}.
    network = hand_network([2], [(0, 0, 1), (0, 1, 1)], [(0, 1, 1), (1, 0, 1)])
    counts, pi = threshold_cuts(network)
    assert pi.tolist() == [0, 0, 1, 2, 1]  # source, sink, offer, A, B
    assert counts.tolist() == [1, 1]
    # The same with one unit of stock: only A is served, at every threshold.
    counts, pi = threshold_cuts(hand_network([1], [(0, 0, 1), (0, 1, 1)], [(0, 1, 1), (1, 0, 1)]))
    assert pi.tolist() == [0, 0, 2, 2, 2]
    assert counts.tolist() == [0, 1]


def test_a_level_with_room_and_stock_to_spare_is_served_in_full_at_threshold_zero() -> None:
    # Three levels, stock for all and a unit to spare: the offer is always on the source
    # side, and every node too until its own level opens, then on the sink's.
    network = hand_network(
        [10], [(0, 0, 2), (0, 1, 3), (0, 2, 4)], [(0, 0, 2), (1, 1, 3), (2, 2, 4)]
    )
    counts, pi = threshold_cuts(network)
    assert counts.tolist() == [2, 3, 4]
    assert pi.tolist() == [0, 0, 0, 1, 2, 3]
    # Without the unit to spare, the source's arc is full while every level is open.
    network = dataclasses.replace(network, capacities=np.array([9, 2, 3, 4, 2, 3, 4]))
    counts, pi = threshold_cuts(network)
    assert counts.tolist() == [2, 3, 4]
    assert pi.tolist() == [0, 0, 1, 1, 2, 3]


def test_no_stock_serves_nothing_and_leaves_every_node_above_the_levels() -> None:
    network = hand_network([0, 0], [(0, 0, 3), (1, 1, 3)], [(0, 0, 3), (1, 2, 3)])
    counts, pi = threshold_cuts(network)
    assert counts.tolist() == [0, 0, 0]
    assert pi.tolist() == [0, 0, 3, 3, 3, 3]


def test_one_maximum_flow_per_halving_of_the_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []

    class Counted(max_flow.SimpleMaxFlow):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            made.append(1)

    monkeypatch.setattr(matching.cuts, "max_flow", types.SimpleNamespace(SimpleMaxFlow=Counted))
    for part in _bagged_parts(0):
        network = direct(part)
        made.clear()
        threshold_cuts(network)
        assert len(made) <= math.ceil(math.log2(network.level_total + 1))


def test_a_maximum_flow_the_solver_refuses_is_an_error() -> None:
    # More than int64 holds leaves the source: OR-Tools refuses, as a possible overflow.
    network = hand_network(
        [2**62, 2**62], [(0, 0, 2**62), (1, 1, 2**62)], [(0, 0, 2**62), (1, 0, 2**62)]
    )
    with pytest.raises(CutError, match=r"^max flow ended with status .*OVERFLOW"):
        threshold_cuts(network)


def test_capacities_past_two_to_the_53_reach_the_solver_exactly() -> None:
    # As float64, 2**53 + 1 units of stock would be 2**53: the offer would run out at
    # threshold 1, and B would never be on the source's side with a level of its own.
    network = hand_network([2**53 + 1], [(0, 0, 2**53), (0, 1, 1)], [(0, 1, 2**53), (1, 0, 1)])
    counts, pi = threshold_cuts(network)
    assert counts.tolist() == [1, 2**53]
    assert pi.tolist() == [0, 0, 1, 2, 1]


def test_a_top_level_only_a_node_without_pairs_has_is_served_by_none() -> None:
    # B (level 0) is reached by the offer's one unit; D (level 1) by nothing. No arc counts
    # at the top threshold: D is never on the source's side, and neither level's F reaches
    # past threshold 1.
    network = hand_network([1], [(0, 0, 1)], [(0, 0, 1), (1, 1, 1)])
    counts, pi = threshold_cuts(network)
    assert counts.tolist() == [1, 0]
    assert pi.tolist() == [0, 0, 1, 1, 2]
