"""The same message asked for by many transactions at once is written once and queued once.

This test commits real rows (each request in its own transaction, on its own connection), so it
does not use the rolled-back ``db`` fixture; it deletes what it wrote. With
``NUANXIN_TEST_DATABASE=postgres`` the transactions truly run at once and the unique key of
``(kind, subject)`` decides; on SQLite they queue for the write lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from nuanxin.db import atomic
from nuanxin.jobs.tables import EmbeddedJob
from nuanxin.notifications.outbox import notify
from nuanxin.notifications.tables import Notification
from nuanxin.notifications.vocabulary import Channel, Kind, Language
from tests.nuanxin.conftest import run_jobs
from tests.nuanxin.notifications.conftest import Wired

SUBJECT = "visit:concurrent-test"
AT_ONCE = 12


async def _queued_jobs() -> int:
    if EmbeddedJob._meta.db.engine_type == "postgres":
        rows = await EmbeddedJob.raw(
            "SELECT count(*) AS n FROM procrastinate_jobs WHERE task_name = 'notifications.send'"
        ).run()
        return int(rows[0]["n"])
    return int(await EmbeddedJob.count().where(EmbeddedJob.task == "notifications.send").run())


@pytest.fixture
async def clean(migrated: None) -> AsyncIterator[None]:
    yield
    await Notification.delete().where(Notification.subject == SUBJECT).run()
    await run_jobs()  # whatever is left is sent to nobody: the row is gone


async def test_a_message_asked_for_at_once_many_times_is_written_and_sent_once(
    clean: None, aliyun_wired: Wired
) -> None:
    before = await _queued_jobs()

    async def ask() -> int | None:
        async with atomic():
            return await notify(
                kind=Kind.visit_code,
                subject=SUBJECT,
                recipient="household:0",
                channel=Channel.sms,
                address="13600001234",
                language=Language.zh,
                params={"date": "12月3日", "code": "55501234", "hotline": "12345"},
            )

    written = await asyncio.gather(*(ask() for _ in range(AT_ONCE)))
    assert len([found for found in written if found is not None]) == 1
    assert await Notification.count().where(Notification.subject == SUBJECT).run() == 1
    assert await _queued_jobs() == before + 1
    await run_jobs()
    assert [sent.phone for sent in aliyun_wired.sms.sent] == ["13600001234"]
