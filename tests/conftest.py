"""Test configuration shared by the whole suite.

The database is chosen before anything imports the platform:

* ``NUANXIN_TEST_DATABASE=sqlite`` (default): a fresh SQLite file in a temporary folder.
* ``NUANXIN_TEST_DATABASE=postgres``: a fresh database created for this run on the server
  named by ``NUANXIN_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``),
  dropped at the end.

A process forked after this file was imported (``make mutation``'s children: mutmut imports the
tests once, then forks a process per mutant and runs two at a time) takes a database of its own,
so that two children never share one (see ``_own_database``). ``NUANXIN_TEST_WARM=1`` (set by
``tests/mutation/run.py``) migrates the database and builds the app once at collection, so that
every child starts from a migrated database and a warm process, and takes apps built there,
unused, for its first tests (``fresh_app``).

Migrations run once per session. Each test that asks for ``db`` runs inside one transaction
that is rolled back afterwards (``tests/nuanxin/test_isolation.py`` proves it).
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import gc
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
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


def create_postgres_database(template: str | None = None) -> str:
    """A new database on the test server (empty, or a copy of ``template``); returns its name."""
    name = f"nuanxin_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"{copy}'))
    return name


def drop_postgres_database(name: str) -> None:
    asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_IMPORT_PID = os.getpid()
_WARM = os.environ.get("NUANXIN_TEST_WARM") == "1"
_SESSION_PG_DB: str | None = None
# A forked process's own database: {"postgres": its name} or {"sqlite": its path}.
_OWN: dict[str, str] = {}
# What a warm collection did: "warm", "migrated", "apps" (by settings, for forked processes).
_PREBUILT: dict[str, Any] = {}
if BACKEND == "postgres":
    if not postgres_reachable():
        raise pytest.UsageError(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")
    _SESSION_PG_DB = create_postgres_database()
    os.environ["DATABASE_URL"] = _postgres_url(_SESSION_PG_DB)
    # Dropped when this process ends (mutmut runs several sessions in it; forked processes end
    # with os._exit, which runs no atexit function).
    atexit.register(drop_postgres_database, _SESSION_PG_DB)
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{_TMP / 'test.sqlite3'}"
os.environ["NUANXIN_ENV"] = "test"
os.environ["NUANXIN_VAR_DIR"] = str(_TMP / "var")
os.environ["SECRET_KEY"] = "test-secret-key-that-is-long-enough-0123456789"
os.environ["PICCOLO_CONF"] = "nuanxin.piccolo_conf"


GC_THRESHOLDS = (50_000, 20, 100)
"""The collector's thresholds once the tests are collected (CPython's are 700, 10, 10).
tests/nuanxin/offers and tests/nuanxin/donations together (2026-12-01 04:20 UTC, load about 1):
52-54 s as CPython runs them, 47-51 s with the collection's objects frozen alone, 42-45 s frozen
and with these thresholds."""

WARM_APPS = 4
"""Apps built per settings at a warm collection: a mutant's first tests take them unused (two on
PostgreSQL, where the mutation run's PostgreSQL stage runs a test or two per mutant)."""
WARM_SETTINGS: list[Callable[[], Any]] = []
"""Settings (as functions giving them) besides the session's for which a warm collection builds
apps; a folder's conftest adds its own (the donations' app with Stripe configured, say)."""
WARM_FIXTURES: dict[str, list[Callable[[], Any]]] = {}
"""Fixtures (by name) that each take one app (``fresh_app``) on one of the settings listed: a
warm collection builds, on each of those settings, one app per collected test that asks for the
fixture (up to ``WARM_APPS_MOST``; the session's and ``WARM_SETTINGS``' at least ``WARM_APPS``),
so that a mutant that passes many tests builds none. A folder's conftest adds its own."""
WARM_APPS_MOST = 24


def _app_key(settings: Any) -> str:
    # A forked process has its own database: an app is the same one whatever its database's
    # URL (nothing but the tables' engine and the app's settings read it; see fresh_app).
    return repr(dataclasses.replace(settings, database_url=""))


