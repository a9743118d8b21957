"""``solve``: validate, build the parts, solve them (in parallel when it pays), assemble."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from matching.arrays import check_arrays, problem_to_arrays, solution_from_arrays
from matching.assemble import assemble
from matching.flow import RESOLUTIONS_KM, PartFlow, solve_part
from matching.greedy import greedy_part, weight_bound, weight_of
from matching.marginal import report_columns
from matching.memory import give_back_freed_memory
from matching.model import ArrayProblem, ArraySolution, Problem, Progress, Solution, Stats
from matching.network import Network, Part, build_network
from matching.validate import check_problem
from matching.workers import solve_in_workers

__all__ = ("solve", "solve_arrays")

ProgressCallback = Callable[[Progress], None]
_Each = Callable[[Callable[[Any], Any], Sequence[Any]], Iterable[Any]]
"""``map``, or a thread pool's ``map``: results in the order of the items."""

PARALLEL_MIN_ARCS = 400_000
"""Below this many arcs in all, starting worker processes costs more than it saves."""
THREADS_MIN_NEEDS = 200_000
"""From this many needs, the greedy parts are built by threads, one per CPU (at most
``THREADS_MAX``); below it, one after the other."""
THREADS_MAX = 4


@contextlib.contextmanager
def _threads(problem: ArrayProblem) -> Iterator[_Each]:
    """``map`` over a thread pool for large problems, the built-in ``map`` otherwise."""
    count = min(len(os.sched_getaffinity(0)), THREADS_MAX)
    if count < 2 or len(problem.need_household) < THREADS_MIN_NEEDS:
        yield map
        return
    with ThreadPoolExecutor(count, thread_name_prefix="matching") as pool:
        yield pool.map


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    reports: bool = True,
) -> Solution:
    """The exact lexicographic optimum of ``problem``, or the best answer by ``time_limit``.

    First the priority-weighted units delivered are maximised, then among all such
    assignments the total unit-km is minimised. The same input gives the same output.
    With ``time_limit`` (seconds), parts not solved exactly by then keep the greedy answer
    and ``stats`` carries a proven bound on the gap. ``progress`` receives reports as the
    solve goes on, including a feasible interim answer when one is computed. ``workers``
    sets the number of worker processes (0: solve in this process); by default large
    problems use one per CPU and small ones none. ``reports`` adds the marginal value of
    one more unit of each kind at each point with stock, and the unmet need by region
    (``Solution.marginal_values``, ``Solution.unmet_by_region``).

    This is :func:`solve_arrays` on the problem's columns, with the answer turned back
    into dataclasses: the two can never disagree.
    """
    started = time.perf_counter()
    check_problem(problem)
    arrays = problem_to_arrays(problem)
    relay: ProgressCallback | None = None
    if progress is not None:
        report = progress

        def relay(update: Progress) -> None:
            if update.interim_arrays is not None:
                interim = solution_from_arrays(arrays, update.interim_arrays)
                update = dataclasses.replace(update, interim=interim)
            report(update)

    solution = _solve(arrays, started, time_limit, relay, workers, reports)
    return solution_from_arrays(arrays, solution)


def solve_arrays(
    problem: ArrayProblem,
    *,
    time_limit: float | None = None,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    reports: bool = True,
) -> ArraySolution:
    """:func:`solve` for a problem given as numpy columns, answering in columns.

    The interim answer reaches ``progress`` as ``Progress.interim_arrays``. Raises
    :class:`InvalidProblemError` naming every faulty item and field.
    """
    started = time.perf_counter()
    return _solve(check_arrays(problem), started, time_limit, progress, workers, reports)


def _solve(
    problem: ArrayProblem,
    started: float,
    time_limit: float | None,
    progress: ProgressCallback | None,
    workers: int | None,
    reports: bool,
) -> ArraySolution:
    """The one core of both faces: ``problem`` is valid and normalized."""
    with _threads(problem) as each:
        return _solve_with(problem, started, time_limit, progress, workers, reports, each)


