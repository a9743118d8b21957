"""Deferring a job inside the caller's transaction.

:func:`defer` writes the job with the same connection, in the same transaction, as the
business rows that need it (a matching round and its job): a rollback leaves neither, a commit
makes both visible at once, and no worker ever sees a job whose round does not exist yet.

* PostgreSQL: the job goes into Procrastinate's ``procrastinate_jobs`` through Procrastinate's
  own SQL function ``procrastinate_defer_jobs_v1``, called through Piccolo's connection (the
  workers' psycopg connections never take part in the business transaction). Its insert
  trigger notifies the workers when the transaction commits.
* SQLite: the job is a row of ``embedded_job``, run by the app's embedded worker.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from nuanxin.db import atomic, engine
from nuanxin.jobs.tables import EmbeddedJob
from nuanxin.jobs.vocabulary import EmbeddedStatus, TaskName

__all__ = ("FINISHED_KEPT_DAYS", "QUEUE", "defer", "forget_finished")

QUEUE = "nuanxin"
FINISHED_KEPT_DAYS = 30  # failed or cancelled jobs, kept to read why (succeeded ones: deleted)

DEFER = (
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW("
    "CAST({} AS varchar), CAST({} AS varchar), CAST({} AS integer), CAST({} AS text), "
    "NULL, CAST(CAST({} AS text) AS jsonb), NULL"
    ")::procrastinate_job_to_defer_v1]) AS ids"
)


async def defer(task: TaskName, *, lock: str | None = None, priority: int = 0, **args: Any) -> int:
    """Record a job of ``task`` with keyword ``args`` in the current transaction; its id.

    ``lock``: jobs sharing a lock never run at the same time (Procrastinate's job lock; the
    embedded worker runs one job at a time anyway).
    """
    db = engine()
    if db.current_transaction.get() is None:
        raise RuntimeError("defer() runs inside the transaction of the work it belongs to")
    if isinstance(db, PostgresEngine):
        rows = await EmbeddedJob.raw(
            DEFER, QUEUE, str(task), priority, lock, json.dumps(args)
        ).run()
        return int(rows[0]["ids"][0])
    inserted = (
        await EmbeddedJob.insert(
            EmbeddedJob(
                task=str(task),
                args=args,
                status=EmbeddedStatus.todo,
                created_at=datetime.now(UTC),
            )
        )
        .returning(EmbeddedJob.id)
        .run()
    )
    return int(inserted[0]["id"])


async def forget_finished(*, now: datetime) -> int:
    """Delete jobs that ended (failed, cancelled) more than FINISHED_KEPT_DAYS ago."""
    limit = now - timedelta(days=FINISHED_KEPT_DAYS)
    async with atomic():
        if isinstance(engine(), PostgresEngine):
            rows = await EmbeddedJob.raw(
                "DELETE FROM procrastinate_jobs WHERE status IN ('failed', 'cancelled', "
                "'aborted', 'succeeded') AND id IN (SELECT job_id FROM procrastinate_events "
                "GROUP BY job_id HAVING max(at) < {}) RETURNING id",
                limit,
            ).run()
            return len(rows)
        gone = (
            await EmbeddedJob.delete()
            .where(
                EmbeddedJob.status.is_in([EmbeddedStatus.failed, EmbeddedStatus.succeeded])
                & (EmbeddedJob.created_at < limit)
            )
            .returning(EmbeddedJob.id)
            .run()
        )
        return len(gone)
