"""Procrastinate's tables and functions, installed by ``python -m nuanxin migrate`` (PostgreSQL).

The schema is Procrastinate's own (``procrastinate.schema.SchemaManager.get_schema``), applied
once to a database that does not have it. Upgrading Procrastinate to a release that changes
its schema means applying its migration files (``procrastinate schema --migrations-path``)
before starting the new workers: the pinned version is in ``constraints.txt``.
"""

from __future__ import annotations

import asyncpg
from procrastinate.schema import SchemaManager

__all__ = ("install_queue_schema",)


async def install_queue_schema(database_url: str) -> bool:
    """Install the queue's schema unless present; whether it was installed now."""
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            # one migrator at a time (two servers migrating at once)
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext('nuanxin-queue'))")
            present = await connection.fetchval("SELECT to_regclass('procrastinate_jobs')")
            if present is not None:
                return False
            await connection.execute(SchemaManager.get_schema())
            return True
    finally:
        await connection.close()
