"""Many app servers and workers on one PostgreSQL, as real processes (PostgreSQL runs only).

* A worker killed (SIGKILL) mid-round: another worker takes the job up once the dead one's
  heartbeat is stale, and the proposals are written exactly once; an app server starting
  meanwhile changes nothing for the round.
* 40 approvals at once, of rounds proposing the same stock, over two servers: no 5xx, and no
  unit of stock or of need allocated twice.
* With Redis: a session made on one server works on the other; a limit of 10 is 10 across two.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from nuanxin.jobs.vocabulary import TaskName
from tests.conftest import BACKEND, POSTGRES_ADMIN_URL
from tests.faults.server import Database, Server, Worker, scenario_database, seed

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        BACKEND != "postgres",
        reason="many servers and workers share one PostgreSQL: NUANXIN_TEST_DATABASE=postgres",
    ),
]

REDIS_URL = "redis://127.0.0.1:6379/0"
SMALL = {"EMBEDDED_WORKER": "false", "DATABASE_POOL_SIZE": "4"}


def wait_for(
    client: httpx.Client, url: str, statuses: set[str], timeout: float, seen: set[str] | None = None
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if seen is not None:
            seen.add(body["status"])
        if body["status"] in statuses:
            return body
        time.sleep(0.05)
    raise AssertionError(f"{url} never reached {statuses}: {body}")


@dataclass(frozen=True)
class World:
    database: Database
    auth: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """800 households of a province, seeded once for the module (seeding is the slow part)."""
    folder = tmp_path_factory.mktemp("world")
    if BACKEND != "postgres":
        pytest.skip("PostgreSQL runs only")
    with scenario_database(folder, POSTGRES_ADMIN_URL) as created:
        token = seed(created, folder, 800)["staff_token"]
        yield World(created, {"authorization": f"Bearer {token}"})


def test_a_worker_killed_mid_round_is_replaced_and_a_new_server_changes_nothing(
    tmp_path: Path, world: World
) -> None:
    database, auth = world.database, world.auth
    first = Server(database, tmp_path, env=SMALL)
    doomed = Worker(database, tmp_path, "doomed", env=SMALL)
    processes: list[Server | Worker] = [first, doomed]
    seen: set[str] = set()
    try:
        with httpx.Client(base_url=first.url, headers=auth, timeout=30) as client:
            started = client.post("/api/rounds", json={})
            assert started.status_code == 202, started.text
            url = f"/api/rounds/{started.json()['id']}"
            running = wait_for(client, url, {"running"}, timeout=30, seen=seen)
            deadline = time.monotonic() + 60
            while running["phase"] == "queued" and time.monotonic() < deadline:
                running = client.get(url).json()  # until the worker is into the round
                seen.add(running["status"])
            assert running["status"] == "running" and running["phase"] != "queued", running
            doomed.kill()
            # the round's job; a periodic duty the worker took at start may be held as well
            [(held,)] = database.query(
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'"
                f" AND task_name = '{TaskName.run_round.value}'"
            )
            assert held == 1, "the dead worker's round job is left doing"
            second = Server(database, tmp_path, env=SMALL)  # a new server, mid-round
            processes.append(second)
            assert client.get(url).json()["status"] == "running", "a new server fails nothing"
            processes.append(Worker(database, tmp_path, "heir", env=SMALL))
        with httpx.Client(base_url=second.url, headers=auth, timeout=30) as client:
            done = wait_for(client, url, {"proposed", "failed"}, timeout=150, seen=seen)
            assert done["status"] == "proposed", done
            total = client.get(f"{url}/proposals", params={"limit": 1}).json()["total"]
    finally:
        for process in processes:
            process.stop()
    assert seen <= {"running", "proposed"}, f"the round was never failed: {seen}"
    round_id = done["id"]
    [(stored,)] = database.query(f"SELECT count(*) FROM proposal WHERE round = {round_id}")
    [(pairs,)] = database.query(
        f"SELECT count(*) FROM (SELECT DISTINCT need, offer FROM proposal WHERE round = {round_id})"
        " AS pair"
    )
    assert stored == pairs == total > 0, "every proposal written exactly once"
    [(jobs,)] = database.query(
        "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'"
        f" AND task_name = '{TaskName.run_round.value}'"
    )
    assert jobs == 0, "no round's job is left doing"


def test_forty_approvals_at_once_over_two_servers_never_answer_5xx_nor_allocate_twice(
    tmp_path: Path, world: World
) -> None:
    database, auth = world.database, world.auth
    servers = [Server(database, tmp_path, env=SMALL) for _ in range(2)]
    worker = Worker(database, tmp_path, "rounds", env=SMALL)
    try:
        rounds: dict[int, list[int]] = {}
        with httpx.Client(base_url=servers[0].url, headers=auth, timeout=60) as client:
            for _ in range(4):  # four rounds over the same stock: they propose the same units
                started = client.post("/api/rounds", json={})
                assert started.status_code == 202, started.text
                url = f"/api/rounds/{started.json()['id']}"
                assert wait_for(client, url, {"proposed", "failed"}, 120)["status"] == "proposed"
                listed = client.get(f"{url}/proposals", params={"limit": 200}).json()
                rounds[int(started.json()["id"])] = [int(item["id"]) for item in listed["items"]]
        assert all(len(ids) >= 10 for ids in rounds.values()), "every round proposes enough"
        answers = asyncio.run(_approve_all(servers, auth, rounds))
    finally:
        worker.stop()
        for server in servers:
            server.stop()
    assert len(answers) == 40
    assert [status for status in answers if status >= 500] == []
    assert set(answers) <= {200, 409}, answers
    _assert_nothing_allocated_twice(database)


async def _approve_all(
    servers: list[Server], auth: dict[str, str], rounds: dict[int, list[int]]
) -> list[int]:
    """Each round's proposals in ten slices, the forty requests at once, alternating servers."""
    clients = [httpx.AsyncClient(base_url=s.url, headers=auth, timeout=120) for s in servers]
    try:
        calls = [
            clients[slot % 2].post(
                f"/api/rounds/{round_id}/approve", json={"proposal_ids": ids[slot::10]}
            )
            for round_id, ids in rounds.items()
            for slot in range(10)
        ]
        return [answer.status_code for answer in await asyncio.gather(*calls)]
    finally:
        for client in clients:
            await client.aclose()


