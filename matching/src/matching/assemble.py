"""From part flows back to offers, households and units, each with its reason.

Everything up to the final rows is array work. Two decompositions are made, each by
overlaying two partitions of the same run of units (see :func:`_overlay`):

* which offer of a chain gives the units of each arc into the chain: arcs entering a
  chain, highest entry first, take the chain's stock from the largest radius down. The
  flow guarantees this is feasible: the arcs entering at position p or above carry at
  most the supply at p or above (the chain arc into p is capped at exactly that);
* which units of a demand node's needs those units serve: the nearest stock goes to the
  highest-priority units, in a fixed order (weight, then need, then unit).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.flow import PartFlow
from matching.model import Assignment, Problem, Totals, Unmet
from matching.network import Network, Part
from matching.sums import exact_dot, int_bincount

__all__ = ("Outcome", "assemble")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """Assignments, unmet needs and totals of a set of part flows."""

    assignments: tuple[Assignment, ...]
    unmet: tuple[Unmet, ...]
    totals: Totals


@dataclass(frozen=True, slots=True, kw_only=True)
class _Pieces:
    """Served units of one part: (need, first unit, units, weight) at (offer, km, radius)."""

    need: IntArray
    first: IntArray
    units: IntArray
    weight: FloatArray
    offer: IntArray
    km: FloatArray
    radius: FloatArray
    kind: int


def assemble(problem: Problem, network: Network, flows: list[tuple[Part, PartFlow]]) -> Outcome:
    """Decompose every part's flow into per-offer, per-household assignments."""
    run_start = np.searchsorted(network.run_need, np.arange(len(network.need_quantity) + 1))
    kind_id = {kind: k for k, kind in enumerate(network.kinds)}
    pieces = [_part_pieces(network, run_start, part, flow, kind_id) for part, flow in flows]
    served = np.zeros(len(network.need_quantity), dtype=np.int64)
    for piece in pieces:
        np.add.at(served, piece.need, piece.units)
    with _no_cyclic_gc():
        assignments, unit_km = _assignments(problem, network, pieces)
        unmet = _unmet(problem, network, served)
    weighted = exact_dot(
        np.concatenate([p.weight for p in pieces]) if pieces else np.empty(0),
        np.concatenate([p.units for p in pieces]) if pieces else np.empty(0, np.int64),
    )
    totals = Totals(
        weighted_units=weighted,
        unit_km=unit_km,
        units=int(served.sum()),
    )
    return Outcome(assignments=assignments, unmet=unmet, totals=totals)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of result objects are made.

    Those objects hold no cycles, but every allocation counts towards a collection that
    walks all of them again: at a million rows that doubles the time. The collector's
    previous state is restored, whatever happens.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _overlay(a_length: IntArray, b_length: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Cut one run of units, partitioned twice (consecutive lengths ``a`` and ``b``), into
    the pieces of both: (a item, b item, units) of every non-empty piece, in order.

    ``b`` may cover more units than ``a`` (the excess is dropped), never fewer.
    """
    a_end = np.cumsum(a_length)
    b_end = np.cumsum(b_length)
    cuts = np.sort(np.concatenate([[0], a_end, b_end[b_end <= (a_end[-1] if len(a_end) else 0)]]))
    cuts = cuts[np.concatenate([[True], cuts[1:] != cuts[:-1]])]
    start, stop = cuts[:-1], cuts[1:]
    a_item = np.searchsorted(a_end, start, side="right")
    b_item = np.searchsorted(b_end, start, side="right")
    return a_item.astype(np.int64), b_item.astype(np.int64), (stop - start).astype(np.int64)


def _part_pieces(
    network: Network,
    run_start: IntArray,
    part: Part,
    flow: PartFlow,
    kind_id: dict[str, int],
) -> _Pieces:
    n_positions = len(part.offer_supply)
    starts_chain = np.ones(n_positions, dtype=np.bool_)
    starts_chain[part.chain_head + 1] = False
    chain_of = np.cumsum(starts_chain) - 1
    # Offers of a chain for the arcs into it: highest entry first, largest radius first.
    flowing = np.flatnonzero(flow.pair_flow)
    entry = part.pair_offer[flowing]
    arcs = flowing[np.lexsort((part.pair_demand[flowing], -entry, chain_of[entry]))]
    stock = np.lexsort((-np.arange(n_positions), chain_of))
    arc_units = flow.pair_flow[arcs]
    # Pad each chain's arcs up to the chain's supply so that chains line up.
    chain_supply = int_bincount(chain_of, part.offer_supply)
    chain_used = int_bincount(chain_of[part.pair_offer[arcs]], arc_units, len(chain_supply))
    padded = np.concatenate([arc_units, chain_supply - chain_used])
    owner = np.concatenate([np.arange(len(arcs)), np.full(len(chain_supply), -1)])
    pad_chain = np.concatenate([chain_of[part.pair_offer[arcs]], np.arange(len(chain_supply))])
    pad_order = np.lexsort((owner < 0, pad_chain))
    a_item, b_item, units = _overlay(padded[pad_order], part.offer_supply[stock])
    arc_of = owner[pad_order][a_item]
    real = (arc_of >= 0) & (units > 0)
    arc = arcs[arc_of[real]]
    position = stock[b_item[real]]
    units = units[real]
    demand = part.pair_demand[arc]
    km = part.pair_km[arc]
    received = np.lexsort((position, km, demand))
    # Served units of each node's needs: level flows shared out to the members in order.
    member_count = np.diff(part.member_start)
    member_node = np.repeat(np.arange(len(member_count), dtype=np.int64), member_count)
    run_count = run_start[part.member_need + 1] - run_start[part.member_need]
    run_member = np.repeat(np.arange(len(part.member_need), dtype=np.int64), run_count)
    runs = (
        np.arange(int(run_count.sum()), dtype=np.int64)
        - np.repeat(np.cumsum(run_count) - run_count, run_count)
        + run_start[part.member_need][run_member]
    )
    run_node = member_node[run_member]
    run_weight = network.run_weight[runs]
    run_units = network.run_units[runs]
    by_level = np.lexsort((run_member, -run_weight, run_node))
    change = np.ones(len(by_level), dtype=np.bool_)
    change[1:] = (run_node[by_level][1:] != run_node[by_level][:-1]) | (
        run_weight[by_level][1:] != run_weight[by_level][:-1]
    )
    level_of = np.cumsum(change) - 1
    assert len(by_level) == 0 or level_of[-1] + 1 == len(part.level_rank)
    sorted_units = run_units[by_level]
    before = np.cumsum(sorted_units) - sorted_units
    before -= before[np.flatnonzero(change)][level_of]
    take = np.clip(flow.level_flow[level_of] - before, 0, sorted_units)
    member_served = int_bincount(run_member[by_level], take, len(part.member_need))
    # A need's served units are its first ones; cut its runs there.
    first = network.run_first[runs]
    segment_units = np.clip(member_served[run_member] - first, 0, run_units)
    segments = np.flatnonzero(segment_units)
    segments = segments[
        np.lexsort(
            (first[segments], run_member[segments], -run_weight[segments], run_node[segments])
        )
    ]
    r_item, s_item, units_out = _overlay(units[received], segment_units[segments])
    take_piece = received[r_item]
    seg = segments[s_item]
    offer_position = position[take_piece]
    segment_first = first[seg] + _offset_within(s_item, units_out)
    return _Pieces(
        need=part.member_need[run_member[seg]],
        first=segment_first,
        units=units_out,
        weight=run_weight[seg],
        offer=part.offer_index[offer_position],
        km=km[take_piece],
        radius=part.offer_radius[offer_position],
        kind=kind_id[part.kind],
    )


def _offset_within(item: IntArray, units: IntArray) -> IntArray:
    """For consecutive pieces of the same item, the units of that item before each."""
    if len(item) == 0:
        return np.empty(0, dtype=np.int64)
    before = np.cumsum(units) - units
    new = np.ones(len(item), dtype=np.bool_)
    new[1:] = item[1:] != item[:-1]
    group = np.cumsum(new) - 1
    offset: IntArray = before - before[np.flatnonzero(new)][group]
    return offset


def _assignments(
    problem: Problem, network: Network, pieces: list[_Pieces]
) -> tuple[tuple[Assignment, ...], float]:
    if not pieces:
        return (), 0.0
    need = np.concatenate([p.need for p in pieces])
    if len(need) == 0:
        return (), 0.0
    first = np.concatenate([p.first for p in pieces])
    units = np.concatenate([p.units for p in pieces])
    weight = np.concatenate([p.weight for p in pieces])
    offer = np.concatenate([p.offer for p in pieces])
    km = np.concatenate([p.km for p in pieces])
    radius = np.concatenate([p.radius for p in pieces])
    kind = np.concatenate([np.full(len(p.need), p.kind, dtype=np.int64) for p in pieces])
    kind_order = np.argsort(np.argsort(np.asarray(network.kinds, dtype=object)))
    household = network.need_household[need]
    order = np.lexsort((weight, units, first, offer, kind_order[kind], household))
    household, kind, offer = household[order], kind[order], offer[order]
    first, units, weight = first[order], units[order], weight[order]
    km, radius = km[order], radius[order]
    new_row = np.ones(len(order), dtype=np.bool_)
    new_row[1:] = (
        (household[1:] != household[:-1]) | (kind[1:] != kind[:-1]) | (offer[1:] != offer[:-1])
    )
    row_of = np.cumsum(new_row) - 1
    # Consecutive units of one weight read as one group: "priority 5 (units 1-3)".
    new_group = new_row.copy()
    new_group[1:] |= (weight[1:] != weight[:-1]) | (first[1:] != first[:-1] + units[:-1])
    group_start = np.flatnonzero(new_group)
    group_end = np.append(group_start[1:], len(order))
    group_row = row_of[group_start]
    group_weight = weight[group_start]
    group_first = first[group_start]
    group_stop = first[group_end - 1] + units[group_end - 1]
    heads = np.flatnonzero(new_row)
    row_units = np.add.reduceat(units, heads)
    row_km, row_radius = km[heads], radius[heads]
    groups_of_row = np.bincount(group_row, minlength=len(heads))
    offer_ids = [o.id for o in problem.offers]
    household_ids = [h.id for h in problem.households]
    kinds = network.kinds
    priorities = _row_priorities(groups_of_row, group_weight, group_first, group_stop)
    radii = _radius_texts(row_radius)
    km_list = row_km.tolist()
    reasons = [
        f"距离 {k} km（服务半径 {r} km 内）；优先级 {p[0]} / "
        f"{k} km away (within {r} km); priority {p[1]}"
        for k, r, p in zip((f"{d:.1f}" for d in km_list), radii, priorities, strict=True)
    ]
    rows = [
        Assignment(
            offer=offer_ids[o],
            household=household_ids[h],
            kind=kinds[k],
            quantity=q,
            distance_km=d,
            reason=why,
        )
        for h, k, o, q, d, why in zip(
            household[heads].tolist(),
            kind[heads].tolist(),
            offer[heads].tolist(),
            row_units.tolist(),
            km_list,
            reasons,
            strict=True,
        )
    ]
    unit_km = math.fsum((row_units.astype(np.float64) * row_km).tolist())
    return tuple(rows), unit_km


def _row_priorities(
    groups_of_row: IntArray, weight: FloatArray, first: IntArray, stop: IntArray
) -> list[tuple[str, str]]:
    """The priority half of each row's reason; rows with the same one group share it."""
    starts = np.cumsum(groups_of_row) - groups_of_row
    texts: list[tuple[str, str]] = [("", "")] * len(starts)
    single = np.flatnonzero(groups_of_row == 1)
    at = starts[single]
    order, which = _groups_of(weight[at], first[at], stop[at])
    heads = order[np.flatnonzero(np.diff(np.concatenate([[-1], which[order]])))]
    made = [
        _priority(((w, a, b),))
        for w, a, b in zip(
            weight[at][heads].tolist(),
            first[at][heads].tolist(),
            stop[at][heads].tolist(),
            strict=True,
        )
    ]
    for row, index in zip(single.tolist(), which.tolist(), strict=True):
        texts[row] = made[index]
    g_weight, g_first, g_stop = weight.tolist(), first.tolist(), stop.tolist()
    for row in np.flatnonzero(groups_of_row > 1).tolist():
        a, b = int(starts[row]), int(starts[row] + groups_of_row[row])
        texts[row] = _priority(tuple(zip(g_weight[a:b], g_first[a:b], g_stop[a:b], strict=True)))
    return texts


def _groups_of(*keys: npt.NDArray[Any]) -> tuple[IntArray, IntArray]:
    """(sort order, group of each row) for rows grouped by equal keys."""
    order = np.lexsort(keys)
    change = np.zeros(len(order), dtype=np.bool_)
    if len(order):
        change[0] = True
    for key in keys:
        ordered = key[order]
        change[1:] |= ordered[1:] != ordered[:-1]
    which = np.empty(len(order), dtype=np.int64)
    which[order] = np.cumsum(change) - 1
    return order, which


def _radius_texts(radius: FloatArray) -> list[str]:
    """``f"{radius:g}"`` of each row, formatted once per distinct radius."""
    distinct, which = np.unique(radius, return_inverse=True)
    texts = [f"{r:g}" for r in distinct.tolist()]
    return [texts[i] for i in which.reshape(-1).tolist()]


@functools.lru_cache(maxsize=65536)
def _priority(groups: tuple[tuple[float, int, int], ...]) -> tuple[str, str]:
    """The priority half of a reason: the weight of each group of units, Chinese and English."""
    shown, more = groups[:3], len(groups) > 3
    zh = "、".join(f"{w:g}（第{_span(a, b, '–')}件）" for w, a, b in shown)
    en = ", ".join(
        f"{w:g} ({'unit' if b - a == 1 else 'units'} {_span(a, b, '–')})" for w, a, b in shown
    )
    tail_zh, tail_en = ("等", " etc.") if more else ("", "")
    return zh + tail_zh, en + tail_en


def _span(first: int, end: int, dash: str) -> str:
    return f"{first + 1}" if end - first == 1 else f"{first + 1}{dash}{end}"


def _unit_weight(network: Network, need: IntArray, unit: IntArray) -> FloatArray:
    """The weight of unit ``unit`` (0-based) of each ``need``: the last run starting at or
    before it."""
    n_runs = len(network.run_need)
    keys_need = np.concatenate([network.run_need, need])
    keys_unit = np.concatenate([network.run_first, unit])
    is_query = np.concatenate([np.zeros(n_runs, np.bool_), np.ones(len(need), np.bool_)])
    order = np.lexsort((is_query, keys_unit, keys_need))
    seen = np.where(order < n_runs, order, -1)
    last_run = np.maximum.accumulate(seen) if len(seen) else seen
    answer = np.empty(len(need), dtype=np.int64)
    queries = order >= n_runs
    answer[order[queries] - n_runs] = last_run[queries]
    return network.run_weight[answer]


def _unmet(problem: Problem, network: Network, served: IntArray) -> tuple[Unmet, ...]:
    short = np.flatnonzero(served < network.need_quantity)
    if len(short) == 0:
        return ()
    weight = _unit_weight(network, short, served[short])
    category = np.where(
        ~network.kind_offered[network.need_kind[short]],
        0,
        np.where(network.need_reachable[short], 2, 1),
    )
    household_ids = [h.id for h in problem.households]
    kinds = network.kinds
    return tuple(
        Unmet(household=household_ids[h], kind=kinds[k], quantity=q, reason=_why(c, w))
        for h, k, q, c, w in zip(
            network.need_household[short].tolist(),
            network.need_kind[short].tolist(),
            (network.need_quantity[short] - served[short]).tolist(),
            category.tolist(),
            weight.tolist(),
            strict=True,
        )
    )


@functools.lru_cache(maxsize=4096)
def _why(category: int, weight: float) -> str:
    if category == 0:
        return (
            f"暂无此类物资的捐赠（优先级 {weight:g}）/ no offer of this kind (priority {weight:g})"
        )
    if category == 1:
        return (
            f"服务半径内没有符合条件的捐赠（优先级 {weight:g}）/ "
            f"no eligible offer within reach (priority {weight:g})"
        )
    return (
        f"附近的捐赠已分给优先级更高或更近的需求（优先级 {weight:g}）/ "
        f"offers in reach went to higher-priority or nearer needs (priority {weight:g})"
    )
