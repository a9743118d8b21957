"""Fixtures of the donations tests: a real localstripe on loopback, a charity with a campaign.

localstripe starts once per session (127.0.0.1 only, its own state file) and stops at the end.
Tests that need it take the ``localstripe`` fixture and carry the ``localstripe`` marker: if it
cannot start they fail with its output, they never skip. Webhooks reach the app the way
Stripe would send them: localstripe POSTs each signed event to a loopback receiver
(``tests.stripe_server.WebhookReceiver``), and the test hands the raw body and its
``Stripe-Signature`` to the app's webhook endpoint. What localstripe does not emit (refund
events, events out of order) is signed by ``helpers.sign`` with the same webhook secret. What
localstripe cannot answer (a refund Stripe fails or refuses) comes from ``RefundDesk``, a
loopback stand-in for Stripe's refunds endpoint alone.
"""

from __future__ import annotations

import dataclasses
import functools
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import stripe
from litestar import Litestar

from nuanxin.app import create_app
from nuanxin.settings import Settings
from tests.conftest import WARM_FIXTURES, fresh_app
from tests.nuanxin.donations.helpers import (
    SECRET_KEY,
    WEBHOOK_SECRET,
    Charity,
    StripeServer,
    make_charity,
    stripe_settings,
)
from tests.stripe_server import LocalStripe, RefundDesk, WebhookReceiver


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "localstripe: needs the localstripe server (fails, never skips, without it)"
    )


@pytest.fixture(scope="session")
def stripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StripeServer]:
    state: Path = tmp_path_factory.mktemp("localstripe") / "state.pickle"
    server = LocalStripe(state).start()  # raises LocalStripeError: the tests fail loudly
    receiver = WebhookReceiver()
    try:
        server.register_webhook(receiver.url, WEBHOOK_SECRET)
        client = stripe.StripeClient(
            SECRET_KEY, base_addresses={"api": server.api_base}, max_network_retries=0
        )
        yield StripeServer(server, receiver, client)
    finally:
        receiver.close()
        server.stop()


@pytest.fixture
def localstripe(stripe_server: StripeServer) -> StripeServer:
    return stripe_server


@pytest.fixture
def paying_app(db: None, localstripe: StripeServer) -> Litestar:
    """The app with Stripe configured against localstripe."""
    return create_app(stripe_settings(localstripe.api_base), manage_pool=False)


@pytest.fixture
async def pay_client(paying_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=cast(Any, paying_app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


OFFLINE = "http://127.0.0.1:9"


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for one in sockets:
            one.bind(("127.0.0.1", 0))
        return [int(one.getsockname()[1]) for one in sockets]
    finally:
        for one in sockets:
            one.close()


DESK_PORTS = _free_ports(2)
"""The refund desk's ports, chosen once when this file is imported: a process forked afterwards
(`make mutation` runs two at a time) serves its desk on the first of them that is free, so that
its app's settings (which carry Stripe's address) are known ahead and its apps built there. Taken
by something else meanwhile: a free port, and an app built for it."""

# Built ahead under `make mutation`, one app per test that asks for it (see tests/conftest.py).
# The session's app counts here, not beside its fixture: the other modules keep their four.
WARM_FIXTURES["app"] = [Settings.from_env]
WARM_FIXTURES["offline_client"] = [lambda: stripe_settings(OFFLINE)]
WARM_FIXTURES["hkd_client"] = [lambda: _in_hkd(stripe_settings(OFFLINE))]
WARM_FIXTURES["desk_client"] = [
    functools.partial(stripe_settings, f"http://127.0.0.1:{port}") for port in DESK_PORTS
]


@pytest.fixture
async def offline_client(db: None) -> AsyncIterator[httpx.AsyncClient]:
    """The app with Stripe configured, pointing at a port where nothing listens."""
    app = fresh_app(stripe_settings(OFFLINE))
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def _in_hkd(settings: Settings) -> Settings:
    return dataclasses.replace(settings, currency="hkd")


@pytest.fixture
async def hkd_client(db: None) -> AsyncIterator[httpx.AsyncClient]:
    """The app of a platform that takes Hong Kong dollars, Stripe offline (as above)."""
    app = fresh_app(_in_hkd(stripe_settings(OFFLINE)))
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture(scope="session")
def desk_server() -> Iterator[RefundDesk]:
    """One refund desk for the session's tests, on the first of ``DESK_PORTS`` that is free."""
    desk = None
    for port in [*DESK_PORTS, 0]:
        try:
            desk = RefundDesk(port)
        except OSError:  # another process's desk, or taken since
            continue
        break
    assert desk is not None
    try:
        yield desk
    finally:
        desk.close()


@pytest.fixture
def refund_desk(desk_server: RefundDesk) -> RefundDesk:
    """The session's refund desk, as new: no request seen, the next refunds succeed."""
    desk_server.reset()
    return desk_server


@pytest.fixture
async def desk_client(db: None, refund_desk: RefundDesk) -> AsyncIterator[httpx.AsyncClient]:
    """The app with Stripe's refunds answered by ``refund_desk`` (see its docstring)."""
    app = fresh_app(stripe_settings(refund_desk.api_base))
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def charity(db: None) -> Charity:
    return await make_charity()
