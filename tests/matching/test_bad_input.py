"""Bad input is refused with a message naming the item and the field; nothing is solved."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.matching.bad_cases import CASES, GOOD, _broken

from matching import Household, InvalidProblemError, Need, Offer, Problem, parse_instance, solve


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
