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
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from nuanxin.settings import Settings

__all__ = (
    "TRANSIENT_STATES",
    "atomic",
    "configure",
    "configured",
    "engine",
    "engine_for",
    "insert_many",
    "is_transient",
    "retrying",
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


#: Rows per INSERT statement in :func:`insert_many` (well under both engines' parameter limits).
BULK_BATCH = 1000


async def insert_many(table: type[Table], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert rows given as ``{column name: value}`` in batches; their new ids, in order.

    The bulk door of an area's own table, for loaders and benchmarks: an area's ``bulk``
    module calls it after checking what its rules require; nothing else writes tables in bulk.
    An unknown column name is refused before anything is written.
    """
    known = {column._meta.name for column in table._meta.columns}
    for row in rows:
        unknown = set(row) - known
        if unknown:
            raise ValueError(f"{table._meta.tablename} has no column {sorted(unknown)[0]!r}")
    ids: list[int] = []
    for start in range(0, len(rows), BULK_BATCH):
        batch = [table(**row) for row in rows[start : start + BULK_BATCH]]
        answer = await table.insert(*batch).returning(table._meta.primary_key).run()
        ids.extend(int(row["id"]) for row in answer)
    return ids


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
