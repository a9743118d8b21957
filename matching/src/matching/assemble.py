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

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.flow import PartFlow
from matching.model import Totals
from matching.network import Network, Part
from matching.sums import exact_dot, int_bincount

__all__ = ("Outcome", "assemble")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

KEY_LIMIT = 2**63
"""One past the largest int64. Arcs and rows are ordered by one sort of a combined integer
key only while every key stays below this (see :func:`_combined_key`); otherwise by
``np.lexsort`` of their columns, which gives the same order more slowly."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """Assignment and unmet columns of a set of part flows (see ``ArraySolution``)."""

    assignment_offer: IntArray
    assignment_household: IntArray
    assignment_kind: IntArray
    assignment_quantity: IntArray
    assignment_km: FloatArray
    assignment_priority_start: IntArray
    priority_weight: FloatArray
    priority_first: IntArray
    priority_stop: IntArray
    need_served: IntArray
    unmet_need: IntArray
    unmet_household: IntArray
    unmet_kind: IntArray
    unmet_quantity: IntArray
    unmet_cause: IntArray
    unmet_weight: FloatArray
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


def assemble(
    network: Network,
    flows: list[tuple[Part, PartFlow]],
    each: Callable[[Callable[[Any], _Pieces], Sequence[Any]], Iterable[_Pieces]] = map,
) -> Outcome:
    """Decompose every part's flow into per-offer, per-household assignment rows.

    ``each`` maps over the parts: ``map``, or a thread pool's ``map`` (the parts' pieces are
    numpy work, most of it outside the GIL).
    """
    run_start = np.searchsorted(network.run_need, np.arange(len(network.need_quantity) + 1))
    kind_id = {kind: k for k, kind in enumerate(network.kinds)}

    def pieces_of(item: tuple[Part, PartFlow]) -> _Pieces:
        return _part_pieces(network, run_start, item[0], item[1], kind_id)

    pieces = list(each(pieces_of, flows))
    served = np.zeros(len(network.need_quantity), dtype=np.int64)
    for piece in pieces:
        np.add.at(served, piece.need, piece.units)
    rows = _assignments(network, pieces)
    unmet = _unmet(network, served)
    weighted = exact_dot(
        np.concatenate([p.weight for p in pieces]) if pieces else np.empty(0),
        np.concatenate([p.units for p in pieces]) if pieces else np.empty(0, np.int64),
    )
    unit_km = math.fsum(
        (rows["assignment_quantity"].astype(np.float64) * rows["assignment_km"]).tolist()
    )
    totals = Totals(weighted_units=weighted, unit_km=unit_km, units=int(served.sum()))
    return Outcome(**rows, **unmet, need_served=served, totals=totals)


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
    return (
        a_item.astype(np.int64, copy=False),
        b_item.astype(np.int64, copy=False),
        (stop - start).astype(np.int64, copy=False),
    )


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
    # Chain ascending, then entry descending, then demand node: one arc per (entry, demand
    # node), so the key has no ties and any sort of it gives the one order.
    key = _combined_key((chain_of[entry], n_positions - 1 - entry, part.pair_demand[flowing]))
    if key is not None:
        arcs = flowing[np.argsort(key)]
    else:
        arcs = flowing[np.lexsort((part.pair_demand[flowing], -entry, chain_of[entry]))]
    stock = np.lexsort((-np.arange(n_positions), chain_of))
    arc_units = flow.pair_flow[arcs]
    # Pad each chain's arcs up to the chain's supply so that chains line up.
    chain_supply = int_bincount(chain_of, part.offer_supply)
    chain_used = int_bincount(chain_of[part.pair_offer[arcs]], arc_units, len(chain_supply))
    padded = np.concatenate([arc_units, chain_supply - chain_used])
    owner = np.concatenate([np.arange(len(arcs)), np.full(len(chain_supply), -1)])
    pad_chain = np.concatenate([chain_of[part.pair_offer[arcs]], np.arange(len(chain_supply))])
    pad_order = np.argsort(pad_chain * 2 + (owner < 0), kind="stable")
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
    # Weight descending by rank (equal weights, equal ranks). A need's weights never rise,
    # so its runs differ in weight: no two runs share (node, rank, member).
    run_rank = network.run_rank[runs]
    run_down = int(run_rank.max(initial=0)) - run_rank
    by_level = _stable_order((run_node, run_down, run_member))
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
        _stable_order(
            (run_node[segments], run_down[segments], run_member[segments], first[segments])
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


def _stable_order(columns: Sequence[IntArray]) -> IntArray:
    """``np.lexsort`` of ``columns`` given first-varies-slowest (non-negative integers): by
    one stable sort of a combined key when it fits in int64, which is several times faster."""
    key = _combined_key(columns)
    if key is None:
        return np.lexsort(tuple(reversed(columns)))
    order: IntArray = np.argsort(key, kind="stable")
    return order


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


def _assignments(network: Network, pieces: list[_Pieces]) -> dict[str, npt.NDArray[Any]]:
    need = np.concatenate([p.need for p in pieces]) if pieces else np.empty(0, np.int64)
    if len(need) == 0:
        empty_i, empty_f = np.empty(0, np.int64), np.empty(0, np.float64)
        return {
            "assignment_offer": empty_i,
            "assignment_household": empty_i,
            "assignment_kind": empty_i,
            "assignment_quantity": empty_i,
            "assignment_km": empty_f,
            "assignment_priority_start": np.zeros(1, np.int64),
            "priority_weight": empty_f,
            "priority_first": empty_i,
            "priority_stop": empty_i,
        }
    first = np.concatenate([p.first for p in pieces])
    units = np.concatenate([p.units for p in pieces])
    weight = np.concatenate([p.weight for p in pieces])
    offer = np.concatenate([p.offer for p in pieces])
    km = np.concatenate([p.km for p in pieces])
    kind = np.concatenate([np.full(len(p.need), p.kind, dtype=np.int64) for p in pieces])
    kind_order = np.argsort(np.argsort(np.asarray(network.kinds, dtype=object)))
    household = network.need_household[need]
    order = _row_order(household, kind_order[kind], offer, first, units, weight)
    household, kind, offer = household[order], kind[order], offer[order]
    first, units, weight, km = first[order], units[order], weight[order], km[order]
    new_row = (
        (household[1:] != household[:-1]) | (kind[1:] != kind[:-1]) | (offer[1:] != offer[:-1])
    )
    heads = np.concatenate([[0], np.flatnonzero(new_row) + 1])
    # Each piece is one priority group: consecutive units of one weight of one need, "priority
    # 5 (units 1-3)". A need's runs differ in weight and a row holds at most one piece of each
    # (one offer, one arc per demand node); two needs of one kind in a row keep their own
    # groups, even where the units of one continue those of the other.
    return {
        "assignment_offer": offer[heads],
        "assignment_household": household[heads],
        "assignment_kind": kind[heads],
        "assignment_quantity": np.add.reduceat(units, heads),
        "assignment_km": km[heads],
        "assignment_priority_start": np.append(heads, len(order)).astype(np.int64),
        "priority_weight": weight,
        "priority_first": first,
        "priority_stop": first + units,
    }


def _row_order(
    household: IntArray,
    kind: IntArray,
    offer: IntArray,
    first: IntArray,
    units: IntArray,
    weight: FloatArray,
) -> IntArray:
    """``np.lexsort((weight, units, first, offer, kind, household))``, by one sort of a
    combined integer key when it fits in int64 and has no ties (the usual case)."""
    key = _combined_key((household, kind, offer, first))
    if key is not None:
        order: IntArray = np.argsort(key)
        ordered = key[order]
        if not np.any(ordered[1:] == ordered[:-1]):
            return order
    fallback: IntArray = np.lexsort((weight, units, first, offer, kind, household))
    return fallback


def _combined_key(columns: Sequence[npt.NDArray[np.integer[Any]]]) -> IntArray | None:
    """One int64 key per row that orders the rows as ``columns`` do (the first varies
    slowest; values from 0), each column's stride one past its largest value; None when
    some key could reach :data:`KEY_LIMIT`, where int64 would overflow."""
    bounds = [int(column.max(initial=0)) + 1 for column in columns]
    if math.prod(bounds) > KEY_LIMIT:
        return None
    key = np.asarray(columns[0], dtype=np.int64)
    for i in range(1, len(columns)):
        key = key * bounds[i] + columns[i]
    return key


def _unit_weight(network: Network, need: IntArray, unit: IntArray) -> FloatArray:
    """The weight of unit ``unit`` (0-based) of each ``need``: the last run starting at or
    before it. Runs are numbered by the units of all needs laid end to end."""
    base = np.concatenate([[0], np.cumsum(network.need_quantity)])
    run_start = base[network.run_need] + network.run_first  # ascending
    at = np.searchsorted(run_start, base[need] + unit, side="right") - 1
    weight: FloatArray = network.run_weight[at]
    return weight


def _unmet(network: Network, served: IntArray) -> dict[str, npt.NDArray[Any]]:
    short = np.flatnonzero(served < network.need_quantity)
    cause = np.where(
        ~network.kind_offered[network.need_kind[short]],
        0,
        np.where(network.need_reachable[short], 2, 1),
    )
    return {
        "unmet_need": short.astype(np.int64),
        "unmet_household": network.need_household[short],
        "unmet_kind": network.need_kind[short],
        "unmet_quantity": network.need_quantity[short] - served[short],
        "unmet_cause": cause.astype(np.int64),
        "unmet_weight": _unit_weight(network, short, served[short]),
    }
