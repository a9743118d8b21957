"""The database engine comes from the settings handed to the app, not from the environment;
a transaction PostgreSQL aborted as a deadlock victim or serialization failure runs again."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from nuanxin import db as db_module
from nuanxin.accounts.tables import User
from nuanxin.app import create_app
from nuanxin.db import (
    _insert_batches,
    atomic,
    configure,
    copy_rows,
    engine,
    insert_columns,
    insert_many,
    is_transient,
    retrying,
    select_columns,
)
from nuanxin.households.tables import Household, Need
from nuanxin.households.vocabulary import Category, VerificationStatus
from nuanxin.offers.tables import Item
from nuanxin.settings import Settings
from tests.nuanxin.conftest import make_region


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


async def test_a_bulk_load_by_copy_writes_the_same_rows_as_batched_inserts(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL's COPY door and the batched INSERTs (SQLite's) agree, defaults included,
    and ids come back in the rows' order across chunks."""
    if not isinstance(engine(), PostgresEngine):
        pytest.skip("COPY is PostgreSQL's; SQLite loads by batched INSERT only")
    region = await make_region("230111")
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    def rows(prefix: str) -> list[dict[str, Any]]:
        return [
            {
                "reference": f"{prefix}{i:04d}",
                "category": Category.dibao,
                "head_name": f"测试{i}",
                "id_hash": f"{prefix}{i:063d}",
                "id_last4": "1234",
                "current_address": "测试村1号",
                "region": region,
                "lat": 45.5 + i / 100,
                "lon": 126.5,
                "tags": ["electricity", "coal_stove"][: i % 3],
                "lives_alone": i % 2 == 0,
                "status": VerificationStatus.verified.value,
                "verified_at": now,
                "verification_expires_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(7)
        ]

    monkeypatch.setattr(db_module, "COPY_CHUNK", 3)  # 7 rows: three chunks
    copied = await copy_rows(Household, rows("C"))
    assert copied == sorted(copied)
    by_reference = {
        row["reference"]: row["id"]
        for row in await Household.select(Household.reference, Household.id).where(
            Household.id.is_in(copied)
        )
    }
    assert [by_reference[f"C{i:04d}"] for i in range(7)] == copied
    inserted = await _insert_batches(Household, rows("I"))
    assert len(copied) == len(set(copied)) == 7 and set(copied).isdisjoint(inserted)

    async def read(ids: list[int]) -> list[dict[str, Any]]:
        found = await Household.select().where(Household.id.is_in(ids)).order_by(Household.id)
        # all but the id and the two unique columns (told apart by their first letter)
        return [
            {**row, "id": None, "reference": row["reference"][1:], "id_hash": row["id_hash"][1:]}
            for row in found
        ]

    assert await read(copied) == await read(inserted)
    items = [int(row["id"]) for row in await Item.select(Item.id).order_by(Item.id).limit(2)]
    copied_needs = await copy_rows(Need, [{"household": copied[0], "item": items[0]}])
    inserted_needs = await _insert_batches(Need, [{"household": copied[0], "item": items[1]}])
    first, second = (
        await Need.select().where(Need.id.is_in([*copied_needs, *inserted_needs])).order_by(Need.id)
    )
    assert first["updated_at"] is not None and second["updated_at"] is not None
    keep = ("quantity", "allocated", "weight", "rule", "override_reason")
    assert {k: first[k] for k in keep} == {k: second[k] for k in keep}


async def test_a_bulk_load_refuses_a_column_the_table_does_not_have(db: None) -> None:
    with pytest.raises(ValueError, match="no column 'colour'"):
        await insert_many(Household, [{"reference": "X1", "colour": "red"}])
    assert await Household.count().run() == 0


async def test_columns_read_by_copy_are_the_columns_of_the_rows_read_one_by_one(
    db: None,
) -> None:
    """PostgreSQL's binary COPY door of select_columns and the rows (SQLite's) agree."""
    if not isinstance(engine(), PostgresEngine):
        pytest.skip("COPY is PostgreSQL's; SQLite reads rows only")
    region = await make_region("230111")
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    await insert_many(
        Household,
        (
            {
                "reference": f"R{i:04d}",
                "category": Category.dibao,
                "head_name": f"测试{i}",
                "id_hash": f"{i:064d}",
                "id_last4": "1234",
                "current_address": "测试村1号",
                "region": region,
                "lat": -89.999999 + i * 0.1,
                "lon": 126.5 / (i + 1),
                "tags": ["electricity"][: i % 2],
                "created_at": now,
                "updated_at": now,
            }
            for i in range(9)
        ),
    )
    sql = (
        "SELECT CAST(id AS BIGINT), CAST(lat AS DOUBLE PRECISION), CAST(region AS BIGINT),"
        " CAST(-id * 3000000000 AS BIGINT), CAST(lon AS DOUBLE PRECISION)"
        " FROM household WHERE reference LIKE {} ORDER BY id"
    )
    types = ("bigint", "float8", "bigint", "bigint", "float8")

    for pattern, count in (("R%", 9), ("none%", 0)):
        copied = await db_module._columns_by_copy(sql, (pattern,), types)
        read = await db_module._columns_by_rows(sql, (pattern,), types)
        assert len(copied) == len(read) == len(types) and len(read[0]) == count
        for mine, theirs in zip(copied, read, strict=True):
            assert mine.dtype == theirs.dtype and mine.tolist() == theirs.tolist()
    with pytest.raises(ValueError, match="NULL"):
        await select_columns(
            "SELECT CAST(id AS BIGINT), CAST(NULL AS BIGINT) FROM household",
            types=("bigint", "bigint"),
        )


async def test_rows_inserted_as_columns_are_the_rows_inserted_as_dicts(db: None) -> None:
    region = await make_region("230111")
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    columns: dict[str, list[Any]] = {
        "reference": [f"C{i}" for i in range(5)],
        "category": [Category.dibao.value] * 5,
        "head_name": [f"测试{i}" for i in range(5)],
        "id_hash": [f"C{i:063d}" for i in range(5)],
        "id_last4": ["1234"] * 5,
        "current_address": ["测试村1号"] * 5,
        "region": [region] * 5,
        "lat": [45.5 + i / 100 for i in range(5)],
        "lon": [126.5] * 5,
        "created_at": [now] * 5,
        "updated_at": [now] * 5,
    }

    assert await insert_columns(Household, columns) == 5

    dicts = [
        {**dict(zip(columns, values, strict=True)), "reference": f"D{i}", "id_hash": f"D{i:063d}"}
        for i, values in enumerate(zip(*columns.values(), strict=True))
    ]
    await insert_many(Household, dicts)
    found = await Household.select().order_by(Household.id)
    as_columns = [
        {**row, "id": None, "reference": row["reference"][1:], "id_hash": row["id_hash"][1:]}
        for row in found
    ]
    assert as_columns[:5] == as_columns[5:]
    assert [row["reference"] for row in found[:5]] == columns["reference"]  # ids in order
    with pytest.raises(ValueError, match="different lengths"):
        await insert_columns(Household, {"reference": ["X"], "lat": []})
    with pytest.raises(ValueError, match="no column 'colour'"):
        await insert_columns(Household, {"colour": ["red"]})
    assert await insert_columns(Household, {"reference": []}) == 0


async def test_a_bulk_load_of_many_rows_leaves_the_table_analyzed(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planner's statistics of a table a bulk load filled are refreshed by the load."""
    if not isinstance(engine(), PostgresEngine):
        pytest.skip("COPY and ANALYZE are PostgreSQL's")
    region = await make_region("230111")
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    def rows(prefix: str, count: int) -> list[dict[str, Any]]:
        return [
            {
                "reference": f"{prefix}{i:04d}",
                "category": Category.dibao,
                "head_name": f"测试{i}",
                "id_hash": f"{prefix}{i:063d}",
                "id_last4": "1234",
                "current_address": "测试村1号",
                "region": region,
                "lat": 45.5,
                "lon": 126.5,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(count)
        ]

    async def estimate() -> float:
        found = await Household.raw("SELECT reltuples FROM pg_class WHERE relname = 'household'")
        return float(found[0]["reltuples"])

    monkeypatch.setattr(db_module, "ANALYZE_AFTER", 40)
    await copy_rows(Household, rows("S", 39))
    small = await estimate()
    await copy_rows(Household, rows("L", 40))

    assert await estimate() == 79 != small
