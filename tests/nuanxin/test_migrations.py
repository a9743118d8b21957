"""The migrations build the same schema on an empty SQLite file and an empty PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg

from tests.conftest import create_postgres_database, drop_postgres_database

Schema = dict[str, dict[str, object]]

APP_TABLES = {
    "region",
    "geocode_cache",
    "organization",
    "warehouse",
    "account",
    "api_token",
    "item",
    "offer",
    "household",
    "household_member",
    "need",
    "escalation",
    "matching_round",
    "proposal",
    "allocation",
    "visit",
    "delivery",
    "delivery_case",
    "campaign",
    "donation",
    "payment",
    "webhook_event",
    "purchase",
    "help_request",
    "audit_entry",
}


def migrate(database_url: str, var_dir: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NUANXIN_VAR_DIR": str(var_dir),
        "NUANXIN_ENV": "development",
    }
    result = subprocess.run(
        [sys.executable, "-m", "nuanxin", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def sqlite_schema(path: Path) -> Schema:
    connection = sqlite3.connect(path)
    try:
        schema: Schema = {}
        tables = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        for name, sql in tables:
            columns = connection.execute(f'PRAGMA table_info("{name}")').fetchall()
            foreign = connection.execute(f'PRAGMA foreign_key_list("{name}")').fetchall()
            schema[name] = {
                "columns": {row[1]: bool(row[3]) or bool(row[5]) for row in columns},
                "constraints": set(re.findall(r"CONSTRAINT (\w+)", sql)),
                "foreign_keys": {(row[3], row[2]) for row in foreign},
            }
        return schema
    finally:
        connection.close()


async def postgres_schema(url: str) -> Schema:
    connection = await asyncpg.connect(url)
    try:
        schema: Schema = {}
        columns = await connection.fetch(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
        for row in columns:
            if row["table_name"].startswith("procrastinate_"):
                continue  # the job queue's own schema, on PostgreSQL only
            entry = schema.setdefault(
                row["table_name"], {"columns": {}, "constraints": set(), "foreign_keys": set()}
            )
            entry["columns"][row["column_name"]] = row["is_nullable"] == "NO"  # type: ignore[index]
        constraints = await connection.fetch(
            "SELECT rel.relname AS table_name, con.conname, con.contype::text AS contype, "
            "pg_get_constraintdef(con.oid) AS definition "
            "FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid "
            "JOIN pg_namespace ns ON ns.oid = rel.relnamespace WHERE ns.nspname = 'public'"
        )
        for row in constraints:
            if row["table_name"].startswith("procrastinate_"):
                continue
            entry = schema[row["table_name"]]
            if row["contype"] in ("c",) or (
                row["contype"] == "u" and not row["conname"].endswith("_key")
            ):
                entry["constraints"].add(row["conname"])  # type: ignore[attr-defined]
            elif row["contype"] == "f":
                match = re.match(r"FOREIGN KEY \(\"?(\w+)\"?\) REFERENCES (\w+)", row["definition"])
                assert match, row["definition"]
                entry["foreign_keys"].add((match[1], match[2]))  # type: ignore[attr-defined]
        return schema
    finally:
        await connection.close()


def test_migrations_give_the_same_tables_on_sqlite_and_postgresql(
    tmp_path: Path, requires_postgres: str
) -> None:
    sqlite_file = tmp_path / "empty.sqlite3"
    migrate(f"sqlite:///{sqlite_file}", tmp_path)
    from_sqlite = sqlite_schema(sqlite_file)

    name = create_postgres_database()
    try:
        url = requires_postgres.rpartition("/")[0] + f"/{name}"
        migrate(url, tmp_path)
        from_postgres = asyncio.run(postgres_schema(url))
    finally:
        drop_postgres_database(name)

    assert set(from_sqlite) >= APP_TABLES, APP_TABLES - set(from_sqlite)
    assert set(from_sqlite) == set(from_postgres)
    for table in sorted(from_sqlite):
        assert from_sqlite[table] == from_postgres[table], table


def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    sqlite_file = tmp_path / "twice.sqlite3"
    migrate(f"sqlite:///{sqlite_file}", tmp_path)
    first = sqlite_schema(sqlite_file)
    migrate(f"sqlite:///{sqlite_file}", tmp_path)
    assert sqlite_schema(sqlite_file) == first
    assert {"offer", "household", "audit_entry"} <= set(first)
    assert "stock_adds_up" in first["offer"]["constraints"]  # type: ignore[operator]
