"""Exact "what if" answers: more stock of a kind at a point, or a wider radius for an offer.

Kinds never share a unit, so only the kind concerned is solved again, before and after the
change, exactly (``solve_arrays`` on that kind's offers and needs): the differences are
those of the whole problem's lexicographic optimum.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.arrays import check_arrays
from matching.engine import solve_arrays
from matching.model import ArrayProblem, ArraySolution

__all__ = ("WhatIf", "what_if_radius", "what_if_stock")

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatIf:
    """How the exact optimum changes: households that receive anything, units, weighted
    units and unit-km (after minus before), and the seconds the answer took."""

    households_served: int
    units: int
    weighted_units: float
    unit_km: float
    seconds: float


def what_if_stock(
    problem: ArrayProblem,
    solution: ArraySolution,
    *,
    kind: str,
    lat: float,
    lon: float,
    quantity: int,
    radius_km: float,
    requires: tuple[str, ...] = (),
) -> WhatIf:
    """The change if ``quantity`` more units of ``kind`` were offered at (lat, lon) within
    ``radius_km``, to households with every tag in ``requires``. ``solution`` is the
    answer to ``problem`` (it tells which households other kinds already serve)."""
    started = time.perf_counter()
    p = check_arrays(problem)
    kinds, tags = p.kinds, p.tags
    if kind not in kinds:
        kinds = (*kinds, kind)
    tags = tags + tuple(t for t in dict.fromkeys(requires) if t not in tags)
    new_id = "+" + max(p.offer_id, key=len, default="") + "+what-if"
    code = {tag: i for i, tag in enumerate(tags)}
    required = np.asarray([code[t] for t in dict.fromkeys(requires)], dtype=np.int64)
    changed = dataclasses.replace(
        p,
        kinds=kinds,
        tags=tags,
        offer_id=(*p.offer_id, new_id),
        offer_kind=np.append(p.offer_kind, kinds.index(kind)),
        offer_quantity=np.append(p.offer_quantity, quantity),
        offer_lat=np.append(p.offer_lat, lat),
        offer_lon=np.append(p.offer_lon, lon),
        offer_radius_km=np.append(p.offer_radius_km, radius_km),
        offer_requires_start=np.append(
            p.offer_requires_start, p.offer_requires_start[-1] + len(required)
        ),
        offer_requires=np.concatenate([p.offer_requires, required]),
    )
    return _compare(p, changed, solution, kinds.index(kind), started)


def what_if_radius(
    problem: ArrayProblem, solution: ArraySolution, *, offer: str, radius_km: float
) -> WhatIf:
    """The change if ``offer`` reached households within ``radius_km`` instead."""
    started = time.perf_counter()
    p = check_arrays(problem)
    index = p.offer_id.index(offer)
    radius = p.offer_radius_km.copy()
    radius[index] = radius_km
    changed = dataclasses.replace(p, offer_radius_km=radius)
    return _compare(p, changed, solution, int(p.offer_kind[index]), started)


def _compare(
    before: ArrayProblem,
    after: ArrayProblem,
    solution: ArraySolution,
    kind: int,
    started: float,
) -> WhatIf:
    old = solve_arrays(_only_kind(before, kind), reports=False)
    new = solve_arrays(_only_kind(after, kind), reports=False)
    other = before.need_kind != kind  # a kind new to the problem: every need
    served_elsewhere = set(before.need_household[other & (solution.need_served > 0)].tolist())
    kind_needs = np.flatnonzero(after.need_kind == kind)
    served_before = served_elsewhere | set(
        before.need_household[kind_needs[old.need_served > 0]].tolist()
    )
    served_after = served_elsewhere | set(
        after.need_household[kind_needs[new.need_served > 0]].tolist()
    )
    return WhatIf(
        households_served=len(served_after) - len(served_before),
        units=new.totals.units - old.totals.units,
        weighted_units=new.totals.weighted_units - old.totals.weighted_units,
        unit_km=new.totals.unit_km - old.totals.unit_km,
        seconds=time.perf_counter() - started,
    )


def _only_kind(problem: ArrayProblem, kind: int) -> ArrayProblem:
    """The offers and needs of one kind (households all stay, with their tags)."""
    offers = np.flatnonzero(problem.offer_kind == kind)
    needs = np.flatnonzero(problem.need_kind == kind)
    requires_start, requires = _rows(problem.offer_requires_start, problem.offer_requires, offers)
    weights_start, weights = _rows(problem.need_weights_start, problem.need_weights, needs)
    return dataclasses.replace(
        problem,
        offer_id=tuple(map(problem.offer_id.__getitem__, offers.tolist())),
        offer_kind=problem.offer_kind[offers],
        offer_quantity=problem.offer_quantity[offers],
        offer_lat=problem.offer_lat[offers],
        offer_lon=problem.offer_lon[offers],
        offer_radius_km=problem.offer_radius_km[offers],
        offer_requires_start=requires_start,
        offer_requires=requires,
        need_household=problem.need_household[needs],
        need_kind=problem.need_kind[needs],
        need_quantity=problem.need_quantity[needs],
        need_weights_start=weights_start,
        need_weights=weights,
    )


def _rows(starts: IntArray, values: npt.NDArray[Any], rows: IntArray) -> tuple[IntArray, Any]:
    """The CSR lists of ``rows`` only."""
    lengths = starts[rows + 1] - starts[rows]
    new_starts = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_starts[1:])
    owner = np.repeat(np.arange(len(rows)), lengths)
    index = np.arange(int(new_starts[-1])) - new_starts[owner] + starts[rows][owner]
    return new_starts, values[index]
