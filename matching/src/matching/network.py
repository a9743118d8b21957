"""From a problem to independent flow networks ("parts"), one kind and component at a time.

Exactness-preserving reductions, each explained where it is made:

* Kinds never mix, so each kind is its own problem; so is each connected component of
  the eligibility graph within a kind.
* Demand that is interchangeable is merged: needs of one kind at the same point whose
  households carry the same *relevant* tags (those some offer of the kind requires) see
  exactly the same offers at exactly the same distances.
* Offers of one kind at the same point with the same ``requires`` form a chain sorted
  by radius: a household at distance d may use exactly the suffix of offers with
  radius >= d, so one arc into the chain replaces one arc per offer.
* Priorities become ranks: the served sets of maximum weight are the same for every
  order-preserving choice of positive weights (see ``flow.py``), so the network only
  ever sees small integer ranks and never a float weight.

Why one module of ~500 lines: every reduction above works on the same part-building loop
and its index arrays; split apart, the pieces would hand half-built arrays to each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matching.candidates import pairs_within
from matching.model import ArrayProblem
from matching.sums import int_bincount, unique_inverse

__all__ = ("Network", "Part", "build_network")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

PART_MIN_ARCS = 200_000
"""Small components are batched into parts of at least this many pair arcs."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """One flow network: a batch of whole components of one kind.

    Offers are numbered by chain position (chains contiguous, radius ascending); supply of
    a position may flow down its chain to any position of smaller radius.
    """

    kind: str
    offer_index: IntArray  # problem offer index per position
    offer_supply: IntArray
    offer_radius: FloatArray
    chain_tail: IntArray  # arcs position p + 1 -> p within a chain
    chain_head: IntArray
    chain_cap: IntArray
    demand_quantity: IntArray
    pair_offer: IntArray  # entry position into a chain
    pair_demand: IntArray
    pair_cap: IntArray
    pair_km: FloatArray
    level_demand: IntArray  # one arc per (demand node, priority rank)
    level_rank: IntArray
    level_count: IntArray
    level_weight: FloatArray
    member_start: IntArray  # demand node -> its needs (CSR over member_need)
    member_need: IntArray

    @property
    def arcs(self) -> int:
        return len(self.pair_offer)


@dataclass(frozen=True, slots=True, kw_only=True)
class Network:
    """Every part, and the flat tables of needs and weight runs the parts refer to."""

    parts: tuple[Part, ...]
    need_household: IntArray
    need_number: IntArray  # index of the need within its household
    need_kind: IntArray  # index into ``kinds``
    need_quantity: IntArray
    need_reachable: npt.NDArray[np.bool_]  # has at least one eligible offer
    kinds: tuple[str, ...]
    kind_offered: npt.NDArray[np.bool_]  # some offer of the kind has stock
    run_need: IntArray  # runs of equal weight, by need then unit (units > 0 only)
    run_first: IntArray  # first unit of the run within its need
    run_units: IntArray
    run_weight: FloatArray
    run_rank: IntArray  # 1 for the smallest weight anywhere: equal weights, equal ranks
    candidate_pairs: int  # (offer chain, demand node) arcs before any reduction by parts


@dataclass(frozen=True, slots=True, kw_only=True)
class _Table:
    """The problem as flat arrays: one row per need, per weight run, per offer."""

    household_lat: FloatArray
    household_lon: FloatArray
    household_mask: IntArray  # (households, words): bits of the tags some offer requires
    need_household: IntArray
    need_number: IntArray
    need_kind: IntArray
    need_quantity: IntArray
    kinds: list[str]
    run_need: IntArray
    run_first: IntArray
    run_units: IntArray
    run_weight: FloatArray
    run_rank: IntArray  # 1 for the smallest weight anywhere
    offer_kind: IntArray
    offer_quantity: IntArray
    offer_lat: FloatArray
    offer_lon: FloatArray
    offer_radius: FloatArray
    offer_mask: IntArray  # (offers, words): bits of the tags the offer requires


def build_network(
    problem: ArrayProblem,
    each: Callable[[Callable[[int], tuple[list[Part], int]], Sequence[int]], Iterable[Any]] = map,
) -> Network:
    """Group, index and split ``problem`` (valid, normalized) into parts.

    ``each`` maps over the kinds: ``map``, or a thread pool's ``map`` (a kind's parts are
    numpy and scipy work, most of it outside the GIL); the parts come in kind order either way.
    """
    table = _tabulate(problem)
    reachable = np.zeros(len(table.need_household), dtype=np.bool_)
    parts: list[Part] = []
    pairs = 0
    stocked = table.offer_quantity > 0
    kind_offered = np.zeros(len(table.kinds), dtype=np.bool_)
    kind_offered[table.offer_kind[stocked]] = True
    wanted = np.zeros(len(table.kinds), dtype=np.bool_)
    wanted[table.need_kind[table.need_quantity > 0]] = True

    def kind_parts(k: int) -> tuple[list[Part], int]:
        offers = np.flatnonzero(stocked & (table.offer_kind == k))
        needs = np.flatnonzero((table.need_kind == k) & (table.need_quantity > 0))
        # each kind marks its own needs reachable: the threads write disjoint entries
        return _kind_parts(table, table.kinds[k], offers, needs, reachable)

    kinds = sorted(np.flatnonzero(kind_offered & wanted).tolist(), key=table.kinds.__getitem__)
    for kind_parts_of_k, kind_pairs in each(kind_parts, kinds):
        parts.extend(kind_parts_of_k)
        pairs += kind_pairs
    return Network(
        parts=tuple(parts),
        need_household=table.need_household,
        need_number=table.need_number,
        need_kind=table.need_kind,
        need_quantity=table.need_quantity,
        need_reachable=reachable,
        kinds=tuple(table.kinds),
        kind_offered=kind_offered,
        run_need=table.run_need,
        run_first=table.run_first,
        run_units=table.run_units,
        run_weight=table.run_weight,
        run_rank=table.run_rank,
        candidate_pairs=pairs,
    )


_BITS = 62
"""Tag bits per int64 word of a mask (the sign bit stays clear)."""


def _masks(starts: IntArray, codes: IntArray, bit_of_tag: IntArray, words: int) -> IntArray:
    """One row of bits per item: the relevant tags among its CSR list of tag codes."""
    n = len(starts) - 1
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(starts))
    bit = bit_of_tag[codes]
    keep = bit >= 0
    mask = np.zeros((n, words), dtype=np.int64)
    np.bitwise_or.at(mask, (owner[keep], bit[keep] // _BITS), np.left_shift(1, bit[keep] % _BITS))
    return mask


def _row_codes(rows: IntArray) -> tuple[IntArray, IntArray]:
    """Each row's index among the distinct rows (ascending), and those rows."""
    if rows.shape[1] == 1:
        distinct, inverse = unique_inverse(rows[:, 0])
        return inverse, distinct.reshape(-1, 1)
    distinct, inverse = np.unique(rows, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), distinct


