"""A job is deferred in the transaction of the work it belongs to: rolled back with it."""

from __future__ import annotations

import pytest

from nuanxin.db import atomic, engine
from nuanxin.jobs.queue import defer
from nuanxin.jobs.tables import EmbeddedJob
from nuanxin.jobs.tasks import TASKS
from nuanxin.jobs.vocabulary import TaskName
from nuanxin.jobs.worker import procrastinate_app
from nuanxin.settings import Settings


async def queued() -> int:
    if engine().engine_type == "postgres":
        rows = await EmbeddedJob.raw("SELECT count(*) AS n FROM procrastinate_jobs").run()
        return int(rows[0]["n"])
    return int(await EmbeddedJob.count().run())


class RefusedError(Exception):
    pass


async def test_a_job_deferred_in_a_transaction_that_rolls_back_is_gone(db: None) -> None:
    with pytest.raises(RefusedError):
        async with atomic():
            await defer(TaskName.run_round, lock="round-1", round_id=1)
            assert await queued() == 1
            raise RefusedError
    assert await queued() == 0


async def test_a_job_deferred_in_a_transaction_that_commits_is_queued(db: None) -> None:
    async with atomic():
        job_id = await defer(TaskName.run_round, lock="round-2", round_id=2)
    assert job_id > 0
    assert await queued() == 1


async def test_a_job_is_never_deferred_outside_a_transaction(migrated: None) -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        await defer(TaskName.run_round, round_id=3)


def test_the_workers_know_every_task_by_its_name() -> None:
    app = procrastinate_app(Settings.from_env())
    assert {str(name) for name in TaskName} <= set(app.tasks)
    assert set(TASKS) == set(TaskName)
