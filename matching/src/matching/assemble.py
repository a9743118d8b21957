"""From part flows back to offers, households and units, each with its reason."""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from matching.flow import PartFlow
from matching.model import Assignment, Problem, Totals, Unmet
from matching.network import Network, Part

__all__ = ("Outcome", "assemble")


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """Assignments, unmet needs and totals of a set of part flows."""

    assignments: tuple[Assignment, ...]
    unmet: tuple[Unmet, ...]
    totals: Totals


@dataclass(slots=True)
class _Row:
    quantity: int
    km: float
    radius: float
    segments: list[tuple[int, int, float]]  # (first unit, units, weight) within the need


def assemble(problem: Problem, network: Network, flows: list[tuple[Part, PartFlow]]) -> Outcome:
    """Decompose every part's flow into per-offer, per-household assignments."""
    served = np.zeros(len(network.need_quantity), dtype=np.int64)
    rows: dict[tuple[int, str, int], _Row] = {}
    for part, flow in flows:
        _assemble_part(problem, network, part, flow, served, rows)
    assignments = tuple(
        Assignment(
            offer=problem.offers[offer].id,
            household=problem.households[household].id,
            kind=kind,
            quantity=row.quantity,
            distance_km=row.km,
            reason=_reason(f"{row.km:.1f}", row.radius, tuple(sorted(row.segments))),
        )
        for (household, kind, offer), row in sorted(rows.items())
    )
    weighted: list[float] = []
    for n, count in enumerate(served.tolist()):
        if count:
            need = problem.households[network.need_household[n]].needs[network.need_number[n]]
            if need.weights is None:
                assert need.weight is not None
                weighted.append(float(need.weight) * count)
            else:
                weighted.extend(float(w) for w in need.weights[:count])
    totals = Totals(
        weighted_units=math.fsum(weighted),
        unit_km=math.fsum(a.quantity * a.distance_km for a in assignments),
        units=sum(a.quantity for a in assignments),
    )
    return Outcome(assignments=assignments, unmet=_unmet(problem, network, served), totals=totals)


def _assemble_part(
    problem: Problem,
    network: Network,
    part: Part,
    flow: PartFlow,
    served: np.ndarray,
    rows: dict[tuple[int, str, int], _Row],
) -> None:
    pieces = _offer_pieces(part, flow)
    level_served: defaultdict[int, list[tuple[float, int]]] = defaultdict(list)
    for demand, weight, count in zip(
        part.level_demand.tolist(),
        part.level_weight.tolist(),
        flow.level_flow.tolist(),
        strict=True,
    ):
        if count:
            level_served[demand].append((weight, count))
    starts = part.member_start.tolist()
    for demand, received in sorted(pieces.items()):
        members = part.member_need[starts[demand] : starts[demand + 1]].tolist()
        segments = _need_segments(problem, network, members, level_served[demand], served)
        received.sort()
        _pair_up(network, part, received, segments, rows)


def _offer_pieces(part: Part, flow: PartFlow) -> dict[int, list[tuple[float, int, int]]]:
    """Which offer of a chain gives which units: (km, position, units) per demand node.

    Arcs entering a chain highest first take stock from the nearest-radius offer that
    reaches them; the flow's feasibility guarantees this never runs dry.
    """
    remaining = part.offer_supply.tolist()
    flowing = np.flatnonzero(flow.pair_flow)
    order = flowing[np.lexsort((part.pair_demand[flowing], -part.pair_offer[flowing]))]
    pieces: defaultdict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for arc in order.tolist():
        wanted = int(flow.pair_flow[arc])
        position = int(part.pair_offer[arc])
        km = float(part.pair_km[arc])
        demand = int(part.pair_demand[arc])
        while wanted:
            while remaining[position] == 0:
                position += 1
            take = min(wanted, remaining[position])
            remaining[position] -= take
            wanted -= take
            pieces[demand].append((km, position, take))
    return pieces


