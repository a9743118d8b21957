"""Test configuration shared by the whole suite.

The database is chosen before anything imports the platform:

* ``NUANXIN_TEST_DATABASE=sqlite`` (default): a fresh SQLite file in a temporary folder.
* ``NUANXIN_TEST_DATABASE=postgres``: a fresh database created for this run on the server
  named by ``NUANXIN_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``),
  dropped at the end.

Migrations run once per session. Each test that asks for ``db`` runs inside one transaction
that is rolled back afterwards (``tests/nuanxin/test_isolation.py`` proves it).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Property tests judge answers, not speed: on a busy machine a slow example is no failure.
hypothesis_settings.register_profile(
    "nuanxin", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("nuanxin")

_TMP = Path(tempfile.mkdtemp(prefix="nuanxin-test-"))
POSTGRES_ADMIN_URL = os.environ.get(
    "NUANXIN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKEND = os.environ.get("NUANXIN_TEST_DATABASE", "sqlite")
if BACKEND not in ("sqlite", "postgres"):
    raise pytest.UsageError("NUANXIN_TEST_DATABASE must be sqlite or postgres")
POSTGRES_REQUIRED = os.environ.get("NUANXIN_REQUIRE_POSTGRES") == "1"


def _postgres_url(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def _postgres_admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def postgres_reachable() -> bool:
    try:
        asyncio.run(_postgres_admin("SELECT 1"))
    except (OSError, Exception):
        return False
    return True


def create_postgres_database() -> str:
    """A new empty database on the test server; returns its name."""
    name = f"nuanxin_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    return name


def drop_postgres_database(name: str) -> None:
    asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_SESSION_PG_DB: str | None = None
if BACKEND == "postgres":
    if not postgres_reachable():
        raise pytest.UsageError(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")
    _SESSION_PG_DB = create_postgres_database()
    os.environ["DATABASE_URL"] = _postgres_url(_SESSION_PG_DB)
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{_TMP / 'test.sqlite3'}"
os.environ["NUANXIN_ENV"] = "test"
os.environ["NUANXIN_VAR_DIR"] = str(_TMP / "var")
os.environ["SECRET_KEY"] = "test-secret-key-that-is-long-enough-0123456789"
os.environ["PICCOLO_CONF"] = "nuanxin.piccolo_conf"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SESSION_PG_DB is not None:
        drop_postgres_database(_SESSION_PG_DB)


@pytest.fixture(scope="session")
def migrated() -> Iterator[None]:
    """The session's database, migrated once."""
    from nuanxin.cli import migrate

    asyncio.run(migrate(quiet=True))
    yield


@pytest.fixture
async def db(migrated: None) -> AsyncIterator[None]:
    """One transaction per test, rolled back at the end: no test sees another's rows."""
    from nuanxin.db import engine

    database = engine()
    transaction = database.transaction()
    async with transaction:
        yield
        await transaction.rollback()


@pytest.fixture
async def committed(migrated: None) -> AsyncIterator[httpx.AsyncClient]:
    from nuanxin.app import create_app
    from nuanxin.settings import Settings
    from tests.nuanxin.helpers import wipe

    await wipe()
    app = create_app(Settings.from_env(), manage_pool=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=cast(Any, app)), base_url="http://testserver"
    ) as client:
        yield client
    await wipe()


@pytest.fixture
def requires_postgres() -> str:
    """The admin URL of the PostgreSQL test server (skips only when it is not required)."""
    if not postgres_reachable():
        if POSTGRES_REQUIRED:
            pytest.fail(f"PostgreSQL is required but not reachable at {POSTGRES_ADMIN_URL}")
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")
    return POSTGRES_ADMIN_URL
