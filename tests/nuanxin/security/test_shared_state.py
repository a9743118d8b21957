"""With Redis, sessions and abuse limits are shared by every app server of a deployment.

Two apps in one process stand for two servers: they share nothing but Redis (and the
database). Each test uses a namespace of its own, so parallel runs never count each other.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar
from redis.asyncio import Redis

from nuanxin.app import create_app
from nuanxin.identity import Role
from nuanxin.limits import DEFAULT_RULES, Counters, MemoryCounters, RedisCounters
from nuanxin.settings import Settings
from tests.nuanxin.conftest import PASSWORD, csrf_headers, make_user

REDIS_URL = "redis://127.0.0.1:6379/0"


async def _redis_answers() -> bool:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except OSError:
        return False
    finally:
        await client.aclose()


@pytest.fixture
async def servers(db: None) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two apps sharing one Redis namespace, each behind its own client."""
    if not await _redis_answers():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    namespace = f"nuanxin-test-{uuid.uuid4().hex[:12]}"
    settings = dataclasses.replace(
        Settings.from_env(), redis_url=REDIS_URL, redis_namespace=namespace
    )
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(2):
            app: Litestar = create_app(settings, manage_pool=False)
            stack.push_async_exit(app.stores.get("sessions"))  # closes the app's Redis client
            transport = httpx.ASGITransport(app=cast(Any, app))
            clients.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://testserver")
                )
            )
        yield clients[0], clients[1]
    cleanup = Redis.from_url(REDIS_URL)
    try:
        async for key in cleanup.scan_iter(match=f"{namespace}:*"):
            await cleanup.delete(key)
    finally:
        await cleanup.aclose()


async def test_a_session_made_on_one_server_works_on_the_other(
    servers: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    one, other = servers
    await make_user("roaming", Role.admin)
    login = await one.post(
        "/api/auth/login",
        json={"username": "roaming", "password": PASSWORD},
        headers=await csrf_headers(one),
    )
    assert login.status_code == 200, login.text
    other.cookies.update(one.cookies)
    me = await other.get("/api/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "roaming"


async def test_ten_failed_logins_are_the_limit_across_two_servers(
    servers: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    await make_user("target", Role.admin)
    wrong = {"username": "target", "password": "wrong"}
    for number in range(10):
        answer = await servers[number % 2].post("/api/auth/token", json=wrong)
        assert answer.status_code == 401
    right = {"username": "target", "password": PASSWORD}
    for server in servers:
        refused = await server.post("/api/auth/token", json=right)
        assert refused.status_code == 429, refused.text


async def test_thirty_attempts_at_once_from_two_servers_count_exactly_ten() -> None:
    """Two servers' counters (two Redis clients) taking the same window at the same time."""
    if not await _redis_answers():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    namespace = f"nuanxin-test-{uuid.uuid4().hex[:12]}"
    clients = [Redis.from_url(REDIS_URL) for _ in range(2)]
    try:
        counters = [RedisCounters(client, namespace=namespace) for client in clients]
        [rule] = [rule for rule in DEFAULT_RULES if rule.name == "report-address"]
        taken = await asyncio.gather(
            *(counters[number % 2].take([(rule, "198.51.100.7")]) for number in range(30))
        )
        assert sum(1 for one in taken if one.token is not None) == 10
        refused = [one.wait for one in taken if one.token is None]
        assert len(refused) == 20 and all(0 < wait <= 60 for wait in refused)
        # an attempt given back makes room for exactly one more
        first = next(one.token for one in taken if one.token is not None)
        assert first is not None
        await counters[0].give_back([(rule, "198.51.100.7")], first)
        again = [await counters[1].take([(rule, "198.51.100.7")]) for _ in range(2)]
        assert [one.token is not None for one in again] == [True, False]
    finally:
        await clients[0].delete(*[key async for key in clients[0].scan_iter(f"{namespace}:*")])
        for client in clients:
            await client.aclose()


@pytest.mark.parametrize("where", ["redis", "memory"])
async def test_an_attempt_is_counted_in_all_its_windows_or_in_none(where: str) -> None:
    """A courier's code counts against the address and the account at once: when one window
    is full, the attempt is refused and the other window keeps its room."""
    address, account = (
        next(rule for rule in DEFAULT_RULES if rule.name == name)
        for name in ("visit-address", "visit-account")
    )
    namespace = f"nuanxin-test-{uuid.uuid4().hex[:12]}"
    client = Redis.from_url(REDIS_URL)
    try:
        if where == "redis":
            if not await _redis_answers():
                pytest.skip(f"Redis is not reachable at {REDIS_URL}")
            counters: Counters = RedisCounters(client, namespace=namespace)
        else:
            counters = MemoryCounters(DEFAULT_RULES)
        full = [await counters.take([(account, "7")]) for _ in range(account.limit.count)]
        assert all(one.token is not None for one in full)
        both = [(address, "198.51.100.8"), (account, "7")]
        refused = await counters.take(both)
        assert refused.token is None and 0 < refused.wait <= account.limit.seconds
        alone = [
            await counters.take([(address, "198.51.100.8")]) for _ in range(address.limit.count)
        ]
        assert all(one.token is not None for one in alone)  # the refused attempt took no room
        token = full[0].token
        assert token is not None
        await counters.give_back([(account, "7")], token)
        assert (await counters.take([(account, "7")])).token is not None
        taken = [await counters.take(both) for _ in range(2)]
        assert [one.token is None for one in taken] == [True, True]  # the address is full now
    finally:
        if where == "redis" and await _redis_answers():
            keys = [key async for key in client.scan_iter(f"{namespace}:*")]
            if keys:
                await client.delete(*keys)
        await client.aclose()


async def test_an_attempt_given_back_leaves_every_window_it_was_counted_in() -> None:
    if not await _redis_answers():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    address, account = (
        next(rule for rule in DEFAULT_RULES if rule.name == name)
        for name in ("visit-address", "visit-account")
    )
    namespace = f"nuanxin-test-{uuid.uuid4().hex[:12]}"
    client = Redis.from_url(REDIS_URL)
    try:
        counters = RedisCounters(client, namespace=namespace)
        both = [(address, "198.51.100.9"), (account, "8")]
        taken = [await counters.take(both) for _ in range(account.limit.count)]
        assert (await counters.take(both)).token is None
        for one in taken:
            assert one.token is not None
            await counters.give_back(both, one.token)
        again = [await counters.take(both) for _ in range(account.limit.count)]
        assert all(one.token is not None for one in again)
    finally:
        keys = [key async for key in client.scan_iter(f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_successful_attempts_are_given_back(
    servers: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    await make_user("regular", Role.admin)
    right = {"username": "regular", "password": PASSWORD}
    for number in range(12):
        answer = await servers[number % 2].post("/api/auth/token", json=right)
        assert answer.status_code == 201, answer.text
