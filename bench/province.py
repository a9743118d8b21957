"""A province's round through the platform on PostgreSQL (``make bench-province``).

One province (default 1,000,000 households and 50,000 offers, the seeded generator) is loaded
into a PostgreSQL database created for the run and dropped after it, and a matching round is
run over it as a province's civil affairs staff would: start it through the API, run its job
here (as a worker would), read the first and the last page of its proposals, approve the first
100,000 of them (issue 17's measure; ``--approve 0`` approves them all, hours at 1M).
The same problem is also solved by the engine alone in this process (``engine alone``:
``solve_arrays`` on the snapshot's columns, :func:`nuanxin.rounds.columns.take_columns`, the
round's own): every step's ratio is to that, timed in the same run.

Each step prints its seconds and the peak resident memory of this process during the step
(sampled every 20 ms), and of PostgreSQL's server processes (their private memory, summed:
shared buffers are not counted). The round's own steps (snapshot, problem, solve, store) are
the ones it records in its stats; the rest are timed here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROVINCE = "230000"
PAGE = 200


def _configure(admin_url: str) -> str:
    """Point the platform at a fresh database before anything imports it."""
    os.environ["NUANXIN_ENV"] = "test"
    os.environ["SECRET_KEY"] = "bench-secret-key-that-is-long-enough-0123456789"
    os.environ["NUANXIN_VAR_DIR"] = tempfile.mkdtemp(prefix="nuanxin-province-")
    name = f"nuanxin_province_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    os.environ["DATABASE_URL"] = admin_url.rpartition("/")[0] + f"/{name}"
    return name


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _kib(path: Path, field_name: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:  # a process that ended between listing and reading
        return 0
    return 0


def _postgres_kib() -> int:
    """PostgreSQL's server processes' private memory (RssAnon), summed."""
    total = 0
    for folder in Path("/proc").iterdir():
        if folder.name.isdigit():
            with contextlib.suppress(OSError):
                if (folder / "comm").read_text().strip() == "postgres":
                    total += _kib(folder / "status", "RssAnon")
    return total


@dataclass
class Sampler:
    """Peak RSS of this process and of PostgreSQL since the last :meth:`step`."""

    own: int = 0
    postgres: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        me = Path("/proc/self/status")
        while not self.stop.wait(0.02):
            self.own = max(self.own, _kib(me, "VmRSS"))
            self.postgres = max(self.postgres, _postgres_kib())

    @contextlib.contextmanager
    def step(self, rows: list[tuple[str, float, int, int]], name: str) -> Iterator[None]:
        self.own, self.postgres = _kib(Path("/proc/self/status"), "VmRSS"), _postgres_kib()
        mark = time.perf_counter()
        yield
        rows.append((name, time.perf_counter() - mark, self.own, self.postgres))


async def _run(args: argparse.Namespace, sampler: Sampler) -> list[tuple[str, float, int, int]]:
    from datetime import UTC, datetime, timedelta
    from typing import cast

    import httpx
    import msgspec

    import matching
    from nuanxin.accounts.tables import ApiToken, User
    from nuanxin.app import create_app
    from nuanxin.cli import migrate
    from nuanxin.identity import CurrentUser, Role, digest
    from nuanxin.jobs.worker import run_deferred_here
    from nuanxin.regions.services import get_region, load_regions, subtree_prefix
    from nuanxin.rounds import proposals
    from nuanxin.rounds.columns import take_columns
    from nuanxin.rounds.schemas import ApproveIn
    from nuanxin.rounds.tables import Proposal
    from nuanxin.settings import Settings
    from nuanxin.synthetic import generate
    from nuanxin.synthetic.load import load_dataset

    rows: list[tuple[str, float, int, int]] = []
    await migrate(quiet=True)
    await load_regions()
    with sampler.step(rows, "generate"):
        dataset = generate(
            households=args.households, offers=args.offers, seed=args.seed, provinces=(PROVINCE,)
        )
    with sampler.step(rows, "load (COPY)"):
        loaded = await load_dataset(dataset)
    del dataset
    print(f"loaded: {loaded}", flush=True)
    province = await get_region(PROVINCE)
    assert province is not None
    prefix = subtree_prefix(province.code, province.level)
    with sampler.step(rows, "snapshot alone (columns)"):
        snapshot = await take_columns(region_prefix=prefix, item_codes=None)
    if args.save_problem is not None:  # for looking at the engine on it alone, later
        _save_problem(snapshot.problem, args.save_problem)
    with sampler.step(rows, "engine alone"):
        solution = matching.solve_arrays(
            snapshot.problem, reports=False, time_limit=args.time_limit
        )
    engine_units = solution.totals.units
    del snapshot, solution

    now = datetime.now(UTC)
    users = (
        await User.insert(
            User(
                username="province_staff",
                display_name="province staff",
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
            user=users[0]["id"],
            token_hash=digest("province-token"),
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
    ).run()
    auth = {"authorization": "Bearer province-token"}
    app = create_app(Settings.from_env(), manage_pool=False)
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=None) as c:
        body: dict[str, Any] = {}
        with sampler.step(rows, "round: start -> proposals"):
            setting = {} if args.time_limit is None else {"time_limit_s": args.time_limit}
            started = await c.post("/api/rounds", json=setting, headers=auth)
            assert started.status_code == 202, started.text
            round_id = started.json()["id"]
            await run_deferred_here()  # the round's job, as a worker would run it
            body = (await c.get(f"/api/rounds/{round_id}", headers=auth)).json()
        assert body["status"] == "proposed", body
        whole = rows.pop()
        for step, seconds in body["stats"]["steps"].items():
            rows.append((f"  round: {step}", float(seconds), -1, -1))  # peaks: the round's
        rows.append(whole)
        total = int(body["proposals"])
        url = f"/api/rounds/{round_id}/proposals?limit={PAGE}"
        with sampler.step(rows, "read first page"):
            first = await c.get(f"{url}&offset=0", headers=auth)
        with sampler.step(rows, "read last page"):
            last = await c.get(f"{url}&offset={max(total - PAGE, 0)}", headers=auth)
        assert first.status_code == last.status_code == 200, (first.text, last.text)
        assert last.json()["items"] or not total
        if not args.approve:
            with sampler.step(rows, f"approve all ({total})"):
                answer = await c.post(
                    f"/api/rounds/{round_id}/approve", json={"all": True}, headers=auth
                )
            assert answer.status_code == 200, answer.text
            approval = answer.json()
        else:  # the first N by id, through the service (the API takes 10,000 ids at a time)
            ids = [
                int(row["id"])
                for row in await Proposal.select(Proposal.id)
                .where(Proposal.round == round_id)
                .order_by(Proposal.id)
                .limit(args.approve)
            ]
            staff = CurrentUser(
                id=int(users[0]["id"]),
                username="province_staff",
                role=Role.staff,
                jurisdiction_id=province.id,
                organization_id=None,
                jurisdiction_code=province.code,
                jurisdiction_level=province.level,
            )
            with sampler.step(rows, f"approve {len(ids)} of {total}"):
                decided = await proposals.approve(
                    actor=staff, round_id=round_id, data=ApproveIn(proposal_ids=ids)
                )
            approval = msgspec.to_builtins(decided)
    stats = body["stats"]
    print(
        f"round {round_id}: {total} proposals, {stats['totals']['units']} units"
        f" (engine alone: {engine_units}), optimal={stats.get('optimal')},"
        f" gap={stats.get('gap')}; offers in the snapshot {stats['offers']};"
        f" approved {len(approval['approved'])}, stale {len(approval['stale'])}"
    )
    return rows


def _save_problem(problem: Any, path: Path) -> None:
    """The snapshot's columns as one ``.npz`` (the names as arrays of strings): load it with
    ``ArrayProblem(**...)`` after turning those back into tuples."""
    import dataclasses

    import numpy as np

    columns: dict[str, Any] = {}
    for item in dataclasses.fields(problem):
        value = getattr(problem, item.name)
        if value is not None:
            columns[item.name] = np.asarray(value) if isinstance(value, tuple) else value
    np.savez(path, **columns)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--offers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="seconds: the round's setting (time_limit_s) and the engine alone's limit",
    )
    parser.add_argument(
        "--save-problem",
        type=Path,
        default=None,
        help="also write the snapshot's problem columns to this .npz file",
    )
    parser.add_argument(
        "--approve",
        type=int,
        default=100_000,
        help="approve the first N proposals by id (default 100,000; 0: all of them)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "NUANXIN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="admin URL: a database is created next to it and dropped after the run",
    )
    args = parser.parse_args(argv)
    database = _configure(args.postgres)
    sampler = Sampler()
    thread = threading.Thread(target=sampler.run, daemon=True)
    thread.start()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, load average"
        f" {os.getloadavg()[0]:.2f}; {args.households:,} households x {args.offers:,} offers"
    )
    try:
        rows = asyncio.run(_run(args, sampler))
    finally:
        sampler.stop.set()
        asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    engine = next(seconds for step, seconds, _, _ in rows if step == "engine alone")
    print(f"\n{'step':<34}{'seconds':>9}{'x engine':>10}{'peak MiB':>10}{'PG MiB':>8}")
    for step, seconds, own, postgres in rows:
        peaks = f"{own / 1024:>10.0f}{postgres / 1024:>8.0f}" if own >= 0 else ""
        print(f"{step:<34}{seconds:>9.2f}{seconds / engine:>10.2f}{peaks}")
    print(f"{time.strftime('%H:%M:%S', time.gmtime())} UTC, load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
