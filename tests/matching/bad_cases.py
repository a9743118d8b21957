"""A good instance, and the broken copies of it whose errors the engine must name."""

from __future__ import annotations

import copy
import math
from typing import Any

__all__ = ("CASES", "GOOD", "_broken")

GOOD: dict[str, Any] = {
    "offers": [
        {
            "id": "o1",
            "kind": "quilt",
            "quantity": 2,
            "lat": 40.0,
            "lon": 116.0,
            "radius_km": 30,
            "requires": [],
        },
    ],
    "households": [
        {
            "id": "h1",
            "lat": 40.1,
            "lon": 116.0,
            "tags": ["electricity"],
            "needs": [{"kind": "quilt", "quantity": 2, "weights": [3, 1]}],
        },
    ],
}


def _broken(path: str, value: Any) -> dict[str, Any]:
    """GOOD with the field at ``path`` (dotted, list indices as numbers) set or deleted."""
    data = copy.deepcopy(GOOD)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target: Any = data
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return data


_DELETE = object()

CASES = [
    ("offers.0.quantity", _DELETE, "offers[0] (id 'o1').quantity: missing field"),
    ("households.0.lat", _DELETE, "households[0] (id 'h1').lat: missing field"),
    ("households.0.needs.0.weights", _DELETE, "needs[0].weight: missing field"),
    ("offers.0.quantity", -1, "offers[0] (id 'o1').quantity: must not be negative"),
    ("households.0.needs.0.quantity", -2, "needs[0].quantity: must not be negative"),
    ("offers.0.lat", 91.0, "offers[0] (id 'o1').lat: must be a latitude"),
    ("households.0.lat", -90.5, "households[0] (id 'h1').lat: must be a latitude"),
    ("households.0.lon", 180.5, "households[0] (id 'h1').lon: must be a longitude"),
    ("households.0.needs.0.weights", [1, 3], "needs[0].weights[1]: weights must be non-increasing"),
    ("households.0.needs.0.weights", [3], "needs[0].weights: needs one weight per unit"),
    ("households.0.needs.0.weights", [3, 0], "needs[0].weights[1]: must be a finite number > 0"),
    ("households.0.needs.0.weights", [3, math.nan], "needs[0].weights[1]: must be a finite"),
    ("offers.0.radius_km", math.inf, "offers[0] (id 'o1').radius_km: must be a finite number"),
    ("offers.0.radius_km", -5, "offers[0] (id 'o1').radius_km: must be a finite number >= 0"),
    ("offers.0.lat", math.nan, "offers[0] (id 'o1').lat: must be a latitude"),
    ("offers.0.quantity", 2.5, "offers[0] (id 'o1').quantity: must be a whole number"),
    ("offers.0.quantity", "2", "offers[0] (id 'o1').quantity: must be a whole number"),
    ("offers.0.quantity", True, "offers[0] (id 'o1').quantity: must be a whole number"),
    ("offers.0.lat", "40", "offers[0] (id 'o1').lat: must be a latitude"),
    ("offers.0.requires", "electricity", "offers[0] (id 'o1').requires: must be a list"),
    ("households.0.tags", [1], "households[0] (id 'h1').tags: must be a list"),
    ("households.0.needs", {}, "households[0] (id 'h1').needs: must be a list"),
    ("households.0.needs.0.kind", "", "needs[0].kind: must be a non-empty string"),
    ("offers.0.id", None, "offers[0].id: must be a non-empty string or an integer"),
    ("offers.0", "o1", "offers[0]: must be an object"),
    ("households.0.needs.0.weight", 2, "needs[0].weights: give either weight or weights"),
]
