"""Independent reference answers, for tests and the benchmark (never used by ``solve``).

They share nothing with the engine but the distance: all pairs are checked by brute force
(no spatial index, no merging, no chains), and the optimum comes from HiGHS' LP (scipy's
``linprog``) or networkx's ``network_simplex`` (the optional ``check`` extra). The
transportation LP is totally unimodular, so its optimum is the integer optimum.
``rank_cost_flow`` is phase one's plain formulation, the one OR-Tools min-cost flow over
every level arc that the engine's nested cuts (``matching.cuts``) replaced: the tests hold
the cuts' counts and potentials to it on networks the engine builds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.face import Direct
from matching.geo import great_circle_km
from matching.model import Household, Need, Offer, Problem, Solution
from matching.sums import int_bincount

__all__ = (
    "Reference",
    "eligible_pairs",
    "feasibility_errors",
    "lp_optimum",
    "random_problem",
    "rank_cost_flow",
)

KINDS = ("coal", "coat_adult", "quilt")
TAGS = ("electricity", "coal_stove")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    """The two optimal objective values of an instance."""

    weighted_units: float
    unit_km: float


def eligible_pairs(problem: Problem) -> list[tuple[int, int, int, float]]:
    """(offer, household, need number, km) for every eligible pair, by brute force."""
    pairs: list[tuple[int, int, int, float]] = []
    for i, offer in enumerate(problem.offers):
        for h, household in enumerate(problem.households):
            km = float(great_circle_km(offer.lat, offer.lon, household.lat, household.lon))
            if km > offer.radius_km or not offer.requires <= household.tags:
                continue
            for j, need in enumerate(household.needs):
                if need.kind == offer.kind:
                    pairs.append((i, h, j, km))
    return pairs


def lp_optimum(problem: Problem) -> Reference:
    """Lexicographic optimum by two LPs: max weight, then min unit-km at that weight."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    pairs = eligible_pairs(problem)
    levels: list[tuple[int, int, float, int]] = []  # (household, need, weight, units)
    for h, household in enumerate(problem.households):
        for j, need in enumerate(household.needs):
            for weight, units in _runs(need):
                levels.append((h, j, weight, units))
    if not pairs:
        return Reference(weighted_units=0.0, unit_km=0.0)
    n_x, n_y = len(pairs), len(levels)
    need_row = {
        key: r
        for r, key in enumerate(
            sorted(
                {
                    (h, j)
                    for h, household in enumerate(problem.households)
                    for j in range(len(household.needs))
                }
            )
        )
    }
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for c, (i, _, _, _) in enumerate(pairs):  # offer capacity rows
        rows.append(i)
        cols.append(c)
        vals.append(1.0)
    n_offer = len(problem.offers)
    a_ub = coo_matrix((vals, (rows, cols)), shape=(n_offer, n_x + n_y))
    b_ub = [float(offer.quantity) for offer in problem.offers]
    eq_rows: list[int] = []
    eq_cols: list[int] = []
    eq_vals: list[float] = []
    for c, (_, h, j, _) in enumerate(pairs):  # units received = units counted at levels
        eq_rows.append(need_row[(h, j)])
        eq_cols.append(c)
        eq_vals.append(1.0)
    for c, (h, j, _, _) in enumerate(levels):
        eq_rows.append(need_row[(h, j)])
        eq_cols.append(n_x + c)
        eq_vals.append(-1.0)
    a_eq = coo_matrix((eq_vals, (eq_rows, eq_cols)), shape=(len(need_row), n_x + n_y))
    b_eq = np.zeros(len(need_row))
    bounds = [(0.0, None)] * n_x + [(0.0, float(units)) for *_, units in levels]
    weights = np.array([0.0] * n_x + [-w for _, _, w, _ in levels])
    first = linprog(
        weights,
        A_ub=a_ub.tocsr(),
        b_ub=b_ub,
        A_eq=a_eq.tocsr(),
        b_eq=b_eq,
        bounds=bounds,
        method="highs",
    )
    best = -float(first.fun)
    # Keep the weight within a hair of its optimum and minimise the distance.
    floor = best - 1e-9 * max(1.0, abs(best))
    a_ub2 = coo_matrix(
        (
            np.concatenate([a_ub.data, weights[n_x:]]),
            (
                np.concatenate([a_ub.row, np.full(n_y, n_offer)]),
                np.concatenate([a_ub.col, np.arange(n_x, n_x + n_y)]),
            ),
        ),
        shape=(n_offer + 1, n_x + n_y),
    )
    km = np.array([p[3] for p in pairs] + [0.0] * n_y)
    second = linprog(
        km,
        A_ub=a_ub2.tocsr(),
        b_ub=[*b_ub, -floor],
        A_eq=a_eq.tocsr(),
        b_eq=b_eq,
        bounds=bounds,
        method="highs",
    )
    return Reference(weighted_units=best, unit_km=float(second.fun))


