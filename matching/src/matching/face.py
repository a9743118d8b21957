"""Phase two on the optimal face of phase one: the distance solve without the level nodes.

Phase two must find, among the flows that serve exactly c_t units at every level t (the
max-weight flows), one of least distance. ``flow.solve_part`` writes that with a node per
level and an arc per (demand node, level) into it; with coal counted by the bag that is
millions of arcs. Linear programming says the same more cheaply:

* phase one, as a min-cost flow in which a unit of level t gains t + 1 (``ranked_flow``),
  has an optimal dual: node potentials pi with a non-negative reduced cost
  ``cost + pi(tail) - pi(head)`` on every arc of its residual network;
* a flow is optimal for phase one exactly when it fits those potentials (complementary
  slackness): nothing on an arc of positive reduced cost, full capacity on an arc of
  negative reduced cost, anything on an arc of reduced cost 0;
* so phase two is a min-cost flow on the arcs of reduced cost 0, with the arcs of negative
  reduced cost fixed at capacity (as supplies of their ends) and the others left out.

A demand node's levels have distinct gains, so at most one of them keeps reduced cost 0:
the levels vanish from phase two, and so do the pair arcs no max-weight flow uses.

The potentials come from phase one's flow (OR-Tools does not give its duals): they are
the distances from a root joined to every node at cost 0, in the residual network seen as
a circulation (an arc sink -> source of cost 0). Every arc of cost other than 0 has the
sink at one end, so a shortest path passes the sink at most once: pi(sink) is the least
cost of an open level arc (or 0), and any other node is at ``min(0, pi(sink) + m)``, m the
least cost of a way out of the sink (to the source at 0, or back along a level arc with
flow) from which the node is reached at cost 0, one Dijkstra with the costs of those ways
out as the root's arcs. The potentials are checked against every residual arc before use.

Phase one runs on the demand nodes merged by neighbourhood (``flow._merge_neighbourhoods``);
a member node takes its class's potential. If that or anything else were wrong, the
restricted network would have no flow of the right counts, and ``None`` sends the caller
back to the full network: a flow found here fits the potentials, which proves it a
max-weight flow, and every max-weight flow fits them, so none of least distance is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from matching.network import Part
from matching.sums import int_bincount

__all__ = ("Direct", "direct", "potentials", "ranked_flow", "solve_on_face")

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, kw_only=True)
class Direct:
    """A part as one network without level nodes: source 0, sink 1, offers, demand nodes.

    Arcs in order: source -> offer, chain, pair, then demand node -> sink per level arc
    with phase one's cost -(level + 1), the level counted from 0 for the lowest rank.
    """

    tails: IntArray
    heads: IntArray
    capacities: IntArray
    costs: IntArray
    nodes: int
    demand0: int
    pairs: slice
    levels: slice
    level_of_arc: IntArray
    level_total: int


def direct(part: Part) -> Direct:
    """The part's direct network, its levels numbered from 0 for the lowest rank."""
    distinct, level_of_arc = np.unique(part.level_rank, return_inverse=True)
    n_offers, n_demand = len(part.offer_supply), len(part.demand_quantity)
    offer0, demand0 = 2, 2 + len(part.offer_supply)
    n_levels = len(part.level_demand)
    pieces = [
        (np.zeros(n_offers), offer0 + np.arange(n_offers), part.offer_supply),
        (offer0 + part.chain_tail, offer0 + part.chain_head, part.chain_cap),
        (offer0 + part.pair_offer, demand0 + part.pair_demand, part.pair_cap),
        (demand0 + part.level_demand, np.ones(n_levels), part.level_count),
    ]
    tails, heads, capacities = (
        np.concatenate([piece[i] for piece in pieces]).astype(np.int64) for i in range(3)
    )
    first_pair = n_offers + len(part.chain_tail)
    first_level = first_pair + len(part.pair_offer)
    costs = np.zeros_like(tails)
    costs[first_level:] = -(level_of_arc + 1)
    return Direct(
        tails=tails,
        heads=heads,
        capacities=capacities,
        costs=costs,
        nodes=demand0 + n_demand,
        demand0=demand0,
        pairs=slice(first_pair, first_level),
        levels=slice(first_level, len(tails)),
        level_of_arc=level_of_arc,
        level_total=len(distinct),
    )


