"""Who runs the jobs: Procrastinate workers on PostgreSQL, an embedded loop on SQLite.

``python -m nuanxin worker`` (PostgreSQL) runs a Procrastinate worker over the ``nuanxin``
queue, with the periodic duties of :data:`~nuanxin.jobs.tasks.PERIODIC` (Procrastinate defers
each scheduled run once, whichever worker gets there first). Every worker beats its heart into
``procrastinate_workers`` every :data:`HEARTBEAT_SECONDS`; each worker also looks every
:data:`RESCUE_SECONDS` for jobs held by a worker silent for :data:`STALLED_AFTER_SECONDS`
(killed, frozen, cut off) and puts them back in the queue, where any worker takes them. No
process ever fails another's work because it started.

On SQLite (the demo) :class:`EmbeddedWorker` runs inside the app's process, one job at a time,
over ``embedded_job``, and calls the periodic duties on their schedule itself. The demo is one
process, so at start it takes back the jobs its previous run left half done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import procrastinate
from piccolo.engine.postgres import PostgresEngine

from nuanxin.db import atomic, engine
from nuanxin.jobs.queue import QUEUE
from nuanxin.jobs.tables import EmbeddedJob
from nuanxin.jobs.tasks import PERIODIC, TASKS
from nuanxin.jobs.vocabulary import EmbeddedStatus, TaskName
from nuanxin.settings import Settings

__all__ = (
    "EmbeddedWorker",
    "embedded_worker",
    "procrastinate_app",
    "run_deferred_here",
    "work",
)

logger = logging.getLogger("nuanxin.jobs")

HEARTBEAT_SECONDS = 2.0
STALLED_AFTER_SECONDS = 10.0
RESCUE_SECONDS = 3.0
CONCURRENCY = 2  # a round (its solve in a thread) and a periodic duty side by side


def procrastinate_app(settings: Settings) -> procrastinate.App:
    """A Procrastinate app over ``DATABASE_URL`` that knows every task."""
    connector = procrastinate.PsycopgConnector(
        conninfo=settings.database_url, min_size=1, max_size=CONCURRENCY + 2
    )
    app = procrastinate.App(connector=connector)
    scheduled_tasks = {duty.task for duty in PERIODIC}
    for name, function in TASKS.items():
        if name not in scheduled_tasks:
            app.task(name=str(name), queue=QUEUE, pass_context=False)(function)
    for duty in PERIODIC:  # Procrastinate passes the scheduled time: the wrapper drops it
        scheduled = app.task(name=str(duty.task), queue=QUEUE, pass_context=False)(
            _scheduled(TASKS[duty.task])
        )
        app.periodic(cron=duty.cron, periodic_id=str(duty.task))(scheduled)
    return app


def _scheduled(function: Any) -> Any:
    async def call(*, timestamp: int, **kwargs: Any) -> Any:  # Procrastinate adds the time
        return await function(**kwargs)

    return call


async def rescue_stalled(app: procrastinate.App) -> int:
    """Put the jobs of silent workers back in the queue; how many."""
    rescued = 0
    for job in await app.job_manager.get_stalled_jobs(
        queue=QUEUE, seconds_since_heartbeat=STALLED_AFTER_SECONDS
    ):
        try:
            await app.job_manager.retry_job(job)
        except Exception:  # another worker rescued it first
            logger.debug("job %s already rescued", job.id, exc_info=True)
            continue
        rescued += 1
        logger.warning("job %s (%s) of a silent worker queued again", job.id, job.task_name)
    return rescued


async def _rescue_forever(app: procrastinate.App) -> None:
    while True:
        await asyncio.sleep(RESCUE_SECONDS)
        try:
            await rescue_stalled(app)
        except Exception:
            logger.exception("looking for stalled jobs failed")


async def _procrastinate_worker(settings: Settings, *, signals: bool) -> None:
    app = procrastinate_app(settings)
    async with app.open_async():
        rescuer = asyncio.create_task(_rescue_forever(app))
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                name="nuanxin",
                concurrency=CONCURRENCY,
                update_heartbeat_interval=HEARTBEAT_SECONDS,
                stalled_worker_timeout=STALLED_AFTER_SECONDS,
                delete_jobs="successful",
                install_signal_handlers=signals,
            )
        finally:
            rescuer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await rescuer


async def work(settings: Settings) -> None:
    """``python -m nuanxin worker``: run jobs until SIGINT or SIGTERM (PostgreSQL only)."""
    if not settings.is_postgres:
        raise SystemExit("the worker needs PostgreSQL: on SQLite the app runs its jobs itself")
    db = engine()
    assert isinstance(db, PostgresEngine)
    await db.start_connection_pool(min_size=1, max_size=settings.database_pool_size)
    try:
        await _procrastinate_worker(settings, signals=True)
    finally:
        await db.close_connection_pool()


async def run_deferred_here() -> int:
    """Run now, in this process and transaction, the jobs deferred and not yet taken.

    For tests (whose transaction no worker can see) and loaders; returns how many ran.
    """
    db = engine()
    if not isinstance(db, PostgresEngine):
        return await EmbeddedWorker().run_pending()
    ran = 0
    while True:
        rows = await EmbeddedJob.raw(
            "DELETE FROM procrastinate_jobs WHERE id = (SELECT id FROM procrastinate_jobs "
            "WHERE status = 'todo' AND queue_name = {} ORDER BY id LIMIT 1) "
            "RETURNING task_name, args",
            QUEUE,
        ).run()
        if not rows:
            return ran
        args = rows[0]["args"]
        await TASKS[TaskName(rows[0]["task_name"])](**_loaded(args))
        ran += 1


def _loaded(args: Any) -> dict[str, Any]:
    value = json.loads(args) if isinstance(args, str) else args
    return dict(value or {})


class EmbeddedWorker:
    """The SQLite demo's worker: one job at a time from ``embedded_job``, in the app's loop."""

    POLL_SECONDS = 0.25

    async def _claim(self) -> dict[str, Any] | None:
        async with atomic():
            row = (
                await EmbeddedJob.select(EmbeddedJob.id, EmbeddedJob.task, EmbeddedJob.args)
                .where(EmbeddedJob.status == EmbeddedStatus.todo)
                .order_by(EmbeddedJob.id)
                .first()
                .run()
            )
            if row is None:
                return None
            await (
                EmbeddedJob.update(
                    {
                        EmbeddedJob.status: EmbeddedStatus.doing,
                        EmbeddedJob.attempts: EmbeddedJob.attempts + 1,
                    }
                )
                .where(EmbeddedJob.id == row["id"])
                .run()
            )
        return dict(row)

    async def run_pending(self) -> int:
        """Run every waiting job; how many ran."""
        ran = 0
        while (job := await self._claim()) is not None:
            status, error = EmbeddedStatus.succeeded, ""
            try:
                await TASKS[TaskName(job["task"])](**_loaded(job["args"]))
            except Exception as exc:
                logger.exception("embedded job %s (%s) failed", job["id"], job["task"])
                status, error = EmbeddedStatus.failed, f"{type(exc).__name__}: {exc}"[:500]
            async with atomic():  # done: forgotten, as on PostgreSQL; failed: kept to read
                if status is EmbeddedStatus.succeeded:
                    await EmbeddedJob.delete().where(EmbeddedJob.id == job["id"]).run()
                else:
                    await (
                        EmbeddedJob.update({EmbeddedJob.status: status, EmbeddedJob.error: error})
                        .where(EmbeddedJob.id == job["id"])
                        .run()
                    )
            ran += 1
        return ran

    async def _take_back_unfinished(self) -> None:
        async with atomic():
            await (
                EmbeddedJob.update({EmbeddedJob.status: EmbeddedStatus.todo})
                .where(EmbeddedJob.status == EmbeddedStatus.doing)
                .run()
            )

    async def run_forever(self) -> None:
        await self._take_back_unfinished()
        due: dict[TaskName, float] = {}
        while True:
            try:
                await self.run_pending()
                await self._run_due(due)
            except Exception:
                logger.exception("the embedded worker failed a step")
            await asyncio.sleep(self.POLL_SECONDS)

    async def _run_due(self, due: dict[TaskName, float]) -> None:
        now = datetime.now(UTC).timestamp()
        for duty in PERIODIC:
            if due.get(duty.task, 0.0) <= now:
                await TASKS[duty.task]()
                due[duty.task] = now + _every_seconds(duty.cron)


def _every_seconds(cron: str) -> float:
    """How often a ``*/N`` minute or hourly cron runs (the embedded worker's approximation)."""
    minute = cron.split()[0]
    if minute.startswith("*/"):
        return 60.0 * int(minute[2:])
    return 3600.0


@asynccontextmanager
async def embedded_worker(settings: Settings) -> AsyncIterator[None]:
    """Run the app's own worker while the block runs (SQLite; PostgreSQL when asked)."""
    if settings.is_postgres:
        task = asyncio.create_task(_procrastinate_worker(settings, signals=False))
    else:
        task = asyncio.create_task(EmbeddedWorker().run_forever())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
