"""A real server process for fault scenarios: uvicorn serving ``create_app`` on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Database:
    """A database of its own for one scenario: a SQLite file, or a PostgreSQL database."""

    url: str
    admin_url: str | None = None  # PostgreSQL: where to drop it afterwards

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.admin_url is None:
            connection = sqlite3.connect(self.url.removeprefix("sqlite:///"))
            try:
                return list(connection.execute(sql).fetchall())
            finally:
                connection.close()
        return asyncio.run(_pg_query(self.url, sql))


async def _pg_query(url: str, sql: str) -> list[tuple[Any, ...]]:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await connection.fetch(sql)]
    finally:
        await connection.close()


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def scenario_database(folder: Path, postgres_admin: str | None) -> Iterator[Database]:
    if postgres_admin is None:
        yield Database(url=f"sqlite:///{folder / 'fault.sqlite3'}")
        return
    name = f"nuanxin_fault_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(postgres_admin, f'CREATE DATABASE "{name}"'))
    try:
        yield Database(url=postgres_admin.rpartition("/")[0] + f"/{name}", admin_url=postgres_admin)
    finally:
        asyncio.run(_pg_admin(postgres_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def environment(database: Database, folder: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database.url,
        NUANXIN_ENV="test",
        NUANXIN_VAR_DIR=str(folder / "var"),
        SECRET_KEY="fault-secret-key-that-is-long-enough-0123456789",
        PICCOLO_CONF="nuanxin.piccolo_conf",
        **extra,
    )
    return env


def seed(database: Database, folder: Path, households: int) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.seed", "--households", str(households)],
        env=environment(database, folder),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


class Server:
    """``uvicorn nuanxin.app:create_app --factory`` on a free loopback port."""

    def __init__(
        self,
        database: Database,
        folder: Path,
        workers: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"server-{self.port}.log"
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "nuanxin.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                command,
                env=environment(database, folder, **(env or {})),
                cwd=ROOT,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not start: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as a crash or an OOM kill would do."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class Worker:
    """``python -m nuanxin worker``: a job worker process (PostgreSQL)."""

    def __init__(
        self, database: Database, folder: Path, name: str, env: dict[str, str] | None = None
    ) -> None:
        self.log = folder / f"worker-{name}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "nuanxin", "worker"],
                env=environment(database, folder, **(env or {})),
                cwd=ROOT,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL: no heartbeat, no goodbye, its job left ``doing``."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
