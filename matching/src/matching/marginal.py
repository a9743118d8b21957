"""Reports on a solved problem: what one more unit would do, and the unmet need by region.

**One more unit, exactly.** Take the optimal flow of a part (phase two: the level counts of
the lexicographic optimum, at least cost). One more unit of supply at offer position p
raises the optimum's weighted units by w exactly when some unit of weight w, now unserved,
can be reached from p along a path of the flow's residual network, and by no more: one
unit of supply adds at most one unit of flow, and a path that went back through the source
would be an augmenting path of the optimum itself (each unit has a positive weight), which
an optimum does not have. The least-cost such path (the least cost of the new optimum, by
the successive shortest path argument: the residual network of a least-cost flow has no
negative cycle) gives the change of unit-km, and its last demand node the household
served. So, per part:

1. the residual network: a pair arc forward always (capacities of pair and chain arcs
   never bind: they repeat what the supply and the needs already cap), backward where it
   carries flow; a chain arc down always, up where the positions above still have stock
   not promised to entries above (the chain's slack); a demand node's level arc forward
   where the level still wants units (the end of a path, worth the level's weight) and
   backward where it carries flow;
2. the best weight each node reaches, by propagating maxima along the arcs (reachability
   only, exact);
3. among paths to ends of exactly that weight, the least cost, by Bellman-Ford in the
   phase-two integer costs (no negative cycle), carrying the float kilometres alongside.

A node's path to its best end only passes nodes of the same best weight, so step 3 runs
on all weights at once. Parts not solved exactly (time limit) get no marginal rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.flow import PartFlow
from matching.geo import great_circle_km_between
from matching.model import ArrayProblem
from matching.network import Network, Part
from matching.sums import int_bincount, unique_inverse

__all__ = ("PositionValues", "position_values", "region_unmet", "report_columns")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_FAR = np.int64(2**62)


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionValues:
    """One more unit at each position of a part: weight gained (0: none), the demand node
    and level arc it ends at, and the change of unit-km (NaN when nothing is gained)."""

    weight: FloatArray
    demand: IntArray
    unit_km: FloatArray


def position_values(part: Part, flow: PartFlow) -> PositionValues:
    """The exact value of one more unit at every position of an exactly solved ``part``."""
    n_pos, n_dem = len(part.offer_supply), len(part.demand_quantity)
    n_lev = int(part.level_rank.max(initial=-1)) + 1
    level_node = n_pos + n_dem + part.level_rank  # one node per rank (ranks are dense enough)
    demand_node = n_pos + part.pair_demand
    resolution = flow.resolution_km if flow.resolution_km > 0 else 1e-9
    cost = np.rint(part.pair_km / resolution).astype(np.int64)
    flowing = flow.pair_flow > 0
    # Chain slack above each position: stock at or above it minus what enters at or above it.
    entering = int_bincount(part.pair_offer, flow.pair_flow, n_pos)
    up_ok = _chain_slack(part, entering)[part.chain_tail] >= 1
    open_level = flow.level_flow < part.level_count
    level_demand = n_pos + part.level_demand
    tails = np.concatenate(
        [
            part.chain_tail,  # down the chain
            part.chain_head[up_ok],  # up the chain
            part.pair_offer,  # to a household
            demand_node[flowing],  # back from a household
            level_demand[open_level],  # into a level that still wants units
            level_node[flow.level_flow > 0],  # out of a level, back to a served node
        ]
    )
    heads = np.concatenate(
        [
            part.chain_head,
            part.chain_tail[up_ok],
            demand_node,
            part.pair_offer[flowing],
            level_node[open_level],
            level_demand[flow.level_flow > 0],
        ]
    )
    zero_i = np.zeros(len(part.chain_tail) + int(up_ok.sum()), dtype=np.int64)
    levels_i = np.zeros(int(open_level.sum()) + int((flow.level_flow > 0).sum()), np.int64)
    costs = np.concatenate([zero_i, cost, -cost[flowing], levels_i])
    km = np.concatenate(
        [zero_i.astype(np.float64), part.pair_km, -part.pair_km[flowing], levels_i * 0.0]
    )
    n_nodes = n_pos + n_dem + n_lev
    # A path ends when it enters a level that still wants units: worth the level's weight.
    end = np.zeros(n_nodes, dtype=np.float64)
    np.maximum.at(end, level_demand[open_level], part.level_weight[open_level])
    best = end.copy()
    while True:
        reached = best.copy()
        np.maximum.at(reached, tails, best[heads])
        if np.array_equal(reached, best):
            break
        best = reached
    # Least cost to an end of exactly the node's best weight, within nodes of that weight.
    same = (best[tails] == best[heads]) & (best[tails] > 0)
    tails, heads, costs, km = tails[same], heads[same], costs[same], km[same]
    distance = np.full(n_nodes, _FAR, dtype=np.int64)
    path_km = np.full(n_nodes, np.nan)
    via = np.full(n_nodes, -1, dtype=np.int64)
    ends = np.flatnonzero((end > 0) & (end == best))
    distance[ends], path_km[ends], via[ends] = 0, 0.0, ends
    while True:
        live = distance[heads] < _FAR
        candidate = np.where(live, costs + distance[heads], _FAR)
        lowest = distance.copy()
        np.minimum.at(lowest, tails, candidate)
        better = lowest < distance
        if not better.any():
            break
        chosen = np.flatnonzero(better[tails] & (candidate == lowest[tails]))
        node, first = np.unique(tails[chosen], return_index=True)
        arc = chosen[first]
        distance[node] = lowest[node]
        path_km[node] = km[arc] + path_km[heads[arc]]
        via[node] = via[heads[arc]]
    positions = np.arange(n_pos)
    gained = best[positions]
    return PositionValues(
        weight=gained,
        demand=np.where(gained > 0, via[positions] - n_pos, -1),
        unit_km=np.where(gained > 0, path_km[positions], np.nan),
    )


def _chain_slack(part: Part, entering: IntArray) -> IntArray:
    """For each position: stock at it and above in its chain minus units entering there."""
    n = len(part.offer_supply)
    starts = np.ones(n, dtype=np.bool_)
    starts[part.chain_head + 1] = False
    chain = np.cumsum(starts) - 1
    left = (part.offer_supply - entering)[::-1]
    total = np.cumsum(left)
    first = np.ones(n, dtype=np.bool_)
    first[1:] = chain[::-1][1:] != chain[::-1][:-1]
    base = (total - left)[np.flatnonzero(first)]
    slack: IntArray = (total - base[np.cumsum(first) - 1])[::-1]
    return slack


def region_unmet(
    network: Network, served: IntArray, household_region: IntArray | None
) -> tuple[IntArray, IntArray, FloatArray, IntArray, IntArray]:
    """Unserved units by (region, kind, weight), and the households they belong to:
    (region, kind, weight, units, households), region -1 for none, kinds by name, the
    highest weight first."""
    need = network.run_need
    unserved = np.clip(
        network.run_first + network.run_units - np.maximum(served[need], network.run_first),
        0,
        network.run_units,
    )
    runs = np.flatnonzero(unserved)
    household = network.need_household[need[runs]]
    region = (
        np.full(len(runs), -1, dtype=np.int64)
        if household_region is None
        else np.asarray(household_region, dtype=np.int64)[household]
    )
    kind = network.need_kind[need[runs]]
    kind_order = np.argsort(np.argsort(np.asarray(network.kinds, dtype=object))).astype(np.int64)
    weight = network.run_weight[runs]
    distinct, weight_rank = unique_inverse(-weight)  # highest weight first
    # The last digit is the household index, so its base is the number of households.
    sizes = [len(network.kinds), len(distinct), int(household.max(initial=-1)) + 1]
    if (int(region.max(initial=0)) + 2) * math.prod(sizes) < 2**62:
        key = (((region + 1) * sizes[0] + kind_order[kind]) * sizes[1] + weight_rank) * sizes[
            2
        ] + household
        order = np.argsort(key, kind="stable")
    else:
        order = np.lexsort((household, weight_rank, kind_order[kind], region))
    region, kind, weight, household = region[order], kind[order], weight[order], household[order]
    units = unserved[runs][order]
    new = np.ones(len(order), dtype=np.bool_)
    new[1:] = (region[1:] != region[:-1]) | (kind[1:] != kind[:-1]) | (weight[1:] != weight[:-1])
    heads = np.flatnonzero(new)
    new_household = new.copy()
    new_household[1:] |= household[1:] != household[:-1]
    group = np.cumsum(new) - 1
    return (
        region[heads],
        kind[heads],
        weight[heads],
        np.add.reduceat(units, heads) if len(heads) else np.empty(0, np.int64),
        np.bincount(group[new_household], minlength=len(heads)).astype(np.int64),
    )


def report_columns(
    problem: ArrayProblem,
    network: Network,
    flows: list[PartFlow],
    optimal: list[bool],
    served: IntArray,
) -> dict[str, npt.NDArray[Any]]:
    """The ``marginal_*`` and ``region_unmet_*`` columns of an :class:`ArraySolution`."""
    region, kind, weight, units, households = region_unmet(
        network, served, problem.household_region
    )
    columns: dict[str, npt.NDArray[Any]] = {
        "region_unmet_region": region,
        "region_unmet_kind": kind,
        "region_unmet_weight": weight,
        "region_unmet_units": units,
        "region_unmet_households": households,
    }
    return columns | _marginal_columns(problem, network, flows, optimal, served)


def _marginal_columns(
    problem: ArrayProblem,
    network: Network,
    flows: list[PartFlow],
    optimal: list[bool],
    served: IntArray,
) -> dict[str, npt.NDArray[Any]]:
    n_offers = len(problem.offer_id)
    gain = np.zeros(n_offers, dtype=np.float64)
    unit_km = np.full(n_offers, np.nan)
    household = np.full(n_offers, -1, dtype=np.int64)
    known = np.ones(n_offers, dtype=np.bool_)  # offers in no part serve no one: value 0
    run_start = np.searchsorted(network.run_need, np.arange(len(network.need_quantity) + 1))
    for part, flow, exact in zip(network.parts, flows, optimal, strict=True):
        if not exact:
            known[part.offer_index] = False
            continue
        values = position_values(part, flow)
        gain[part.offer_index] = values.weight
        unit_km[part.offer_index] = values.unit_km
        for position in np.flatnonzero(values.weight > 0).tolist():
            need = _need_reached(
                network,
                run_start,
                part,
                int(values.demand[position]),
                values.weight[position],
                served,
            )
            household[part.offer_index[position]] = network.need_household[need]
    # Points where an offer of the kind is in a part not solved exactly get no row.
    stocked = np.flatnonzero(problem.offer_quantity > 0)
    stocked = stocked[_whole_points(problem, stocked, known)]
    # One row per (kind, point): the offer there whose extra unit is worth most.
    kind_order = np.argsort(np.argsort(np.asarray(problem.kinds, dtype=object))).astype(np.int64)
    kind = kind_order[problem.offer_kind[stocked]]
    lat, lon = problem.offer_lat[stocked], problem.offer_lon[stocked]
    order = np.lexsort((stocked, unit_km[stocked], -gain[stocked], lon, lat, kind))
    first = np.ones(len(order), dtype=np.bool_)
    first[1:] = (
        (kind[order][1:] != kind[order][:-1])
        | (lat[order][1:] != lat[order][:-1])
        | (lon[order][1:] != lon[order][:-1])
    )
    offers = stocked[order[first]]
    reached = household[offers]
    km = np.full(len(offers), np.nan)
    hit = np.flatnonzero(reached >= 0)
    km[hit] = great_circle_km_between(
        problem.offer_lat,
        problem.offer_lon,
        problem.household_lat,
        problem.household_lon,
        offers[hit],
        reached[hit],
    )
    return {
        "marginal_offer": offers,
        "marginal_weight": gain[offers],
        "marginal_household": reached,
        "marginal_km": km,
        "marginal_unit_km": unit_km[offers],
    }


def _need_reached(
    network: Network,
    run_start: IntArray,
    part: Part,
    demand: int,
    weight: float,
    served: IntArray,
) -> int:
    """The member need of ``demand`` that one more unit of ``weight`` serves: the first,
    in member order, with an unserved unit of that weight (as the assembly shares out)."""
    for need in part.member_need[part.member_start[demand] : part.member_start[demand + 1]]:
        for run in range(int(run_start[need]), int(run_start[need + 1])):
            if (
                network.run_weight[run] == weight
                and network.run_first[run] + network.run_units[run] > served[need]
            ):
                return int(need)
    raise AssertionError("a level that wants units has a member that wants one")


def _whole_points(
    problem: ArrayProblem, offers: IntArray, known: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Which of ``offers`` sit at a (kind, point) whose offers all have a known value."""
    keys = np.stack(
        [
            problem.offer_kind[offers].astype(np.float64),
            problem.offer_lat[offers],
            problem.offer_lon[offers],
        ],
        axis=1,
    )
    _, group = np.unique(keys, axis=0, return_inverse=True)
    group = group.reshape(-1)
    bad = np.zeros(int(group.max(initial=-1)) + 1, dtype=np.bool_)
    bad[group[~known[offers]]] = True
    keep: npt.NDArray[np.bool_] = ~bad[group]
    return keep
