"""Matching rounds: snapshot, solve off the event loop with progress, store the proposals.

A round runs in three steps. :func:`start_round` records it (status ``running``) and defers
its job in the same transaction (:func:`nuanxin.jobs.queue.defer`): no round without its job,
no job without its round. :func:`run_round` (the job, on a worker) takes the snapshot of the
jurisdiction's unmet needs and the open stock, solves it with the engine in a thread while
progress is written to the round, and stores every proposal in ONE transaction that first moves
the round from ``running`` to ``proposed`` (a conditional update): a round that fails or is
interrupted leaves no proposals behind, and a job run twice (a killed worker's job is run again
elsewhere) stores them once. :func:`retry_round` runs a failed round again. Deciding on the
proposals is :mod:`nuanxin.rounds.proposals`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
from piccolo.query.functions.aggregate import Count

import matching
from matching.reasons import assignment_reasons
from nuanxin.audit.services import record
from nuanxin.db import analyze, atomic, insert_columns
from nuanxin.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from nuanxin.identity import CurrentUser, Role, jurisdiction_where
from nuanxin.jobs.queue import defer
from nuanxin.jobs.vocabulary import TaskName
from nuanxin.offers import services as offers
from nuanxin.pagination import Page, Pagination
from nuanxin.regions.services import subtree_prefix
from nuanxin.rounds.columns import RoundColumns, take_columns
from nuanxin.rounds.schemas import (
    RoundOut,
)
from nuanxin.rounds.tables import MatchingRound, Proposal
from nuanxin.rounds.vocabulary import RoundStatus

__all__ = (
    "get_round",
    "list_rounds",
    "retry_round",
    "round_row",
    "round_status",
    "run_round",
    "start_round",
)

logger = logging.getLogger("nuanxin.rounds")
PROGRESS_INTERVAL = 0.5
REASON_LENGTH = 500  # the proposal's reason column
#: Proposals per COPY of a round's store (see :func:`_insert_proposals`).
STORE_CHUNK = 200_000


async def start_round(
    *, actor: CurrentUser, item_codes: Sequence[str], time_limit_s: float | None = None
) -> int:
    """Record a round over the actor's jurisdiction; :func:`run_round` does the work.

    ``time_limit_s`` (the round's setting, kept in its stats) bounds the engine's solve: the
    answer is then feasible with a proven gap, shown in the stats, instead of exact.
    """
    if actor.role is not Role.staff or actor.jurisdiction_id is None:
        raise Forbidden("Only civil affairs staff with a jurisdiction run rounds")
    unknown = sorted(set(item_codes) - {item.code for item in await offers.list_items()})
    if unknown:
        raise Invalid(
            f"Unknown item codes: {', '.join(unknown)}",
            field="item_codes",
            message_id="unknown_item",
        )
    async with atomic():
        running = (
            await MatchingRound.exists()
            .where(
                (MatchingRound.region == actor.jurisdiction_id)
                & (MatchingRound.status == RoundStatus.running)
            )
            .run()
        )
        if running:
            raise Conflict(
                "A round is already running for this jurisdiction", error="round_running"
            )
        rows = (
            await MatchingRound.insert(
                MatchingRound(
                    region=actor.jurisdiction_id,
                    kinds=sorted(set(item_codes)),
                    status=RoundStatus.running,
                    phase="queued",
                    stats={} if time_limit_s is None else {"time_limit_s": time_limit_s},
                    created_by=actor.id,
                    created_at=datetime.now(UTC),
                )
            )
            .returning(MatchingRound.id)
            .run()
        )
        round_id = int(rows[0]["id"])
        await record(
            actor=actor,
            action="round.start",
            entity="round",
            entity_id=round_id,
            after={
                "region": actor.jurisdiction_id,
                "items": sorted(set(item_codes)),
                "time_limit_s": time_limit_s,
            },
        )
        await _defer_run(round_id)
    return round_id


async def _defer_run(round_id: int) -> None:
    # one job of a round runs at a time, whichever worker holds it
    await defer(TaskName.run_round, lock=f"round-{round_id}", round_id=round_id)


async def _set_progress(round_id: int, percent: int, phase: str) -> None:
    await (
        MatchingRound.update(
            {MatchingRound.progress: max(0, min(100, percent)), MatchingRound.phase: phase[:40]}
        )
        .where((MatchingRound.id == round_id) & (MatchingRound.status == RoundStatus.running))
        .run()
    )


async def run_round(round_id: int) -> None:
    """Snapshot, solve and store the proposals of a running round (the job; run twice, once)."""
    try:
        await _run(round_id)
    except Exception as exc:  # the round records why it failed; nothing else is written
        logger.exception("round %s failed", round_id)
        message = str(exc) if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        async with atomic():
            await (
                MatchingRound.update(
                    {
                        MatchingRound.status: RoundStatus.failed,
                        MatchingRound.error: message[:500],
                        MatchingRound.finished_at: datetime.now(UTC),
                    }
                )
                .where(
                    (MatchingRound.id == round_id) & (MatchingRound.status == RoundStatus.running)
                )
                .run()
            )
            await record(
                actor=None,
                action="round.fail",
                entity="round",
                entity_id=round_id,
                after={"error": message[:200]},
            )


async def _run(round_id: int) -> None:
    round_row = (
        await MatchingRound.select(
            MatchingRound.kinds,
            MatchingRound.status,
            MatchingRound.stats,
            MatchingRound.region._.code,
            MatchingRound.region._.level,
        )
        .where(MatchingRound.id == round_id)
        .output(load_json=True)
        .first()
        .run()
    )
    if round_row is None:
        raise NotFound(f"No round {round_id}")
    if round_row["status"] != RoundStatus.running:
        logger.info("round %s is %s: nothing to run", round_id, round_row["status"])
        return
    item_codes = list(round_row["kinds"] or [])
    setting = (round_row["stats"] or {}).get("time_limit_s")
    time_limit = None if setting is None else float(setting)
    await _set_progress(round_id, 5, "snapshot")

    # each step's seconds go into the round's stats ("steps"): what a province's round costs
    steps: dict[str, float] = {}
    mark = time.perf_counter()
    prefix = subtree_prefix(str(round_row["region.code"]), str(round_row["region.level"]))
    # columns from the database on: a province has a million households
    snapshot = await take_columns(region_prefix=prefix, item_codes=item_codes or None)
    steps["snapshot"] = time.perf_counter() - mark
    mark = time.perf_counter()
    problem = snapshot.problem
    steps["problem"] = time.perf_counter() - mark
    await _set_progress(round_id, 15, "candidates")

    latest: dict[str, Any] = {}

    def on_progress(report: matching.Progress) -> None:
        latest["report"] = report

    async def publish() -> None:
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL)
            report = latest.get("report")
            if report is not None:
                share = report.done / report.total if report.total else 0.0
                await _set_progress(round_id, 20 + int(70 * share), report.stage)

    publisher = asyncio.create_task(publish())
    mark = time.perf_counter()
    try:
        solution = await asyncio.to_thread(_solve, problem, on_progress, time_limit)
    finally:
        publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publisher
    steps["solve"] = time.perf_counter() - mark
    await _store(round_id, snapshot, solution, steps, time_limit)


def _solve(
    problem: matching.ArrayProblem,
    progress: Callable[[matching.Progress], None],
    time_limit: float | None,
) -> matching.ArraySolution:
    return matching.solve_arrays(problem, progress=progress, reports=False, time_limit=time_limit)


def _unmet_by_kind(kinds: Sequence[str], solution: matching.ArraySolution) -> dict[str, int]:
    """Unmet units by kind, the kinds in the order of their first unmet row."""
    kind, quantity = solution.unmet_kind, solution.unmet_quantity
    seen, first = np.unique(kind, return_index=True)
    units = np.zeros(len(kinds), dtype=np.int64)
    np.add.at(units, kind, quantity)
    return {kinds[k]: int(units[k]) for k in seen[np.argsort(first)].tolist()}


def _need_rows(
    problem: matching.ArrayProblem, solution: matching.ArraySolution
) -> npt.NDArray[np.int64]:
    """The need row of each assignment: the one of its (household, kind), found by a search."""
    n_kinds = max(len(problem.kinds), 1)
    keys = np.asarray(problem.need_household) * n_kinds + np.asarray(problem.need_kind)
    order = np.argsort(keys, kind="stable")
    wanted = solution.assignment_household * n_kinds + solution.assignment_kind
    return order[np.searchsorted(keys, wanted, sorter=order)]


def _rows(solution: matching.ArraySolution, start: int, stop: int) -> matching.ArraySolution:
    """The assignments ``start`` to ``stop`` alone (and their priority groups)."""
    starts = solution.assignment_priority_start
    first, last = int(starts[start]), int(starts[stop])
    return dataclasses.replace(
        solution,
        assignment_offer=solution.assignment_offer[start:stop],
        assignment_household=solution.assignment_household[start:stop],
        assignment_kind=solution.assignment_kind[start:stop],
        assignment_quantity=solution.assignment_quantity[start:stop],
        assignment_km=solution.assignment_km[start:stop],
        assignment_priority_start=starts[start : stop + 1] - first,
        priority_weight=solution.priority_weight[first:last],
        priority_first=solution.priority_first[first:last],
        priority_stop=solution.priority_stop[first:last],
    )


def _proposal_columns(
    round_id: int,
    snapshot: RoundColumns,
    solution: matching.ArraySolution,
    need_rows: npt.NDArray[np.int64],
) -> dict[str, Sequence[Any]]:
    """The proposals of ``solution`` as the proposal table's columns, one row per assignment."""
    household = solution.assignment_household
    reasons = assignment_reasons(snapshot.problem, solution)
    if reasons and max(map(len, reasons)) > REASON_LENGTH:
        reasons = [reason[:REASON_LENGTH] for reason in reasons]
    sources = snapshot.sources
    return {
        "round": [round_id] * len(household),
        "offer": snapshot.offer_key[solution.assignment_offer].tolist(),
        "household": snapshot.household_key[household].tolist(),
        "need": snapshot.need_key[need_rows].tolist(),
        "quantity": solution.assignment_quantity.tolist(),
        "distance_km": solution.assignment_km.tolist(),
        "reason": reasons,
        "location_source": [sources[s] for s in snapshot.household_source[household].tolist()],
    }


async def _insert_proposals(
    round_id: int, snapshot: RoundColumns, solution: matching.ArraySolution
) -> int:
    """Every proposal of ``solution``, :data:`STORE_CHUNK` at a time; how many.

    A chunk's columns (its reasons above all) are made in a thread while PostgreSQL takes the
    chunk before, whose rows cost it more (each checks four foreign keys): the two overlap.
    """
    need_rows = _need_rows(snapshot.problem, solution)
    count = len(need_rows)
    bounds = [(start, min(start + STORE_CHUNK, count)) for start in range(0, count, STORE_CHUNK)]

    def chunk(index: int) -> asyncio.Task[dict[str, Sequence[Any]]]:
        start, stop = bounds[index]
        rows = _rows(solution, start, stop)
        return asyncio.create_task(
            asyncio.to_thread(_proposal_columns, round_id, snapshot, rows, need_rows[start:stop])
        )

    stored = 0
    pending = chunk(0) if bounds else None
    try:
        for index in range(len(bounds)):
            assert pending is not None
            columns = await pending
            pending = chunk(index + 1) if index + 1 < len(bounds) else None
            stored += await insert_columns(Proposal, columns)
    finally:
        if pending is not None:  # a thread cannot be cancelled: let it end
            await asyncio.gather(pending, return_exceptions=True)
    return stored


async def _store(
    round_id: int,
    snapshot: RoundColumns,
    solution: matching.ArraySolution,
    steps: dict[str, float],
    time_limit: float | None,
) -> None:
    problem = snapshot.problem
    stats = msgspec.to_builtins(solution.stats) | {
        "households": len(problem.household_id),
        "offers": snapshot.offers,
        "totals": msgspec.to_builtins(solution.totals),
        "unmet_units": int(solution.unmet_quantity.sum()),
        "unmet_by_kind": _unmet_by_kind(problem.kinds, solution),
    }
    if time_limit is not None:
        stats["time_limit_s"] = time_limit
    async with atomic():
        # running -> proposed first: the row lock makes a second store of the same round
        # (a job run twice) wait here, then find the round proposed and write nothing
        moved = (
            await MatchingRound.update(
                {
                    MatchingRound.status: RoundStatus.proposed,
                    MatchingRound.progress: 100,
                    MatchingRound.phase: "done",
                    MatchingRound.stats: stats,
                    MatchingRound.finished_at: datetime.now(UTC),
                }
            )
            .where((MatchingRound.id == round_id) & (MatchingRound.status == RoundStatus.running))
            .returning(MatchingRound.id)
            .run()
        )
        if not moved:
            logger.info("round %s is no longer running: its proposals are not stored", round_id)
            return
        mark = time.perf_counter()
        # the bulk door, columns as they are: COPY on PostgreSQL (a province stores millions)
        stored = await _insert_proposals(round_id, snapshot, solution)
        # approval plans its joins on the table's statistics: until autovacuum gets to it
        # (never, where it is off), a table a bulk write just filled looks (nearly) empty
        await analyze(Proposal, stored)
        steps["store"] = time.perf_counter() - mark
        await (
            MatchingRound.update(
                {MatchingRound.stats: stats | {"steps": {k: round(v, 3) for k, v in steps.items()}}}
            )
            .where(MatchingRound.id == round_id)
            .run()
        )
        await record(
            actor=None,
            action="round.propose",
            entity="round",
            entity_id=round_id,
            after={"proposals": stored, "units": solution.totals.units},
        )


async def round_row(actor: CurrentUser, round_id: int) -> dict[str, Any]:
    row = await (
        MatchingRound.select(
            *MatchingRound.all_columns(),
            MatchingRound.region._.code,
            MatchingRound.region._.name,
        )
        .where(MatchingRound.id == round_id)
        .output(load_json=True)
        .first()
        .run()
    )
    if row is None or not actor.covers(str(row["region.code"])):
        raise NotFound("No such round in your jurisdiction")
    return row


async def retry_round(*, actor: CurrentUser, round_id: int) -> int:
    """Run a failed round again (its snapshot is taken anew)."""
    async with atomic():
        row = await round_row(actor, round_id)
        if row["status"] != RoundStatus.failed:
            raise Conflict(
                f"The round is {row['status']}; only a failed round is retried",
                message_id="round_not_failed",
            )
        await (
            MatchingRound.update(
                {
                    MatchingRound.status: RoundStatus.running,
                    MatchingRound.progress: 0,
                    MatchingRound.phase: "queued",
                    MatchingRound.error: "",
                    MatchingRound.finished_at: None,
                }
            )
            .where(MatchingRound.id == round_id)
            .run()
        )
        await record(actor=actor, action="round.retry", entity="round", entity_id=round_id)
        await _defer_run(round_id)
    return round_id


def _round_out(row: dict[str, Any], proposals: int) -> RoundOut:
    return RoundOut(
        id=int(row["id"]),
        region_code=str(row["region.code"]),
        region_name=str(row["region.name"]),
        item_codes=list(row["kinds"] or []),
        status=str(row["status"]),
        progress=int(row["progress"]),
        phase=str(row["phase"]),
        error=str(row["error"]),
        stats=dict(row["stats"] or {}),
        created_by=int(row["created_by"]),
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        proposals=proposals,
    )


async def round_status(round_id: int) -> str | None:
    """The round's status alone (the caller has already been shown the round)."""
    row = (
        await MatchingRound.select(MatchingRound.status)
        .where(MatchingRound.id == round_id)
        .first()
        .run()
    )
    return None if row is None else str(row["status"])


async def get_round(*, actor: CurrentUser, round_id: int) -> RoundOut:
    row = await round_row(actor, round_id)
    count = await Proposal.count().where(Proposal.round == round_id).run()
    return _round_out(row, count)


async def list_rounds(*, actor: CurrentUser, page: Pagination) -> Page[RoundOut]:
    query = MatchingRound.select(
        *MatchingRound.all_columns(), MatchingRound.region._.code, MatchingRound.region._.name
    ).output(load_json=True)
    count = MatchingRound.count()
    clause = jurisdiction_where(actor, MatchingRound.region._.code)
    if clause is not None:
        query = query.where(clause)
        count = count.where(clause)
    rows = (
        await query.order_by(MatchingRound.id, ascending=False)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    counts: dict[int, int] = {}
    if rows:
        counts = {
            int(row["round"]): int(row["count"])
            for row in await Proposal.select(Proposal.round, Count())
            .where(Proposal.round.is_in([row["id"] for row in rows]))
            .group_by(Proposal.round)
            .run()
        }
    return Page(
        items=[_round_out(row, counts.get(int(row["id"]), 0)) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )
