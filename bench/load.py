"""Load on the served app (``make bench-load``): throughput and latency at rising concurrency.

A county-sized world (the seeded generator, default 10,000 households of one province) is
loaded into a PostgreSQL database created for the run (and dropped after it); a matching
round is run and approved, so that couriers have deliveries to confirm; donors register goods
donations, so that they have tracking codes; then the database is analyzed, as autovacuum
would (the machine's PostgreSQL may run without it). The app is then served by 1, 2 and 4 app
servers (uvicorn, one process each) behind Debian's nginx, with sessions and limits in the machine's
Redis (:class:`nuanxin.cluster.Cluster`, as ``make cluster`` runs it), and Debian's ``wrk``
drives three endpoints, one at a time, at each number of open connections:

* donor tracking      ``GET /api/track/{code}`` (public), codes drawn at random
* offer listing       ``GET /api/offers?limit=50`` as a charity member
* courier confirmation ``POST /api/visits/{id}/confirm`` with the right code, as the
  delivering charity's courier (the first pass closes deliveries, later ones are the
  idempotent repeat)

The load generator runs on the same machine as the servers, nginx, Redis and the database: on
2 cores, more servers share the same two cores and may not help. The figures are for comparing
server counts, not a capacity promise. Ratios are against 1 server at the same endpoint and
number of connections.

``--throughput`` (``make bench-throughput``) is the measure of issue 17 instead:
``python -m nuanxin serve --workers 2`` served directly (two uvicorn processes, each on a
socket of its own bound with SO_REUSEPORT, so the kernel spreads the connections; no nginx: on
2 cores shared with wrk, PostgreSQL and Redis, a proxy's CPU comes out of the workers';
``--via-nginx`` puts nginx in front of 2 single-process servers to compare), 16 connections,
each endpoint against its target (req/s, p99 under 100 ms), and the SQL statements and Redis
round trips one request of each endpoint costs, counted in process before the load.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROVINCE = "230000"

#: Issue 17: (req/s at least, p99 under ms) per endpoint, with 2 workers and 16 connections.
TARGETS: dict[str, tuple[float, float]] = {
    "donor tracking": (3000, 100),
    "offer listing": (1500, 100),
    "courier confirmation": (800, 100),
}


def _configure(admin_url: str) -> tuple[str, Path]:
    os.environ["NUANXIN_ENV"] = "test"
    os.environ["SECRET_KEY"] = "bench-secret-key-that-is-long-enough-0123456789"
    folder = Path(tempfile.mkdtemp(prefix="nuanxin-load-"))
    os.environ["NUANXIN_VAR_DIR"] = str(folder)
    name = f"nuanxin_load_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    os.environ["DATABASE_URL"] = admin_url.rpartition("/")[0] + f"/{name}"
    return name, folder


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@dataclass
class World:
    tracking_codes: list[str]
    charity_token: str
    confirmations: list[tuple[int, str, str]]  # visit id, code, courier token
    loaded: Any


async def _prepare(
    households: int, offers: int, donations: int, couriers_per_charity: int = 1
) -> World:
    """Migrate, load, run and approve a round, set known codes, register goods donations."""
    from datetime import UTC, datetime, timedelta
    from typing import cast

    import asyncpg
    import httpx

    from nuanxin.accounts.tables import ApiToken, Organization, User
    from nuanxin.app import create_app
    from nuanxin.cli import migrate
    from nuanxin.deliveries.confirmation import code_hash
    from nuanxin.identity import Role, digest
    from nuanxin.jobs.worker import run_deferred_here
    from nuanxin.regions.services import get_region, load_regions
    from nuanxin.settings import Settings
    from nuanxin.synthetic import generate
    from nuanxin.synthetic.load import load_dataset

    await migrate(quiet=True)
    await load_regions()
    dataset = generate(households=households, offers=offers, seed=7, provinces=(PROVINCE,))
    loaded = await load_dataset(dataset)
    province = await get_region(PROVINCE)
    assert province is not None
    now = datetime.now(UTC)

    async def account(
        username: str, role: Role, jurisdiction: int | None = None, organization: int | None = None
    ) -> str:
        rows = (
            await User.insert(
                User(
                    username=username,
                    display_name=username,
                    password_hash="x",
                    role=role.value,
                    jurisdiction=jurisdiction,
                    organization=organization,
                    created_at=now,
                )
            )
            .returning(User.id)
            .run()
        )
        token = f"bench-{username}"
        await ApiToken.insert(
            ApiToken(
                user=rows[0]["id"],
                token_hash=digest(token),
                created_at=now,
                expires_at=now + timedelta(days=1),
            )
        ).run()
        return token

    staff = await account("load_staff", Role.staff, jurisdiction=province.id)
    couriers: dict[int, list[str]] = {}
    charity_token = ""
    for org in await Organization.select(Organization.id).order_by(Organization.id).run():
        couriers[org["id"]] = [
            await account(f"courier{org['id']}_{n}", Role.courier, organization=org["id"])
            for n in range(couriers_per_charity)
        ]
        charity_token = charity_token or await account(
            f"member{org['id']}", Role.charity, organization=org["id"]
        )
    app = create_app(Settings.from_env(), manage_pool=False)
    transport = httpx.ASGITransport(app=cast(Any, app))
    auth = {"authorization": f"Bearer {staff}"}
    codes: list[str] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://load", timeout=None) as c:
        started = await c.post("/api/rounds", json={}, headers=auth)
        assert started.status_code == 202, started.text
        round_id = started.json()["id"]
        await run_deferred_here()  # the round's job, as a worker would run it
        approval = await c.post(f"/api/rounds/{round_id}/approve", json={"all": True}, headers=auth)
        assert approval.status_code == 200, approval.text
        org_ids = list(couriers)
        for index in range(donations):
            goods = await c.post(
                "/api/goods-donations",
                json={
                    "organization_id": org_ids[index % len(org_ids)],
                    "item_code": "quilt",
                    "quantity": 1 + index % 5,
                    "donor_name": f"捐赠人{index}",
                },
                headers=auth,  # a bearer header: no CSRF cookie needed
            )
            assert goods.status_code == 201, goods.text
            codes.append(goods.json()["tracking_code"])
    # Known codes for the couriers (the slips would print random ones): 8 digits from the
    # visit's id, stored as the platform stores them (the keyed hash of ``confirmation``).
    connection = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        rows = await connection.fetch("SELECT id, organization FROM visit ORDER BY id")
        confirmations = [  # each visit by one of its charity's couriers, in turn
            (row["id"], f"{row['id']:08d}", team[row["id"] % len(team)])
            for row in rows
            if (team := couriers[row["organization"]])
        ]
        secret = os.environ["SECRET_KEY"]
        await connection.executemany(
            "UPDATE visit SET code_hash = $1 WHERE id = $2",
            [(code_hash(secret, code), visit) for visit, code, _ in confirmations],
        )
        # The planner's statistics, as autovacuum's analyze leaves them within a minute of a
        # bulk load on a default server (this machine's PostgreSQL runs with autovacuum off:
        # without it every table loaded here but the households had none, and the offer
        # listing was planned for one row per join).
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return World(codes, charity_token, confirmations, loaded)


@dataclass
class Cost:
    """What one request costs the stores: SQL statements (BEGIN and COMMIT included) and
    Redis round trips (a command, or a pipeline of them)."""

    request: str
    statements: int
    redis: int


async def _costs(world: World) -> list[Cost]:
    """One request of each endpoint in process, its SQL statements and Redis round trips counted.

    Offers are listed with two page sizes: an N+1 shows as statements growing with the page.
    A confirmation is counted twice: the first closes the visit, a repeat changes nothing.
    """
    from typing import cast

    import httpx
    from asyncpg.connection import Connection
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

    from nuanxin.app import create_app
    from nuanxin.settings import Settings

    counts = {"sql": 0, "redis": 0}

    def counted(kind: str, method: Any) -> Any:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[kind] += 1
            return await method(*args, **kwargs)

        return wrapper

    originals = {
        name: getattr(Connection, name)
        for name in ("execute", "executemany", "fetch", "fetchrow", "fetchval")
    }
    redis_command, pipeline = Redis.execute_command, Pipeline.execute
    for name, method in originals.items():
        setattr(Connection, name, counted("sql", method))
    Redis.execute_command = counted("redis", redis_command)  # type: ignore[method-assign]
    Pipeline.execute = counted("redis", pipeline)  # type: ignore[method-assign]
    app = create_app(Settings.from_env(), manage_pool=False)
    visit, code, courier = world.confirmations[-1]
    member = {"authorization": f"Bearer {world.charity_token}"}
    requests: list[tuple[str, str, str, dict[str, Any] | None, dict[str, str]]] = [
        ("donor tracking", "GET", f"/api/track/{world.tracking_codes[0]}", None, {}),
        ("offer listing, limit=5", "GET", "/api/offers?limit=5", None, member),
        ("offer listing, limit=50", "GET", "/api/offers?limit=50", None, member),
    ]
    confirm = ("POST", f"/api/visits/{visit}/confirm", {"code": code})
    courier_auth = {"authorization": f"Bearer {courier}"}
    requests.append(("courier confirmation, first", *confirm, courier_auth))
    requests.append(("courier confirmation, repeat", *confirm, courier_auth))
    costs: list[Cost] = []
    try:
        transport = httpx.ASGITransport(app=cast(Any, app))
        async with httpx.AsyncClient(transport=transport, base_url="http://load") as client:
            for label, method, path, body, headers in requests:
                counts.update(sql=0, redis=0)
                answer = await client.request(method, path, json=body, headers=headers)
                assert answer.status_code == 200, (label, answer.status_code, answer.text)
                costs.append(Cost(label, counts["sql"], counts["redis"]))
    finally:
        for name, method in originals.items():
            setattr(Connection, name, method)
        Redis.execute_command = redis_command  # type: ignore[method-assign]
        Pipeline.execute = pipeline  # type: ignore[method-assign]
    return costs


LUA_DONE = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d errors=%d p50=%d p95=%d p99=%d\\n",
    summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def _lua(items: list[tuple[str, str, str, str]]) -> str:
    """A wrk script cycling at random through (method, path, body, token) requests."""
    rows = ",\n".join(
        f'{{"{method}", "{path}", \'{body}\', "{token}"}}' for method, path, body, token in items
    )
    return f"""
local items = {{
{rows}
}}
init = function(args)
  math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16) % 100000)
end
request = function()
  local it = items[math.random(#items)]
  local headers = {{}}
  if it[4] ~= "" then headers["Authorization"] = "Bearer " .. it[4] end
  if it[3] ~= "" then headers["Content-Type"] = "application/json" end
  local body = nil
  if it[3] ~= "" then body = it[3] end
  return wrk.format(it[1], it[2], headers, body)
end
{LUA_DONE}
"""


@dataclass
class Measure:
    endpoint: str
    connections: int
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    requests: int
    servers: int = 1
    split: str = ""  # the connections each server process held, busiest first ("11/5")


RESULT = re.compile(
    r"RESULT requests=(\d+) duration_us=(\d+) errors=(\d+) p50=(\d+) p95=(\d+) p99=(\d+)"
)


def _split(port: int) -> str:
    """The connections to ``port`` each server process holds, busiest first ("11/5"), from
    ``ss`` (iproute2): keep-alive connections stay where they were accepted, so a process that
    took most of them serves most of the load while the other idles."""
    done = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=False,
    )
    held = collections.Counter(re.findall(r"pid=(\d+)", done.stdout))
    return "/".join(str(n) for n in sorted(held.values(), reverse=True))


def _wrk(url: str, script: Path, connections: int, seconds: int, endpoint: str) -> Measure:
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    with subprocess.Popen(
        [*command, "-s", str(script), url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as running:
        time.sleep(min(1.0, seconds / 2))  # every connection open by then
        split = _split(int(url.rsplit(":", 1)[1])) if shutil.which("ss") else ""
        stdout, stderr = running.communicate()
    if running.returncode != 0:
        raise subprocess.CalledProcessError(running.returncode, command, stdout, stderr)
    match = RESULT.search(stdout)
    assert match, stdout + stderr
    requests, duration, errors, p50, p95, p99 = (int(x) for x in match.groups())
    return Measure(
        endpoint,
        connections,
        requests / (duration / 1e6),
        p50 / 1000,
        p95 / 1000,
        p99 / 1000,
        errors,
        requests,
        split=split,
    )


def _serve(folder: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """``python -m nuanxin serve --workers N`` on a free port, no proxy in front: N app
    processes, each on a socket of its own (``nuanxin.serving``)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "nuanxin", "serve", "--workers", str(workers), "--no-access-log"],
        cwd=ROOT,
        env=dict(os.environ, NUANXIN_HOST="127.0.0.1", NUANXIN_PORT=str(port)),
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    import httpx

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server did not start: {(folder / 'server.log').read_text()[-2000:]}")


def _stop(server: subprocess.Popen[bytes], timeout: float = 45.0) -> float:
    """SIGTERM, then SIGKILL after ``timeout``; returns how long a graceful stop took."""
    import signal

    mark = time.monotonic()
    server.terminate()
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        return float("inf")
    return time.monotonic() - mark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--offers", type=int, default=500)
    parser.add_argument("--donations", type=int, default=300)
    parser.add_argument("--seconds", type=int, default=10, help="per level and endpoint")
    parser.add_argument("--levels", default="64", help="open connections")
    parser.add_argument("--servers", default="1,2,4", help="app servers, rising")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--couriers",
        type=int,
        default=1,
        help="courier accounts per charity (the visit-code limit counts per account: with one, "
        "more than 10 of its confirmations in flight at once are refused)",
    )
    parser.add_argument(
        "--warmup", type=int, default=0, help="with --throughput: seconds of load not measured"
    )
    parser.add_argument(
        "--throughput",
        action="store_true",
        help="issue 17's measure: --workers worker processes, --connections, the targets",
    )
    parser.add_argument("--workers", type=int, default=2, help="with --throughput")
    parser.add_argument("--connections", type=int, default=16, help="with --throughput")
    parser.add_argument(
        "--via-nginx",
        action="store_true",
        help="with --throughput: nginx before --workers single-process servers",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("bench-load needs wrk (Debian: apt-get install wrk)")
    levels = [int(level) for level in args.levels.split(",")]
    counts = [int(count) for count in args.servers.split(",")]
    database, folder = _configure(args.postgres)
    os.environ["REDIS_URL"] = args.redis
    os.environ["NUANXIN_PORT"] = str(_free_port())  # nginx; the servers on the next ports
    os.environ["REDIS_NAMESPACE"] = f"nuanxin-load-{uuid.uuid4().hex[:8]}"
    try:
        mark = time.perf_counter()
        world = asyncio.run(_prepare(args.households, args.offers, args.donations, args.couriers))
        print(
            f"prepared in {time.perf_counter() - mark:.0f} s: {world.loaded}; "
            f"{len(world.confirmations)} visits, {len(world.tracking_codes)} tracking codes"
        )
        scripts = {
            "donor tracking": [("GET", f"/api/track/{c}", "", "") for c in world.tracking_codes],
            "offer listing": [("GET", "/api/offers?limit=50", "", world.charity_token)],
            "courier confirmation": [
                ("POST", f"/api/visits/{d}/confirm", f'{{"code":"{code}"}}', token)
                for d, code, token in world.confirmations
            ],
        }
        if args.throughput:
            costs = asyncio.run(_costs(world))
            args.load_before = os.getloadavg()
            _report_targets(_measure_workers(scripts, args, folder), costs, args)
            return 0
        measures: list[Measure] = []
        for count in counts:
            measures.extend(_measure_cluster(count, scripts, levels, args.seconds, folder))
        _report(measures, args)
    finally:
        asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        asyncio.run(_forget_namespace(args.redis, os.environ["REDIS_NAMESPACE"]))
    return 0


def _measure_cluster(
    servers: int,
    scripts: dict[str, list[tuple[str, str, str, str]]],
    levels: list[int],
    seconds: int,
    folder: Path,
) -> list[Measure]:
    from nuanxin.cluster import Cluster
    from nuanxin.settings import Settings

    settings = Settings.from_env()
    measures: list[Measure] = []
    with Cluster(settings, servers=servers, workers=0, folder=folder / f"cluster-{servers}") as c:
        for endpoint, items in scripts.items():
            script = folder / f"{endpoint.replace(' ', '_')}.lua"
            script.write_text(_lua(items))
            for connections in levels:
                measure = _wrk(c.url, script, connections, seconds, endpoint)
                measure.servers = servers
                measures.append(measure)
    return measures


def _measure_workers(
    scripts: dict[str, list[tuple[str, str, str, str]]],
    args: argparse.Namespace,
    folder: Path,
) -> list[Measure]:
    """Each endpoint once at ``args.connections``, on ``args.workers`` worker processes."""
    from nuanxin.cluster import Cluster
    from nuanxin.settings import Settings

    measures: list[Measure] = []
    with contextlib.ExitStack() as stack:
        if args.via_nginx:
            cluster = Cluster(
                Settings.from_env(), servers=args.workers, workers=0, folder=folder / "cluster"
            )
            url = stack.enter_context(cluster).url
        else:
            server, url = _serve(folder, args.workers)
            stack.callback(_stop, server)
        for endpoint, items in scripts.items():
            script = folder / f"{endpoint.replace(' ', '_')}.lua"
            script.write_text(_lua(items))
            if args.warmup:  # the pools fill, the caches warm: not measured
                _wrk(url, script, args.connections, args.warmup, endpoint)
            measure = _wrk(url, script, args.connections, args.seconds, endpoint)
            measure.servers = args.workers
            measures.append(measure)
    return measures


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _forget_namespace(url: str, namespace: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        async for key in client.scan_iter(match=f"{namespace}:*"):
            await client.delete(key)
    finally:
        await client.aclose()


def _report(measures: list[Measure], args: argparse.Namespace) -> None:
    print(
        f"\nservers: uvicorn, one process each, behind nginx (least_conn); Redis for sessions "
        f"and limits; PostgreSQL 15 on loopback; wrk on the same {os.cpu_count()}-core machine, "
        f"{args.seconds} s per run\n"
    )
    header = (
        f"{'endpoint':<22}{'servers':>8}{'conns':>6}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'errors':>8}{'x req/s':>9}{'x p50':>7}{'x p99':>7}"
    )
    print(header)
    print("-" * len(header))
    base: dict[tuple[str, int], Measure] = {}
    for m in sorted(measures, key=lambda m: (m.endpoint, m.connections, m.servers)):
        first = base.setdefault((m.endpoint, m.connections), m)
        print(
            f"{m.endpoint:<22}{m.servers:>8}{m.connections:>6}{m.throughput:>9.0f}"
            f"{m.p50_ms:>9.1f}{m.p95_ms:>9.1f}{m.p99_ms:>9.1f}{m.errors:>8}"
            f"{m.throughput / max(first.throughput, 1e-9):>9.2f}"
            f"{m.p50_ms / max(first.p50_ms, 1e-3):>7.2f}"
            f"{m.p99_ms / max(first.p99_ms, 1e-3):>7.2f}"
        )


def _report_targets(measures: list[Measure], costs: list[Cost], args: argparse.Namespace) -> None:
    served = (
        f"nginx before {args.workers} uvicorn servers (one process each)"
        if args.via_nginx
        else f"nuanxin serve --workers {args.workers} (SO_REUSEPORT), no proxy"
    )
    print(
        f"\n{served}; Redis for sessions and limits; PostgreSQL on loopback; wrk (2 threads, "
        f"{args.connections} connections, {args.seconds} s per endpoint after "
        f"{args.warmup} s not measured; {args.couriers} courier account(s) per charity) on "
        f"the same {os.cpu_count()}-core machine; load average before the load: "
        f"{', '.join(f'{x:.2f}' for x in args.load_before)}\n"
    )
    header = (
        f"{'endpoint':<22}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'errors':>8}"
        f"{'target':>22}{'met':>5}{'conns/worker':>14}"
    )
    print(header)
    print("-" * len(header))
    for m in measures:
        rate, p99 = TARGETS[m.endpoint]
        met = m.throughput >= rate and m.p99_ms < p99 and m.errors == 0
        split = m.split
        if split and not args.via_nginx:  # a worker that holds none is not seen by ss
            split += "/0" * max(0, args.workers - len(split.split("/")))
        print(
            f"{m.endpoint:<22}{m.throughput:>8.0f}{m.p50_ms:>8.1f}{m.p95_ms:>8.1f}"
            f"{m.p99_ms:>8.1f}{m.errors:>8}{f'>= {rate:.0f}/s, p99 < {p99:.0f}':>22}"
            f"{'yes' if met else 'NO':>5}{split:>14}"
        )
    print(
        "conns/worker: the connections each worker process held a second into the run (ss);"
        " a lopsided split leaves one worker idle part of the time"
    )
    print(f"\n{'one request':<32}{'SQL statements':>16}{'Redis round trips':>19}")
    for cost in costs:
        print(f"{cost.request:<32}{cost.statements:>16}{cost.redis:>19}")


if __name__ == "__main__":
    sys.exit(main())
