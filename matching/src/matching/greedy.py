"""A fast feasible answer and a proven bound on how far it can be from the optimum.

Greedy: highest priority first, nearest offer first. Bound: per part, the best units the
part could possibly serve, ignoring which offer reaches whom beyond two facts: a part
cannot serve more units than its offers hold, and a demand node cannot receive more than
the offers it reaches hold. The exact optimum never exceeds this bound.
"""

from __future__ import annotations

import numpy as np

from matching.flow import PartFlow
from matching.network import Part
from matching.sums import exact_dot

__all__ = ("greedy_part", "weight_bound", "weight_of")


def greedy_part(part: Part) -> PartFlow:
    """Serve units in priority order, each from the nearest offer with stock left."""
    remaining = part.offer_supply.tolist()
    chain_end = _chain_ends(part)
    by_demand = np.lexsort((part.pair_offer, part.pair_km, part.pair_demand))
    starts = np.searchsorted(part.pair_demand[by_demand], np.arange(len(part.demand_quantity) + 1))
    arc_order = by_demand.tolist()
    arc_start = starts.tolist()
    arc_offer = part.pair_offer.tolist()
    pair_flow = [0] * len(arc_offer)
    level_flow = [0] * len(part.level_rank)
    items = np.lexsort((part.level_demand, -part.level_rank)).tolist()
    level_demand = part.level_demand.tolist()
    level_count = part.level_count.tolist()

    def first_with_stock(position: int, end: int) -> int:
        while position < end and remaining[position] == 0:
            position += 1
        return position

    for item in items:
        wanted = level_count[item]
        demand = level_demand[item]
        for arc in arc_order[arc_start[demand] : arc_start[demand + 1]]:
            end = chain_end[arc_offer[arc]]
            position = first_with_stock(arc_offer[arc], end)
            while wanted and position < end:
                take = min(wanted, remaining[position])
                remaining[position] -= take
                pair_flow[arc] += take
                level_flow[item] += take
                wanted -= take
                position = first_with_stock(position, end)
            if not wanted:
                break
    return PartFlow(
        pair_flow=np.asarray(pair_flow, dtype=np.int64),
        level_flow=np.asarray(level_flow, dtype=np.int64),
        resolution_km=0.0,
    )


def _chain_ends(part: Part) -> list[int]:
    """For each position, one past the last position of its chain."""
    n = len(part.offer_supply)
    ends = np.full(n, n, dtype=np.int64)
    last = np.setdiff1d(np.arange(n), part.chain_tail - 1)  # positions with no successor
    ends_of_last = last + 1
    chain_of = np.searchsorted(last, np.arange(n))
    ends[:] = ends_of_last[chain_of]
    return [int(e) for e in ends]


def weight_of(part: Part, flow: PartFlow) -> float:
    """The weighted units a flow of ``part`` delivers (correctly rounded)."""
    return exact_dot(part.level_weight, flow.level_flow)


def weight_bound(part: Part) -> float:
    """A proven upper bound on the weighted units of any feasible flow of ``part``."""
    chain_end = np.asarray(_chain_ends(part))
    cumulative = np.concatenate([[0], np.cumsum(part.offer_supply)])
    suffix = cumulative[chain_end] - cumulative[:-1]
    reach = np.bincount(
        part.pair_demand,
        weights=suffix[part.pair_offer].astype(np.float64),
        minlength=len(part.demand_quantity),
    )
    cap = np.minimum(part.demand_quantity, reach).astype(np.int64)
    # Levels of a node come highest weight first: each takes what the node's cap leaves.
    count = part.level_count
    before = np.cumsum(count) - count
    node_start = np.searchsorted(part.level_demand, np.arange(len(cap)))
    before -= before[np.minimum(node_start, max(len(count) - 1, 0))][part.level_demand]
    take = np.clip(cap[part.level_demand] - before, 0, count)
    # Then the best units overall, up to the part's supply.
    order = np.argsort(-part.level_weight, kind="stable")
    taken = take[order]
    left = int(part.offer_supply.sum())
    used = np.clip(left - (np.cumsum(taken) - taken), 0, taken)
    return exact_dot(part.level_weight[order], used)
