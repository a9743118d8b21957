"""Approving a province's round: N proposals approved through the service, timed.

Builds a fresh database (PostgreSQL by default, created and dropped; ``--sqlite`` for a file)
with N verified households in ten counties, each needing one quilt, M quilt offers of twenty
charities with just enough stock (``--short`` takes that share of the units away, so that the
last proposals of each offer go stale), and a proposed round of N proposals written directly
(no engine: the solve is ``make bench-round``'s business). Then, as the province's civil
affairs staff: read the proposals in pages (the first, a middle one, the last), and approve
all of them through :func:`nuanxin.rounds.proposals.approve`, as the API's handler calls it.

``build_round`` and ``approve_all`` are the pieces other benchmarks call, inside a configured
database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

LABEL = "approval bench"
COUNTIES = 10
CHARITIES = 20
PROVINCE = ("230000", "黑龙江省", 45.74, 126.66)


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    """A proposed round ready to approve, and the staff member who approves it."""

    round_id: int
    proposals: int
    actor: Any  # nuanxin.identity.CurrentUser (imported once the database is configured)


def _configure(args: argparse.Namespace) -> str | None:
    """Point the platform at a fresh database before anything imports it."""
    os.environ["NUANXIN_ENV"] = "test"
    os.environ["SECRET_KEY"] = "bench-secret-key-that-is-long-enough-0123456789"
    folder = Path(tempfile.mkdtemp(prefix="nuanxin-approve-"))
    os.environ["NUANXIN_VAR_DIR"] = str(folder)
    if not args.sqlite:
        name = f"nuanxin_approve_{uuid.uuid4().hex[:8]}"
        asyncio.run(_admin(args.postgres, f'CREATE DATABASE "{name}"'))
        os.environ["DATABASE_URL"] = args.postgres.rpartition("/")[0] + f"/{name}"
        return name
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'approve.sqlite3'}"
    return None


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _regions() -> tuple[int, list[tuple[int, float, float]]]:
    """The province and its counties (id, lat, lon), written directly."""
    from nuanxin.regions.tables import Region

    code, name, lat, lon = PROVINCE

    async def one(
        code: str, name: str, level: str, parent: int | None, lat: float, lon: float
    ) -> int:
        rows = (
            await Region.insert(
                Region(
                    code=code,
                    name=name,
                    full_name=name,
                    level=level,
                    parent=parent,
                    lat=lat,
                    lon=lon,
                )
            )
            .returning(Region.id)
            .run()
        )
        return int(rows[0]["id"])

    province = await one(code, name, "province", None, lat, lon)
    city = await one("230100", "哈尔滨市", "city", province, 45.80, 126.53)
    counties = []
    for c in range(COUNTIES):
        point = (45.5 + 0.05 * c, 126.3 + 0.05 * c)
        counties.append(
            (await one(f"2301{c + 2:02d}", f"测试{c}区", "county", city, *point), *point)
        )
    return province, counties


async def build_round(*, households: int, offers: int, short: float = 0.0) -> Built:
    """N households with a quilt need each, M quilt offers, a round of N proposals."""
    from nuanxin.accounts.bulk import insert_organizations
    from nuanxin.accounts.tables import User
    from nuanxin.db import insert_many
    from nuanxin.households.bulk import insert_households, insert_needs
    from nuanxin.identity import CurrentUser, Role, digest
    from nuanxin.offers.bulk import insert_offers
    from nuanxin.offers.tables import Item
    from nuanxin.rounds.tables import MatchingRound, Proposal
    from nuanxin.warehouses.bulk import insert_warehouses

    now = datetime.now(UTC)
    province, counties = await _regions()
    quilt_row = await Item.select(Item.id).where(Item.code == "quilt").first().run()
    assert quilt_row is not None
    quilt = int(quilt_row["id"])
    charities = await insert_organizations(
        [
            {
                "name": f"暖冬基金会{c}",
                "credit_code": f"91230100BENCH{c:04d}X"[-18:],
                "status": "verified",
                "region": counties[c % COUNTIES][0],
                "contact_name": "联系人",
                "contact_phone": f"1380000{c:04d}",
                "created_at": now,
            }
            for c in range(CHARITIES)
        ],
        label=LABEL,
    )
    warehouses = await insert_warehouses(
        [
            {
                "organization": charity,
                "name": f"仓库{c}",
                "address": f"仓库路 {c} 号",
                "region": counties[c % COUNTIES][0],
                "lat": counties[c % COUNTIES][1],
                "lon": counties[c % COUNTIES][2],
            }
            for c, charity in enumerate(charities)
        ],
        label=LABEL,
    )
    household_ids = await insert_households(
        [
            {
                "reference": f"HB{n:07d}",
                "category": ("dibao", "extremely_poor", "near_dibao")[n % 3],
                "head_name": f"测试{n}",
                "id_hash": digest(f"approve-bench-{n}"),
                "id_last4": f"{n % 10000:04d}",
                "phone": f"139{n:08d}",
                "registered_address": f"测试{n}号",
                "current_address": f"测试{n}号",
                "region": counties[n % COUNTIES][0],
                "lat": counties[n % COUNTIES][1] + 0.0001 * (n % 100),
                "lon": counties[n % COUNTIES][2] + 0.0001 * (n // 100 % 100),
                "tags": ["electricity"],
                "status": "verified",
                "verified_at": now,
                "verification_expires_at": now + timedelta(days=365),
                "created_at": now,
                "updated_at": now,
            }
            for n in range(households)
        ],
        label=LABEL,
    )
    need_ids = await insert_needs(
        [
            {"household": h, "item": quilt, "quantity": 1, "weight": 1.0, "updated_at": now}
            for h in household_ids
        ],
        label=LABEL,
    )
    per_offer = [
        households // offers + (1 if o < households % offers else 0) for o in range(offers)
    ]
    offer_ids = await insert_offers(
        [
            {
                "organization": charities[o % CHARITIES],
                "warehouse": warehouses[o % CHARITIES],
                "item": quilt,
                "quantity": max(0, units - int(units * short)),
                "lat": counties[o % COUNTIES][1],
                "lon": counties[o % COUNTIES][2],
                "radius_km": 100.0,
                "available_from": now.date(),
                "available_until": (now + timedelta(days=30)).date(),
                "created_at": now,
                "updated_at": now,
            }
            for o, units in enumerate(per_offer)
        ],
        label=LABEL,
    )
    staff = (
        await User.insert(
            User(
                username="bench_province",
                display_name="bench",
                password_hash="x",
                role=Role.staff.value,
                jurisdiction=province,
                created_at=now,
            )
        )
        .returning(User.id)
        .run()
    )
    rounds = (
        await MatchingRound.insert(
            MatchingRound(
                region=province,
                status="proposed",
                progress=100,
                created_by=int(staff[0]["id"]),
                created_at=now,
                finished_at=now,
            )
        )
        .returning(MatchingRound.id)
        .run()
    )
    round_id = int(rounds[0]["id"])
    await insert_many(
        Proposal,
        [
            {
                "round": round_id,
                "offer": offer_ids[n % offers],
                "household": household_ids[n],
                "need": need_ids[n],
                "quantity": 1,
                "distance_km": 1.0 + n % 50,
                "reason": "bench",
                "location_source": "county",
            }
            for n in range(households)
        ],
    )
    actor = CurrentUser(
        id=int(staff[0]["id"]),
        username="bench_province",
        role=Role.staff,
        jurisdiction_id=province,
        organization_id=None,
        jurisdiction_code=PROVINCE[0],
        jurisdiction_level="province",
    )
    return Built(round_id=round_id, proposals=households, actor=actor)


async def read_pages(built: Built, *, limit: int = 200) -> dict[str, float]:
    """Seconds to read the first, a middle and the last page of the round's proposals."""
    from nuanxin.pagination import Pagination
    from nuanxin.rounds.proposals import list_proposals

    figures: dict[str, float] = {}
    last = max(0, (built.proposals - 1) // limit * limit)
    for name, offset in (("first", 0), ("middle", last // 2 // limit * limit), ("last", last)):
        mark = time.perf_counter()
        page = await list_proposals(
            actor=built.actor,
            round_id=built.round_id,
            page=Pagination(limit=limit, offset=offset),
        )
        figures[f"read the {name} page of {limit} (offset {offset})"] = time.perf_counter() - mark
        assert page.items, (name, offset)
    return figures


async def approve_all(built: Built) -> tuple[float, Any]:
    """Approve every proposal of the round as its staff would; (seconds, ApprovalOut)."""
    from nuanxin.rounds.proposals import approve
    from nuanxin.rounds.schemas import ApproveIn

    mark = time.perf_counter()
    result = await approve(actor=built.actor, round_id=built.round_id, data=ApproveIn(all=True))
    return time.perf_counter() - mark, result


async def check(built: Built, result: Any) -> None:
    """The books balance: every approved unit is reserved, counted, allocated and audited."""
    from piccolo.query.functions.aggregate import Sum

    from nuanxin.audit.tables import AuditEntry
    from nuanxin.deliveries.tables import Allocation, Delivery
    from nuanxin.households.tables import Need
    from nuanxin.offers.tables import Offer
    from nuanxin.rounds.tables import Proposal

    approved = len(result.approved)
    [reserved] = await Offer.select(Sum(Offer.reserved).as_alias("n")).run()
    [counted] = await Need.select(Sum(Need.allocated).as_alias("n")).run()
    figures = {
        "units reserved": int(reserved["n"] or 0),
        "units counted": int(counted["n"] or 0),
        "allocations": await Allocation.count(),
        "deliveries": await Delivery.count(),
        "approval entries": await AuditEntry.count().where(AuditEntry.action == "proposal.approve"),
        "approved proposals": await Proposal.count().where(Proposal.status == "approved"),
    }
    wrong = {name: n for name, n in figures.items() if n != approved}
    stale = await Proposal.count().where(Proposal.status == "stale")
    if wrong or stale != len(result.stale):
        raise AssertionError(f"{approved} approved, {len(result.stale)} stale, but {wrong}")


async def _run(args: argparse.Namespace) -> None:
    from piccolo.engine.postgres import PostgresEngine

    from nuanxin.cli import migrate
    from nuanxin.db import configure
    from nuanxin.settings import Settings

    engine: Any = configure(Settings.from_env())
    pooled = isinstance(engine, PostgresEngine)
    if pooled:
        await engine.start_connection_pool(min_size=1, max_size=4)
    try:
        await migrate(quiet=True)
        mark = time.perf_counter()
        built = await build_round(households=args.households, offers=args.offers, short=args.short)
        print(f"built {built.proposals} proposals in {time.perf_counter() - mark:.1f} s")
        for step, seconds in (await read_pages(built)).items():
            print(f"{step:<46}{seconds:>8.3f} s")
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
        seconds, result = await approve_all(built)
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        print(
            f"approve all: {seconds:.2f} s for {built.proposals} proposals "
            f"({built.proposals / seconds:,.0f}/s): approved {len(result.approved)}, "
            f"stale {len(result.stale)}, already {len(result.already_approved)}"
        )
        await check(built, result)
    finally:
        if pooled:
            await engine.close_connection_pool()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000, help="= proposals")
    parser.add_argument("--offers", type=int, default=400)
    parser.add_argument("--short", type=float, default=0.0, help="share of units taken away")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead")
    parser.add_argument("--profile", action="store_true", help="cProfile the approval")
    args = parser.parse_args(argv)
    database = _configure(args)
    try:
        asyncio.run(_run(args))
    finally:
        if database:
            asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
