"""``python -m nuanxin serve --workers N``: N real server processes on one port, each with its
own socket, connections spread over them by the kernel; a dead server replaced, all stopped
by one SIGTERM, a taken address refused."""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nuanxin.serving import SPREADS
from tests.faults.server import ROOT, Database, environment, free_port

pytestmark = pytest.mark.skipif(not SPREADS, reason="SO_REUSEPORT spreads connections on Linux")


def _environment(folder: Path, port: int) -> dict[str, str]:
    database = Database(url=f"sqlite:///{folder / 'serve.sqlite3'}")
    return environment(database, folder, NUANXIN_HOST="127.0.0.1", NUANXIN_PORT=str(port))


def _nuanxin(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """``python -m nuanxin ARGS`` run to its end, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "nuanxin", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def _servers(supervisor: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{supervisor}/task").iterdir():
        children += [int(pid) for pid in (task / "children").read_text().split()]
    return sorted(children)


def _connections_by_process(port: int, pids: list[int]) -> collections.Counter[int]:
    """Established connections to ``port`` each process holds (its socket inodes in
    /proc/net/tcp, local port ``port``, state 01)."""
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
            established.add(fields[9])
    held: collections.Counter[int] = collections.Counter()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = str(fd.readlink())
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in established:
                held[pid] += 1
    return held


def _wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "the supervisor exited"
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the servers did not answer")


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("serve")
    done = _nuanxin("migrate", env=_environment(folder, free_port()), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


@pytest.fixture
def serving(migrated: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "nuanxin", "serve", "--workers", "2", "--no-access-log"],
        env=_environment(migrated, port),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", supervisor)
        yield supervisor, port
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait(timeout=10)


def test_connections_opened_together_are_spread_over_both_servers(
    serving: tuple[subprocess.Popen[bytes], int],
) -> None:
    supervisor, port = serving
    servers = _servers(supervisor.pid)
    assert len(servers) == 2
    # 32 keep-alive connections opened at once, as a proxy's pool or a load test opens them:
    # the chance that a fair hash sends all of them to one socket is 2 in 2**32
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for _ in range(32)]
    try:
        for client in clients:
            assert client.get("/health").status_code == 200
        held = _connections_by_process(port, servers)
        assert sum(held.values()) == 32
        assert set(held) == set(servers), held
        assert min(held.values()) >= 4, held  # a fair split of 32 is this lopsided 1 in 10**4
    finally:
        for client in clients:
            client.close()


def test_a_server_that_dies_is_replaced_and_the_port_keeps_answering(
    serving: tuple[subprocess.Popen[bytes], int],
) -> None:
    supervisor, port = serving
    first, second = _servers(supervisor.pid)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = _servers(supervisor.pid)
        if len(now) == 2 and first not in now:
            break
        time.sleep(0.1)
    now = _servers(supervisor.pid)
    assert second in now and first not in now and len(now) == 2
    _wait_healthy(f"http://127.0.0.1:{port}", supervisor)
    for _ in range(20):  # fresh connections: whichever socket each lands on answers
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200


def test_one_sigterm_stops_the_supervisor_and_every_server(
    serving: tuple[subprocess.Popen[bytes], int],
) -> None:
    supervisor, port = serving
    servers = _servers(supervisor.pid)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=40) == 0
    for pid in servers:  # reaped by the supervisor: gone, not zombies left to init
        assert not Path(f"/proc/{pid}").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)


def test_servers_stop_when_their_supervisor_is_killed(
    serving: tuple[subprocess.Popen[bytes], int],
) -> None:
    supervisor, _ = serving
    servers = _servers(supervisor.pid)
    supervisor.kill()
    supervisor.wait(timeout=10)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in servers):
        time.sleep(0.1)
    # orphans get SIGTERM (PR_SET_PDEATHSIG) and exit; init reaps them
    assert not any(Path(f"/proc/{p}").exists() for p in servers)


def test_an_address_in_use_is_refused_with_its_reason(migrated: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _nuanxin("serve", "--workers", "2", env=_environment(migrated, port), timeout=60)
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


@pytest.mark.parametrize("given", ["0", "-2", "two"])
def test_a_worker_count_that_is_not_a_positive_whole_number_is_refused(
    given: str, migrated: Path
) -> None:
    done = _nuanxin(
        "serve", "--workers", given, env=_environment(migrated, free_port()), timeout=60
    )
    assert done.returncode == 2
    assert "--workers" in done.stderr


def test_servers_that_cannot_start_are_tried_three_times_then_everything_stops(
    migrated: Path,
) -> None:
    refused = _environment(migrated, free_port())
    refused["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:1/nothing"  # nothing listens
    done = _nuanxin("serve", "--workers", "2", "--no-access-log", env=refused, timeout=120)
    assert done.returncode == 1
    assert "a server failed to start 3 times" in done.stderr
    assert done.stderr.count("Application startup failed") >= 3
