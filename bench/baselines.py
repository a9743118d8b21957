"""Independent solvers for the benchmark: HiGHS' LP and networkx's network simplex.

Both work on the plain formulation (one variable per eligible (offer, need) pair, no
merging, no chains), with eligibility computed offer by offer over every household.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching import Problem
from matching.geo import great_circle_km


@dataclass(frozen=True, slots=True, kw_only=True)
class Plain:
    """Eligible (offer, need) pairs and the needs' priority levels."""

    offer: npt.NDArray[np.int64]
    need: npt.NDArray[np.int64]
    km: npt.NDArray[np.float64]
    level_need: list[int]
    level_weight: list[float]
    level_units: list[int]
    needs: int


def plain_pairs(problem: Problem) -> Plain:
    """Every eligible pair, one offer at a time against all households (vectorised)."""
    h_lat = np.array([h.lat for h in problem.households])
    h_lon = np.array([h.lon for h in problem.households])
    need_of: dict[tuple[int, str], list[int]] = {}
    level_need: list[int] = []
    level_weight: list[float] = []
    level_units: list[int] = []
    n = 0
    for h, household in enumerate(problem.households):
        for need in household.needs:
            need_of.setdefault((h, need.kind), []).append(n)
            units = [need.unit_weight(u) for u in range(need.quantity)]
            for w in sorted(set(units), reverse=True):
                level_need.append(n)
                level_weight.append(float(w))
                level_units.append(units.count(w))
            n += 1
    offers: list[int] = []
    needs: list[int] = []
    kms: list[float] = []
    for i, offer in enumerate(problem.offers):
        km = great_circle_km(offer.lat, offer.lon, h_lat, h_lon)
        for h in np.flatnonzero(km <= offer.radius_km).tolist():
            if offer.requires <= problem.households[h].tags:
                for number in need_of.get((h, offer.kind), []):
                    offers.append(i)
                    needs.append(number)
                    kms.append(float(km[h]))
    return Plain(
        offer=np.array(offers, dtype=np.int64),
        need=np.array(needs, dtype=np.int64),
        km=np.array(kms),
        level_need=level_need,
        level_weight=level_weight,
        level_units=level_units,
        needs=n,
    )


def highs_lp(problem: Problem, plain: Plain) -> tuple[float, float]:
    """(weighted units, unit-km): max weight, then min km with the weight fixed."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, vstack

    n_x, n_y = len(plain.offer), len(plain.level_need)
    cols = np.arange(n_x + n_y)
    a_ub = coo_matrix(
        (np.ones(n_x), (plain.offer, cols[:n_x])), shape=(len(problem.offers), n_x + n_y)
    )
    a_eq = coo_matrix(
        (
            np.concatenate([np.ones(n_x), -np.ones(n_y)]),
            (np.concatenate([plain.need, np.array(plain.level_need, dtype=np.int64)]), cols),
        ),
        shape=(plain.needs, n_x + n_y),
    )
    supply = np.array([float(o.quantity) for o in problem.offers])
    bounds = np.array([(0.0, np.inf)] * n_x + [(0.0, float(u)) for u in plain.level_units])
    weight = np.concatenate([np.zeros(n_x), -np.array(plain.level_weight)])
    first = linprog(
        weight,
        A_ub=a_ub,
        b_ub=supply,
        A_eq=a_eq,
        b_eq=np.zeros(plain.needs),
        bounds=bounds,
        method="highs",
    )
    best = -float(first.fun)
    a_ub2 = vstack([a_ub, coo_matrix(weight.reshape(1, -1))])
    floor = best - 1e-9 * max(1.0, best)
    second = linprog(
        np.concatenate([plain.km, np.zeros(n_y)]),
        A_ub=a_ub2,
        b_ub=np.append(supply, -floor),
        A_eq=a_eq,
        b_eq=np.zeros(plain.needs),
        bounds=bounds,
        method="highs",
    )
    return best, float(second.fun)


def network_simplex(problem: Problem, plain: Plain) -> tuple[float, float]:
    """The same optimum with exact Python-integer big-M costs (ranks, millimetres)."""
    import networkx as nx

    ranks = {w: r for r, w in enumerate(sorted(set(plain.level_weight)), start=1)}
    mm = np.rint(plain.km * 1e6).astype(np.int64).tolist()
    big_m = 2 * len(plain.offer) * (max(mm, default=0) + 1) + 1
    graph = nx.DiGraph()
    supply = sum(o.quantity for o in problem.offers)
    graph.add_node("s", demand=-supply)
    graph.add_node("t", demand=supply)
    graph.add_edge("s", "t", weight=0)
    for i, offer in enumerate(problem.offers):
        graph.add_edge("s", ("o", i), capacity=offer.quantity, weight=0)
    for arc, (i, n) in enumerate(zip(plain.offer.tolist(), plain.need.tolist(), strict=True)):
        graph.add_edge(("o", i), ("n", n), weight=mm[arc])
    for level, (n, w, units) in enumerate(
        zip(plain.level_need, plain.level_weight, plain.level_units, strict=True)
    ):
        graph.add_edge(("n", n), ("l", level), capacity=units, weight=-ranks[w] * big_m)
        graph.add_edge(("l", level), "t", weight=0)
    _, flow = nx.network_simplex(graph)
    weighted = math.fsum(
        plain.level_weight[level] * flow[("l", level)]["t"]
        for level in range(len(plain.level_need))
    )
    km = math.fsum(
        plain.km[arc] * flow[("o", i)][("n", n)]
        for arc, (i, n) in enumerate(zip(plain.offer.tolist(), plain.need.tolist(), strict=True))
    )
    return weighted, km
