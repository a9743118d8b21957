"""``python -m nuanxin <command>``: the platform's commands.

migrate         apply the database migrations (SQLite file or DATABASE_URL)
load-regions    load the gazetteer of administrative divisions into the database
demo            migrate, load regions and demo data (once), then serve
serve           serve the app on NUANXIN_HOST:NUANXIN_PORT (--workers N: N processes)
create-admin    create an admin account (and its piccolo-admin login)
worker          run jobs (matching rounds, periodic duties) until stopped (PostgreSQL)
cluster         app servers and workers behind nginx on PostgreSQL and Redis (make cluster)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import io
import os
import sys
import time
from collections.abc import Sequence

from nuanxin import db
from nuanxin.settings import Settings, SettingsError

__all__ = ("main",)


async def migrate(*, quiet: bool = False) -> None:
    """Apply every pending migration; raise if one fails."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    out = io.StringIO()
    with contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext():
        result = await run_forwards(app_name="all", migration_id="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{out.getvalue()}")
    settings = Settings.from_env()
    if settings.is_postgres:  # the job queue's tables (Procrastinate's own schema)
        from nuanxin.jobs.schema import install_queue_schema

        await install_queue_schema(settings.database_url)


CLUSTER_DATABASE = "postgresql://postgres@127.0.0.1:5432/nuanxin"
CLUSTER_REDIS = "redis://127.0.0.1:6379/0"


async def _create_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` unless it exists (``make cluster``)."""
    import asyncpg

    base, _, name = url.rpartition("/")
    connection = await asyncpg.connect(f"{base}/postgres")
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _load_regions() -> int:
    from nuanxin.regions.services import load_regions

    return await load_regions()


async def _create_admin(username: str, password: str) -> None:
    from nuanxin.accounts.services import create_admin

    await create_admin(username=username, password=password)


async def _prepare_demo(settings: Settings) -> None:
    from nuanxin.demo import load_demo

    started = time.perf_counter()
    print("• 迁移数据库 Migrating the database ...", flush=True)
    await migrate(quiet=True)
    print("• 加载行政区划 Loading administrative regions ...", flush=True)
    loaded = await _load_regions()
    print(f"  {loaded} regions", flush=True)
    print("• 加载演示数据 Loading demo data ...", flush=True)
    logins = await load_demo(settings=settings)
    print(f"• 就绪 Ready in {time.perf_counter() - started:.1f} s\n", flush=True)
    print(f"  打开 Open:  http://{settings.host}:{settings.port}/")
    print(f"  API 文档 API docs: http://{settings.host}:{settings.port}/schema/swagger\n")
    print("  演示账号 Demo logins (username / password / role):")
    for login in logins:
        print(f"    {login.username:<22} {login.password:<14} {login.role:<8} {login.note}")
    print(flush=True)


def serve(settings: Settings, *, workers: int = 1, access_log: bool = True) -> int:
    """Serve the app; with several ``workers``, one process each, on sockets of their own
    (:mod:`nuanxin.serving`) where the kernel can spread connections over them."""
    import uvicorn

    from nuanxin.serving import SPREADS, serve_many

    if workers > 1 and SPREADS:
        return serve_many(settings.host, settings.port, workers, access_log=access_log)
    from nuanxin.app import create_app

    # Several workers without SO_REUSEPORT balancing: uvicorn's own, on one shared socket,
    # each building the app from the environment (the factory).
    uvicorn.run(
        "nuanxin.app:create_app" if workers > 1 else create_app(settings),
        factory=workers > 1,
        workers=workers,
        host=settings.host,
        port=settings.port,
        log_level="info",
        proxy_headers=True,
        access_log=access_log,
    )
    return 0


def _cluster(settings: Settings, *, servers: int, workers: int) -> None:
    """Start the cluster and keep it until Ctrl-C or SIGTERM."""
    import signal

    from nuanxin.cluster import Cluster

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    with Cluster(settings, servers=servers, workers=workers) as cluster:
        print(f"  {servers} app servers, {workers} workers behind nginx: {cluster.url}/")
        print(f"  logs: {cluster.logs}/*.log   (Ctrl-C stops everything)", flush=True)
        try:
            while all(process.poll() is None for process in cluster.processes):
                time.sleep(1)
            print("a process of the cluster exited: stopping", file=sys.stderr)
        except KeyboardInterrupt:
            pass


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nuanxin", description="Nuanxin (暖心) platform commands")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply the database migrations")
    commands.add_parser("load-regions", help="load the gazetteer into the regions table")
    commands.add_parser("demo", help="migrate, load demo data once, and serve")
    serving = commands.add_parser("serve", help="serve the app")
    serving.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="app processes, each on a socket of its own: the kernel spreads connections",
    )
    serving.add_argument("--no-access-log", action="store_true", help="no log line per request")
    commands.add_parser("worker", help="run jobs until stopped (PostgreSQL)")
    cluster = commands.add_parser("cluster", help="app servers and workers behind nginx")
    cluster.add_argument("--servers", type=int, default=2)
    cluster.add_argument("--workers", type=int, default=2)
    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("username")
    admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (for scripts)",
    )
    args = parser.parse_args(argv)
    if args.command == "cluster":  # the machine's PostgreSQL and Redis unless told otherwise
        os.environ.setdefault("DATABASE_URL", CLUSTER_DATABASE)
        os.environ.setdefault("REDIS_URL", CLUSTER_REDIS)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"nuanxin: bad setting {exc}", file=sys.stderr)
        return 2
    if args.command == "cluster":
        asyncio.run(_create_database(settings.database_url))
    db.configure(settings)
    if args.command == "migrate":
        asyncio.run(migrate())
    elif args.command == "load-regions":
        print(f"{asyncio.run(_load_regions())} regions loaded")
    elif args.command == "demo":
        asyncio.run(_prepare_demo(settings))
        serve(settings)
    elif args.command == "serve":
        return serve(settings, workers=args.workers, access_log=not args.no_access_log)
    elif args.command == "cluster":
        asyncio.run(_prepare_demo(settings))
        _cluster(settings, servers=args.servers, workers=args.workers)
    elif args.command == "worker":
        from nuanxin.jobs.worker import work
        from nuanxin.notifications import outbox
        from nuanxin.security import install_log_redaction

        install_log_redaction()  # as the app servers do: no phone, ID or token in a log
        outbox.configure(settings)
        asyncio.run(work(settings))
    elif args.command == "create-admin":
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass("Password: ")
        asyncio.run(_create_admin(args.username, password))
        print(f"admin {args.username!r} created")
    return 0
