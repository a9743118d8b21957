"""``python -m nuanxin cluster`` (``make cluster``): app servers and job workers on one machine.

What a real deployment runs, on loopback: the machine's PostgreSQL (``DATABASE_URL``) and
Redis (``REDIS_URL``), N app servers (uvicorn, one process each, ports ``NUANXIN_PORT`` + 1 ...)
and M job workers (``python -m nuanxin worker``), all behind one entry point, Debian's nginx on
``NUANXIN_HOST:NUANXIN_PORT``, which spreads requests over the servers and passes the client's
address on (``X-Forwarded-For``, trusted from 127.0.0.1 only), so that per-address limits
still see the client, not nginx. Sessions and limits live in Redis, rounds run on the workers:
any server answers any request. Stopped with Ctrl-C (or SIGTERM): nginx, servers, workers.

:class:`Cluster` is also what ``make bench-load`` starts with 1, 2 and 4 servers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from nuanxin.settings import ROOT, Settings

__all__ = ("Cluster", "nginx_config")

NGINX = "/usr/sbin/nginx"


def nginx_config(*, listen: str, servers: list[str], folder: Path) -> str:
    """An nginx configuration: ``listen`` in front of the app servers' ``host:port``s."""
    upstream = "\n".join(f"        server {address} max_fails=0;" for address in servers)
    return f"""worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "nginx-error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder / "nginx-body"};
    proxy_temp_path {folder / "nginx-proxy"};
    fastcgi_temp_path {folder / "nginx-fastcgi"};
    uwsgi_temp_path {folder / "nginx-uwsgi"};
    scgi_temp_path {folder / "nginx-scgi"};
    client_max_body_size 20m;
    upstream nuanxin {{
        least_conn;
{upstream}
        keepalive 64;
    }}
    server {{
        listen {listen};
        location / {{
            proxy_pass http://nuanxin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout;
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


@dataclass
class Cluster:
    """App servers, workers and nginx for ``settings`` (PostgreSQL and Redis required)."""

    settings: Settings
    servers: int = 2
    workers: int = 2
    folder: Path | None = None  # logs and nginx's files; default: NUANXIN_VAR_DIR/cluster
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.logs = self.folder or self.settings.var_dir / "cluster"

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.settings.database_url,
            REDIS_URL=self.settings.redis_url,
            REDIS_NAMESPACE=self.settings.redis_namespace,
            SECRET_KEY=self.settings.secret_key,  # one key: any server reads any session
            NUANXIN_ENV=self.settings.env,
            NUANXIN_VAR_DIR=str(self.settings.var_dir),
            EMBEDDED_WORKER="false",  # rounds run on the workers
            DATABASE_POOL_SIZE=str(self.settings.database_pool_size),
            DATABASE_STATEMENT_CACHE_SIZE=str(self.settings.database_statement_cache_size),
        )
        return env

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self._environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def start(self) -> Cluster:
        if not self.settings.is_postgres or not self.settings.redis_url:
            raise SystemExit("a cluster needs DATABASE_URL=postgresql://... and REDIS_URL")
        if not Path(NGINX).exists():
            raise SystemExit("a cluster needs nginx (Debian: apt-get install nginx)")
        self.logs.mkdir(parents=True, exist_ok=True)
        addresses = []
        for number in range(1, self.servers + 1):
            port = self.settings.port + number
            addresses.append(f"127.0.0.1:{port}")
            self._spawn(
                f"server-{number}",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "nuanxin.app:create_app",
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--proxy-headers",
                    "--forwarded-allow-ips",
                    "127.0.0.1",
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
            )
        for number in range(1, self.workers + 1):
            self._spawn(f"worker-{number}", [sys.executable, "-m", "nuanxin", "worker"])
        for address in addresses:
            self._wait(f"http://{address}/health")
        config = self.logs / "nginx.conf"
        config.write_text(
            nginx_config(
                listen=f"{self.settings.host}:{self.settings.port}",
                servers=addresses,
                folder=self.logs,
            ),
            encoding="utf-8",
        )
        self._spawn("nginx", [NGINX, "-c", str(config), "-g", "daemon off;"])
        self._wait(f"{self.url}/health")
        return self

    def _wait(self, url: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in self.processes):
                self.stop()
                raise SystemExit(f"a process of the cluster exited: see {self.logs}/*.log")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{url} did not answer in {timeout:.0f} s: see {self.logs}/*.log")

    def stop(self) -> None:
        """SIGTERM to every process (nginx first), SIGKILL to those still running after 20 s."""
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.processes.clear()
        shutil.rmtree(self.logs / "nginx-body", ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
