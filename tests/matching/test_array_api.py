"""The array face of the API: the same answers as the dataclasses, from JSON bytes to bytes."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.matching.bad_cases import CASES, _broken
from tests.matching.strategies import problems

import matching.assemble
import matching.engine
import matching.network
from matching import (
    ArrayProblem,
    ArraySolution,
    InvalidProblemError,
    Problem,
    Progress,
    Solution,
    parse_instance,
    problem_to_arrays,
    solution_from_arrays,
    solution_to_json,
    solve,
    solve_arrays,
)
from matching.face import direct
from matching.flow import _merge_neighbourhoods, level_counts
from matching.instance import read_instance, write_result
from matching.network import build_network
from matching.reference import feasibility_errors, random_problem, rank_cost_flow

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "matching"
GOLDEN = sorted(p for p in FIXTURES.glob("*.json") if not p.name.endswith(".expected.json"))


def _same(a: Solution, b: Solution) -> None:
    assert a.assignments == b.assignments
    assert a.unmet == b.unmet
    assert a.totals == b.totals
    assert dataclasses.replace(a.stats, seconds={}) == dataclasses.replace(b.stats, seconds={})


def _without_seconds(document: dict[str, Any]) -> dict[str, Any]:
    document["stats"].pop("seconds")
    return document


def _result_bytes(raw: bytes) -> dict[str, Any]:
    instance = read_instance(raw)
    out = io.BytesIO()
    write_result(out, instance.problem, solve_arrays(instance.problem), instance.original_ids)
    return _without_seconds(json.loads(out.getvalue()))


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_instances_get_the_same_answer_through_arrays_and_dataclasses(path: Path) -> None:
    raw = path.read_bytes()
    instance = parse_instance(json.loads(raw))
    by_dataclasses = solve(instance.problem)
    arrays = read_instance(raw).problem
    _same(solution_from_arrays(arrays, solve_arrays(arrays)), by_dataclasses)
    expected = _without_seconds(solution_to_json(by_dataclasses, instance.original_ids))
    assert _result_bytes(raw) == expected


@settings(max_examples=120, deadline=None)
@given(problems())
def test_random_instances_get_the_same_answer_through_arrays_and_dataclasses(
    problem: Problem,
) -> None:
    arrays = problem_to_arrays(problem)
    by_arrays = solution_from_arrays(arrays, solve_arrays(arrays))
    _same(by_arrays, solve(problem))
    assert feasibility_errors(problem, by_arrays) == []


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_the_json_result_from_columns_equals_the_json_of_the_dataclass_result(seed: int) -> None:
    problem = random_problem(np.random.default_rng(seed), offers=20, households=60)
    document = {
        "offers": [
            {**dataclasses.asdict(o), "requires": sorted(o.requires)} for o in problem.offers
        ],
        "households": [
            {
                "id": h.id,
                "lat": h.lat,
                "lon": h.lon,
                "tags": sorted(h.tags),
                "needs": [
                    {"kind": n.kind, "quantity": n.quantity}
                    | ({"weight": n.weight} if n.weights is None else {"weights": list(n.weights)})
                    for n in h.needs
                ],
            }
            for h in problem.households
        ],
    }
    expected = _without_seconds(solution_to_json(solve(problem)))
    assert _result_bytes(json.dumps(document).encode()) == expected


def test_integer_ids_come_back_as_integers_from_the_columns_too() -> None:
    data = json.loads((FIXTURES / "nearest_among_equals.json").read_text("utf-8"))
    data["offers"][0]["id"] = 7
    result = _result_bytes(json.dumps(data).encode())
    assert result["assignments"][0]["offer"] == 7


def test_columns_of_any_integer_and_real_dtype_are_accepted() -> None:
    problem = ArrayProblem(
        kinds=("quilt",),
        tags=("electricity",),
        offer_id=("o1",),
        offer_kind=np.array([0], np.int8),
        offer_quantity=np.array([3], np.int32),
        offer_lat=np.array([40], np.int64),
        offer_lon=np.array([116.0], np.float32),
        offer_radius_km=np.array([50.0]),
        offer_requires_start=np.array([0, 1], np.int32),
        offer_requires=np.array([0], np.uint8),
        household_id=("h1", "h2"),
        household_lat=np.array([40.1, 40.2]),
        household_lon=np.array([116.0, 116.0]),
        household_tags_start=np.array([0, 1, 1]),
        household_tags=np.array([0]),
        need_household=np.array([0, 1]),
        need_kind=np.array([0, 0]),
        need_quantity=np.array([3, 2]),
        need_weights_start=np.array([0, 3, 4]),
        need_weights=np.array([5.0, 2.0, 1.0, 4.0]),
    )
    solution = solve_arrays(problem)
    assert solution.stats.optimal
    assert solution.assignment_household.tolist() == [0]
    assert solution.assignment_quantity.tolist() == [3]
    assert solution.totals.weighted_units == 8.0
    assert solution.need_served.tolist() == [3, 0]
    assert solution.unmet_household.tolist() == [1]
    assert solution.unmet_cause.tolist() == [1]  # h2 lacks electricity


def _columns(**changes: Any) -> ArrayProblem:
    problem = problem_to_arrays(
        parse_instance(json.loads((FIXTURES / "per_unit_weights.json").read_text("utf-8"))).problem
    )
    return dataclasses.replace(problem, **changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"offer_lat": np.array([95.0])}, "offers[0] (id 'o1').lat: must be a latitude"),
        ({"offer_kind": np.array([9])}, "offers[0] (id 'o1').kind: unknown reference 9"),
        ({"offer_quantity": np.array([-1])}, "offers[0] (id 'o1').quantity: must not be negative"),
        ({"offer_radius_km": np.array([np.inf])}, "radius_km: must be a finite number >= 0"),
        ({"need_weights": np.array([5.0, 2.0, 3.0, 4.0, 3.0])}, "weights must be non-increasing"),
        ({"need_weights": np.array([5.0, 2.0, 1.0, 4.0, -3.0])}, "must be a finite number > 0"),
        ({"household_id": ("h1", "h1")}, "households[1] (id 'h1').id: duplicate id"),
        ({"need_household": np.array([1, 0])}, "need_household: must be household indices"),
        ({"offer_lat": np.array([40.0, 41.0])}, "offer_lat: must have 1 entries, got 2"),
        ({"offer_lat": np.array(["40"])}, "offer_lat: must be a one-dimensional real array"),
    ],
)
def test_bad_columns_are_refused_naming_the_item_and_field(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidProblemError) as refused:
        solve_arrays(_columns(**changes))
    assert message in str(refused.value)


@pytest.mark.parametrize(("path", "value", "message"), CASES, ids=[c[2] for c in CASES])
def test_the_fast_reader_refuses_bad_input_with_the_plain_readers_message(
    path: str, value: Any, message: str
) -> None:
    with pytest.raises(InvalidProblemError) as refused:
        read_instance(json.dumps(_broken(path, value)))
    assert message in str(refused.value)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_many_levels_give_the_same_counts_by_nested_cuts_and_by_rank_costs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    problem = random_problem(rng, offers=12, households=40)
    households = tuple(
        dataclasses.replace(
            h,
            needs=tuple(
                dataclasses.replace(
                    n,
                    weight=None,
                    weights=tuple(sorted(rng.uniform(1, 9, n.quantity).round(2), reverse=True)),
                )
                for n in h.needs
            ),
        )
        for h in problem.households
    )
    problem = dataclasses.replace(problem, households=households)
    for part in build_network(problem_to_arrays(problem)).parts:
        merged = _merge_neighbourhoods(part)
        ranked, _ = rank_cost_flow(direct(merged), int(part.offer_supply.sum()))
        assert level_counts(part).tolist() == ranked.tolist()


def _result_columns(solution: ArraySolution) -> dict[str, Any]:
    return {  # as bytes: a NaN equals itself there
        f.name: (getattr(solution, f.name).dtype, getattr(solution, f.name).tobytes())
        for f in dataclasses.fields(solution)
        if isinstance(getattr(solution, f.name), np.ndarray)
    }


@pytest.mark.parametrize("seed", range(4))
def test_kinds_and_parts_built_by_threads_give_the_answers_built_one_after_the_other(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = random_problem(np.random.default_rng(600 + seed), offers=30, households=120)
    arrays = problem_to_arrays(problem)
    assert len(set(arrays.need_kind.tolist())) > 1
    seen: list[ArraySolution] = []

    def interim(update: Progress) -> None:
        if update.interim_arrays is not None:
            seen.append(update.interim_arrays)

    serial = solve_arrays(arrays, progress=interim)
    monkeypatch.setattr(matching.engine, "THREADS_MIN_NEEDS", 0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1})
    threads: dict[str, set[str]] = {"kinds": set(), "pieces": set()}
    for module, name, key in (
        (matching.network, "_kind_parts", "kinds"),
        (matching.assemble, "_part_pieces", "pieces"),
    ):
        monkeypatch.setattr(module, name, _noting_thread(getattr(module, name), threads[key]))
    threaded = solve_arrays(arrays, progress=interim)
    # each kind's parts and each part's pieces (interim and exact) were made by the pool
    assert threads["kinds"] and threads["pieces"]
    assert all(name.startswith("matching") for name in threads["kinds"] | threads["pieces"])
    assert _result_columns(threaded) == _result_columns(serial)
    assert threaded.totals == serial.totals
    first, second = seen
    assert _result_columns(first) == _result_columns(second)
    assert first.stats.relative_gap == second.stats.relative_gap


def _noting_thread(function: Callable[..., Any], names: set[str]) -> Callable[..., Any]:
    def noted(*args: Any) -> Any:
        names.add(threading.current_thread().name)
        return function(*args)

    return noted
