"""The command line, the result format, time limits, progress and the package boundary."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import matching.workers
from matching import Progress, Solution, parse_instance, problem_to_arrays, solution_to_json, solve
from matching.network import Part, build_network
from matching.reference import feasibility_errors, random_problem
from matching.workers import expected_work, solve_in_workers

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "matching"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "matching", *args], capture_output=True, text=True, check=False
    )


def test_the_command_line_writes_the_documented_result_format(tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    done = _run("solve", str(FIXTURES / "per_unit_weights.json"), "-o", str(result))
    assert done.returncode == 0, done.stderr
    data = json.loads(result.read_text("utf-8"))
    assert set(data) == {"assignments", "totals", "unmet", "stats"}
    assert set(data["totals"]) == {"weighted_units", "unit_km", "units"}
    for row in data["assignments"]:
        assert set(row) == {"offer", "household", "kind", "quantity", "distance_km", "reason"}
        assert "km" in row["reason"]
        assert "优先级" in row["reason"]
    assert data["unmet"] == [
        {
            "household": "h1",
            "kind": "quilt",
            "quantity": 2,
            "reason": data["unmet"][0]["reason"],
        }
    ]
    assert data["stats"]["optimal"] is True
    assert data["stats"]["gap"] == 0.0


def test_the_command_line_prints_to_stdout_and_honours_a_time_limit() -> None:
    done = _run("solve", str(FIXTURES / "swap_beats_greedy.json"), "--time-limit", "30")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totals"]["units"] == 2


def test_integer_ids_come_back_as_integers() -> None:
    data = json.loads((FIXTURES / "nearest_among_equals.json").read_text("utf-8"))
    data["offers"][0]["id"] = 7
    instance = parse_instance(data)
    result = solution_to_json(solve(instance.problem), instance.original_ids)
    assert result["assignments"][0]["offer"] == 7


def test_solving_in_a_fresh_interpreter_loads_no_platform_module() -> None:
    code = (
        "import sys, json\n"
        "from matching import parse_instance, solve\n"
        f"data = json.loads(open({str(FIXTURES / 'swap_beats_greedy.json')!r}).read())\n"
        "solve(parse_instance(data).problem)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('nuanxin', 'litestar', 'piccolo')]\n"
        "print(json.dumps(bad))\n"
        "print('geopy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, geopy = done.stdout.split("\n")[:2]
    assert json.loads(loaded) == []
    assert geopy == "False"


def test_a_time_limit_returns_a_feasible_answer_with_a_proven_gap() -> None:
    problem = random_problem(np.random.default_rng(3), offers=30, households=200)
    reports: list[Progress] = []
    limited = solve(problem, time_limit=1e-6, progress=reports.append, workers=1)
    assert feasibility_errors(problem, limited) == []
    exact = solve(problem)
    if not limited.stats.optimal:
        assert limited.stats.status == "feasible"
        assert limited.stats.weighted_units_bound >= exact.totals.weighted_units - 1e-9
        assert (
            limited.stats.gap >= exact.totals.weighted_units - limited.totals.weighted_units - 1e-9
        )
    assert any(report.interim is not None for report in reports)
    assert reports[-1].stage == "exact" or not limited.stats.optimal


def test_worker_processes_give_the_same_answer_as_one_process() -> None:
    problem = random_problem(np.random.default_rng(11), offers=40, households=300)
    alone, together = solve(problem, workers=0), solve(problem, workers=2)
    assert alone.assignments == together.assignments
    assert alone.totals == together.totals


def test_parts_with_more_levels_or_more_arcs_are_sent_to_the_workers_first() -> None:
    arrays = problem_to_arrays(random_problem(np.random.default_rng(11), offers=40, households=300))
    part = build_network(arrays).parts[0]

    def shaped(arcs: int, ranks: list[int]) -> Part:
        pairs = np.zeros(arcs, dtype=np.int64)
        return dataclasses.replace(part, pair_offer=pairs, level_rank=np.array(ranks))

    few = shaped(1000, [3, 1, 2])  # 3 levels: 2 halvings
    many = shaped(1000, list(range(5, 105)))  # 100 levels: 7 halvings
    wide = shaped(3000, [3, 1, 2])
    none = shaped(500, [])
    assert [expected_work(p) for p in (few, many, wide, none)] == [2000, 7000, 6000, 500]
    order: list[int] = []
    original = matching.workers._feed

    def noted(child: Any, number: int, queue: list[int], parts: Any, busy: Any) -> None:
        if not order:  # the queue as the first part is handed out
            order.extend(queue)
        original(child, number, queue, parts, busy)

    # the worker fails on these made-up parts: only the order they are handed out is read
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matching.workers, "_feed", noted)
        with contextlib.suppress(Exception):
            solve_in_workers([few, many, wide, none], 1, None, lambda _: None)
    assert order == [1, 2, 0, 3]  # most levels, then the widest, then the rest by arcs


def test_progress_from_workers_reaches_the_callers_thread_after_the_interim_answer() -> None:
    problem = random_problem(np.random.default_rng(5), offers=40, households=300)
    reports: list[tuple[str, int]] = []

    def seen(report: Progress) -> None:
        reports.append((report.stage, threading.get_ident()))

    together = solve(problem, progress=seen, workers=2)
    stages = [stage for stage, _ in reports]
    assert stages.index("feasible") < stages.index("exact")
    assert stages.count("exact") == together.stats.parts
    assert {thread for _, thread in reports} == {threading.get_ident()}
    alone = solve(problem, workers=0)
    assert together.assignments == alone.assignments
    assert together.totals == alone.totals
    assert together.stats.optimal


def test_a_deadline_passed_by_the_greedy_answer_returns_that_answer() -> None:
    problem = random_problem(np.random.default_rng(8), offers=30, households=200)
    interim: list[Solution] = []
    limited = solve(
        problem,
        time_limit=1e-9,
        progress=lambda p: interim.extend([p.interim] if p.interim else []),
    )
    assert [s.assignments for s in interim] == [limited.assignments]
    assert limited.totals == interim[0].totals
    assert limited.stats.status == "feasible"
    assert limited.stats.parts_optimal == 0
    assert {"candidates", "greedy", "total"} <= set(limited.stats.seconds)