def _assert_nothing_allocated_twice(database: Database) -> None:
    offers = database.query(
        "SELECT o.id, o.quantity, o.available, o.reserved, o.delivered, o.withdrawn, "
        "COALESCE((SELECT sum(a.quantity) FROM allocation a WHERE a.offer = o.id "
        "AND a.status IN ('reserved', 'delivered')), 0) FROM offer o"
    )
    for offer_id, quantity, available, reserved, delivered, withdrawn, allocated in offers:
        assert available + reserved + delivered + withdrawn == quantity, offer_id
        assert allocated == reserved + delivered, f"offer {offer_id}: {allocated} allocated"
    needs = database.query(
        "SELECT n.id, n.quantity, n.allocated, COALESCE((SELECT sum(a.quantity) FROM allocation "
        "a WHERE a.need = n.id AND a.status IN ('reserved', 'delivered')), 0) FROM need n"
    )
    for need_id, quantity, allocated, summed in needs:
        assert summed == allocated <= quantity, f"need {need_id}: {summed}/{allocated}/{quantity}"
    [(approved,)] = database.query("SELECT count(*) FROM allocation")
    assert approved > 0, "some approvals went through"


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    from redis import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except OSError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    namespace = f"nuanxin-cluster-{uuid.uuid4().hex[:10]}"
    yield namespace
    for key in client.scan_iter(f"{namespace}:*"):
        client.delete(key)
    client.close()


def test_sessions_and_limits_are_shared_by_two_servers(
    tmp_path: Path, world: World, redis_namespace: str
) -> None:
    database = world.database
    _add_login(database, "roaming")
    shared = {**SMALL, "REDIS_URL": REDIS_URL, "REDIS_NAMESPACE": redis_namespace}
    one, other = (Server(database, tmp_path, env=shared) for _ in range(2))
    try:
        with httpx.Client(base_url=one.url) as first, httpx.Client(base_url=other.url) as second:
            first.get("/health")
            login = first.post(
                "/api/auth/login",
                json={"username": "roaming", "password": PASSWORD},
                headers={"x-nuanxin-csrf": first.cookies["nuanxin_csrf"]},
            )
            assert login.status_code == 200, login.text
            second.cookies.update(first.cookies)
            me = second.get("/api/auth/me")
            assert me.status_code == 200 and me.json()["username"] == "roaming", me.text

            wrong = {"username": "roaming", "password": "wrong"}
            answers = [
                (first, second)[n % 2].post("/api/auth/token", json=wrong) for n in range(10)
            ]
            assert [a.status_code for a in answers] == [401] * 10
            right = {"username": "roaming", "password": PASSWORD}
            assert first.post("/api/auth/token", json=right).status_code == 429
            assert second.post("/api/auth/token", json=right).status_code == 429
        reports = asyncio.run(_reports_at_once(one.url, other.url))
        assert sorted(reports).count(429) == 20, reports  # report-address: 10 a minute
    finally:
        one.stop()
        other.stop()


async def _reports_at_once(*urls: str) -> list[int]:
    clients = [httpx.AsyncClient(base_url=url, timeout=60) for url in urls]
    try:
        for client in clients:
            await client.get("/health")
        calls = [
            clients[n % 2].post(
                "/api/delivery-reports",
                json={"code": "00000001"},
                headers={"x-nuanxin-csrf": clients[n % 2].cookies["nuanxin_csrf"]},
            )
            for n in range(30)
        ]
        return [answer.status_code for answer in await asyncio.gather(*calls)]
    finally:
        for client in clients:
            await client.aclose()


PASSWORD = "correct horse battery"


def _add_login(database: Database, username: str) -> None:
    from nuanxin.accounts.security import hash_password

    [(region,)] = database.query("SELECT id FROM region WHERE code = '230000'")
    hashed = hash_password(PASSWORD).replace("'", "''")
    database.query(
        "INSERT INTO account (username, display_name, password_hash, role, jurisdiction, "
        f"created_at) VALUES ('{username}', '{username}', '{hashed}', 'staff', {region}, now()) "
        "RETURNING id"
    )