def rank_cost_flow(
    network: Direct, supply: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Phase one as the plain min-cost flow in which a unit of level t gains t + 1, the
    formulation ``matching.cuts`` is checked against: (c_t by level, every arc's flow)."""
    from ortools.graph.python import min_cost_flow

    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        network.tails.astype(np.int32),
        network.heads.astype(np.int32),
        network.capacities,
        network.costs,
    )
    solver.set_node_supply(0, supply)
    solver.set_node_supply(1, -supply)
    status = solver.solve_max_flow_with_min_cost()
    assert status == solver.OPTIMAL, status
    flows = np.asarray(solver.flows(arcs), dtype=np.int64)
    return int_bincount(network.level_of_arc, flows[network.levels], network.level_total), flows


def _runs(need: Need) -> list[tuple[float, int]]:
    if need.weights is None:
        assert need.weight is not None
        return [(float(need.weight), need.quantity)] if need.quantity else []
    runs: list[tuple[float, int]] = []
    for weight in need.weights:
        if runs and runs[-1][0] == weight:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((float(weight), 1))
    return runs


def random_problem(
    rng: np.random.Generator, *, offers: int = 6, households: int = 12, spread_km: float = 40.0
) -> Problem:
    """A small random instance around one point, with shared points and tied weights."""
    deg = spread_km / 111.0
    centre_lat, centre_lon = 40.0 + rng.uniform(-5, 5), 115.0 + rng.uniform(-10, 10)
    points: npt.NDArray[np.float64] = rng.uniform(-deg, deg, size=(max(2, households // 2), 2))

    def point() -> tuple[float, float]:
        lat, lon = points[rng.integers(len(points))]
        return float(centre_lat + lat), float(centre_lon + lon / math.cos(math.radians(40)))

    made_offers = []
    for i in range(offers):
        lat, lon = point()
        kind = KINDS[int(rng.integers(len(KINDS)))]
        requires = frozenset(t for t in TAGS if rng.random() < 0.25)
        made_offers.append(
            Offer(
                id=f"o{i}",
                kind=kind,
                quantity=int(rng.integers(0, 5)),
                lat=lat,
                lon=lon,
                radius_km=float(rng.choice([15, 25, 40, 60])),
                requires=requires,
            )
        )
    made_households = []
    for h in range(households):
        lat, lon = point()
        needs = []
        for kind in KINDS:
            if rng.random() < 0.5:
                quantity = int(rng.integers(0, 4))
                if rng.random() < 0.5:
                    weight = float(rng.choice([1.0, 2.0, 2.5, 4.0]))
                    needs.append(Need(kind=kind, quantity=quantity, weight=weight))
                else:
                    ws = sorted(rng.choice([1.0, 1.5, 3.0, 5.0], size=quantity), reverse=True)
                    needs.append(Need(kind=kind, quantity=quantity, weights=tuple(map(float, ws))))
        tags = frozenset(t for t in TAGS if rng.random() < 0.6)
        made_households.append(
            Household(id=f"h{h}", lat=lat, lon=lon, tags=tags, needs=tuple(needs))
        )
    return Problem(offers=tuple(made_offers), households=tuple(made_households))


def feasibility_errors(problem: Problem, solution: Solution) -> list[str]:
    """Every way ``solution`` breaks a rule of ``problem`` (empty when feasible)."""
    errors: list[str] = []
    offers = {offer.id: offer for offer in problem.offers}
    households = {household.id: household for household in problem.households}
    given: dict[str, int] = {}
    received: dict[tuple[str, str], int] = {}
    for a in solution.assignments:
        offer, household = offers[a.offer], households[a.household]
        km = float(great_circle_km(offer.lat, offer.lon, household.lat, household.lon))
        if a.quantity <= 0:
            errors.append(f"{a}: quantity must be positive")
        if a.kind != offer.kind:
            errors.append(f"{a}: kind differs from the offer's")
        if km != a.distance_km or km > offer.radius_km:
            errors.append(f"{a}: {km} km reported as {a.distance_km}, radius {offer.radius_km}")
        if not offer.requires <= household.tags:
            errors.append(f"{a}: household lacks {sorted(offer.requires - household.tags)}")
        given[a.offer] = given.get(a.offer, 0) + a.quantity
        received[(a.household, a.kind)] = received.get((a.household, a.kind), 0) + a.quantity
    for offer in problem.offers:
        if given.get(offer.id, 0) > offer.quantity:
            errors.append(f"offer {offer.id}: gives {given[offer.id]} of {offer.quantity}")
    wanted: dict[tuple[str, str], int] = {}
    for household in problem.households:
        for need in household.needs:
            key = (household.id, need.kind)
            wanted[key] = wanted.get(key, 0) + need.quantity
    for key, count in received.items():
        if count > wanted.get(key, 0):
            errors.append(
                f"household {key[0]}: receives {count} {key[1]}, wants {wanted.get(key, 0)}"
            )
    return errors
