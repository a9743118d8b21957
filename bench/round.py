"""A matching round at county size, end to end through the API (``make bench-round``).

Generates N households (default 10,000, one province's counties) and their charities' offers
with the seeded generator, loads them into a fresh database (SQLite file by default,
``--postgres URL`` for a server database that is created and dropped), then drives the API
as a province's civil affairs staff would: start the round (its job is then run here, as a
worker would run it), read the proposals, approve them all. The same snapshot is also solved by
the engine alone in this process: the ratio shows what the platform adds around the solve.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any


def _configure(args: argparse.Namespace) -> str | None:
    """Point the platform at a fresh database before anything imports it."""
    os.environ["NUANXIN_ENV"] = "test"
    os.environ["SECRET_KEY"] = "bench-secret-key-that-is-long-enough-0123456789"
    folder = Path(tempfile.mkdtemp(prefix="nuanxin-bench-"))
    os.environ["NUANXIN_VAR_DIR"] = str(folder)
    if args.postgres:
        name = f"nuanxin_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_admin(args.postgres, f'CREATE DATABASE "{name}"'))
        os.environ["DATABASE_URL"] = args.postgres.rpartition("/")[0] + f"/{name}"
        return name
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    return None


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _run(args: argparse.Namespace) -> dict[str, float]:
    from typing import cast

    import httpx

    import matching
    from nuanxin.accounts.tables import ApiToken, User
    from nuanxin.app import create_app
    from nuanxin.cli import migrate
    from nuanxin.households import demand
    from nuanxin.identity import Role, digest
    from nuanxin.jobs.worker import run_deferred_here
    from nuanxin.offers import stock as ledger
    from nuanxin.regions.services import get_region, load_regions
    from nuanxin.rounds.snapshot import to_problem
    from nuanxin.settings import Settings
    from nuanxin.synthetic import generate
    from nuanxin.synthetic.load import load_dataset

    figures: dict[str, float] = {}
    mark = time.perf_counter()
    await migrate(quiet=True)
    await load_regions()
    figures["migrate + regions"] = time.perf_counter() - mark
    mark = time.perf_counter()
    dataset = generate(
        households=args.households, offers=args.offers, seed=args.seed, provinces=(args.province,)
    )
    loaded = await load_dataset(dataset)
    figures["generate + load"] = time.perf_counter() - mark
    province = await get_region(args.province)
    assert province is not None
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    rows = (
        await User.insert(
            User(
                username="bench_staff",
                display_name="bench",
                password_hash="x",
                role=Role.staff.value,
                jurisdiction=province.id,
                created_at=now,
            )
        )
        .returning(User.id)
        .run()
    )
    await ApiToken.insert(
        ApiToken(
            user=rows[0]["id"],
            token_hash=digest("bench-token"),
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
    ).run()
    auth = {"authorization": "Bearer bench-token"}
    prefix = province.code[:2]
    mark = time.perf_counter()
    households = await demand.unmet_demand(region_prefix=prefix)
    stock = await ledger.open_stock()
    problem = to_problem(households, stock)
    figures["snapshot alone"] = time.perf_counter() - mark
    mark = time.perf_counter()
    solution = matching.solve(problem, reports=False)  # as the round solves
    figures["engine alone (no progress)"] = time.perf_counter() - mark
    app = create_app(Settings.from_env(), manage_pool=False)
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=None) as c:
        mark = time.perf_counter()
        started = await c.post("/api/rounds", json={}, headers=auth)
        assert started.status_code == 202, started.text
        round_id = started.json()["id"]
        await run_deferred_here()  # the round's job, as a worker would run it
        body = (await c.get(f"/api/rounds/{round_id}", headers=auth)).json()
        figures["round through the API"] = time.perf_counter() - mark
        assert body["status"] == "proposed", body
        mark = time.perf_counter()
        offset, proposals = 0, 0
        while True:
            page = (
                await c.get(
                    f"/api/rounds/{round_id}/proposals?limit=200&offset={offset}", headers=auth
                )
            ).json()
            proposals += len(page["items"])
            offset += 200
            if offset >= page["total"]:
                break
        figures["read all proposals (pages of 200)"] = time.perf_counter() - mark
        mark = time.perf_counter()
        approval = (
            await c.post(f"/api/rounds/{round_id}/approve", json={"all": True}, headers=auth)
        ).json()
        figures["approve all"] = time.perf_counter() - mark

    print(f"\nloaded: {loaded}")
    print(
        f"round {round_id}: {proposals} proposals, {body['stats']['totals']['units']} units, "
        f"optimal={body['stats']['optimal']}; approved {len(approval['approved'])}, "
        f"stale {len(approval['stale'])}"
    )
    print(f"engine alone on the same snapshot: {solution.totals.units} units")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--offers", type=int, default=500)
    parser.add_argument("--province", default="230000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--postgres", help="admin URL, e.g. postgresql://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args(argv)
    database = _configure(args)
    try:
        figures = asyncio.run(_run(args))
    finally:
        if database:
            asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    engine = figures["engine alone (no progress)"]
    print(f"\n{'step':<38}{'seconds':>10}{'x engine':>10}")
    for step, seconds in figures.items():
        print(f"{step:<38}{seconds:>10.2f}{seconds / engine:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
