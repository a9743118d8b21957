"""Fixtures for the platform: the app behind an in-process HTTP client, and accounts."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar

from nuanxin.accounts.security import hash_password
from nuanxin.accounts.tables import User
from nuanxin.app import CSRF_COOKIE, CSRF_HEADER
from nuanxin.identity import Role
from nuanxin.regions.tables import Region
from tests.conftest import fresh_app

PASSWORD = "correct horse battery"
PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: Argon2 is slow on purpose


async def run_jobs() -> int:
    """What a worker does next: run the jobs deferred so far (no worker sees a test's
    transaction, so the test runs them itself, with the same task functions)."""
    from nuanxin.jobs.worker import run_deferred_here

    return await run_deferred_here()


@pytest.fixture
def clock_in_china(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server's local time zone set to China's (a deployment may run so): a time taken
    without a zone would then be eight hours off."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def app(db: None) -> Litestar:
    return cast(Litestar, fresh_app())


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, in this test's transaction (same task, same context)."""
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def csrf_headers(client: httpx.AsyncClient) -> dict[str, str]:
    """Fetch a page to get the CSRF cookie; return the header that must echo it."""
    await client.get("/health")
    token = client.cookies.get(CSRF_COOKIE)
    assert token, "the app sets its CSRF cookie on a GET"
    return {CSRF_HEADER: token}


async def make_region(
    code: str = "230111", level: str = "county", parent: int | None = None
) -> int:
    rows = (
        await Region.insert(
            Region(
                code=code,
                name=f"区划{code}",
                full_name=f"测试区划{code}",
                level=level,
                parent=parent,
                lat=45.88,
                lon=126.58,
            )
        )
        .returning(Region.id)
        .run()
    )
    return int(rows[0]["id"])


async def make_user(
    username: str,
    role: Role,
    *,
    jurisdiction: int | None = None,
    organization: int | None = None,
) -> int:
    rows = (
        await User.insert(
            User(
                username=username,
                display_name=username,
                password_hash=PASSWORD_HASH,
                role=role.value,
                jurisdiction=jurisdiction,
                organization=organization,
                created_at=datetime.now(UTC),
            )
        )
        .returning(User.id)
        .run()
    )
    return int(rows[0]["id"])
