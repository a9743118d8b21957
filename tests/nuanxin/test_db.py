"""The database engine comes from the settings handed to the app, not from the environment;
a transaction PostgreSQL aborted as a deadlock victim or serialization failure runs again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from piccolo.engine.sqlite import SQLiteEngine

from nuanxin.accounts.tables import User
from nuanxin.app import create_app
from nuanxin.db import atomic, configure, engine, is_transient, retrying
from nuanxin.settings import Settings


def test_create_app_uses_the_database_its_settings_name(tmp_path: Path) -> None:
    from_env = Settings.from_env()
    other = tmp_path / "other.sqlite3"
    given = dataclasses.replace(from_env, database_url=f"sqlite:///{other}")
    assert given.database_url != from_env.database_url
    try:
        create_app(given, manage_pool=False)
        used = engine()
        assert isinstance(used, SQLiteEngine)
        assert Path(used.path) == other
        assert User._meta.db is used  # the tables too
    finally:
        configure(from_env)
    assert engine() is not used
    assert User._meta.db is engine()


def test_the_same_settings_keep_the_same_engine() -> None:
    settings = Settings.from_env()
    assert configure(settings) is configure(dataclasses.replace(settings)) is engine()


class AbortedError(Exception):
    """Stands for asyncpg's errors: they carry the SQLSTATE as ``sqlstate``."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


async def test_a_deadlock_victim_is_run_again_until_it_succeeds(migrated: None) -> None:
    calls: list[bool] = []

    async def work() -> str:
        calls.append(engine().current_transaction.get() is not None)
        if len(calls) < 3:
            raise AbortedError("40P01" if len(calls) == 1 else "40001")
        return "done"

    assert await retrying(work) == "done"
    assert calls == [True, True, True], "each attempt in a transaction of its own"


async def test_other_errors_and_the_last_attempt_go_up(migrated: None) -> None:
    async def broken() -> None:
        raise AbortedError("23505")  # a unique violation is not retried

    with pytest.raises(AbortedError):
        await retrying(broken)
    attempts = 0

    async def always_deadlocked() -> None:
        nonlocal attempts
        attempts += 1
        raise AbortedError("40P01")

    with pytest.raises(AbortedError):
        await retrying(always_deadlocked, attempts=3)
    assert attempts == 3


async def test_inside_another_transaction_nothing_is_run_again(migrated: None) -> None:
    attempts = 0

    async def deadlocked() -> None:
        nonlocal attempts
        attempts += 1
        raise AbortedError("40P01")

    with pytest.raises(AbortedError):
        async with atomic():
            await retrying(deadlocked)
    assert attempts == 1, "the outer transaction's locks are still held: its owner decides"


def test_a_transient_error_is_found_among_the_causes() -> None:
    try:
        try:
            raise AbortedError("40001")
        except AbortedError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert is_transient(outer)
    assert not is_transient(RuntimeError("plain"))
