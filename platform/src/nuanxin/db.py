"""Transactions for services: one ``atomic()`` block per unit of work.

* Outside any transaction it opens one: ``BEGIN IMMEDIATE`` on SQLite, so that concurrent
  writers queue for the lock instead of failing on the upgrade from a read lock.
* Inside a transaction it opens a savepoint, so that a failing inner unit of work rolls back
  its own writes and nothing half-written stays behind (Piccolo's nested transactions are
  otherwise no-ops that keep the inner writes).
* An early ``return`` inside the block commits; raise to roll back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

__all__ = ("atomic", "engine")


def engine() -> Engine:  # type: ignore[type-arg]
    """The configured Piccolo engine."""
    found = engine_finder()
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
