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
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matching.candidates import pairs_within
from matching.model import Problem

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
    """Every part, and the flat table of needs the parts refer to."""

    parts: tuple[Part, ...]
    need_household: IntArray
    need_number: IntArray  # index of the need within its household
    need_kind: tuple[str, ...]
    need_quantity: IntArray
    need_reachable: npt.NDArray[np.bool_]  # has at least one eligible offer
    candidate_pairs: int  # (offer chain, demand node) arcs before any reduction by parts


def build_network(problem: Problem) -> Network:
    """Group, index and split ``problem`` into parts."""
    ranks = _weight_ranks(problem)
    need_household: list[int] = []
    need_number: list[int] = []
    need_kind: list[str] = []
    need_quantity: list[int] = []
    by_kind: defaultdict[str, list[int]] = defaultdict(list)
    for h, household in enumerate(problem.households):
        for j, need in enumerate(household.needs):
            if need.quantity > 0:
                by_kind[need.kind].append(len(need_household))
            need_household.append(h)
            need_number.append(j)
            need_kind.append(need.kind)
            need_quantity.append(need.quantity)
    offers_by_kind: defaultdict[str, list[int]] = defaultdict(list)
    for i, offer in enumerate(problem.offers):
        if offer.quantity > 0:
            offers_by_kind[offer.kind].append(i)
    reachable = np.zeros(len(need_household), dtype=np.bool_)
    parts: list[Part] = []
    pairs = 0
    for kind in sorted(set(by_kind) & set(offers_by_kind)):
        kind_parts, kind_pairs = _kind_parts(
            problem,
            kind,
            offers_by_kind[kind],
            by_kind[kind],
            ranks,
            (need_household, need_number),
            reachable,
        )
        parts.extend(kind_parts)
        pairs += kind_pairs
    return Network(
        parts=tuple(parts),
        need_household=np.asarray(need_household, dtype=np.int64),
        need_number=np.asarray(need_number, dtype=np.int64),
        need_kind=tuple(need_kind),
        need_quantity=np.asarray(need_quantity, dtype=np.int64),
        need_reachable=reachable,
        candidate_pairs=pairs,
    )


def _weight_ranks(problem: Problem) -> dict[float, int]:
    """Rank 1 for the smallest weight; exact comparisons (Python's int/float order)."""
    values: set[float] = set()
    for household in problem.households:
        for need in household.needs:
            if need.weights is not None:
                values.update(need.weights)
            elif need.weight is not None and need.quantity > 0:
                values.add(need.weight)
    return {value: rank for rank, value in enumerate(sorted(values), start=1)}


def _need_levels(problem: Problem, household: int, number: int) -> list[tuple[float, int]]:
    """(weight, units) runs of one need, highest weight first."""
    need = problem.households[household].needs[number]
    if need.weights is None:
        assert need.weight is not None
        return [(need.weight, need.quantity)]
    runs: list[tuple[float, int]] = []
    for weight in need.weights:
        if runs and runs[-1][0] == weight:
            runs[-1] = (weight, runs[-1][1] + 1)
        else:
            runs.append((weight, 1))
    return runs


@dataclass(frozen=True, slots=True, kw_only=True)
class _Demand:
    """Merged demand nodes of one kind."""

    lat: FloatArray
    lon: FloatArray
    signature: IntArray
    quantity: IntArray
    members: list[list[int]]
    levels: list[dict[float, int]]


def _merge_demand(
    problem: Problem, needs: list[int], relevant: frozenset[str], table: tuple[list[int], ...]
) -> tuple[_Demand, list[frozenset[str]]]:
    need_household, need_number = table
    signatures: dict[frozenset[str], int] = {}
    nodes: dict[tuple[float, float, int], int] = {}
    lat: list[float] = []
    lon: list[float] = []
    signature: list[int] = []
    quantity: list[int] = []
    members: list[list[int]] = []
    levels: list[dict[float, int]] = []
    for n in needs:
        household = problem.households[need_household[n]]
        tags = household.tags & relevant
        sig = signatures.setdefault(tags, len(signatures))
        key = (float(household.lat), float(household.lon), sig)
        node = nodes.get(key)
        if node is None:
            node = nodes[key] = len(lat)
            lat.append(key[0])
            lon.append(key[1])
            signature.append(sig)
            quantity.append(0)
            members.append([])
            levels.append({})
        members[node].append(n)
        for weight, units in _need_levels(problem, need_household[n], need_number[n]):
            levels[node][weight] = levels[node].get(weight, 0) + units
            quantity[node] += units
    demand = _Demand(
        lat=np.asarray(lat, dtype=np.float64),
        lon=np.asarray(lon, dtype=np.float64),
        signature=np.asarray(signature, dtype=np.int64),
        quantity=np.asarray(quantity, dtype=np.int64),
        members=members,
        levels=levels,
    )
    return demand, list(signatures)


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


