"""Phase two on the optimal face of phase one: the distance solve without the level nodes.

Phase two must find, among the flows that serve exactly c_t units at every level t (the
max-weight flows), one of least distance. ``flow.solve_part`` writes that with a node per
level and an arc per (demand node, level) into it; with coal counted by the bag that is
millions of arcs. Linear programming says the same more cheaply:

* phase one, as a min-cost flow in which a unit of level t gains t + 1, has an optimal
  dual: node potentials pi, equal at the source and the sink, that ``matching.cuts``
  reads off its nested minimum cuts;
* a flow is optimal for phase one exactly when it fits those potentials (complementary
  slackness): nothing on an arc of positive reduced cost ``cost + pi(tail) - pi(head)``,
  full capacity on an arc of negative reduced cost, anything on an arc of reduced cost 0;
* so phase two is a min-cost flow on the arcs of reduced cost 0, with the arcs of negative
  reduced cost fixed at capacity (as supplies of their ends) and the others left out.

A demand node's levels have distinct gains, so at most one of them keeps reduced cost 0:
the levels vanish from phase two, and so do the pair arcs no max-weight flow uses.

Phase one runs on the demand nodes merged by neighbourhood (``flow._merge_neighbourhoods``);
a member node takes its class's potential. If that or anything else were wrong, the
restricted network would have no flow of the right counts, and "infeasible" sends the
caller back to the full network: a flow found here fits the potentials, which proves it a
max-weight flow (``matching.cuts``), and every max-weight flow fits them, so none of least
distance is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from matching.network import Part
from matching.sums import int_bincount

__all__ = ("Direct", "direct", "solve_on_face")

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
