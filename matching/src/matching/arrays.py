"""Between the two faces of the API: dataclasses and numpy columns.

``solve`` turns its :class:`Problem` into an :class:`ArrayProblem`, solves that, and turns
the :class:`ArraySolution` back into a :class:`Solution`: the two paths share one core and
cannot disagree. ``array_errors`` checks an ``ArrayProblem`` in numpy, naming the item and
the field of every fault as the dataclass checks do.

Why one module of ~550 lines: each column is converted and checked in both directions, and
the conversions are meant to be read side by side, so that the two faces cannot drift apart.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
from collections.abc import Iterator, Sequence
from functools import partial
from operator import attrgetter, is_not
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.model import (
    ArrayProblem,
    ArraySolution,
    Assignment,
    MarginalValue,
    Problem,
    RegionUnmet,
    Solution,
    Unmet,
)
from matching.reasons import assignment_reasons, unmet_reasons
from matching.validate import MAX_QUANTITY, InvalidProblemError, describe

__all__ = (
    "array_errors",
    "check_arrays",
    "items_to_arrays",
    "no_cyclic_gc",
    "normalized",
    "problem_to_arrays",
    "solution_from_arrays",
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_INT_COLUMNS = (
    "offer_kind",
    "offer_quantity",
    "offer_requires_start",
    "offer_requires",
    "household_tags_start",
    "household_tags",
    "need_household",
    "need_kind",
    "need_quantity",
    "need_weights_start",
)
_FLOAT_COLUMNS = (
    "offer_lat",
    "offer_lon",
    "offer_radius_km",
    "household_lat",
    "household_lon",
    "need_weights",
)
_SHOWN = 200
"""Per kind of fault, at most this many items are named (the count says the rest)."""


def problem_to_arrays(problem: Problem) -> ArrayProblem:
    """The columns of a (valid) :class:`Problem`; kinds and tags in sorted order."""
    arrays, _, _ = items_to_arrays(problem.offers, problem.households)
    return arrays


def items_to_arrays(
    offers: Sequence[Any], households: Sequence[Any]
) -> tuple[ArrayProblem, dict[str, int], bool]:
    """Columns from items with the attributes of :class:`Offer`, :class:`Household` and
    :class:`Need` (dataclasses or decoded structs), the ids given as integers, and whether
    some need had neither ``weight`` nor ``weights``, or both (it then gets no weight), or
    ``weights`` not one per unit.
    """
    n_o, n_h = len(offers), len(households)
    need_lists = list(map(attrgetter("needs"), households))
    counts = np.fromiter(map(len, need_lists), np.int64, n_h)
    needs = list(itertools.chain.from_iterable(need_lists))
    n = len(needs)
    need_kinds = list(map(attrgetter("kind"), needs))
    offer_kinds = list(map(attrgetter("kind"), offers))
    kinds = sorted(set(need_kinds).union(offer_kinds))
    kind_code = {kind: code for code, kind in enumerate(kinds)}
    tag_lists = list(map(attrgetter("tags"), households))
    require_lists = list(map(attrgetter("requires"), offers))
    tags = sorted(
        set(itertools.chain.from_iterable(tag_lists)).union(
            itertools.chain.from_iterable(require_lists)
        )
    )
    tag_code = {tag: code for code, tag in enumerate(tags)}
    singles = list(map(attrgetter("weight"), needs))
    listed = list(map(attrgetter("weights"), needs))
    has_single = np.fromiter(map(partial(is_not, None), singles), np.bool_, n)
    has_list = np.fromiter(map(partial(is_not, None), listed), np.bool_, n)
    malformed = bool(np.any(has_single == has_list))
    if malformed:  # neither or both: no weight at all, which array_errors refuses
        keep = (has_single != has_list).tolist()
        singles = [w if k else None for w, k in zip(singles, keep, strict=True)]
        listed = [ws if k else () for ws, k in zip(listed, keep, strict=True)]
    weight_lists = [(w,) if ws is None else ws for w, ws in zip(singles, listed, strict=True)]
    need_quantity = _column(needs, "quantity", np.int64)
    need_weights_start = _starts(weight_lists)
    # A list of weights has one per unit, even for a single unit (a list is not a weight).
    malformed |= bool(np.any(has_list & (np.diff(need_weights_start) != need_quantity)))
    region_names = list(map(attrgetter("region"), households))
    regions = sorted(set(region_names) - {None})
    region_code = {region: code for code, region in enumerate(regions)}
    region_code[None] = -1
    household_region = (
        np.fromiter(map(region_code.__getitem__, region_names), np.int64, n_h) if regions else None
    )
    original: dict[str, int] = {}
    return (
        ArrayProblem(
            kinds=tuple(kinds),
            tags=tuple(tags),
            offer_id=_ids(offers, original),
            offer_kind=np.fromiter(map(kind_code.__getitem__, offer_kinds), np.int64, n_o),
            offer_quantity=_column(offers, "quantity", np.int64),
            offer_lat=_column(offers, "lat", np.float64),
            offer_lon=_column(offers, "lon", np.float64),
            offer_radius_km=_column(offers, "radius_km", np.float64),
            offer_requires_start=_starts(require_lists),
            offer_requires=_codes(require_lists, tag_code),
            household_id=_ids(households, original),
            household_lat=_column(households, "lat", np.float64),
            household_lon=_column(households, "lon", np.float64),
            household_tags_start=_starts(tag_lists),
            household_tags=_codes(tag_lists, tag_code),
            need_household=np.repeat(np.arange(n_h, dtype=np.int64), counts),
            need_kind=np.fromiter(map(kind_code.__getitem__, need_kinds), np.int64, n),
            need_quantity=need_quantity,
            need_weights_start=need_weights_start,
            need_weights=np.fromiter(itertools.chain.from_iterable(weight_lists), np.float64),
            regions=tuple(regions),
            household_region=household_region,
        ),
        original,
        malformed,
    )


def _ids(items: Sequence[Any], original: dict[str, int]) -> tuple[str, ...]:
    ids = tuple(map(attrgetter("id"), items))
    if all(type(i) is str for i in ids):
        return ids
    for i in ids:
        if type(i) is int:
            original[str(i)] = i
    return tuple(i if type(i) is str else str(i) for i in ids)


def _column(items: Sequence[Any], name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
    return np.fromiter(map(attrgetter(name), items), dtype, len(items))


def _starts(lists: Sequence[Sequence[Any]]) -> IntArray:
    starts = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, lists), np.int64, len(lists)), out=starts[1:])
    return starts


def _codes(lists: Sequence[Sequence[str]], code: dict[str, int]) -> IntArray:
    return np.fromiter(map(code.__getitem__, itertools.chain.from_iterable(lists)), np.int64)


def normalized(problem: ArrayProblem) -> ArrayProblem:
    """The same problem with int64 and float64 columns (no copy when they already are)."""
    changes: dict[str, Any] = {}
    for name in _INT_COLUMNS:
        changes[name] = np.ascontiguousarray(getattr(problem, name), dtype=np.int64)
    for name in _FLOAT_COLUMNS:
        changes[name] = np.ascontiguousarray(getattr(problem, name), dtype=np.float64)
    region = problem.household_region
    return ArrayProblem(
        kinds=tuple(problem.kinds),
        tags=tuple(problem.tags),
        offer_id=tuple(problem.offer_id),
        household_id=tuple(problem.household_id),
        regions=tuple(problem.regions),
        household_region=None if region is None else np.ascontiguousarray(region, np.int64),
        **changes,
    )


def check_arrays(problem: ArrayProblem) -> ArrayProblem:
    """The normalized problem, or :class:`InvalidProblemError` listing every fault."""
    errors = array_errors(problem)
    if errors:
        raise InvalidProblemError(errors)
    return normalized(problem)


def array_errors(problem: ArrayProblem) -> list[str]:
    """Every fault of ``problem``, each naming the item and the field (empty when valid)."""
    errors = _shape_errors(problem)
    if errors:
        return errors
    p = normalized(problem)
    errors = _csr_errors(p)
    if errors:
        return errors
    errors.extend(_vocabulary_errors("kinds", p.kinds))
    errors.extend(_vocabulary_errors("tags", p.tags))
    errors.extend(_vocabulary_errors("regions", p.regions))
    errors.extend(_id_errors("offers", p.offer_id))
    errors.extend(_id_errors("households", p.household_id))
    errors.extend(_offer_errors(p))
    errors.extend(_household_errors(p))
    errors.extend(_need_errors(p))
    return errors


def _shape_errors(p: ArrayProblem) -> list[str]:
    errors: list[str] = []
    n_o, n_h, n_n = len(p.offer_id), len(p.household_id), len(p.need_household)
    length = {
        "offer_requires_start": n_o + 1,
        "household_tags_start": n_h + 1,
        "need_weights_start": n_n + 1,
        "offer_requires": None,
        "household_tags": None,
        "need_weights": None,
    }
    for name in _INT_COLUMNS + _FLOAT_COLUMNS:
        column = np.asarray(getattr(p, name))
        kinds = "iu" if name in _INT_COLUMNS else "iuf"
        if column.ndim != 1 or column.dtype.kind not in kinds:
            what = "integer" if name in _INT_COLUMNS else "real"
            errors.append(f"{name}: must be a one-dimensional {what} array")
            continue
        wanted = length.get(name, n_o if name.startswith("offer") else n_h)
        if name.startswith("need") and name not in length:
            wanted = n_n
        if wanted is not None and len(column) != wanted:
            errors.append(f"{name}: must have {wanted} entries, got {len(column)}")
    if p.household_region is not None:
        region = np.asarray(p.household_region)
        if region.ndim != 1 or region.dtype.kind not in "iu" or len(region) != n_h:
            errors.append(f"household_region: must be {n_h} integer codes (-1: none) or None")
    return errors


def _csr_errors(p: ArrayProblem) -> list[str]:
    errors: list[str] = []
    for start, values in (
        ("offer_requires_start", "offer_requires"),
        ("household_tags_start", "household_tags"),
        ("need_weights_start", "need_weights"),
    ):
        s = getattr(p, start)
        if s[0] != 0 or s[-1] != len(getattr(p, values)) or np.any(np.diff(s) < 0):
            errors.append(f"{start}: must rise from 0 to the length of {values}")
    household = p.need_household
    if len(household) and (
        household[0] < 0 or household[-1] >= len(p.household_id) or np.any(np.diff(household) < 0)
    ):
        errors.append("need_household: must be household indices in order (never decreasing)")
    return errors


def _vocabulary_errors(name: str, words: tuple[str, ...]) -> list[str]:
    if not all(type(word) is str and word for word in words):
        return [f"{name}: every entry must be a non-empty string"]
    if len(set(words)) != len(words):
        return [f"{name}: entries must be distinct"]
    return []


def _id_errors(collection: str, ids: tuple[str, ...]) -> list[str]:
    distinct = set(ids)
    if len(distinct) == len(ids) and set(map(type, ids)) <= {str} and "" not in distinct:
        return []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for index, item_id in enumerate(ids):
        name = describe(collection, index, item_id)
        if type(item_id) is not str or not item_id:
            errors.append(f"{name}.id: must be a non-empty string")
        elif item_id in seen:
            errors.append(f"{name}.id: duplicate id, already used by {seen[item_id]}")
        else:
            seen[item_id] = name
    return errors


def _report(
    errors: list[str], bad: npt.NDArray[np.bool_], message: Any, *columns: npt.NDArray[Any]
) -> None:
    """Append ``message(index, *values)`` for the first faulty items, then a count."""
    where = np.flatnonzero(bad)
    for index in where[:_SHOWN].tolist():
        errors.append(message(index, *(column[index] for column in columns)))
    if len(where) > _SHOWN:
        errors.append(f"... and {len(where) - _SHOWN} more like the last")


def _point_errors(errors: list[str], name: Any, lat: FloatArray, lon: FloatArray) -> None:
    _report(
        errors,
        ~(np.abs(lat) <= 90.0),
        lambda i, v: f"{name(i)}.lat: must be a latitude in [-90, 90], got {float(v)!r}",
        lat,
    )
    _report(
        errors,
        ~(np.abs(lon) <= 180.0),
        lambda i, v: f"{name(i)}.lon: must be a longitude in [-180, 180], got {float(v)!r}",
        lon,
    )


def _quantity_errors(errors: list[str], name: Any, quantity: IntArray) -> None:
    _report(
        errors,
        quantity < 0,
        lambda i, q: f"{name(i)}.quantity: must not be negative, got {int(q)}",
        quantity,
    )
    _report(
        errors,
        quantity > MAX_QUANTITY,
        lambda i, q: f"{name(i)}.quantity: at most {MAX_QUANTITY}, got {int(q)}",
        quantity,
    )


def _code_errors(
    errors: list[str], name: Any, field: str, codes: IntArray, size: int, vocabulary: str
) -> None:
    _report(
        errors,
        (codes < 0) | (codes >= size),
        lambda i, c: f"{name(i)}.{field}: unknown reference {int(c)} (not in {vocabulary})",
        codes,
    )


def _offer_errors(p: ArrayProblem) -> list[str]:
    errors: list[str] = []

    def name(i: int) -> str:
        return describe("offers", i, p.offer_id[i])

    _code_errors(errors, name, "kind", p.offer_kind, len(p.kinds), "kinds")
    _quantity_errors(errors, name, p.offer_quantity)
    _point_errors(errors, name, p.offer_lat, p.offer_lon)
    _report(
        errors,
        ~((p.offer_radius_km >= 0) & np.isfinite(p.offer_radius_km)),
        lambda i, r: f"{name(i)}.radius_km: must be a finite number >= 0, got {float(r)!r}",
        p.offer_radius_km,
    )
    owner = np.repeat(np.arange(len(p.offer_id)), np.diff(p.offer_requires_start))
    bad = (p.offer_requires < 0) | (p.offer_requires >= len(p.tags))
    _report(
        errors,
        np.bincount(owner[bad], minlength=len(p.offer_id)) > 0,
        lambda i: f"{name(i)}.requires: unknown reference (not in tags)",
    )
    return errors


def _household_errors(p: ArrayProblem) -> list[str]:
    errors: list[str] = []

    def name(i: int) -> str:
        return describe("households", i, p.household_id[i])

    _point_errors(errors, name, p.household_lat, p.household_lon)
    if p.household_region is not None:
        region = p.household_region
        _report(
            errors,
            (region < -1) | (region >= len(p.regions)),
            lambda i, r: f"{name(i)}.region: unknown reference {int(r)} (not in regions)",
            region,
        )
    owner = np.repeat(np.arange(len(p.household_id)), np.diff(p.household_tags_start))
    bad = (p.household_tags < 0) | (p.household_tags >= len(p.tags))
    _report(
        errors,
        np.bincount(owner[bad], minlength=len(p.household_id)) > 0,
        lambda i: f"{name(i)}.tags: unknown reference (not in tags)",
    )
    return errors


def _need_errors(p: ArrayProblem) -> list[str]:
    errors: list[str] = []
    household = p.need_household

    def name(i: int) -> str:
        h = int(household[i])
        number = i - int(np.searchsorted(household, h, side="left"))
        return f"{describe('households', h, p.household_id[h])}.needs[{number}]"

    _code_errors(errors, name, "kind", p.need_kind, len(p.kinds), "kinds")
    _quantity_errors(errors, name, p.need_quantity)
    count = np.diff(p.need_weights_start)
    _report(
        errors,
        (count == 0) & (p.need_quantity > 0),
        lambda i: f"{name(i)}.weight: missing (give weight or weights)",
    )
    _report(
        errors,
        (count > 1) & (count != p.need_quantity),
        lambda i, c, q: (
            f"{name(i)}.weights: needs one weight per unit ({int(q)}) or one for every unit, "
            f"got {int(c)}"
        ),
        count,
        p.need_quantity,
    )
    weights = p.need_weights
    starts = p.need_weights_start
    opens = np.zeros(len(weights) + 1, dtype=np.bool_)  # the first weight of a need
    opens[starts[:-1][count > 0]] = True
    bad = ~((weights > 0) & np.isfinite(weights))
    rising = np.zeros(len(weights), dtype=np.bool_)
    rising[1:] = (weights[1:] > weights[:-1]) & ~opens[1:-1]
    rising &= ~bad
    for fault, text in ((bad, "must be a finite number > 0, got {w!r}"), (rising, "")):
        where = np.flatnonzero(fault)
        owner = np.searchsorted(starts, where, side="right") - 1  # the need of each
        first = where[np.unique(owner, return_index=True)[1]]  # one per need
        for at in first[:_SHOWN].tolist():
            w = float(weights[at])
            need = int(np.searchsorted(starts, at, side="right")) - 1
            label = f"{name(need)}.weights[{at - int(starts[need])}]"
            if text:
                errors.append(f"{label}: {text.format(w=w)}")
            else:
                previous = float(weights[at - 1])
                errors.append(
                    f"{label}: weights must be non-increasing, {w!r} follows {previous!r}"
                )
        if len(first) > _SHOWN:
            errors.append(f"... and {len(first) - _SHOWN} more like the last")
    return errors


def solution_from_arrays(problem: ArrayProblem, solution: ArraySolution) -> Solution:
    """The dataclass :class:`Solution` of an :class:`ArraySolution` of ``problem``."""
    with no_cyclic_gc():
        return _solution_from_arrays(problem, solution)


def _solution_from_arrays(problem: ArrayProblem, solution: ArraySolution) -> Solution:
    offer_ids, household_ids, kinds = problem.offer_id, problem.household_id, problem.kinds
    assignments = tuple(
        Assignment(
            offer=offer_ids[o],
            household=household_ids[h],
            kind=kinds[k],
            quantity=q,
            distance_km=d,
            reason=why,
        )
        for o, h, k, q, d, why in zip(
            solution.assignment_offer.tolist(),
            solution.assignment_household.tolist(),
            solution.assignment_kind.tolist(),
            solution.assignment_quantity.tolist(),
            solution.assignment_km.tolist(),
            assignment_reasons(problem, solution),
            strict=True,
        )
    )
    unmet = tuple(
        Unmet(household=household_ids[h], kind=kinds[k], quantity=q, reason=why)
        for h, k, q, why in zip(
            solution.unmet_household.tolist(),
            solution.unmet_kind.tolist(),
            solution.unmet_quantity.tolist(),
            unmet_reasons(solution),
            strict=True,
        )
    )
    return Solution(
        assignments=assignments,
        totals=solution.totals,
        unmet=unmet,
        stats=solution.stats,
        marginal_values=_marginal_values(problem, solution),
        unmet_by_region=tuple(
            RegionUnmet(
                region=None if r < 0 else problem.regions[r],
                kind=kinds[k],
                weight=w,
                units=u,
                households=n,
            )
            for r, k, w, u, n in zip(
                solution.region_unmet_region.tolist(),
                solution.region_unmet_kind.tolist(),
                solution.region_unmet_weight.tolist(),
                solution.region_unmet_units.tolist(),
                solution.region_unmet_households.tolist(),
                strict=True,
            )
        ),
    )


def _marginal_values(problem: ArrayProblem, solution: ArraySolution) -> tuple[MarginalValue, ...]:
    offers = solution.marginal_offer
    return tuple(
        MarginalValue(
            kind=problem.kinds[k],
            lat=lat,
            lon=lon,
            offer=problem.offer_id[o],
            weighted_units=w,
            household=None if h < 0 else problem.household_id[h],
            distance_km=None if h < 0 else d,
            unit_km=None if h < 0 else u,
        )
        for o, k, lat, lon, w, h, d, u in zip(
            offers.tolist(),
            np.asarray(problem.offer_kind)[offers].tolist(),
            np.asarray(problem.offer_lat, dtype=np.float64)[offers].tolist(),
            np.asarray(problem.offer_lon, dtype=np.float64)[offers].tolist(),
            solution.marginal_weight.tolist(),
            solution.marginal_household.tolist(),
            solution.marginal_km.tolist(),
            solution.marginal_unit_km.tolist(),
            strict=True,
        )
    )


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of objects are made.

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