def pytest_collection_finish(session: pytest.Session) -> None:
    """With ``NUANXIN_TEST_WARM=1``: the database migrated and apps built once, here, so that
    the processes forked afterwards (one per mutant) copy a migrated database and take apps
    nobody has used (``fresh_app``) instead of building them."""
    # Each test builds an app (hundreds of handler objects): the collector's passes over what
    # the collection left alive (every test module, the platform) took about a fifth of the
    # tests' time (GC_THRESHOLDS). Those objects are moved out of its reach; it runs less often.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    if not _WARM or os.getpid() != _IMPORT_PID or "warm" in _PREBUILT:
        return  # (mutmut's clean run collects again in the same process)
    from nuanxin.app import create_app
    from nuanxin.cli import migrate
    from nuanxin.settings import Settings

    _PREBUILT["warm"] = True
    asyncio.run(migrate(quiet=True))
    _PREBUILT["migrated"] = True
    least = WARM_APPS if BACKEND == "sqlite" else 2
    wanted: dict[str, tuple[Any, int]] = {}
    for settings in [Settings.from_env(), *(make() for make in WARM_SETTINGS)]:
        wanted[_app_key(settings)] = (settings, least)
    asked = {name: [make() for make in makes] for name, makes in WARM_FIXTURES.items()}
    tests: dict[str, int] = {}
    for item in session.items:
        for name in asked.keys() & set(getattr(item, "fixturenames", ())):
            for settings in asked[name]:
                tests[_app_key(settings)] = tests.get(_app_key(settings), 0) + 1
                wanted.setdefault(_app_key(settings), (settings, 0))
    apps: dict[str, list[Any]] = {}
    for key, (settings, at_least) in wanted.items():
        count = max(at_least, min(tests.get(key, 0), WARM_APPS_MOST))
        apps[key] = [create_app(settings, manage_pool=False) for _ in range(count)]
    _PREBUILT["apps"] = apps


def fresh_app(settings: Any = None) -> Any:
    """A new app on ``settings`` (the session's by default), as ``create_app`` builds it.

    In a process forked after a warm collection, the first few calls answer with apps built
    there: no request has reached them, and building one costs most of a mutant's run. Such an
    app is given the process's settings (its own database's URL); nothing else in an app built
    without its pool names the database (the tables' engine is rebound by ``configure``).
    """
    from nuanxin.app import create_app
    from nuanxin.settings import Settings

    settings = settings or Settings.from_env()
    if os.getpid() != _IMPORT_PID:
        built = _PREBUILT.get("apps", {}).get(_app_key(settings))
        if built:
            app = built.pop()
            app.state.settings = settings
            return app
    return create_app(settings, manage_pool=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if "postgres" in _OWN:
        drop_postgres_database(_OWN.pop("postgres"))
    if "sqlite" in _OWN:
        Path(_OWN.pop("sqlite")).unlink(missing_ok=True)


def _own_database() -> None:
    """This process's own database, in a process forked after this file was imported.

    Two such processes run at once under ``make mutation``: on one SQLite file, one's open test
    transaction would hold the other's writes until a busy time-out (a test failing for a reason
    that is not the mutant); on one PostgreSQL database, one's wipe would empty the other's rows.
    SQLite: a copy of the session's file; PostgreSQL: a copy of the session's database (each
    migrated already when warm).
    """
    from nuanxin.db import configure
    from nuanxin.settings import Settings

    if BACKEND == "postgres":
        try:  # a copy of the session's database, migrated when warm
            _OWN["postgres"] = create_postgres_database(template=_SESSION_PG_DB)
        except Exception:  # it has a connection open: PostgreSQL copies no database in use
            _OWN["postgres"] = create_postgres_database()
            _PREBUILT.pop("migrated", None)
        os.environ["DATABASE_URL"] = _postgres_url(_OWN["postgres"])
    else:
        own = _TMP / f"test-{os.getpid()}.sqlite3"
        shared = _TMP / "test.sqlite3"
        if shared.exists():
            shutil.copyfile(shared, own)
        _OWN["sqlite"] = str(own)
        os.environ["DATABASE_URL"] = f"sqlite:///{own}"
    configure(Settings.from_env())


@pytest.fixture(scope="session")
def migrated() -> Iterator[None]:
    """The session's database, migrated once."""
    from nuanxin.cli import migrate

    if os.getpid() != _IMPORT_PID and not _OWN:
        _own_database()
    if not (_OWN and _PREBUILT.get("migrated")):  # not a copy of a migrated database
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
    from tests.nuanxin.helpers import wipe

    await wipe()
    app = fresh_app()
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