def _chain_offers(problem: Problem, offers: list[int]) -> tuple[_Chains, list[frozenset[str]]]:
    requirements: dict[frozenset[str], int] = {}
    groups: dict[tuple[float, float, int], list[int]] = {}
    for i in offers:
        offer = problem.offers[i]
        req = requirements.setdefault(offer.requires, len(requirements))
        groups.setdefault((float(offer.lat), float(offer.lon), req), []).append(i)
    index: list[int] = []
    chain: list[int] = []
    start = [0]
    lat: list[float] = []
    lon: list[float] = []
    requirement: list[int] = []
    for c, ((la, lo, req), members) in enumerate(groups.items()):
        members.sort(key=lambda i: (float(problem.offers[i].radius_km), i))
        index.extend(members)
        chain.extend([c] * len(members))
        start.append(len(index))
        lat.append(la)
        lon.append(lo)
        requirement.append(req)
    offer_index = np.asarray(index, dtype=np.int64)
    supply = np.asarray([problem.offers[i].quantity for i in index], dtype=np.int64)
    chain_of = np.asarray(chain, dtype=np.int64)
    starts = np.asarray(start, dtype=np.int64)
    # Suffix sums within each chain: total from the end minus the running total before.
    cumulative = np.concatenate([[0], np.cumsum(supply)])
    suffix = cumulative[starts[1:]][chain_of] - cumulative[:-1]
    chains = _Chains(
        offer_index=offer_index,
        radius=np.asarray([problem.offers[i].radius_km for i in index], dtype=np.float64),
        supply=supply,
        suffix=suffix,
        chain=chain_of,
        start=starts,
        lat=np.asarray(lat, dtype=np.float64),
        lon=np.asarray(lon, dtype=np.float64),
        requirement=np.asarray(requirement, dtype=np.int64),
    )
    return chains, list(requirements)


def _unique_points(lat: FloatArray, lon: FloatArray) -> tuple[IntArray, IntArray, IntArray]:
    """(first item of each distinct point, item -> point, points' items CSR order)."""
    keys = np.stack([lat, lon], axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    return first.astype(np.int64), inverse, np.argsort(inverse, kind="stable").astype(np.int64)


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
    problem: Problem,
    kind: str,
    offers: list[int],
    needs: list[int],
    ranks: dict[float, int],
    table: tuple[list[int], ...],
    reachable: npt.NDArray[np.bool_],
) -> tuple[list[Part], int]:
    chains, requirements = _chain_offers(problem, offers)
    relevant = frozenset().union(*requirements)
    demand, signatures = _merge_demand(problem, needs, relevant, table)
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
    compatible = np.array(
        [[req <= sig for req in requirements] for sig in signatures], dtype=np.bool_
    ).reshape(len(signatures), len(requirements))
    keep = compatible[demand.signature[dem], chains.requirement[chain]]
    keep &= km <= chains.radius[chains.start[chain + 1] - 1]
    chain, dem, km = chain[keep], dem[keep], km[keep]
    # Entry position: the first offer of the chain whose radius reaches the household.
    radii, radius_rank = np.unique(chains.radius, return_inverse=True)
    stride = len(radii) + 1
    position_key = chains.chain * stride + radius_rank.reshape(-1)
    position = np.searchsorted(position_key, chain * stride + np.searchsorted(radii, km))
    for member_list in (demand.members[d] for d in np.unique(dem)):
        reachable[member_list] = True
    kind_parts = _split(kind, chains, demand, ranks, position, dem, km)
    return kind_parts, len(chain)


def _split(
    kind: str,
    chains: _Chains,
    demand: _Demand,
    ranks: dict[float, int],
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
    current, filled = 0, 0
    for component in np.flatnonzero(arcs_per_label):
        part_of_label[component] = current
        filled += int(arcs_per_label[component])
        if filled >= PART_MIN_ARCS:
            current, filled = current + 1, 0
    arc_part = part_of_label[label[chain]]
    offer_part = part_of_label[label[chains.chain]]
    demand_part = part_of_label[label[n_chains:]]
    n_parts = int(arc_part.max()) + 1
    arcs_by_part = _group(arc_part, n_parts)
    offers_by_part = _group(offer_part, n_parts)
    demand_by_part = _group(demand_part, n_parts)
    return [
        _part(
            kind,
            chains,
            demand,
            ranks,
            offers_by_part[p],
            demand_by_part[p],
            arcs,
            (position, dem, km),
        )
        for p, arcs in enumerate(arcs_by_part)
    ]


def _group(part_of: IntArray, n_parts: int) -> list[IntArray]:
    """Indices of the items of each part, ascending (items of part -1 dropped)."""
    order = np.argsort(part_of, kind="stable")
    bounds = np.searchsorted(part_of[order], np.arange(n_parts + 1))
    return [order[bounds[p] : bounds[p + 1]] for p in range(n_parts)]


def _part(
    kind: str,
    chains: _Chains,
    demand: _Demand,
    ranks: dict[float, int],
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
    level_demand: list[int] = []
    level_weight: list[float] = []
    level_rank: list[int] = []
    level_count: list[int] = []
    member_start = [0]
    member_need: list[int] = []
    for local, d in enumerate(demands.tolist()):
        for weight, count in sorted(demand.levels[d].items(), reverse=True):
            level_demand.append(local)
            level_weight.append(float(weight))
            level_rank.append(ranks[weight])
            level_count.append(count)
        member_need.extend(demand.members[d])
        member_start.append(len(member_need))
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
        level_demand=np.asarray(level_demand, dtype=np.int64),
        level_rank=np.asarray(level_rank, dtype=np.int64),
        level_count=np.asarray(level_count, dtype=np.int64),
        level_weight=np.asarray(level_weight, dtype=np.float64),
        member_start=np.asarray(member_start, dtype=np.int64),
        member_need=np.asarray(member_need, dtype=np.int64),
    )
