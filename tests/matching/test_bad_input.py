"""Bad input is refused with a message naming the item and the field; nothing is solved."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from matching import Household, InvalidProblemError, Need, Offer, Problem, parse_instance, solve

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


@pytest.mark.parametrize(("path", "value", "message"), CASES, ids=[c[2] for c in CASES])
def test_bad_input_is_refused_naming_the_item_and_field(
    path: str, value: Any, message: str
) -> None:
    with pytest.raises(InvalidProblemError) as refused:
        parse_instance(_broken(path, value))
    assert message in str(refused.value)


def test_a_duplicate_id_is_refused() -> None:
    data = copy.deepcopy(GOOD)
    data["households"].append(copy.deepcopy(data["households"][0]))
    with pytest.raises(InvalidProblemError, match=r"households\[1\] \(id 'h1'\)\.id: duplicate id"):
        parse_instance(data)


def test_an_unknown_reference_is_refused_when_the_instance_lists_its_vocabulary() -> None:
    data = copy.deepcopy(GOOD) | {"kinds": ["coal"], "tags": ["electricity"]}
    with pytest.raises(InvalidProblemError) as refused:
        parse_instance(data)
    assert "offers[0] (id 'o1').kind: unknown reference 'quilt'" in str(refused.value)
    assert "households[0] (id 'h1').needs[0].kind: unknown reference 'quilt'" in str(refused.value)


def test_missing_lists_and_non_objects_are_refused() -> None:
    with pytest.raises(InvalidProblemError, match=r"instance\.households: missing field"):
        parse_instance({"offers": []})
    with pytest.raises(InvalidProblemError, match="instance: must be a JSON object"):
        parse_instance([])


def test_every_fault_is_reported_at_once() -> None:
    data = _broken("offers.0.quantity", -1)
    data["households"][0]["lat"] = 100
    with pytest.raises(InvalidProblemError) as refused:
        parse_instance(data)
    assert len(refused.value.errors) == 2


def test_solve_refuses_bad_dataclasses_too() -> None:
    problem = Problem(
        offers=(Offer(id="o", kind="quilt", quantity=1, lat=40, lon=116, radius_km=10),),
        households=(Household(id="h", lat=40, lon=116, needs=(Need(kind="quilt", quantity=1),)),),
    )
    with pytest.raises(
        InvalidProblemError, match=r"households\[0\] \(id 'h'\)\.needs\[0\]\.weight"
    ):
        solve(problem)


def test_the_command_line_refuses_bad_input_on_stderr_with_a_nonzero_exit(tmp_path: Path) -> None:
    instance = tmp_path / "bad.json"
    instance.write_text(json.dumps(_broken("offers.0.lat", 95)), "utf-8")
    result = tmp_path / "result.json"
    done = subprocess.run(
        [sys.executable, "-m", "matching", "solve", str(instance), "-o", str(result)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "offers[0] (id 'o1').lat: must be a latitude" in done.stderr
    assert not result.exists()


def test_the_command_line_refuses_a_file_that_is_not_json(tmp_path: Path) -> None:
    instance = tmp_path / "bad.json"
    instance.write_text("{offers: [", "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "matching", "solve", str(instance)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "not valid JSON" in done.stderr
    assert done.stdout == ""
