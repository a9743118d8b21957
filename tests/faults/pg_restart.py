# ruff: noqa: T201 - a script that reports what it saw
"""PostgreSQL restarted under load (``make fault-pg``; not part of ``make test``).

Restarting the machine's PostgreSQL cluster affects everything else that uses it, so this is a
script to run on purpose, not a test. It loads a county into a database of its own, serves the
app with uvicorn (2 workers), and drives couriers' confirmations and donors' tracking with
concurrent clients while ``pg_ctlcluster --skip-systemctl-redirect 15 main restart`` runs.
Checked afterwards, with the app never restarted:

* the app answers again by itself once PostgreSQL is back (the time it took is printed);
* every confirmation the app answered 200 is ``delivered`` in the database (none lost);
* no delivery is delivered twice over in the stock (offers' ``delivered`` equals the
  delivered allocations' quantities).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.load import World, _admin, _configure, _prepare, _serve, _stop  # noqa: E402

RESTART = ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"]


@dataclass
class Outcome:
    confirmed: set[int] = field(default_factory=set)
    timeline: dict[int, collections.Counter[str]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    restart: dict[str, float] = field(default_factory=dict)


async def drive(url: str, world: World, seconds: float, restart_at: float) -> Outcome:
    import httpx

    confirmations = list(world.confirmations)
    codes = list(world.tracking_codes)
    outcome = Outcome()
    confirmed, timeline, restart = outcome.confirmed, outcome.timeline, outcome.restart
    started = time.monotonic()

    async def restarter() -> None:
        await asyncio.sleep(restart_at)
        restart["begin"] = time.monotonic() - started
        done = await asyncio.to_thread(subprocess.run, RESTART, capture_output=True, text=True)
        restart["end"] = time.monotonic() - started
        restart["rc"] = done.returncode
        if done.returncode != 0:
            print(f"restart failed: {done.stderr}")

    async def courier(client: httpx.AsyncClient) -> None:
        while time.monotonic() - started < seconds and confirmations:
            delivery, code, token = confirmations.pop()
            second = int(time.monotonic() - started)
            try:
                answer = await client.post(
                    f"/api/deliveries/{delivery}/confirm",
                    json={"code": code},
                    headers={"authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as error:
                timeline[second][f"confirm {type(error).__name__}"] += 1
                continue
            timeline[second][f"confirm {answer.status_code}"] += 1
            if answer.status_code == 200:
                confirmed.add(delivery)

    async def donor(client: httpx.AsyncClient, index: int) -> None:
        while time.monotonic() - started < seconds:
            second = int(time.monotonic() - started)
            try:
                answer = await client.get(f"/api/track/{codes[index % len(codes)]}")
                timeline[second][f"track {answer.status_code}"] += 1
            except httpx.HTTPError as error:
                timeline[second][f"track {type(error).__name__}"] += 1
            index += 7

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await asyncio.gather(
            restarter(),
            *(courier(client) for _ in range(8)),
            *(donor(client, i) for i in range(4)),
        )
    return outcome


async def check(database_url: str, confirmed: set[int]) -> dict[str, int]:
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT id, status FROM delivery")
        status = {row["id"]: row["status"] for row in rows}
        stock = await connection.fetchval("SELECT coalesce(sum(delivered), 0) FROM offer")
        allocated = await connection.fetchval(
            "SELECT coalesce(sum(a.quantity), 0) FROM delivery d "
            "JOIN allocation a ON a.id = d.allocation WHERE d.status = 'delivered'"
        )
    finally:
        await connection.close()
    lost = sum(1 for delivery in confirmed if status.get(delivery) != "delivered")
    return {
        "answered 200": len(confirmed),
        "delivered in the database": sum(1 for s in status.values() if s == "delivered"),
        "confirmed but lost": lost,
        "offers' delivered units": int(stock),
        "delivered allocations' units": int(allocated),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--restart-at", type=float, default=6.0)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    database, folder = _configure(args.postgres)
    server = None
    try:
        world = asyncio.run(_prepare(args.households, args.households // 20, 200))
        server, url = _serve(folder, workers=2)  # one uvicorn, a worker per core
        outcome = asyncio.run(drive(url, world, args.seconds, args.restart_at))
        restart = outcome.restart
        print(
            f"\nPostgreSQL restart from {restart['begin']:.1f} s to {restart['end']:.1f} s "
            f"(exit {restart['rc']:.0f}); answers per second:"
        )
        failing = []
        for second in sorted(outcome.timeline):
            counts = outcome.timeline[second]
            print(f"  {second:>3} s  " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
            if any(not k.endswith((" 200", " 201")) for k in counts):
                failing.append(second)
        last = max(outcome.timeline)
        recovered = bool(failing) and failing[-1] < last - 2  # clean seconds after the errors
        alive = server.poll() is None
        print(
            f"errors only from {failing[0] if failing else '-'} s to "
            f"{failing[-1] if failing else '-'} s, none after; the app was never restarted "
            f"(pid {server.pid}, alive={alive})"
        )
        figures = asyncio.run(check(os.environ["DATABASE_URL"], outcome.confirmed))
        for name, value in figures.items():
            print(f"  {name}: {value}")
        ok = (
            figures["confirmed but lost"] == 0
            and figures["offers' delivered units"] == figures["delivered allocations' units"]
            and recovered
            and alive
        )
        stopped = _stop(server)
        server = None
        print(f"graceful stop after the run: {stopped:.1f} s (inf: had to be killed)")
        ok = ok and stopped != float("inf")
        print("OUTCOME:", "recovered, nothing lost" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        if server is not None:
            _stop(server)
        asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


if __name__ == "__main__":
    sys.exit(main())
