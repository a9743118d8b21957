"""The JSON file format: instances in, results out (see matching/README.md).

Two faces: ``parse_instance`` / ``solution_to_json`` between decoded JSON and the
dataclasses, and ``read_instance`` / ``write_result`` between JSON bytes and numpy columns
(msgspec decodes straight into typed structs, the result is encoded row by row from the
columns). Bad input is explained by the same messages either way: when the fast decoder
refuses an instance, the instance is read again the plain way, which names every fault.

Why one module of ~500 lines: both readers and both writers of the one file format live
together, so that a change to the format is made, and reviewed, in one place.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import msgspec
import numpy as np

from matching.arrays import array_errors, items_to_arrays, no_cyclic_gc, solution_from_arrays
from matching.model import (
    ArrayProblem,
    ArraySolution,
    Household,
    Need,
    Offer,
    Problem,
    Solution,
    Stats,
)
from matching.reasons import assignment_reasons, unmet_reasons
from matching.validate import InvalidProblemError, check_problem, describe

__all__ = (
    "ArrayInstance",
    "Instance",
    "parse_instance",
    "read_instance",
    "solution_to_json",
    "write_result",
)

_OFFER_FIELDS = ("id", "kind", "quantity", "lat", "lon", "radius_km")
_HOUSEHOLD_FIELDS = ("id", "lat", "lon", "needs")
_NEED_FIELDS = ("kind", "quantity")


@dataclass(frozen=True, slots=True, kw_only=True)
class Instance:
    """A parsed instance; ``original_ids`` maps the ids given as JSON integers back."""

    problem: Problem
    original_ids: Mapping[str, int]


def parse_instance(data: object) -> Instance:
    """Build a :class:`Problem` from decoded JSON, or raise :class:`InvalidProblemError`."""
    errors: list[str] = []
    original_ids: dict[str, int] = {}
    if not isinstance(data, dict):
        raise InvalidProblemError(["instance: must be a JSON object with offers and households"])
    offers = _items(data, "offers", errors)
    households = _items(data, "households", errors)
    built_offers = [_offer(i, raw, errors, original_ids) for i, raw in enumerate(offers)]
    built_households = [
        _household(i, raw, errors, original_ids) for i, raw in enumerate(households)
    ]
    if errors:
        raise InvalidProblemError(errors)
    problem = Problem(
        offers=tuple(o for o in built_offers if o is not None),
        households=tuple(h for h in built_households if h is not None),
    )
    check_problem(problem)
    _check_vocabulary(data, problem)
    return Instance(problem=problem, original_ids=original_ids)


def _items(data: dict[str, Any], key: str, errors: list[str]) -> list[Any]:
    if key not in data:
        errors.append(f"instance.{key}: missing field")
        return []
    value = data[key]
    if not isinstance(value, list):
        errors.append(f"instance.{key}: must be a list")
        return []
    return value


def _missing(name: str, raw: dict[str, Any], fields: tuple[str, ...]) -> Iterator[str]:
    for field in fields:
        if field not in raw:
            yield f"{name}.{field}: missing field"


def _identifier(name: str, raw: object, errors: list[str], original_ids: dict[str, int]) -> str:
    if isinstance(raw, int) and not isinstance(raw, bool):
        original_ids[str(raw)] = raw
        return str(raw)
    if isinstance(raw, str) and raw:
        return raw
    errors.append(f"{name}.id: must be a non-empty string or an integer, got {raw!r}")
    return ""


def _labels(name: str, raw: dict[str, Any], field: str, errors: list[str]) -> frozenset[str]:
    value = raw.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        errors.append(f"{name}.{field}: must be a list of non-empty strings")
        return frozenset()
    return frozenset(value)


def _offer(
    index: int, raw: object, errors: list[str], original_ids: dict[str, int]
) -> Offer | None:
    name = describe("offers", index, raw.get("id") if isinstance(raw, dict) else None)
    if not isinstance(raw, dict):
        errors.append(f"{name}: must be an object")
        return None
    missing = list(_missing(name, raw, _OFFER_FIELDS))
    errors.extend(missing)
    if missing:
        return None
    return Offer(
        id=_identifier(name, raw["id"], errors, original_ids),
        kind=raw["kind"],
        quantity=raw["quantity"],
        lat=raw["lat"],
        lon=raw["lon"],
        radius_km=raw["radius_km"],
        requires=_labels(name, raw, "requires", errors),
    )


def _household(
    index: int, raw: object, errors: list[str], original_ids: dict[str, int]
) -> Household | None:
    name = describe("households", index, raw.get("id") if isinstance(raw, dict) else None)
    if not isinstance(raw, dict):
        errors.append(f"{name}: must be an object")
        return None
    missing = list(_missing(name, raw, _HOUSEHOLD_FIELDS))
    errors.extend(missing)
    if missing:
        return None
    if not isinstance(raw["needs"], list):
        errors.append(f"{name}.needs: must be a list")
        return None
    needs = [_need(f"{name}.needs[{i}]", need, errors) for i, need in enumerate(raw["needs"])]
    return Household(
        id=_identifier(name, raw["id"], errors, original_ids),
        lat=raw["lat"],
        lon=raw["lon"],
        tags=_labels(name, raw, "tags", errors),
        needs=tuple(need for need in needs if need is not None),
        region=raw.get("region"),
    )


def _need(name: str, raw: object, errors: list[str]) -> Need | None:
    if not isinstance(raw, dict):
        errors.append(f"{name}: must be an object")
        return None
    missing = list(_missing(name, raw, _NEED_FIELDS))
    if "weight" not in raw and "weights" not in raw:
        missing.append(f"{name}.weight: missing field (give weight or weights)")
    errors.extend(missing)
    if missing:
        return None
    weights = raw.get("weights")
    if weights is not None and not isinstance(weights, list):
        errors.append(f"{name}.weights: must be a list of numbers")
        return None
    return Need(
        kind=raw["kind"],
        quantity=raw["quantity"],
        weight=raw.get("weight"),
        weights=None if weights is None else tuple(weights),
    )


def _check_vocabulary(data: dict[str, Any], problem: Problem) -> None:
    """When the instance lists its ``kinds`` or ``tags``, every reference must be known."""
    errors: list[str] = []
    kinds = _vocabulary(data, "kinds", errors)
    tags = _vocabulary(data, "tags", errors)
    for index, offer in enumerate(problem.offers):
        name = describe("offers", index, offer.id)
        if kinds is not None and offer.kind not in kinds:
            errors.append(f"{name}.kind: unknown reference {offer.kind!r} (not in kinds)")
        for tag in sorted(offer.requires - tags if tags is not None else ()):
            errors.append(f"{name}.requires: unknown reference {tag!r} (not in tags)")
    for index, household in enumerate(problem.households):
        name = describe("households", index, household.id)
        for tag in sorted(household.tags - tags if tags is not None else ()):
            errors.append(f"{name}.tags: unknown reference {tag!r} (not in tags)")
        for number, need in enumerate(household.needs):
            if kinds is not None and need.kind not in kinds:
                errors.append(
                    f"{name}.needs[{number}].kind: unknown reference {need.kind!r} (not in kinds)"
                )
    if errors:
        raise InvalidProblemError(errors)


def _vocabulary(data: dict[str, Any], key: str, errors: list[str]) -> frozenset[str] | None:
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(f"instance.{key}: must be a list of strings")
        return None
    return frozenset(value)


def solution_to_json(
    solution: Solution, original_ids: Mapping[str, int] | None = None, *, reports: bool = False
) -> dict[str, Any]:
    """The result document of the file format; with ``reports``, also its
    ``marginal_values`` and ``unmet_by_region``."""
    ids: Mapping[str, int] = original_ids or {}

    def echo(item_id: str) -> str | int:
        return ids.get(item_id, item_id)

    return {
        "assignments": [
            {
                "offer": echo(a.offer),
                "household": echo(a.household),
                "kind": a.kind,
                "quantity": a.quantity,
                "distance_km": a.distance_km,
                "reason": a.reason,
            }
            for a in solution.assignments
        ],
        "totals": {
            "weighted_units": solution.totals.weighted_units,
            "unit_km": solution.totals.unit_km,
            "units": solution.totals.units,
        },
        "unmet": [
            {
                "household": echo(u.household),
                "kind": u.kind,
                "quantity": u.quantity,
                "reason": u.reason,
            }
            for u in solution.unmet
        ],
        "stats": _stats_json(solution.stats),
    } | (_reports_json(solution, echo) if reports else {})


def _reports_json(solution: Solution, echo: Callable[[str], str | int]) -> dict[str, Any]:
    return {
        "marginal_values": [
            {
                "kind": m.kind,
                "lat": m.lat,
                "lon": m.lon,
                "offer": echo(m.offer),
                "weighted_units": m.weighted_units,
                "household": None if m.household is None else echo(m.household),
                "distance_km": m.distance_km,
                "unit_km": m.unit_km,
            }
            for m in solution.marginal_values
        ],
        "unmet_by_region": [
            {
                "region": r.region,
                "kind": r.kind,
                "weight": r.weight,
                "units": r.units,
                "households": r.households,
            }
            for r in solution.unmet_by_region
        ],
    }


def _stats_json(stats: Stats) -> dict[str, Any]:
    return {
        "status": stats.status,
        "optimal": stats.optimal,
        "weighted_units_bound": stats.weighted_units_bound,
        "gap": stats.gap,
        "relative_gap": stats.relative_gap,
        "distance_resolution_km": stats.distance_resolution_km,
        "candidate_pairs": stats.candidate_pairs,
        "arcs": stats.arcs,
        "parts": stats.parts,
        "parts_optimal": stats.parts_optimal,
        "seconds": {k: round(v, 4) for k, v in stats.seconds.items()},
    }


def finite_or_none(value: float) -> float | None:
    """JSON has no infinity: write it as null."""
    return value if math.isfinite(value) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class ArrayInstance:
    """An instance read into columns; ``original_ids`` maps the ids given as integers back."""

    problem: ArrayProblem
    original_ids: Mapping[str, int]


class _NeedIn(msgspec.Struct, gc=False):
    kind: str
    quantity: int
    weight: float | None = None
    weights: list[float] | None = None


class _HouseholdIn(msgspec.Struct, gc=False):
    id: str | int
    lat: float
    lon: float
    needs: list[_NeedIn]
    tags: list[str] = []
    region: str | None = None


class _OfferIn(msgspec.Struct, gc=False):
    id: str | int
    kind: str
    quantity: int
    lat: float
    lon: float
    radius_km: float
    requires: list[str] = []


class _InstanceIn(msgspec.Struct, gc=False):
    offers: list[_OfferIn]
    households: list[_HouseholdIn]
    kinds: list[str] | None = None
    tags: list[str] | None = None


_DECODER = msgspec.json.Decoder(_InstanceIn)


def read_instance(raw: bytes | str) -> ArrayInstance:
    """Decode instance JSON straight into an :class:`ArrayProblem`.

    Raises :class:`InvalidProblemError` listing every fault, or ``json.JSONDecodeError``
    when ``raw`` is not JSON at all.
    """
    try:
        with no_cyclic_gc():
            decoded = _DECODER.decode(raw)
            arrays, original_ids, malformed = items_to_arrays(decoded.offers, decoded.households)
            del decoded.offers[:], decoded.households[:]
    except (msgspec.ValidationError, msgspec.DecodeError):
        return _read_slowly(raw)
    if (
        malformed
        or not _known(decoded.kinds, arrays.kinds)
        or not _known(decoded.tags, arrays.tags)
    ):
        return _read_slowly(raw)
    if array_errors(arrays):
        return _read_slowly(raw)
    return ArrayInstance(problem=arrays, original_ids=original_ids)


def _known(vocabulary: list[str] | None, used: tuple[str, ...]) -> bool:
    return vocabulary is None or set(used) <= set(vocabulary)


def _read_slowly(raw: bytes | str) -> ArrayInstance:
    """The plain reader, whose messages name every fault; it may also accept what the
    fast one refused (an integer id beyond 64 bits, say)."""
    instance = parse_instance(json.loads(raw))
    problem = instance.problem
    arrays, _, _ = items_to_arrays(problem.offers, problem.households)
    return ArrayInstance(problem=arrays, original_ids=instance.original_ids)


class _AssignmentOut(msgspec.Struct, gc=False):
    offer: str | int
    household: str | int
    kind: str
    quantity: int
    distance_km: float
    reason: str


class _UnmetOut(msgspec.Struct, gc=False):
    household: str | int
    kind: str
    quantity: int
    reason: str


_CHUNK = 100_000


def write_result(
    stream: IO[bytes],
    problem: ArrayProblem,
    solution: ArraySolution,
    original_ids: Mapping[str, int] | None = None,
    *,
    reports: bool = False,
) -> None:
    """Write the result document of ``solution`` (the format of :func:`solution_to_json`,
    with ``reports`` its reports too), one assignment or unmet row per line."""
    encoder = msgspec.json.Encoder()
    ids: Mapping[str, int] = original_ids or {}
    offer_ids: list[str | int] = (
        [ids.get(i, i) for i in problem.offer_id] if ids else list(problem.offer_id)
    )
    household_ids: list[str | int] = (
        [ids.get(i, i) for i in problem.household_id] if ids else list(problem.household_id)
    )
    kinds = problem.kinds
    stream.write(b'{"assignments":[\n')
    with no_cyclic_gc():
        rows = list(
            map(
                _AssignmentOut,
                map(offer_ids.__getitem__, solution.assignment_offer.tolist()),
                map(household_ids.__getitem__, solution.assignment_household.tolist()),
                map(kinds.__getitem__, solution.assignment_kind.tolist()),
                solution.assignment_quantity.tolist(),
                solution.assignment_km.tolist(),
                assignment_reasons(problem, solution),
            )
        )
        _write_rows(stream, encoder, rows)
        del rows
        stream.write(b'],\n"totals":')
        stream.write(encoder.encode(solution.totals))
        stream.write(b',\n"unmet":[\n')
        unmet = list(
            map(
                _UnmetOut,
                map(household_ids.__getitem__, solution.unmet_household.tolist()),
                map(kinds.__getitem__, solution.unmet_kind.tolist()),
                solution.unmet_quantity.tolist(),
                unmet_reasons(solution),
            )
        )
        _write_rows(stream, encoder, unmet)
    stream.write(b'],\n"stats":')
    stream.write(encoder.encode(_stats_json(solution.stats)))
    if reports:
        small = solution_from_arrays(problem, _reports_only(solution))
        documents = _reports_json(small, lambda item_id: ids.get(item_id, item_id))
        for key, rows in documents.items():
            stream.write(b',\n"' + key.encode() + b'":[\n')
            _write_rows(stream, encoder, rows)
            stream.write(b"]")
    stream.write(b"}\n")


def _reports_only(solution: ArraySolution) -> ArraySolution:
    """The solution without its assignment and unmet rows (their reports stay)."""
    empty_i, empty_f = np.empty(0, np.int64), np.empty(0, np.float64)
    return dataclasses.replace(
        solution,
        assignment_offer=empty_i,
        assignment_household=empty_i,
        assignment_kind=empty_i,
        assignment_quantity=empty_i,
        assignment_km=empty_f,
        assignment_priority_start=np.zeros(1, np.int64),
        priority_weight=empty_f,
        priority_first=empty_i,
        priority_stop=empty_i,
        unmet_need=empty_i,
        unmet_household=empty_i,
        unmet_kind=empty_i,
        unmet_quantity=empty_i,
        unmet_cause=empty_i,
        unmet_weight=empty_f,
    )


def _write_rows(stream: IO[bytes], encoder: msgspec.json.Encoder, rows: list[Any]) -> None:
    """Rows separated by a comma and a newline (a newline byte never occurs inside JSON)."""
    for start in range(0, len(rows), _CHUNK):
        lines = encoder.encode_lines(rows[start : start + _CHUNK]).replace(b"\n", b",\n")
        stream.write(lines[:-2] + b"\n" if start + _CHUNK >= len(rows) else lines)
