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

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import stripe
from litestar import Litestar

from nuanxin.app import create_app
from tests.conftest import WARM_SETTINGS, fresh_app
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
WARM_SETTINGS.append(lambda: stripe_settings(OFFLINE))  # built ahead under `make mutation`


@pytest.fixture
async def offline_client(db: None) -> AsyncIterator[httpx.AsyncClient]:
    """The app with Stripe configured, pointing at a port where nothing listens."""
    app = fresh_app(stripe_settings(OFFLINE))
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def refund_desk() -> Iterator[RefundDesk]:
    desk = RefundDesk()
    try:
        yield desk
    finally:
        desk.close()


@pytest.fixture
async def desk_client(db: None, refund_desk: RefundDesk) -> AsyncIterator[httpx.AsyncClient]:
    """The app with Stripe's refunds answered by ``refund_desk`` (see its docstring)."""
    app = create_app(stripe_settings(refund_desk.api_base), manage_pool=False)
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def charity(db: None) -> Charity:
    return await make_charity()
