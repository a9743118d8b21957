"""Refuse bad input with messages that name the item and the field."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from typing import TypeVar

from matching.model import Household, Need, Offer, Problem

__all__ = ("InvalidProblemError", "check_problem", "describe")

T = TypeVar("T", Offer, Household)

MAX_QUANTITY = 2**40
"""Per item; keeps every sum of quantities far inside int64."""


class InvalidProblemError(ValueError):
    """The problem cannot be solved as given; ``errors`` lists every fault found."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = tuple(errors)
        shown = "\n".join(f"  - {error}" for error in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"invalid problem ({len(errors)} errors):\n{shown}{more}")


def describe(collection: str, index: int, item_id: object) -> str:
    """How an error message names an item: ``offers[3] (id 'o9')``."""
    if isinstance(item_id, str | int) and not isinstance(item_id, bool):
        return f"{collection}[{index}] (id {item_id!r})"
    return f"{collection}[{index}]"


def check_problem(problem: Problem) -> None:
    """Raise :class:`InvalidProblemError` unless every item of ``problem`` is well formed."""
    errors = list(_problem_errors(problem))
    if errors:
        raise InvalidProblemError(errors)


def _problem_errors(problem: Problem) -> Iterator[str]:
    yield from _items_errors("offers", problem.offers, _offer_ok, _offer_errors)
    yield from _items_errors("households", problem.households, _household_ok, _household_errors)


def _items_errors(
    collection: str,
    items: tuple[T, ...],
    ok: Callable[[T], bool],
    errors: Callable[[str, T], Iterator[str]],
) -> Iterator[str]:
    """Every fault of one collection, in item order; names are made for faulty items only."""
    ids = [item.id for item in items]
    if all(type(i) is str and i for i in ids) and len(set(ids)) == len(ids):
        for index, item in enumerate(items):
            if not ok(item):
                yield from errors(describe(collection, index, ids[index]), item)
        return
    seen: dict[str, str] = {}
    for index, item in enumerate(items):
        name = describe(collection, index, ids[index])
        yield from _duplicate(seen, ids[index], name)
        if not ok(item):
            yield from errors(name, item)


def _offer_ok(offer: Offer) -> bool:
    """A fast check for the common, valid case; the slow path explains failures."""
    return (
        type(offer.kind) is str
        and offer.kind != ""
        and type(offer.quantity) is int
        and 0 <= offer.quantity <= MAX_QUANTITY
        and _in_range(offer.lat, 90.0)
        and _in_range(offer.lon, 180.0)
        and type(offer.radius_km) in (int, float)
        and 0 <= offer.radius_km < math.inf
        and type(offer.requires) is frozenset
        and all(type(tag) is str and tag for tag in offer.requires)
    )


def _household_ok(household: Household) -> bool:
    """A fast check for the common, valid case; the slow path explains failures."""
    if not (
        _in_range(household.lat, 90.0)
        and _in_range(household.lon, 180.0)
        and type(household.tags) is frozenset
        and all(type(tag) is str and tag for tag in household.tags)
        and type(household.needs) is tuple
        and (household.region is None or (type(household.region) is str and household.region))
    ):
        return False
    for need in household.needs:
        if not (
            type(need) is Need
            and type(need.kind) is str
            and need.kind != ""
            and type(need.quantity) is int
            and 0 <= need.quantity <= MAX_QUANTITY
        ):
            return False
        if need.weights is None:
            if not _fast_positive(need.weight):
                return False
        elif (
            need.weight is not None
            or type(need.weights) is not tuple
            or len(need.weights) != need.quantity
            or not all(_fast_positive(w) for w in need.weights)
            or any(b > a for a, b in itertools.pairwise(need.weights))
        ):
            return False
    return True


def _fast_positive(value: object) -> bool:
    if type(value) is float:
        return 0.0 < value < math.inf
    return type(value) is int and 0 < value <= 2**53


def _in_range(value: object, limit: float) -> bool:
    return type(value) in (int, float) and -limit <= value <= limit  # type: ignore[operator]


