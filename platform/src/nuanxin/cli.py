"""``python -m nuanxin <command>``: the platform's commands.

migrate         apply the database migrations (SQLite file or DATABASE_URL)
load-regions    load the gazetteer of administrative divisions into the database
demo            migrate, load regions and demo data (once), then serve
serve           serve the app on NUANXIN_HOST:NUANXIN_PORT
create-admin    create an admin account (and its piccolo-admin login)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import io
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


def serve(settings: Settings) -> None:
    import uvicorn

    from nuanxin.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        proxy_headers=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nuanxin", description="Nuanxin (暖心) platform commands")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply the database migrations")
    commands.add_parser("load-regions", help="load the gazetteer into the regions table")
    commands.add_parser("demo", help="migrate, load demo data once, and serve")
    commands.add_parser("serve", help="serve the app")
    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("username")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"nuanxin: bad setting {exc}", file=sys.stderr)
        return 2
    db.configure(settings)
    if args.command == "migrate":
        asyncio.run(migrate())
    elif args.command == "load-regions":
        print(f"{asyncio.run(_load_regions())} regions loaded")
    elif args.command == "demo":
        asyncio.run(_prepare_demo(settings))
        serve(settings)
    elif args.command == "serve":
        serve(settings)
    elif args.command == "create-admin":
        password = getpass.getpass("Password: ")
        asyncio.run(_create_admin(args.username, password))
        print(f"admin {args.username!r} created")
    return 0
