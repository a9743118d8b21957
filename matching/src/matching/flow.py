"""The exact solve of one part: two min-cost flows, integers only, nothing to overflow.

Why two phases are exact. The sets of demand units that can be served together are the
independent sets of a (transversal) matroid. For positive weights, a served set has
maximum weight exactly when, for every priority level t, it serves the largest possible
number of units of priority >= t; this depends on the order of the weights only. So

1. phase one finds c_t, the units served at each level t, from maximum flows: with only
   the levels of rank >= t open, the maximum flow F_t is the most units of priority >= t
   that can be served together, and c_t = F_t - F_(t+1) (the matroid greedy, highest
   level first). Every F_t comes from nested minimum cuts, about log2(levels) maximum
   flows in all (``matching.cuts``), which also give optimal potentials of phase one as
   a min-cost flow in which a unit of level t gains t + 1;
2. phase two fixes those counts (level t -> sink carries exactly c_t) and minimises the
   distance, in integer units of ``resolution_km``.

Every flow of phase two has the optimal weight, and among those the least rounded
distance. No big-M mixes the two objectives, so neither can overflow into the other.
When a part has one priority level only, a single max-flow-with-min-cost does both.
Otherwise phase two runs on phase one's optimal face, without the level nodes
(``matching.face``); the network above is the fallback.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from matching.cuts import CutError, threshold_cuts
from matching.face import Direct, direct, solve_on_face
from matching.network import Part
from matching.sums import int_bincount

__all__ = ("PartFlow", "choose_resolution", "solve_part")

IntArray = npt.NDArray[np.int64]

RESOLUTIONS_KM = (1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)
"""Candidate distance units for the tie-break, finest first (1 µm ... 1 km)."""

_COST_BUDGET = 2**55
"""Bound on (largest integer cost) x (nodes + 1). OR-Tools scales costs by nodes + 1 and
refuses above 2**62; the slack leaves room for its node potentials."""


class SolverError(RuntimeError):
    """OR-Tools gave up on a network the engine built (a bug, never bad input)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PartFlow:
    """The optimal flow of a part: units on each pair arc and on each level arc."""

    pair_flow: IntArray
    level_flow: IntArray
    resolution_km: float


def choose_resolution(max_km: float, nodes: int, finest_km: float = RESOLUTIONS_KM[0]) -> float:
    """The finest distance unit whose largest cost times ``nodes + 1`` fits the budget."""
    for resolution in RESOLUTIONS_KM:
        if resolution >= finest_km and max_km / resolution * (nodes + 1) <= _COST_BUDGET:
            return resolution
    return RESOLUTIONS_KM[-1]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Layout:
    """Node and arc numbering of a part's network."""

    tails: npt.NDArray[np.int32]
    heads: npt.NDArray[np.int32]
    capacities: IntArray
    pairs: slice
    demand_levels: slice
    level_sinks: slice


def _layout(part: Part) -> _Layout:
    source, sink = 0, 1
    n_offers, n_demand = len(part.offer_supply), len(part.demand_quantity)
    offer0 = 2
    demand0 = offer0 + n_offers
    distinct, level_of_arc = np.unique(part.level_rank, return_inverse=True)
    level0 = demand0 + n_demand
    levels = len(distinct)
    level_totals = int_bincount(level_of_arc.reshape(-1), part.level_count, levels)
    pieces = [
        (np.full(n_offers, source), offer0 + np.arange(n_offers), part.offer_supply),
        (offer0 + part.chain_tail, offer0 + part.chain_head, part.chain_cap),
        (offer0 + part.pair_offer, demand0 + part.pair_demand, part.pair_cap),
        (demand0 + part.level_demand, level0 + level_of_arc, part.level_count),
        (level0 + np.arange(levels), np.full(levels, sink), level_totals.astype(np.int64)),
    ]
    sizes = np.cumsum([0] + [len(p[0]) for p in pieces])
    return _Layout(
        tails=np.concatenate([p[0] for p in pieces]).astype(np.int32),
        heads=np.concatenate([p[1] for p in pieces]).astype(np.int32),
        capacities=np.concatenate([p[2] for p in pieces]).astype(np.int64),
        pairs=slice(int(sizes[2]), int(sizes[3])),
        demand_levels=slice(int(sizes[3]), int(sizes[4])),
        level_sinks=slice(int(sizes[4]), int(sizes[5])),
    )


def _min_cost_flow(
    layout: _Layout, capacities: IntArray, costs: IntArray, supply: int
) -> IntArray | None:
    """Max flow of least cost from node 0 to node 1; None when costs are out of range."""
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        layout.tails, layout.heads, capacities, costs
    )
    solver.set_node_supply(0, supply)
    solver.set_node_supply(1, -supply)
    status = solver.solve_max_flow_with_min_cost()
    if status == solver.BAD_COST_RANGE:
        return None
    if status != solver.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    return np.asarray(solver.flows(arcs), dtype=np.int64)


