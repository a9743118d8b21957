"""The JSON file format: instances in, results out (see matching/README.md)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from matching.model import Household, Need, Offer, Problem, Solution
from matching.validate import InvalidProblemError, check_problem, describe

__all__ = ("Instance", "parse_instance", "solution_to_json")

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
    solution: Solution, original_ids: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """The result document of the file format."""
    ids: Mapping[str, int] = original_ids or {}

    def echo(item_id: str) -> str | int:
        return ids.get(item_id, item_id)

    stats = solution.stats
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
        "stats": {
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
        },
    }


def finite_or_none(value: float) -> float | None:
    """JSON has no infinity: write it as null."""
    return value if math.isfinite(value) else None