def _tabulate(problem: ArrayProblem) -> _Table:
    """The columns the network is built from; everything here is numpy."""
    p = problem
    n = len(p.need_household)
    need_household = p.need_household
    need_number = np.arange(n, dtype=np.int64) - np.searchsorted(
        need_household, need_household, side="left"
    )
    need_quantity = p.need_quantity
    # Weight runs: one per need with one weight; per-unit weights split where they change.
    count = np.diff(p.need_weights_start)
    single = np.flatnonzero(count == 1)
    per_unit = np.flatnonzero(count > 1)
    unit_index, unit_need = _ranges(
        p.need_weights_start[per_unit], p.need_weights_start[per_unit + 1]
    )
    unit_need = per_unit[unit_need]
    unit_weight = p.need_weights[unit_index]
    unit_index = unit_index - p.need_weights_start[unit_need]
    total = len(unit_index)
    boundary = np.ones(total, dtype=np.bool_)
    boundary[1:] = (unit_need[1:] != unit_need[:-1]) | (unit_weight[1:] != unit_weight[:-1])
    run_start = np.flatnonzero(boundary)
    run_end = np.append(run_start[1:], total)
    run_need = np.concatenate([single, unit_need[run_start]])
    run_first = np.concatenate([np.zeros(len(single), np.int64), unit_index[run_start]])
    run_units = np.concatenate([need_quantity[single], run_end - run_start])
    run_weight = np.concatenate(
        [p.need_weights[p.need_weights_start[single]], unit_weight[run_start]]
    )
    keep = run_units > 0
    # Runs by need, then unit: the runs of one need are already in unit order.
    order = np.argsort(run_need[keep], kind="stable")
    run_need, run_first = run_need[keep][order], run_first[keep][order]
    run_units, run_weight = run_units[keep][order], run_weight[keep][order]
    _, run_rank = unique_inverse(run_weight)
    # Tags: only those some offer requires matter, as bits.
    required = np.unique(p.offer_requires)
    bit_of_tag = np.full(len(p.tags), -1, dtype=np.int64)
    bit_of_tag[required] = np.arange(len(required))
    words = max(1, -(-len(required) // _BITS))
    return _Table(
        household_lat=p.household_lat,
        household_lon=p.household_lon,
        household_mask=_masks(p.household_tags_start, p.household_tags, bit_of_tag, words),
        need_household=need_household,
        need_number=need_number,
        need_kind=p.need_kind,
        need_quantity=need_quantity,
        kinds=list(p.kinds),
        run_need=run_need,
        run_first=run_first,
        run_units=run_units,
        run_weight=run_weight,
        run_rank=run_rank + 1,
        offer_kind=p.offer_kind,
        offer_quantity=p.offer_quantity,
        offer_lat=p.offer_lat,
        offer_lon=p.offer_lon,
        offer_radius=p.offer_radius_km,
        offer_mask=_masks(p.offer_requires_start, p.offer_requires, bit_of_tag, words),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Demand:
    """Merged demand nodes of one kind, with their weight levels and member needs (CSR)."""

    lat: FloatArray
    lon: FloatArray
    signature: IntArray
    quantity: IntArray
    member_start: IntArray
    member_need: IntArray
    level_start: IntArray
    level_rank: IntArray  # highest rank first within a node
    level_count: IntArray
    level_weight: FloatArray
    node_of_need: IntArray  # node of each member need, aligned with ``needs``


def _first_of_groups(*keys: npt.NDArray[np.generic]) -> tuple[IntArray, IntArray]:
    """Group rows by equal keys (the last key varies slowest): (sort order, group per row)."""
    order = np.lexsort(keys)
    change = np.zeros(len(order), dtype=np.bool_)
    if len(order):
        change[0] = True
    for key in keys:
        sorted_key = key[order]
        change[1:] |= sorted_key[1:] != sorted_key[:-1]
    group = np.empty(len(order), dtype=np.int64)
    group[order] = np.cumsum(change) - 1
    return order, group


def _merge_demand(table: _Table, needs: IntArray, relevant: IntArray) -> tuple[_Demand, IntArray]:
    household = table.need_household[needs]
    signature, signatures = _row_codes(table.household_mask[household] & relevant)
    lat, lon = table.household_lat[household], table.household_lon[household]
    order, node = _first_of_groups(signature, lon, lat)
    n_nodes = int(node.max()) + 1 if len(node) else 0
    first = np.zeros(n_nodes, dtype=np.int64)
    first[node[order[::-1]]] = order[::-1]
    member_order = np.lexsort((needs, node))
    member_start = np.searchsorted(node[member_order], np.arange(n_nodes + 1))
    # Levels: weight runs of the members, summed by (node, rank), highest rank first.
    node_of = np.full(len(table.need_household), -1, dtype=np.int64)
    node_of[needs] = node
    run_node = node_of[table.run_need]
    runs = np.flatnonzero(run_node >= 0)
    ranks = int(table.run_rank.max(initial=0)) + 1
    key = run_node[runs] * ranks + (ranks - 1 - table.run_rank[runs])
    levels, level_of_run = unique_inverse(key)
    counts = int_bincount(level_of_run, table.run_units[runs], len(levels))
    level_node = levels // ranks
    level_rank = ranks - 1 - levels % ranks
    weight_of_rank = np.zeros(ranks, dtype=np.float64)
    weight_of_rank[table.run_rank] = table.run_weight
    demand = _Demand(
        lat=lat[first],
        lon=lon[first],
        signature=signature[first],
        quantity=int_bincount(level_node, counts, n_nodes),
        member_start=member_start.astype(np.int64),
        member_need=needs[member_order],
        level_start=np.searchsorted(level_node, np.arange(n_nodes + 1)).astype(np.int64),
        level_rank=level_rank.astype(np.int64),
        level_count=counts,
        level_weight=weight_of_rank[level_rank],
        node_of_need=node,
    )
    return demand, signatures


@dataclass(frozen=True, slots=True, kw_only=True)
class _Chains:
    """Offers of one kind grouped by (point, requires), radius ascending within a chain."""

    offer_index: IntArray  # per position
    radius: FloatArray
    supply: IntArray
    suffix: IntArray  # supply of this position and every larger radius in its chain
    chain: IntArray  # chain of each position
    start: IntArray  # first position of each chain (+ sentinel)
    lat: FloatArray  # per chain
    lon: FloatArray
    requirement: IntArray  # per chain, index into the list of requirement sets


def _chain_offers(table: _Table, offers: IntArray) -> tuple[_Chains, IntArray]:
    requirement_of, requirements = _row_codes(table.offer_mask[offers])
    lat, lon = table.offer_lat[offers], table.offer_lon[offers]
    radius = table.offer_radius[offers]
    _, chain_of_offer = _first_of_groups(requirement_of, lon, lat)
    order = np.lexsort((offers, radius, chain_of_offer))
    offer_index = offers[order]
    chain_of = chain_of_offer[order]
    n_chains = int(chain_of.max()) + 1 if len(chain_of) else 0
    starts = np.searchsorted(chain_of, np.arange(n_chains + 1)).astype(np.int64)
    supply = table.offer_quantity[offer_index]
    # Suffix sums within each chain: total from the end minus the running total before.
    cumulative = np.concatenate([[0], np.cumsum(supply)])
    suffix = cumulative[starts[1:]][chain_of] - cumulative[:-1]
    head = order[starts[:-1]]
    chains = _Chains(
        offer_index=offer_index,
        radius=radius[order],
        supply=supply,
        suffix=suffix,
        chain=chain_of,
        start=starts,
        lat=lat[head],
        lon=lon[head],
        requirement=requirement_of[head],
    )
    return chains, requirements


def _unique_points(lat: FloatArray, lon: FloatArray) -> tuple[IntArray, IntArray, IntArray]:
    """(first item of each distinct point, item -> point, points' items CSR order)."""
    order, inverse = _first_of_groups(lon, lat)
    new = np.ones(len(order), dtype=np.bool_)
    new[1:] = inverse[order][1:] != inverse[order][:-1]
    return order[new], inverse, order


def _expand(
    point_pairs: IntArray, item_point: IntArray, order: IntArray
) -> tuple[IntArray, IntArray]:
    """For pairs over points, every (pair, item at that point): (pair index, item)."""
    counts = np.bincount(item_point)
    starts = np.concatenate([[0], np.cumsum(counts)])
    per_pair = counts[point_pairs]
    pair = np.repeat(np.arange(len(point_pairs), dtype=np.int64), per_pair)
    offset = np.arange(len(pair), dtype=np.int64) - np.repeat(
        np.cumsum(per_pair) - per_pair, per_pair
    )
    return pair, order[starts[point_pairs][pair] + offset]


def _kind_parts(
    table: _Table,
    kind: str,
    offers: IntArray,
    needs: IntArray,
    reachable: npt.NDArray[np.bool_],
) -> tuple[list[Part], int]:
    chains, requirements = _chain_offers(table, offers)
    relevant = np.bitwise_or.reduce(requirements, axis=0)
    demand, signatures = _merge_demand(table, needs, relevant)
    # Distances between distinct chain points and distinct demand points.
    chain_first, chain_point, chain_order = _unique_points(chains.lat, chains.lon)
    demand_first, demand_point, demand_order = _unique_points(demand.lat, demand.lon)
    chain_reach = np.zeros(len(chain_first), dtype=np.float64)
    np.maximum.at(chain_reach, chain_point, chains.radius[chains.start[1:] - 1])
    src, dst, km = pairs_within(
        chains.lat[chain_first],
        chains.lon[chain_first],
        chain_reach,
        demand.lat[demand_first],
        demand.lon[demand_first],
    )
    pair, chain = _expand(src, chain_point, chain_order)
    dst, km = dst[pair], km[pair]
    pair, dem = _expand(dst, demand_point, demand_order)
    chain, km = chain[pair], km[pair]
    # A chain serves a signature when every tag the chain requires is among its bits.
    compatible = np.all((requirements[None, :, :] & ~signatures[:, None, :]) == 0, axis=2)
    keep = compatible[demand.signature[dem], chains.requirement[chain]]
    keep &= km <= chains.radius[chains.start[chain + 1] - 1]
    chain, dem, km = chain[keep], dem[keep], km[keep]
    # Entry position: the first offer of the chain whose radius reaches the household.
    radii, radius_rank = unique_inverse(chains.radius)
    stride = len(radii) + 1
    position_key = chains.chain * stride + radius_rank
    position = np.searchsorted(position_key, chain * stride + np.searchsorted(radii, km))
    reached = np.zeros(len(demand.lat), dtype=np.bool_)
    reached[dem] = True
    reachable[needs[reached[demand.node_of_need]]] = True
    kind_parts = _split(kind, chains, demand, position, dem, km)
    return kind_parts, len(chain)


def _split(
    kind: str,
    chains: _Chains,
    demand: _Demand,
    position: IntArray,
    dem: IntArray,
    km: FloatArray,
) -> list[Part]:
    """Batch whole connected components into parts and renumber each part locally."""
    if len(dem) == 0:
        return []
    n_chains, n_demand = len(chains.lat), len(demand.lat)
    chain = chains.chain[position]
    graph = coo_matrix(
        (np.ones(len(dem), dtype=np.int8), (chain, n_chains + dem)),
        shape=(n_chains + n_demand, n_chains + n_demand),
    )
    _, label = connected_components(graph, directed=False)
    arcs_per_label = np.bincount(label[chain], minlength=label.max() + 1)
    part_of_label = np.full(len(arcs_per_label), -1, dtype=np.int64)
    used = np.flatnonzero(arcs_per_label)
    # A new part starts after the component that brings the running total to the minimum.
    filled = np.cumsum(arcs_per_label[used])
    current, base = 0, 0
    for component, total in zip(used.tolist(), filled.tolist(), strict=True):
        part_of_label[component] = current
        if total - base >= PART_MIN_ARCS:
            current, base = current + 1, total
    arc_part = part_of_label[label[chain]]
    offer_part = part_of_label[label[chains.chain]]
    demand_part = part_of_label[label[n_chains:]]
    n_parts = int(arc_part.max()) + 1
    arcs_by_part = _group(arc_part, n_parts)
    offers_by_part = _group(offer_part, n_parts)
    demand_by_part = _group(demand_part, n_parts)
    return [
        _part(kind, chains, demand, offers_by_part[p], demand_by_part[p], arcs, (position, dem, km))
        for p, arcs in enumerate(arcs_by_part)
    ]


def _group(part_of: IntArray, n_parts: int) -> list[IntArray]:
    """Indices of the items of each part, ascending (items of part -1 dropped)."""
    order = np.argsort(part_of, kind="stable")
    bounds = np.searchsorted(part_of[order], np.arange(n_parts + 1))
    return [order[bounds[p] : bounds[p + 1]] for p in range(n_parts)]


def _ranges(start: IntArray, stop: IntArray) -> tuple[IntArray, IntArray]:
    """Concatenated ``arange(start[i], stop[i])``, and the ``i`` of each element."""
    lengths = stop - start
    owner = np.repeat(np.arange(len(start), dtype=np.int64), lengths)
    offsets = np.cumsum(lengths) - lengths
    index = np.arange(int(lengths.sum()), dtype=np.int64) - offsets[owner] + start[owner]
    return index, owner


def _part(
    kind: str,
    chains: _Chains,
    demand: _Demand,
    positions: IntArray,
    demands: IntArray,
    arcs: IntArray,
    pairs: tuple[IntArray, IntArray, FloatArray],
) -> Part:
    position, dem, km = pairs
    local_position = np.searchsorted(positions, position[arcs])
    local_demand = np.searchsorted(demands, dem[arcs])
    suffix = chains.suffix[positions]
    same_chain = chains.chain[positions[1:]] == chains.chain[positions[:-1]]
    heads = np.flatnonzero(same_chain)
    levels, level_demand = _ranges(demand.level_start[demands], demand.level_start[demands + 1])
    members, _ = _ranges(demand.member_start[demands], demand.member_start[demands + 1])
    member_count = demand.member_start[demands + 1] - demand.member_start[demands]
    quantity = demand.quantity[demands]
    return Part(
        kind=kind,
        offer_index=chains.offer_index[positions],
        offer_supply=chains.supply[positions],
        offer_radius=chains.radius[positions],
        chain_tail=heads + 1,
        chain_head=heads,
        chain_cap=suffix[heads + 1],
        demand_quantity=quantity,
        pair_offer=local_position,
        pair_demand=local_demand,
        pair_cap=np.minimum(quantity[local_demand], suffix[local_position]),
        pair_km=km[arcs],
        level_demand=level_demand,
        level_rank=demand.level_rank[levels],
        level_count=demand.level_count[levels],
        level_weight=demand.level_weight[levels],
        member_start=np.concatenate([[0], np.cumsum(member_count)]).astype(np.int64),
        member_need=demand.member_need[members],
    )
