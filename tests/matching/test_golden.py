"""Golden instances with hand-checked answers (fixtures/matching/*.expected.json)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from matching import parse_instance, solve
from matching.reference import feasibility_errors

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "matching"
GOLDEN = sorted(p for p in FIXTURES.glob("*.json") if not p.name.endswith(".expected.json"))


def test_there_are_golden_instances() -> None:
    assert len(GOLDEN) >= 5


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_the_engine_finds_the_hand_checked_answer(path: Path) -> None:
    problem = parse_instance(json.loads(path.read_text("utf-8"))).problem
    expected = json.loads(path.with_suffix(".expected.json").read_text("utf-8"))
    solution = solve(problem)
    assert feasibility_errors(problem, solution) == []
    assert solution.stats.optimal
    assert solution.totals.weighted_units == expected["weighted_units"]
    assert solution.totals.units == expected["units"]
    assert math.isclose(solution.totals.unit_km, expected["unit_km"], rel_tol=1e-9)
    got = sorted((a.offer, a.household, a.quantity) for a in solution.assignments)
    want = sorted((a["offer"], a["household"], a["quantity"]) for a in expected["assignments"])
    assert got == want