def _need_segments(
    problem: Problem,
    network: Network,
    members: list[int],
    levels: list[tuple[float, int]],
    served: np.ndarray,
) -> list[tuple[float, int, int, int]]:
    """Served units of a demand node's needs as (-weight, need, first unit, units)."""
    runs = {n: _runs(problem, network, n) for n in members}
    taken: dict[int, int] = dict.fromkeys(members, 0)
    if len(members) == 1:
        taken[members[0]] = sum(count for _, count in levels)
        levels = []
    for weight, count in levels:
        left = count
        for n in members:
            at_weight = sum(units for w, units in runs[n] if w == weight)
            take = min(left, at_weight)
            taken[n] += take
            left -= take
            if not left:
                break
    segments: list[tuple[float, int, int, int]] = []
    for n in members:
        served[n] += taken[n]
        unit, left = 0, taken[n]
        for weight, units in runs[n]:
            if not left:
                break
            take = min(units, left)
            segments.append((-weight, n, unit, take))
            unit, left = unit + units, left - take
    segments.sort()
    return segments


def _runs(problem: Problem, network: Network, n: int) -> list[tuple[float, int]]:
    need = problem.households[network.need_household[n]].needs[network.need_number[n]]
    if need.weights is None:
        assert need.weight is not None
        return [(float(need.weight), need.quantity)]
    runs: list[tuple[float, int]] = []
    for weight in need.weights:
        if runs and runs[-1][0] == weight:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((float(weight), 1))
    return runs


def _pair_up(
    network: Network,
    part: Part,
    received: list[tuple[float, int, int]],
    segments: list[tuple[float, int, int, int]],
    rows: dict[tuple[int, str, int], _Row],
) -> None:
    """Nearest stock to the highest-priority units, in a fixed order."""
    s = 0
    for km, position, units in received:
        left = units
        while left:
            neg_weight, n, first, count = segments[s]
            take = min(left, count)
            offer = int(part.offer_index[position])
            key = (int(network.need_household[n]), part.kind, offer)
            row = rows.get(key)
            if row is None:
                row = rows[key] = _Row(0, km, float(part.offer_radius[position]), [])
            row.quantity += take
            row.segments.append((first, take, -neg_weight))
            left -= take
            if take == count:
                s += 1
            else:
                segments[s] = (neg_weight, n, first + take, count - take)


@functools.lru_cache(maxsize=4096)
def _reason(km: str, radius: float, segments: tuple[tuple[int, int, float], ...]) -> str:
    groups: list[tuple[float, int, int]] = []
    for first, units, weight in segments:
        if groups and groups[-1][0] == weight and groups[-1][2] == first:
            groups[-1] = (weight, groups[-1][1], first + units)
        else:
            groups.append((weight, first, first + units))
    shown, more = groups[:3], len(groups) > 3
    zh = "、".join(f"{w:g}（第{_span(a, b, '–')}件）" for w, a, b in shown)
    en = ", ".join(
        f"{w:g} ({'unit' if b - a == 1 else 'units'} {_span(a, b, '–')})" for w, a, b in shown
    )
    tail_zh, tail_en = ("等", " etc.") if more else ("", "")
    return (
        f"距离 {km} km（服务半径 {radius:g} km 内）；优先级 {zh}{tail_zh} / "
        f"{km} km away (within {radius:g} km); priority {en}{tail_en}"
    )


def _span(first: int, end: int, dash: str) -> str:
    return f"{first + 1}" if end - first == 1 else f"{first + 1}{dash}{end}"


def _unmet(
    problem: Problem,
    network: Network,
    served: np.ndarray,
) -> tuple[Unmet, ...]:
    offered = {offer.kind for offer in problem.offers if offer.quantity > 0}
    unmet: list[Unmet] = []
    for n, (quantity, count) in enumerate(
        zip(network.need_quantity.tolist(), served.tolist(), strict=True)
    ):
        if count >= quantity:
            continue
        household = problem.households[network.need_household[n]]
        need = household.needs[network.need_number[n]]
        weight = need.unit_weight(count)
        kind = network.need_kind[n]
        if kind not in offered:
            why = (
                f"暂无此类物资的捐赠（优先级 {weight:g}）/ "
                f"no offer of this kind (priority {weight:g})"
            )
        elif not network.need_reachable[n]:
            why = (
                f"服务半径内没有符合条件的捐赠（优先级 {weight:g}）/ "
                f"no eligible offer within reach (priority {weight:g})"
            )
        else:
            why = (
                f"附近的捐赠已分给优先级更高或更近的需求（优先级 {weight:g}）/ "
                f"offers in reach went to higher-priority or nearer needs (priority {weight:g})"
            )
        unmet.append(
            Unmet(household=household.id, kind=kind, quantity=quantity - count, reason=why)
        )
    return tuple(unmet)
