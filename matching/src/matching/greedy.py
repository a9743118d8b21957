"""A fast feasible answer and a proven bound on how far it can be from the optimum.

Greedy: highest priority first, nearest offer first. Bound: per part, the best units the
part could possibly serve, ignoring which offer reaches whom beyond two facts: a part
cannot serve more units than its offers hold, and a demand node cannot receive more than
the offers it reaches hold. The exact optimum never exceeds this bound.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matching.flow import PartFlow
from matching.network import Part
from matching.sums import exact_dot, int_bincount, unique_inverse

IntArray = npt.NDArray[np.int64]

__all__ = ("GREEDY_BANDS", "greedy_part", "weight_bound", "weight_of")


GREEDY_BANDS = 32
"""The greedy serves at most this many bands of priority levels one after the other;
with more levels, neighbouring levels share a band (higher ones first within it)."""


def greedy_part(part: Part) -> PartFlow:
    """Serve units highest priority first, each demand from its nearest offers with stock.

    Array work, in rounds: within one band of priority levels, every demand still wanting
    units claims its nearest chain entry not yet tried; claims on one chain are granted
    from the farthest entry down as far as the chain's stock allows (see :func:`_grant`),
    the higher level first between claims on the same entry at the same distance.
    """
    n_positions = len(part.offer_supply)
    chain = _chain_of(part)
    by_demand = np.lexsort((part.pair_offer, part.pair_km, part.pair_demand))
    arc_start = np.searchsorted(
        part.pair_demand[by_demand], np.arange(len(part.demand_quantity) + 1)
    )
    entry_flow = np.zeros(n_positions, dtype=np.int64)
    pair_flow = np.zeros(len(part.pair_offer), dtype=np.int64)
    level_flow = np.zeros(len(part.level_rank), dtype=np.int64)
    # Claims are granted by chain, entry from the farthest down, then distance (ties by arc):
    # one integer key per arc when it fits in int64.
    n_arcs = len(part.pair_offer)
    km_rank = np.empty(n_arcs, dtype=np.int64)
    km_rank[np.argsort(part.pair_km, kind="stable")] = np.arange(n_arcs)
    ranks = int(part.level_rank.max(initial=0)) + 1
    mirror = _mirror(part, chain)
    combined = (n_positions + 1) * (n_arcs + 1) < 2**62
    for items in _bands(part.level_rank):
        # The levels of one node in a band claim the same arcs round by round, the higher
        # level first: one claim per node, shared out to its levels at the end.
        key = part.level_demand[items] * ranks - part.level_rank[items]
        if np.any(key[1:] <= key[:-1]):  # a part's levels come node by node, highest first
            items = items[np.argsort(key)]
        node = part.level_demand[items]
        head = np.ones(len(items), dtype=np.bool_)
        head[1:] = node[1:] != node[:-1]
        heads = np.flatnonzero(head)
        want = np.add.reduceat(part.level_count[items], heads) if len(heads) else heads
        got = np.zeros(len(heads), dtype=np.int64)
        pointer = arc_start[node[heads]]
        end = arc_start[node[heads] + 1]
        active = np.flatnonzero((pointer < end) & (want > 0))
        while len(active):
            arcs = by_demand[pointer[active]]
            entries = part.pair_offer[arcs]
            slack = _slack(part, chain, entry_flow)[entries]
            if combined:
                order = np.argsort(mirror[entries] * n_arcs + km_rank[arcs])
            else:
                order = np.lexsort((km_rank[arcs], mirror[entries]))
            granted = np.empty(len(active), dtype=np.int64)
            granted[order] = _grant(chain[entries][order], slack[order], want[active][order])
            np.add.at(entry_flow, entries, granted)
            pair_flow[arcs] += granted  # one claim per node: no arc twice in a round
            got[active] += granted
            want[active] -= granted
            pointer[active] += 1
            active = active[(want[active] > 0) & (pointer[active] < end[active])]
        # Each level takes what its node got, the highest level first.
        count = part.level_count[items]
        claim = np.cumsum(head) - 1
        before = _segment_cumsum(count, claim) - count
        level_flow[items] = np.clip(got[claim] - before, 0, count)
    return PartFlow(pair_flow=pair_flow, level_flow=level_flow, resolution_km=0.0)


def _mirror(part: Part, chain: IntArray) -> IntArray:
    """Positions renumbered so that ascending order is chain ascending, then position
    descending within the chain (chains are contiguous runs of positions)."""
    n = len(chain)
    starts = np.flatnonzero(np.concatenate([[True], chain[1:] != chain[:-1]])) if n else chain
    ends = np.append(starts[1:], n)
    mirror: IntArray = starts[chain] + ends[chain] - 1 - np.arange(n)
    return mirror


def _bands(level_rank: IntArray) -> list[IntArray]:
    """Level items in bands of neighbouring ranks, the highest band first."""
    distinct = np.flatnonzero(np.bincount(level_rank))[::-1]  # ranks are small integers
    size = max(1, -(-len(distinct) // GREEDY_BANDS))
    band_of_rank = np.zeros(int(distinct.max(initial=0)) + 1, dtype=np.int64)
    band_of_rank[distinct] = np.arange(len(distinct)) // size
    band = band_of_rank[level_rank].astype(np.int16)  # GREEDY_BANDS fit: a radix sort
    order = np.argsort(band, kind="stable")
    bounds = np.flatnonzero(np.diff(band[order])) + 1
    return np.split(order, bounds) if len(order) else []


def _chain_of(part: Part) -> IntArray:
    """The chain of each position (positions of a chain are consecutive)."""
    starts = np.ones(len(part.offer_supply), dtype=np.bool_)
    starts[part.chain_head + 1] = False
    chain: IntArray = np.cumsum(starts) - 1
    return chain


def _segment_cumsum(values: IntArray, segment: IntArray) -> IntArray:
    """Running sums restarting at each new segment (segments consecutive)."""
    total = np.cumsum(values)
    first = np.ones(len(values), dtype=np.bool_)
    first[1:] = segment[1:] != segment[:-1]
    base = (total - values)[np.flatnonzero(first)]
    result: IntArray = total - base[np.cumsum(first) - 1]
    return result


def _segment_cummin(values: IntArray, segment: IntArray) -> IntArray:
    """Running minima restarting at each new segment (segment ids ascending)."""
    if len(values) == 0:
        return values
    spread = int(values.max()) - int(values.min()) + 1
    if spread * (int(segment.max()) + 1) < 2**62:
        shift = segment * spread
        result: IntArray = np.minimum.accumulate(values - shift) + shift
        return result
    out = values.copy()
    bounds = np.flatnonzero(np.diff(segment)) + 1
    for piece in np.split(np.arange(len(values)), bounds):
        out[piece] = np.minimum.accumulate(values[piece])
    return out


def _slack(part: Part, chain: IntArray, entry_flow: IntArray) -> IntArray:
    """Units more that may enter each position: the least, over it and every position
    below it in its chain, of the stock at or above that position minus what already
    enters at or above it."""
    free = part.offer_supply - entry_flow
    above = _segment_cumsum(free[::-1], chain[::-1])[::-1]
    return _segment_cummin(above, chain)


def _grant(chain: IntArray, slack: IntArray, want: IntArray) -> IntArray:
    """Units granted to claims sorted by chain, then entry from the farthest down.

    Claim i gets C_i - C_(i-1) with C_i = min(C_(i-1) + want_i, slack_i): as much as it
    wants while the stock reachable from its entry lasts. Slack never falls along a
    chain in this order, so C_i = W_i + min(0, min over j <= i of (slack_j - W_j)), W the
    running sum of wants.
    """
    wanted = _segment_cumsum(want, chain)
    served = wanted + np.minimum(0, _segment_cummin(slack - wanted, chain))
    previous = np.zeros(len(served), dtype=np.int64)
    same = np.zeros(len(served), dtype=np.bool_)
    same[1:] = chain[1:] == chain[:-1]
    previous[1:] = np.where(same[1:], served[:-1], 0)
    granted: IntArray = served - previous
    return granted


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
    reach = int_bincount(part.pair_demand, suffix[part.pair_offer], len(part.demand_quantity))
    cap = np.minimum(part.demand_quantity, reach).astype(np.int64)
    # Levels of a node come highest weight first: each takes what the node's cap leaves.
    count = part.level_count
    before = np.cumsum(count) - count
    node_start = np.searchsorted(part.level_demand, np.arange(len(cap)))
    before -= before[np.minimum(node_start, max(len(count) - 1, 0))][part.level_demand]
    take = np.clip(cap[part.level_demand] - before, 0, count)
    # Then the best units overall, up to the part's supply (units of one weight together).
    weights, weight_of = unique_inverse(part.level_weight)
    taken = int_bincount(weight_of, take, len(weights))[::-1]
    left = int(part.offer_supply.sum())
    used = np.clip(left - (np.cumsum(taken) - taken), 0, taken)
    return exact_dot(weights[::-1], used)
