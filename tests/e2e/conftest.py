"""Browser tests: the app served by uvicorn on a free loopback port over a fresh SQLite demo,
driven by Playwright through Debian's chromium (never a downloaded browser).

Screenshots land in ``var/screenshots/<timestamp>/`` (printed at the end of the run).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nuanxin.settings import ROOT

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():  # `make e2e` installs it; without it the browser tests cannot run
    pytest.skip(
        "Debian's chromium is not installed (make e2e installs it)", allow_module_level=True
    )

from playwright.sync_api import Browser, Page, Playwright, sync_playwright  # noqa: E402

PASSWORD = "nuanxin-demo"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = ROOT / "var" / "screenshots" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m nuanxin demo`` on a fresh database: migrations, regions, demo data, uvicorn."""
    folder = tmp_path_factory.mktemp("e2e")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'e2e.sqlite3'}",
        "NUANXIN_VAR_DIR": str(folder / "var"),
        "NUANXIN_ENV": "development",
        "NUANXIN_HOST": "127.0.0.1",
        "NUANXIN_PORT": str(port),
        "MAP_TILE_URL": "",  # offline: markers on a plain background
        "STRIPE_SECRET_KEY": "",
        "STRIPE_PUBLISHABLE_KEY": "",
    }
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "nuanxin", "demo"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    # Migrations, the gazetteer and the demo made through the services: about 20 s on a quiet
    # machine, several times that on a busy one.
    deadline = time.monotonic() + 360
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the app did not start: {(folder / 'server.log').read_text()}")
        time.sleep(0.3)
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    # Module scope: the sync driver runs its own event loop, which must be gone before the
    # asyncio tests that follow in the same session.
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=server, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    context.close()


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form[data-testid=login] button[type=submit]")
    page.wait_for_load_state()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SHOTS.exists():
        terminalreporter.write_line(f"screenshots: {SHOTS}")