def ranked_flow(network: Direct, supply: int) -> tuple[IntArray, IntArray] | None:
    """Phase one: (c_t by level, the flow of every arc); None when costs are out of range.

    A maximum flow of least cost: a maximum-weight flow serves a basis of the matroid, so
    it is a maximum flow anyway. (As a circulation, with an arc sink -> source, OR-Tools
    took 9 s instead of 13 s on the 300k instance's coal part, but 119 s instead of 95 s on
    the 1M instance's largest.)
    """
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        network.tails.astype(np.int32),
        network.heads.astype(np.int32),
        network.capacities,
        network.costs,
    )
    solver.set_node_supply(0, supply)
    solver.set_node_supply(1, -supply)
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        return None
    flows = np.asarray(solver.flows(arcs), dtype=np.int64)
    counts = int_bincount(network.level_of_arc, flows[network.levels], network.level_total)
    return counts, flows


def potentials(network: Direct, flows: IntArray) -> IntArray | None:
    """Optimal node potentials of phase one from its optimal flow, checked; None if wrong."""
    tails, heads, costs = network.tails, network.heads, network.costs
    room = flows < network.capacities
    used = flows > 0
    levels = np.zeros(len(tails), dtype=np.bool_)
    levels[network.levels] = True
    # The sink: the cheapest open level arc into it, or 0.
    sink = int(min(0, costs[levels & room].min(initial=0)))
    # Ways out of the sink: to the source at 0, back along a level arc with flow at -cost
    # (the cheapest such arc of each demand node).
    root = network.nodes
    back = levels & used
    way = np.full(root, np.inf)
    way[0] = 0.0
    np.minimum.at(way, tails[back], -costs[back].astype(np.float64))
    way_node = np.flatnonzero(np.isfinite(way))
    way_cost = way[way_node]
    # Arcs of cost 0 of the residual network, each weighing 1: "reached at cost 0".
    zero = ~levels
    forward, backward = zero & room, zero & used
    unit = 2 * network.nodes + 3  # more than any count of hops (duplicate arcs add up)
    graph = csr_matrix(
        (
            np.concatenate([np.ones(int(forward.sum() + backward.sum())), unit * (way_cost + 1.0)]),
            (
                np.concatenate([tails[forward], heads[backward], np.full(len(way_node), root)]),
                np.concatenate([heads[forward], tails[backward], way_node]),
            ),
        ),
        shape=(root + 1, root + 1),
    )
    reach = dijkstra(graph, directed=True, indices=root)[:root]
    found = np.isfinite(reach)
    least = np.full(root, np.inf)
    least[found] = np.floor_divide(reach[found], unit) - 1
    potential = np.minimum(0.0, sink + least)
    potential[1] = sink
    pi: IntArray = potential.astype(np.int64)
    # Every residual arc (and both of the circulation's arc sink -> source) must hold.
    reduced = costs + pi[tails] - pi[heads]
    if np.any(reduced[room] < 0) or np.any(reduced[used] > 0) or pi[0] > pi[1]:
        return None
    if int(flows[: network.pairs.start].sum()) > 0 and pi[1] > pi[0]:
        return None
    return pi


def solve_on_face(
    network: Direct,
    potential: IntArray,
    counts: IntArray,
    pair_km: npt.NDArray[np.float64],
    resolution_km: float,
) -> tuple[IntArray, str]:
    """Phase two over the arcs the potentials leave open: (every arc's flow, status).

    The status is "optimal", "infeasible" (no max-weight flow fits: the caller solves on
    the full network) or "cost range" (try a coarser distance unit).
    """
    reduced = network.costs + potential[network.tails] - potential[network.heads]
    full = reduced < 0
    free = reduced == 0
    served = int(counts.sum())
    supplies = np.zeros(network.nodes, dtype=np.int64)
    supplies[0], supplies[1] = served, -served
    np.subtract.at(supplies, network.tails[full], network.capacities[full])
    np.add.at(supplies, network.heads[full], network.capacities[full])
    distance = np.zeros(len(network.tails), dtype=np.int64)
    distance[network.pairs] = np.rint(pair_km / resolution_km).astype(np.int64)
    open_arcs = np.flatnonzero(free)
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        network.tails[open_arcs].astype(np.int32),
        network.heads[open_arcs].astype(np.int32),
        network.capacities[open_arcs],
        distance[open_arcs],
    )
    # Every node, even one no open arc touches, so that its supply is checked too.
    solver.set_nodes_supplies(np.arange(network.nodes, dtype=np.int32), supplies)
    status = solver.solve()
    flows = np.where(full, network.capacities, 0)
    if status == solver.BAD_COST_RANGE:
        return flows, "cost range"
    if status != solver.OPTIMAL:
        return flows, "infeasible"
    flows[open_arcs] = np.asarray(solver.flows(arcs), dtype=np.int64)
    got = int_bincount(network.level_of_arc, flows[network.levels], network.level_total)
    if not np.array_equal(got, counts):
        return flows, "infeasible"
    return flows, "optimal"
