"""Phase one by nested minimum cuts: every level's count and optimal potentials, from
about log2(levels) maximum flows.

With only the levels >= t open, let S_t be the smallest source side of a minimum cut.
Opening more levels only adds capacity into the sink, so S_t shrinks as t falls: each
node v has a threshold tau(v), the least t with v in S_t (``levels`` if none). Knowing
that tau(v) lies in [lo, hi], one maximum flow at t = (lo + hi) // 2 halves the range. A
node whose range lies wholly above or below another's is on a known side of the other's
cut (sink or source), so the cuts of every range are found in one maximum flow of the
ranges side by side, each node's arcs to other ranges turned into arcs from the source or
to the sink. The level arcs of a node collapse into one arc to the sink, so the network is
the part's without its millions of level arcs.

From the thresholds, with ``direct``'s costs (a unit of level t gains t + 1):

* F(t), the maximum flow with the levels >= t open, is the capacity of the cut S_t, and
  c_t = F(t) - F(t + 1);
* pi(v) = tau(v) (source and sink 0) are optimal potentials of the rank-cost flow. The
  reduced cost of an arc u -> v is tau(u) - tau(v), the number of t at which it crosses
  from S_t to the sink's side; a level arc's is tau(v) - 1 - t, minus the number of t at
  which it is open and crosses. With pi(source) = pi(sink), the cost of any flow is the
  sum of its reduced costs, at least the sum over arcs of negative reduced cost of that
  times the capacity: minus the sum over t of the cut capacities, which is minus the sum
  of F(t), the cost of the matroid greedy's flow. So the bound is met and the potentials
  are optimal: every max-weight flow fits them (``face.solve_on_face``), and a flow that
  fits them is a max-weight flow.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from ortools.graph.python import max_flow

from matching.face import Direct
from matching.sums import int_bincount

__all__ = ("CutError", "threshold_cuts")

IntArray = npt.NDArray[np.int64]


class CutError(RuntimeError):
    """OR-Tools gave up on a maximum flow the engine built (a bug, never bad input)."""


def threshold_cuts(network: Direct) -> tuple[IntArray, IntArray]:
    """(c_t by level, rank ascending; optimal potentials of every node of ``network``)."""
    pi = _thresholds(network)
    pi[[0, 1]] = 0
    levels = network.level_total
    first_level = network.levels.start
    tails, heads = network.tails[:first_level], network.heads[:first_level]
    capacities = network.capacities[:first_level]
    # F(t) by differences: an arc counts from tau(tail) until tau(head), a level arc from
    # tau(tail) to its level.
    crossing = pi[tails] < pi[heads]
    level_tail = network.tails[network.levels]
    open_level = pi[level_tail] <= network.level_of_arc
    level_capacity = network.capacities[network.levels][open_level]
    starts = np.concatenate([pi[tails][crossing], pi[level_tail][open_level]])
    stops = np.concatenate([pi[heads][crossing], network.level_of_arc[open_level] + 1])
    amounts = np.concatenate([capacities[crossing], level_capacity])
    change = int_bincount(starts, amounts, levels + 1) - int_bincount(stops, amounts, levels + 1)
    most = np.cumsum(change)
    counts: IntArray = most[:-1] - most[1:]
    return counts, pi


def _thresholds(network: Direct) -> IntArray:
    """tau(v) of every node (source -1, sink levels + 1), by halving each node's range."""
    nodes, levels = network.nodes, network.level_total
    first_level = network.levels.start
    tails, heads = network.tails[:first_level], network.heads[:first_level]
    capacities = network.capacities[:first_level]
    level_tail = network.tails[network.levels]
    level_of_arc = network.level_of_arc
    level_capacity = network.capacities[network.levels]
    lo = np.zeros(nodes, dtype=np.int64)
    hi = np.full(nodes, levels, dtype=np.int64)
    lo[0] = hi[0] = -1
    lo[1] = hi[1] = levels + 1
    while True:
        active = lo < hi
        count = int(active.sum())
        if count == 0:
            return lo
        middle = (lo + hi) // 2
        ids = np.full(nodes, -1, dtype=np.int64)
        ids[active] = 2 + np.arange(count)
        tail_on, head_on = active[tails], active[heads]
        inner = tail_on & head_on & (lo[tails] == lo[heads])
        # A node outside a range lies wholly below it (source side) or above (sink side).
        to_sink = tail_on & ~inner & (lo[heads] > hi[tails])
        from_source = head_on & ~inner & (hi[tails] < lo[heads])
        open_level = active[level_tail] & (level_of_arc >= middle[level_tail])
        into_sink = int_bincount(
            np.concatenate([tails[to_sink], level_tail[open_level]]),
            np.concatenate([capacities[to_sink], level_capacity[open_level]]),
            nodes,
        )
        out_of_source = int_bincount(heads[from_source], capacities[from_source], nodes)
        sinking = np.flatnonzero(into_sink > 0)
        sourced = np.flatnonzero(out_of_source > 0)
        # With an arc source -> sink of no capacity, both ends exist even with no other arc.
        pieces = [
            (np.zeros(1, np.int64), np.ones(1, np.int64), np.zeros(1, np.int64)),
            (ids[tails[inner]], ids[heads[inner]], capacities[inner]),
            (np.zeros(len(sourced), np.int64), ids[sourced], out_of_source[sourced]),
            (ids[sinking], np.ones(len(sinking), np.int64), into_sink[sinking]),
        ]
        solver = max_flow.SimpleMaxFlow()
        solver.add_arcs_with_capacity(
            *(np.concatenate([piece[i] for piece in pieces]) for i in range(3))
        )
        status = solver.solve(0, 1)
        if status != solver.OPTIMAL:
            raise CutError(f"max flow ended with status {status}")
        side = np.zeros(count + 2, dtype=np.bool_)
        side[np.asarray(solver.get_source_side_min_cut(), dtype=np.int64)] = True
        in_source = np.zeros(nodes, dtype=np.bool_)
        in_source[active] = side[ids[active]]
        hi = np.where(active & in_source, middle, hi)
        lo = np.where(active & ~in_source, middle + 1, lo)