def _merge_neighbourhoods(part: Part, classes: IntArray | None = None) -> Part:
    """The part with demand nodes that reach exactly the same entries merged (phase one only).

    Which units can be served together does not depend on distances, and nodes with the
    same arcs are interchangeable: any flow of the merged network splits among the members
    (every member has every arc, and an arc into a chain never carries more than the stock
    it can reach). So the level counts are the same, on a network several times smaller.
    ``classes`` is ``_neighbourhood_classes(part)`` when the caller has it already.
    """
    class_of = _neighbourhood_classes(part) if classes is None else classes
    n_demand = len(part.demand_quantity)
    n_classes = int(class_of.max(initial=-1)) + 1
    if n_classes == n_demand:
        return part
    quantity = int_bincount(class_of, part.demand_quantity, n_classes)
    pair_key = np.unique(class_of[part.pair_demand] * len(part.offer_supply) + part.pair_offer)
    pair_demand, pair_offer = np.divmod(pair_key, len(part.offer_supply))
    ranks = int(part.level_rank.max()) + 1
    level_key, level_index = np.unique(
        class_of[part.level_demand] * ranks + (ranks - 1 - part.level_rank), return_inverse=True
    )
    return dataclasses.replace(
        part,
        demand_quantity=quantity.astype(np.int64),
        pair_offer=pair_offer,
        pair_demand=pair_demand,
        pair_cap=quantity.astype(np.int64)[pair_demand],
        pair_km=np.zeros(len(pair_key), dtype=np.float64),
        level_demand=level_key // ranks,
        level_rank=ranks - 1 - level_key % ranks,
        level_count=int_bincount(level_index.reshape(-1), part.level_count, len(level_key)),
        level_weight=np.zeros(len(level_key), dtype=np.float64),
    )


def _neighbourhood_classes(part: Part) -> IntArray:
    """Each demand node's class: nodes of one class reach exactly the same entries."""
    n_demand = len(part.demand_quantity)
    order = np.lexsort((part.pair_offer, part.pair_demand))
    entries = part.pair_offer[order].astype(np.int64)
    bounds = np.searchsorted(part.pair_demand[order], np.arange(n_demand + 1)).tolist()
    raw = entries.tobytes()
    classes: dict[bytes, int] = {}
    return np.fromiter(
        (
            classes.setdefault(raw[8 * a : 8 * b], len(classes))
            for a, b in itertools.pairwise(bounds)
        ),
        np.int64,
        n_demand,
    )


def level_counts(part: Part) -> IntArray:
    """c_t, the units served at each level (rank ascending) by every max-weight flow.

    Every max-weight flow serves the same count at every level, whatever order-preserving
    weights are used, since the served sets form a matroid: the counts come from the
    nested minimum cuts of ``matching.cuts``.
    """
    return _phase_one(part)[0]


def _phase_one(part: Part) -> tuple[IntArray, IntArray]:
    """c_t, and phase one's optimal potentials on the nodes of ``face.direct(part)`` (a
    member node takes its class's)."""
    classes = _neighbourhood_classes(part)
    merged = _merge_neighbourhoods(part, classes)
    network = direct(merged)
    try:
        counts, potential = threshold_cuts(network)
    except CutError as error:
        raise SolverError(str(error)) from error
    return counts, np.concatenate(
        [potential[: network.demand0], potential[network.demand0 + classes]]
    )


def solve_part(part: Part, finest_km: float = RESOLUTIONS_KM[0]) -> PartFlow:
    """The exact lexicographic optimum of one part."""
    supply = int(part.offer_supply.sum())
    network = direct(part)
    max_km = float(part.pair_km.max(initial=0.0))
    # The nodes of the network with a node per level (``_layout``), whichever is solved.
    resolution = choose_resolution(max_km, network.nodes + network.level_total, finest_km)
    counts = None
    if network.level_total > 1:
        counts, potential = _phase_one(part)
        on_face = _solve_on_face(part, network, potential, counts, resolution)
        if on_face is not None:
            return on_face
    layout = _layout(part)
    capacities = layout.capacities
    if counts is not None:
        capacities = capacities.copy()
        capacities[layout.level_sinks] = counts
        supply = int(counts.sum())
    while True:
        costs = np.zeros(len(layout.tails), dtype=np.int64)
        costs[layout.pairs] = np.rint(part.pair_km / resolution).astype(np.int64)
        flows = _min_cost_flow(layout, capacities, costs, supply)
        if flows is not None:
            break
        resolution = _coarser(resolution)
    return PartFlow(
        pair_flow=flows[layout.pairs],
        level_flow=flows[layout.demand_levels],
        resolution_km=resolution,
    )


def _solve_on_face(
    part: Part, network: Direct, potential: IntArray, counts: IntArray, resolution: float
) -> PartFlow | None:
    """Phase two on the arcs phase one's potentials leave open (``matching.face``)."""
    while True:
        flows, status = solve_on_face(network, potential, counts, part.pair_km, resolution)
        if status == "optimal":
            return PartFlow(
                pair_flow=flows[network.pairs],
                level_flow=flows[network.levels],
                resolution_km=resolution,
            )
        if status == "infeasible":
            return None
        resolution = _coarser(resolution)


def _coarser(resolution: float) -> float:
    """The distance unit a thousand times coarser, after OR-Tools refused the costs."""
    if resolution >= RESOLUTIONS_KM[-1]:
        raise SolverError("distance costs out of range even in whole km")
    return RESOLUTIONS_KM[min(RESOLUTIONS_KM.index(resolution) + 3, len(RESOLUTIONS_KM) - 1)]
