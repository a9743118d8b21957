"""The database engine, built from the settings given to the app, and transactions.

The engine: :func:`configure` builds it from a :class:`~nuanxin.settings.Settings` (``create_app``
and the CLI call it with the settings they were given) and binds every table to it. Piccolo's
own command line, which knows no settings, finds it through ``piccolo_conf.DB``: that is the one
place that reads the environment for it.

Transactions for services: one ``atomic()`` block per unit of work.

* Outside any transaction it opens one: ``BEGIN IMMEDIATE`` on SQLite, so that concurrent
  writers queue for the lock instead of failing on the upgrade from a read lock.
* Inside a transaction it opens a savepoint, so that a failing inner unit of work rolls back
  its own writes and nothing half-written stays behind (Piccolo's nested transactions are
  otherwise no-ops that keep the inner writes).
* An early ``return`` inside the block commits; raise to roll back.

:func:`retrying` runs a unit of work in its own transaction and runs it again (a few times,
after a short random pause) when PostgreSQL aborted it as the victim of a deadlock (40P01) or
a serialization failure (40001): both mean "nothing was written, try again".

Set-based statements: :func:`rows_table` passes a batch of rows to one statement as a table
(``UPDATE ... FROM``, ``INSERT ... SELECT``), so that a bulk change costs a statement per
table and batch of :data:`SET_BATCH` rows, not one per row; :func:`for_update` locks the rows
a ``SELECT`` reads on PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` already holds the database).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from piccolo.columns import JSON, JSONB
from piccolo.columns.defaults.base import Default
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

from nuanxin.settings import Settings

__all__ = (
    "SET_BATCH",
    "TRANSIENT_STATES",
    "analyze",
    "atomic",
    "batched",
    "configure",
    "configured",
    "copy_rows",
    "engine",
    "engine_for",
    "for_update",
    "insert_columns",
    "insert_many",
    "is_postgres",
    "is_transient",
    "retrying",
    "rows_table",
    "select_columns",
)

logger = logging.getLogger("nuanxin.db")
T = TypeVar("T")
TRANSIENT_STATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure

_configured: dict[str, Any] = {}


def engine_for(settings: Settings) -> Engine:  # type: ignore[type-arg]
    """A new Piccolo engine for ``settings.database_url``."""
    if settings.is_postgres:
        return PostgresEngine(
            config={
                "dsn": settings.database_url,
                # 0 behind PgBouncer's transaction pooling (no prepared statements before 1.21)
                "statement_cache_size": settings.database_statement_cache_size,
            }
        )
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    # A busy timeout lets writers queue for the lock instead of failing at once.
    return SQLiteEngine(path=str(path), timeout=30)


def configure(settings: Settings) -> Engine:  # type: ignore[type-arg]
    """The engine for ``settings``, bound to every table (kept if the URL is the same)."""
    current = _configured.get("engine")
    if current is not None and _configured.get("url") == settings.database_url:
        return current  # type: ignore[no-any-return]
    built = engine_for(settings)
    _configured.update(engine=built, url=settings.database_url)
    # Tables imported so far are bound now; those imported later find it through piccolo_conf.
    pending = list(Table.__subclasses__())
    while pending:
        table = pending.pop()
        table._meta.db = built
        pending.extend(table.__subclasses__())
    return built


def configured() -> Engine | None:  # type: ignore[type-arg]
    """The engine :func:`configure` built last, if any."""
    return _configured.get("engine")


def engine() -> Engine:  # type: ignore[type-arg]
    """The configured engine (else the one ``piccolo_conf.DB`` builds from the environment)."""
    found = configured() or engine_finder()
    if found is None:  # pragma: no cover - piccolo_conf always defines DB
        raise RuntimeError("Piccolo found no engine: is PICCOLO_CONF set?")
    return found


@asynccontextmanager
async def atomic() -> AsyncIterator[Any]:
    """Run the block in a transaction (or a savepoint of the current one)."""
    db = engine()
    current = db.current_transaction.get()
    if current is not None:
        savepoint = await current.savepoint()
        try:
            yield current
        except BaseException:
            await savepoint.rollback_to()
            raise
        else:
            await savepoint.release()
        return
    if isinstance(db, SQLiteEngine):
        transaction: Any = db.transaction(transaction_type=TransactionType.immediate)
    else:
        transaction = db.transaction()
    async with transaction as opened:
        yield opened


#: Rows per INSERT statement in :func:`insert_many` on SQLite (well under its parameter limit).
BULK_BATCH = 1000
#: Rows of a load by :func:`copy_rows` from which it analyzes the table it loaded.
ANALYZE_AFTER = 10_000
#: Rows per COPY in :func:`insert_many` on PostgreSQL: the rows are turned into records a
#: chunk at a time, so a million households never sit in memory twice.
COPY_CHUNK = 50_000


async def insert_many(table: type[Table], rows: Iterable[Mapping[str, Any]]) -> list[int]:
    """Insert rows given as ``{column name: value}``; their new ids, in order.

    The bulk door of an area's own table, for loaders and benchmarks: an area's ``bulk``
    module calls it after checking what its rules require; nothing else writes tables in bulk.
    An unknown column name is refused before anything of its chunk is written. On PostgreSQL
    the rows go in by ``COPY`` (:func:`copy_rows`), on SQLite by batched ``INSERT``: the same
    rows either way (a test compares them).
    """
    if isinstance(engine(), PostgresEngine):
        return await copy_rows(table, rows)
    return await _insert_batches(table, rows)


def _checked(table: type[Table], rows: Sequence[Mapping[str, Any]]) -> None:
    known = {column._meta.name for column in table._meta.columns}
    for row in rows:
        unknown = set(row) - known
        if unknown:
            raise ValueError(f"{table._meta.tablename} has no column {sorted(unknown)[0]!r}")


def _chunks(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


async def _insert_batches(table: type[Table], rows: Iterable[Mapping[str, Any]]) -> list[int]:
    ids: list[int] = []
    for chunk in _chunks(rows, BULK_BATCH):
        _checked(table, chunk)
        batch = [table(**row) for row in chunk]
        answer = await table.insert(*batch).returning(table._meta.primary_key).run()
        ids.extend(int(row["id"]) for row in answer)
    return ids


def _default(column: Any) -> Any:
    value = column.get_default_value()
    return value.python() if isinstance(value, Default) else value


async def copy_rows(table: type[Table], rows: Iterable[Mapping[str, Any]]) -> list[int]:
    """:func:`insert_many` on PostgreSQL: ids drawn from the table's sequence, rows by COPY.

    A column a row leaves out takes the column's default as Piccolo would give it (computed
    once per load: one ``created_at`` for all); JSON values are written as JSON text. After
    :data:`ANALYZE_AFTER` rows or more the table is analyzed: the planner's statistics of a
    table a bulk load just filled say it is (nearly) empty until autovacuum gets to it, and a
    query planned on them in the meantime can take a hundred times longer (a province's
    round's snapshot right after its load: 101 s, 3 s once analyzed).
    """
    columns = [column for column in table._meta.columns if column is not table._meta.primary_key]
    names = [column._meta.name for column in columns]
    defaults = [_default(column) for column in columns]
    is_json = [isinstance(column, JSON | JSONB) for column in columns]
    name = table._meta.tablename
    ids: list[int] = []
    async with atomic() as transaction:
        connection = transaction.connection
        for chunk in _chunks(rows, COPY_CHUNK):
            _checked(table, chunk)
            drawn = await connection.fetch(
                "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id"
                " FROM generate_series(1, $2)",
                name,
                len(chunk),
            )
            chunk_ids = [int(row["id"]) for row in drawn]
            records = []
            for new_id, row in zip(chunk_ids, chunk, strict=True):
                record = [new_id]
                for column, default, json_text in zip(names, defaults, is_json, strict=True):
                    value = row.get(column, default)
                    if isinstance(value, Enum):
                        value = value.value
                    if json_text and not isinstance(value, str):
                        value = json.dumps(value, ensure_ascii=False)
                    record.append(value)
                records.append(tuple(record))
            await connection.copy_records_to_table(name, records=records, columns=["id", *names])
            ids.extend(chunk_ids)
        await analyze(table, len(ids))
    return ids


async def analyze(table: type[Table], written: int) -> None:
    """After a bulk write of ``written`` rows to ``table``: from :data:`ANALYZE_AFTER` rows,
    its planner's statistics refreshed (PostgreSQL; SQLite has none to refresh), in the current
    transaction, whose own new rows they count."""
    if written >= ANALYZE_AFTER and is_postgres():
        await engine().run_querystring(QueryString(f'ANALYZE "{table._meta.tablename}"'))


async def insert_columns(table: type[Table], columns: Mapping[str, Sequence[Any]]) -> int:
    """Insert rows given as columns (``{column name: values}``, all of one length); how many.

    :func:`insert_many` for a bulk of rows that is already columns (a round's proposals,
    millions in a province): on PostgreSQL the columns are zipped into COPY's records as they
    are, no row is ever a dict; the ids are the table's sequence's, in the rows' order. A
    column left out takes its default as in :func:`copy_rows`; SQLite gets the same rows
    through :func:`insert_many`.
    """
    _checked(table, [columns])
    counts = {len(values) for values in columns.values()}
    if len(counts) > 1:
        raise ValueError(f"columns of different lengths: {sorted(counts)}")
    count = counts.pop() if counts else 0
    if not count:
        return 0
    if not is_postgres():
        names = list(columns)
        rows = (
            dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)
        )
        return len(await _insert_batches(table, rows))
    names, values = [], []
    for column in table._meta.columns:
        if column is table._meta.primary_key:
            continue  # drawn from its sequence, row by row in COPY's order
        name = column._meta.name
        given = columns.get(name)
        if given is None:
            constant = _default(column)
            if isinstance(constant, Enum):
                constant = constant.value
            if isinstance(column, JSON | JSONB) and not isinstance(constant, str):
                constant = json.dumps(constant, ensure_ascii=False)
            given = itertools.repeat(constant, count)  # type: ignore[assignment]
        names.append(name)
        values.append(given)
    async with atomic() as transaction:
        await transaction.connection.copy_records_to_table(
            table._meta.tablename, records=zip(*values, strict=True), columns=names
        )
    return count


#: numpy's type of each column type :func:`select_columns` reads, as COPY's binary format
#: writes it (big-endian); the query casts its columns to these.
COLUMN_TYPES = {"bigint": ">i8", "float8": ">f8"}
_NATIVE = {"bigint": np.int64, "float8": np.float64}
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


async def select_columns(sql: str, *args: Any, types: Sequence[str]) -> list[npt.NDArray[Any]]:
    """The columns of a ``SELECT`` as numpy arrays, one per entry of ``types``.

    ``sql`` has Piccolo's ``{}`` placeholders; its columns are non-null and cast to
    ``types`` (:data:`COLUMN_TYPES`: ``CAST(x AS BIGINT)``, ``CAST(x AS DOUBLE PRECISION)``).
    PostgreSQL sends them by ``COPY (...) TO STDOUT`` in its binary format, whose records
    are then all of one width: numpy reads them as they came, with no object per row (a
    province's round reads millions of needs). SQLite's rows are turned into the same
    columns; a test holds the two ways equal on PostgreSQL.
    """
    unknown = set(types) - set(COLUMN_TYPES)
    if unknown:
        raise ValueError(f"select_columns knows no type {sorted(unknown)[0]!r}")
    if is_postgres():
        return await _columns_by_copy(sql, args, types)
    return await _columns_by_rows(sql, args, types)


async def _columns_by_rows(
    sql: str, args: Sequence[Any], types: Sequence[str]
) -> list[npt.NDArray[Any]]:
    rows = await engine().run_querystring(QueryString(sql, *args))
    values = [tuple(row.values()) for row in rows or ()]
    return [
        np.fromiter((row[index] for row in values), _NATIVE[kind], len(values))
        for index, kind in enumerate(types)
    ]


async def _columns_by_copy(
    sql: str, args: Sequence[Any], types: Sequence[str]
) -> list[npt.NDArray[Any]]:
    query, compiled = QueryString(sql, *args).compile_string(engine_type="postgres")
    chunks: list[bytes] = []

    async def take(data: bytes) -> None:
        chunks.append(data)

    async with atomic() as transaction:
        await transaction.connection.copy_from_query(query, *compiled, output=take, format="binary")
    data = b"".join(chunks)
    chunks.clear()
    if data[:11] != _COPY_SIGNATURE or data[-2:] != b"\xff\xff":
        raise ValueError("not COPY's binary format")
    start = 19 + int.from_bytes(data[15:19], "big")  # signature, flags, header extension
    layout = [("fields", ">i2")]
    for index, kind in enumerate(types):
        layout += [(f"size{index}", ">i4"), (f"value{index}", COLUMN_TYPES[kind])]
    record = np.dtype(layout)
    body = memoryview(data)[start:-2]
    if len(body) % record.itemsize:
        raise ValueError("COPY's records are not all of the types given (a NULL?)")
    records = np.frombuffer(body, dtype=record)
    if (records["fields"] != len(types)).any():
        raise ValueError(f"COPY's records have not {len(types)} fields")
    columns = []
    for index, kind in enumerate(types):
        if (records[f"size{index}"] != record[f"value{index}"].itemsize).any():
            raise ValueError(f"column {index} is not all {kind} (a NULL?)")
        columns.append(records[f"value{index}"].astype(_NATIVE[kind]))
    return columns


#: Rows per statement of the set-based writers (:func:`rows_table`): a few thousand keep each
#: statement's arrays small and a province's approval to a few dozen statements per table.
SET_BATCH = 5000

#: The column types :func:`rows_table` knows (PostgreSQL's names).
ROW_TYPES = frozenset({"int", "bigint", "float8", "text", "bool", "date", "timestamptz", "json"})


def batched(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """``items`` in slices of :data:`SET_BATCH` (read at each call, so a test may lower it)."""
    size = SET_BATCH
    for start in range(0, len(items), size):
        yield items[start : start + size]


def is_postgres() -> bool:
    """Whether the configured engine is PostgreSQL (else SQLite)."""
    return isinstance(engine(), PostgresEngine)


def for_update(of: str | None = None) -> str:
    """`` FOR UPDATE [OF table]`` on PostgreSQL, nothing on SQLite (whose writers hold the
    whole database from ``BEGIN IMMEDIATE`` on, so what a transaction reads stays as read)."""
    if not is_postgres():
        return ""
    return " FOR UPDATE" if of is None else f" FOR UPDATE OF {of}"


def rows_table(
    columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]], *, alias: str = "t"
) -> tuple[str, list[Any]]:
    """Rows passed as parameters, as a table to select from: ``(sql, args)``.

    ``columns`` are ``(name, type)`` with PostgreSQL's type names (:data:`ROW_TYPES`); the
    ``sql`` (with ``{}`` placeholders, as Piccolo's ``raw`` takes them) goes in a ``FROM``
    clause under ``alias``. PostgreSQL gets one array per column through ``unnest``: a handful
    of parameters whatever the number of rows, so one prepared statement serves every batch.
    SQLite gets one JSON array of rows through ``json_each``. A ``json`` value is encoded as
    Piccolo encodes its JSON columns (what JSON cannot hold, a date say, as its ``str``).
    """
    names = [name for name, _ in columns]
    unknown = {kind for _, kind in columns} - ROW_TYPES
    if unknown:
        raise ValueError(f"rows_table knows no type {sorted(unknown)[0]!r}")
    if is_postgres():
        arrays: list[Any] = [list(values) for values in zip(*rows, strict=True)] or [
            [] for _ in columns
        ]
        if len(arrays) != len(columns):
            raise ValueError(f"rows of {len(arrays)} values for {len(columns)} columns")
        for index, (_, kind) in enumerate(columns):
            if kind == "json":
                arrays[index] = [
                    None if v is None else json.dumps(v, default=str) for v in arrays[index]
                ]
        typed = ", ".join(f"{{}}::{kind}[]" for _, kind in columns)
        return f"unnest({typed}) AS {alias}({', '.join(names)})", arrays
    picked = ", ".join(
        f"json_extract(value, '$[{index}]') AS {name}" for index, name in enumerate(names)
    )
    payload = json.dumps([[_sqlite(value) for value in row] for row in rows], default=str)
    return f"(SELECT {picked} FROM json_each({{}})) AS {alias}", [payload]


def _sqlite(value: Any) -> Any:
    """A value as SQLite stores it through Piccolo (date-times as UTC text)."""
    if isinstance(value, datetime):
        return str(value.astimezone(UTC) if value.tzinfo is not None else value)
    return value


def is_transient(exc: BaseException) -> bool:
    """A deadlock victim or a serialization failure, however deep in the causes."""
    seen: BaseException | None = exc
    while seen is not None:
        if getattr(seen, "sqlstate", None) in TRANSIENT_STATES:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def retrying(work: Callable[[], Awaitable[T]], *, attempts: int = 4) -> T:
    """``await work()`` in :func:`atomic`; again when PostgreSQL aborted it as transient.

    Only an outermost transaction is run again: inside another one (a savepoint) the locks
    of the outer transaction are still held, so the error goes up to whoever owns it.
    """
    outermost = engine().current_transaction.get() is None
    for attempt in range(1, attempts + 1):
        try:
            async with atomic():
                return await work()
        except Exception as exc:
            if not outermost or attempt == attempts or not is_transient(exc):
                raise
            pause = random.uniform(0.01, 0.05) * 2**attempt
            logger.warning("transaction aborted (%s): attempt %d again", exc, attempt + 1)
            await asyncio.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover
