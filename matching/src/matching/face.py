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
the levels vanish from phase two, and so do the pair arcs no max-weight flow uses. An arc
of cost 0 keeps reduced cost 0 only between nodes of one potential, so with a sink of its
own for each potential, the nodes of one potential are a problem apart (``_split_sink``),
and each connected piece is solved alone, small ones together: on the 1M instance's
largest part, 19 s instead of 41 s for the same least distance.

Phase one runs on the demand nodes merged by neighbourhood (``flow._merge_neighbourhoods``);
a member node takes its class's potential. If that or anything else were wrong, the
restricted network would have no flow of the right counts, and "infeasible" sends the
caller back to the full network: a flow found here fits the potentials, which proves it a
max-weight flow (``matching.cuts``), and every max-weight flow fits them, so none of least
distance is lost.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

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
    tails, heads, node_supply = _split_sink(network, potential, open_arcs, supplies)
    n_pieces, piece = connected_components(
        coo_matrix(
            (np.ones(len(tails)), (tails, heads)), shape=(len(node_supply), len(node_supply))
        ),
        directed=False,
    )
    flows = np.where(full, network.capacities, 0)
    # A piece whose supplies do not add up to 0 (one without arcs, say) has no flow.
    if np.any(int_bincount(piece, node_supply, n_pieces) != 0):
        return flows, "infeasible"
    open_flow = np.zeros(len(open_arcs), dtype=np.int64)
    for arcs in _batches(piece[tails], n_pieces):
        nodes, local = np.unique(np.concatenate([tails[arcs], heads[arcs]]), return_inverse=True)
        solver = min_cost_flow.SimpleMinCostFlow()
        handles = solver.add_arcs_with_capacity_and_unit_cost(
            local[: len(arcs)].astype(np.int32),
            local[len(arcs) :].astype(np.int32),
            network.capacities[open_arcs[arcs]],
            distance[open_arcs[arcs]],
        )
        solver.set_nodes_supplies(np.arange(len(nodes), dtype=np.int32), node_supply[nodes])
        status = solver.solve()
        if status == solver.BAD_COST_RANGE:
            return flows, "cost range"
        if status != solver.OPTIMAL:
            return flows, "infeasible"
        open_flow[arcs] = np.asarray(solver.flows(handles), dtype=np.int64)
    flows[open_arcs] = open_flow
    got = int_bincount(network.level_of_arc, flows[network.levels], network.level_total)
    if not np.array_equal(got, counts):
        return flows, "infeasible"
    return flows, "optimal"


def _split_sink(
    network: Direct, potential: IntArray, open_arcs: IntArray, supplies: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """The open arcs (tails, heads) with the sink split by potential, and every node's supply.

    An open arc of cost 0 joins two nodes of one potential, and an open level arc ends at
    the sink: with a sink of its own for the level arcs of each potential, the nodes of
    one potential are a problem apart. What that sink takes is fixed: all that the fixed
    arcs leave on the nodes of its potential (the source's, with it, has no open level arc).
    The sink itself keeps what is left, 0 when the potentials fit a flow of the counts.
    """
    tails, heads = network.tails[open_arcs], network.heads[open_arcs].copy()
    values, group = np.unique(potential, return_inverse=True)
    into_sink = heads == 1
    heads[into_sink] = network.nodes + group[tails[into_sink]]
    node_supply = np.concatenate([supplies, np.zeros(len(values), dtype=np.int64)])
    totals = int_bincount(group[2:], supplies[2:], len(values))
    node_supply[network.nodes :] = -totals
    node_supply[1] += int(totals.sum())
    # The source's group is balanced through the source itself, not through a sink.
    source_group = network.nodes + int(group[0])
    node_supply[1] += int(node_supply[source_group])
    node_supply[source_group] = 0
    return tails, heads, node_supply


_BATCH_ARCS = 20_000
"""Small pieces are solved together, up to about this many arcs in one solve."""


def _batches(piece_of_arc: IntArray, n_pieces: int) -> list[IntArray]:
    """The open arcs by piece, small pieces gathered up to ``_BATCH_ARCS`` arcs a solve."""
    order = np.argsort(piece_of_arc, kind="stable")
    bounds = np.searchsorted(piece_of_arc[order], np.arange(n_pieces + 1)).tolist()
    batches: list[IntArray] = []
    pending: list[IntArray] = []
    size = 0
    for start, stop in itertools.pairwise(bounds):
        if stop == start:
            continue
        pending.append(order[start:stop])
        size += stop - start
        if size >= _BATCH_ARCS:
            batches.append(np.concatenate(pending))
            pending, size = [], 0
    if pending:
        batches.append(np.concatenate(pending))
    return batches