def _solve_with(
    problem: ArrayProblem,
    started: float,
    time_limit: float | None,
    progress: ProgressCallback | None,
    workers: int | None,
    reports: bool,
    each: _Each,
) -> ArraySolution:
    report = progress or _ignore
    report(Progress(stage="candidates", done=0, total=1, message="finding candidate pairs"))
    network = build_network(problem, each)
    seconds = {"candidates": time.perf_counter() - started}
    parts = network.parts
    report(
        Progress(
            stage="candidates",
            done=1,
            total=1,
            message=f"{network.candidate_pairs} candidate pairs in {len(parts)} parts",
        )
    )
    greedy: list[PartFlow] | None = None
    deadline = None if time_limit is None else started + time_limit
    if time_limit is not None or progress is not None:
        # First, on every core: staff see a feasible answer before the exact solve starts.
        greedy, interim = _interim(network, seconds, report, each)
        if deadline is not None and time.perf_counter() >= deadline:
            seconds["total"] = time.perf_counter() - started
            return dataclasses.replace(
                interim, stats=dataclasses.replace(interim.stats, seconds=dict(seconds))
            )
        # Reported already: its columns are not held while the workers run. Without a
        # deadline every part ends exact, so the greedy flows are not needed either.
        del interim
        if deadline is None:
            greedy = None
    if workers_count := _worker_count(workers, parts, deadline):
        give_back_freed_memory()  # the workers' memory counts in the peak, freed pages not
    mark = time.perf_counter()
    exact = _solve_parts(parts, deadline, report, workers_count)
    seconds["solve"] = time.perf_counter() - mark
    flows = [flow if flow is not None else _fallback(greedy, i) for i, flow in enumerate(exact)]
    optimal = [flow is not None for flow in exact]
    seconds["total"] = time.perf_counter() - started
    solution = _solution(network, flows, optimal, dict(seconds), each)
    if not reports:
        return solution
    mark = time.perf_counter()
    columns: dict[str, Any] = report_columns(problem, network, flows, optimal, solution.need_served)
    seconds["reports"] = time.perf_counter() - mark
    columns["stats"] = dataclasses.replace(solution.stats, seconds=dict(seconds))
    return dataclasses.replace(solution, **columns)


def _ignore(_: Progress) -> None:
    return None


def _fallback(greedy: list[PartFlow] | None, index: int) -> PartFlow:
    assert greedy is not None, "a part without exact flow needs the greedy answer"
    return greedy[index]


def _worker_count(workers: int | None, parts: tuple[Part, ...], deadline: float | None) -> int:
    """0 means in this process; otherwise the number of worker processes."""
    if workers is not None:
        return max(0, min(workers, len(parts)))
    arcs = sum(part.arcs for part in parts)
    if arcs < PARALLEL_MIN_ARCS or (len(parts) == 1 and deadline is None):
        return 0
    return max(1, min(len(os.sched_getaffinity(0)), len(parts)))


def _interim(
    network: Network,
    seconds: dict[str, float],
    report: ProgressCallback,
    each: _Each,
) -> tuple[list[PartFlow], ArraySolution]:
    """The greedy answer, reported with its proven gap; its flows are the fallback."""
    mark = time.perf_counter()
    greedy = list(each(greedy_part, network.parts))
    seconds["greedy"] = time.perf_counter() - mark
    interim = _solution(network, greedy, [False] * len(greedy), dict(seconds), each)
    seconds["interim"] = time.perf_counter() - mark
    report(
        Progress(
            stage="feasible",
            done=0,
            total=len(network.parts),
            message=f"greedy answer, proven gap {interim.stats.relative_gap:.2%}",
            interim_arrays=interim,
        )
    )
    return greedy, interim


def _solve_parts(
    parts: tuple[Part, ...],
    deadline: float | None,
    report: ProgressCallback,
    workers: int,
) -> list[PartFlow | None]:
    """Exact flows, in input order; None for parts not finished by the deadline."""
    if workers == 0:
        results: list[PartFlow | None] = []
        for part in parts:
            results.append(solve_part(part))
            report(_exact_progress(len(results), len(parts)))
        return results
    done = [0]

    def finished(_: int) -> None:
        done[0] += 1
        report(_exact_progress(done[0], len(parts)))

    return solve_in_workers(parts, workers, deadline, finished)


def _exact_progress(done: int, total: int) -> Progress:
    return Progress(stage="exact", done=done, total=total, message=f"{done}/{total} parts exact")


def _solution(
    network: Network,
    flows: list[PartFlow],
    optimal: list[bool],
    seconds: dict[str, float],
    each: _Each,
) -> ArraySolution:
    outcome = assemble(network, list(zip(network.parts, flows, strict=True)), each)
    bound = math.fsum(
        weight_of(part, flow) if exact else weight_bound(part)
        for part, flow, exact in zip(network.parts, flows, optimal, strict=True)
    )
    all_optimal = all(optimal)
    weighted = outcome.totals.weighted_units
    gap = 0.0 if all_optimal else max(0.0, bound - weighted)
    resolution = max(
        (flow.resolution_km for flow, exact in zip(flows, optimal, strict=True) if exact),
        default=RESOLUTIONS_KM[0],
    )
    stats = Stats(
        status="optimal" if all_optimal else "feasible",
        optimal=all_optimal,
        weighted_units_bound=weighted if all_optimal else bound,
        gap=gap,
        relative_gap=gap / bound if bound > 0 else 0.0,
        distance_resolution_km=resolution,
        candidate_pairs=network.candidate_pairs,
        arcs=sum(part.arcs for part in network.parts),
        parts=len(network.parts),
        parts_optimal=sum(optimal),
        seconds=seconds,
    )
    columns = {f.name: getattr(outcome, f.name) for f in dataclasses.fields(outcome)}
    return ArraySolution(**columns, stats=stats)
