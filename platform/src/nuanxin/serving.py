"""``python -m nuanxin serve --workers N``: app processes on one port, each with its own socket.

uvicorn's own ``--workers`` share one listening socket, and the process that wakes first
accepts every connection waiting: connections opened together (a proxy's pool, a load test's
16) can all land on one process and stay there (keep-alive) while the other idles. Here each
process binds a socket of its own to the same address with ``SO_REUSEPORT``, and the kernel
hands each new connection to one of the sockets by a hash of its addresses: spread evenly on
average, never all to the process that happened to be awake.

This process supervises them: it starts the servers (``python -m nuanxin.serving``), starts
another when one dies (and gives up, stopping all, when one fails to start three times in a
row), and on SIGINT or SIGTERM stops them all, each finishing the requests it holds
(uvicorn's graceful shutdown). A server whose supervisor is gone stops (``PR_SET_PDEATHSIG``).
Linux only (where ``SO_REUSEPORT`` balances); elsewhere ``serve --workers`` uses uvicorn's own.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

__all__ = ("SPREADS", "reuse_port_socket", "serve_many")

logger = logging.getLogger("nuanxin.serving")

SPREADS = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
"""Whether the kernel spreads connections over sockets bound to one port (Linux)."""

UP_SECONDS = 10.0
"""A server that exits sooner than this after its start counts as failing to start."""

START_TRIES = 3
"""A server that fails to start this many times in a row (a bad setting, the database
unreachable) would fail the same way again: everything stops instead."""

BACKLOG = 2048
"""Connections each server's socket queues before it accepts them (uvicorn's default)."""

STOP_SECONDS = 30.0
"""How long a server may take to finish its requests once asked to stop."""


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` that other processes may bind too.

    Not listening yet: uvicorn listens once the app has started, so no connection waits in
    the backlog of a server still starting (a replaced one, say) while others could answer.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _port_free(host: str, port: int) -> str | None:
    """None when the servers can bind ``host:port``; otherwise why not. Bound, never
    listening: a socket that listened here would be handed connections it never accepts."""
    try:
        reuse_port_socket(host, port).close()
    except OSError as error:
        return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return None


def serve_many(host: str, port: int, workers: int, *, access_log: bool = True) -> int:
    """Serve the app with ``workers`` processes on ``host:port`` until SIGINT or SIGTERM;
    the exit status (1 when a server could not start, or the address is taken)."""
    problem = _port_free(host, port)
    if problem is not None:
        sys.stderr.write(f"nuanxin: {problem}\n")
        return 1
    stopping: list[int] = []

    def stop(signum: int, _: object) -> None:
        stopping.append(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    command = [sys.executable, "-m", "nuanxin.serving", "--host", host, "--port", str(port)]
    command += ["--supervisor", str(os.getpid())]
    command += [] if access_log else ["--no-access-log"]
    servers: list[tuple[subprocess.Popen[bytes], float]] = []
    failed = [0] * workers  # exits in a row, each soon after its start
    status = 0
    try:
        servers = [_start(command) for _ in range(workers)]
        sys.stderr.write(f"nuanxin: {workers} servers on http://{host}:{port}/ (Ctrl-C stops)\n")
        while not stopping:
            time.sleep(0.2)
            for index, (server, started) in enumerate(servers):
                code = server.poll()
                if code is None:
                    continue
                soon = time.monotonic() - started < UP_SECONDS
                failed[index] = failed[index] + 1 if soon else 0
                if failed[index] >= START_TRIES:
                    sys.stderr.write(
                        f"nuanxin: a server failed to start {START_TRIES} times (exit {code})\n"
                    )
                    status = 1
                    stopping.append(0)
                    break
                logger.warning("server %s exited (%s): starting another", server.pid, code)
                servers[index] = _start(command)
    finally:
        _stop_all([server for server, _ in servers])
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return status


def _start(command: list[str]) -> tuple[subprocess.Popen[bytes], float]:
    # A process group of its own: a terminal's Ctrl-C reaches this process only, which then
    # asks each server once to stop (a second signal would make uvicorn drop its requests).
    return subprocess.Popen(command, process_group=0), time.monotonic()


def _stop_all(servers: Sequence[subprocess.Popen[bytes]]) -> None:
    for server in servers:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for server in servers:
        try:
            server.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _die_with_parent(parent: int) -> None:
    """SIGTERM this process when its supervisor dies (Linux's ``prctl``)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _serve_one(host: str, port: int, supervisor: int, *, access_log: bool) -> None:
    """One server: the app on a socket of its own (``python -m nuanxin.serving``)."""
    import uvicorn

    from nuanxin import db
    from nuanxin.app import create_app
    from nuanxin.settings import Settings

    _die_with_parent(supervisor)
    settings = Settings.from_env()
    db.configure(settings)
    sock = reuse_port_socket(host, port)
    config = uvicorn.Config(
        create_app(settings),
        log_level="info",
        proxy_headers=True,
        access_log=access_log,
        backlog=BACKLOG,
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m nuanxin.serving")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--supervisor", type=int, required=True)
    parser.add_argument("--no-access-log", action="store_true")
    arguments = parser.parse_args()
    _serve_one(
        arguments.host,
        arguments.port,
        arguments.supervisor,
        access_log=not arguments.no_access_log,
    )