def _duplicate(seen: dict[str, str], item_id: str, name: str) -> Iterator[str]:
    if not isinstance(item_id, str) or not item_id:
        yield f"{name}.id: must be a non-empty string"
    elif item_id in seen:
        yield f"{name}.id: duplicate id, already used by {seen[item_id]}"
    else:
        seen[item_id] = name


def _offer_errors(name: str, offer: Offer) -> Iterator[str]:
    yield from _kind(name, offer.kind)
    yield from _quantity(name, offer.quantity)
    yield from _point(name, offer.lat, offer.lon)
    radius = offer.radius_km
    if not _is_number(radius) or radius < 0:
        yield f"{name}.radius_km: must be a finite number >= 0, got {radius!r}"
    yield from _labels(f"{name}.requires", offer.requires)


def _household_errors(name: str, household: Household) -> Iterator[str]:
    yield from _point(name, household.lat, household.lon)
    yield from _labels(f"{name}.tags", household.tags)
    region = household.region
    if region is not None and not (isinstance(region, str) and region):
        yield f"{name}.region: must be a non-empty string or absent, got {region!r}"
    if not isinstance(household.needs, tuple):
        yield f"{name}.needs: must be a tuple of Need"
        return
    for index, need in enumerate(household.needs):
        if not isinstance(need, Need):
            yield f"{name}.needs[{index}]: must be a Need"
            continue
        yield from _need_errors(f"{name}.needs[{index}]", need)


def _need_errors(name: str, need: Need) -> Iterator[str]:
    yield from _kind(name, need.kind)
    quantity_ok = not list(_quantity(name, need.quantity))
    yield from _quantity(name, need.quantity)
    if need.weight is None and need.weights is None:
        yield f"{name}.weight: missing (give weight or weights)"
    elif need.weight is not None and need.weights is not None:
        yield f"{name}.weights: give either weight or weights, not both"
    elif need.weight is not None:
        if not _is_positive(need.weight):
            yield f"{name}.weight: must be a finite number > 0, got {need.weight!r}"
    else:
        yield from _weights_errors(name, need.weights, need.quantity if quantity_ok else None)


def _weights_errors(name: str, weights: object, quantity: int | None) -> Iterator[str]:
    if not isinstance(weights, tuple):
        yield f"{name}.weights: must be a sequence of numbers"
        return
    if quantity is not None and len(weights) != quantity:
        yield f"{name}.weights: needs one weight per unit ({quantity}), got {len(weights)}"
    for index, weight in enumerate(weights):
        if not _is_positive(weight):
            yield f"{name}.weights[{index}]: must be a finite number > 0, got {weight!r}"
            return
        if index and weight > weights[index - 1]:
            yield (
                f"{name}.weights[{index}]: weights must be non-increasing, "
                f"{weight!r} follows {weights[index - 1]!r}"
            )
            return


def _kind(name: str, kind: object) -> Iterator[str]:
    if not isinstance(kind, str) or not kind:
        yield f"{name}.kind: must be a non-empty string, got {kind!r}"


def _quantity(name: str, quantity: object) -> Iterator[str]:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        yield f"{name}.quantity: must be a whole number, got {quantity!r}"
    elif quantity < 0:
        yield f"{name}.quantity: must not be negative, got {quantity}"
    elif quantity > MAX_QUANTITY:
        yield f"{name}.quantity: at most {MAX_QUANTITY}, got {quantity}"


def _point(name: str, lat: object, lon: object) -> Iterator[str]:
    if not _is_number(lat) or not -90.0 <= lat <= 90.0:  # type: ignore[operator]
        yield f"{name}.lat: must be a latitude in [-90, 90], got {lat!r}"
    if not _is_number(lon) or not -180.0 <= lon <= 180.0:  # type: ignore[operator]
        yield f"{name}.lon: must be a longitude in [-180, 180], got {lon!r}"


def _labels(name: str, labels: object) -> Iterator[str]:
    if not isinstance(labels, frozenset) or not all(
        isinstance(label, str) and label for label in labels
    ):
        yield f"{name}: must be a set of non-empty strings"


def _is_number(value: object) -> bool:
    """A finite int or float (never a bool, never an int too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _is_positive(value: object) -> bool:
    return _is_number(value) and value > 0  # type: ignore[operator]
