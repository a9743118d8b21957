"""Fixtures of the donations tests: a real localstripe on loopback, a charity with a campaign.

localstripe starts once per session (127.0.0.1 only, its own state file) and stops at the end.
Tests that need it take the ``localstripe`` fixture and carry the ``localstripe`` marker: if it
cannot start they fail with its output, they never skip. Webhooks reach the app the way
Stripe would send them: localstripe POSTs each signed event to a loopback receiver
(``tests.stripe_server.WebhookReceiver``), and the test hands the raw body and its
``Stripe-Signature`` to the app's webhook endpoint. What localstripe does not emit (refund
events, events out of order) is signed here with the same webhook secret.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import stripe
from litestar import Litestar

from nuanxin.accounts.tables import ApiToken, Organization
from nuanxin.app import create_app
from nuanxin.donations.records import new_tracking_code
from nuanxin.donations.tables import Donation
from nuanxin.identity import Role, digest
from nuanxin.offers.catalogue import seed_catalogue
from nuanxin.settings import Settings
from nuanxin.warehouses.tables import Warehouse
from tests.nuanxin.conftest import make_region, make_user
from tests.stripe_server import DeliveredWebhook, LocalStripe, WebhookReceiver

WEBHOOK_SECRET = "whsec_nuanxin_tests_0123456789"
SECRET_KEY = "sk_test_nuanxin"
PUBLISHABLE_KEY = "pk_test_nuanxin"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "localstripe: needs the localstripe server (fails, never skips, without it)"
    )


@dataclass(frozen=True, slots=True)
class StripeServer:
    server: LocalStripe
    webhooks: WebhookReceiver
    client: stripe.StripeClient

    @property
    def api_base(self) -> str:
        return self.server.api_base


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


def stripe_settings(api_base: str) -> Settings:
    return dataclasses.replace(
        Settings.from_env(),
        stripe_secret_key=SECRET_KEY,
        stripe_publishable_key=PUBLISHABLE_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=api_base,
    )


@pytest.fixture
def paying_app(db: None, localstripe: StripeServer) -> Litestar:
    """The app with Stripe configured against localstripe."""
    return create_app(stripe_settings(localstripe.api_base), manage_pool=False)


@pytest.fixture
async def pay_client(paying_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=cast(Any, paying_app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def offline_client(db: None) -> AsyncIterator[httpx.AsyncClient]:
    """The app with Stripe configured, pointing at a port where nothing listens."""
    app = create_app(stripe_settings("http://127.0.0.1:9"), manage_pool=False)
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass(kw_only=True)
class Charity:
    organization_id: int
    warehouse_id: int
    county_id: int
    member: dict[str, str]  # bearer headers of a member
    other_member: dict[str, str]  # a member of another verified charity
    campaign_id: int = 0


async def _token(user_id: int, name: str) -> dict[str, str]:
    now = datetime.now(UTC)
    await ApiToken.insert(
        ApiToken(
            user=user_id,
            token_hash=digest(name),
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
    ).run()
    return {"authorization": f"Bearer {name}"}


async def _organization(name: str, credit: str, region: int, status: str = "verified") -> int:
    now = datetime.now(UTC)
    rows = (
        await Organization.insert(
            Organization(
                name=name,
                credit_code=credit,
                status=status,
                region=region,
                contact_name="联系人",
                contact_phone="13800000000",
                created_at=now,
                verified_at=now,
            )
        )
        .returning(Organization.id)
        .run()
    )
    return int(rows[0]["id"])


async def make_charity(*, county_code: str = "230111", status: str = "verified") -> Charity:
    await seed_catalogue()
    county = await make_region(county_code)
    organization = await _organization("暖冬基金会", "91230100DONATE01X", county, status)
    other = await _organization("他山基金会", "91230100DONATE02X", county)
    rows = (
        await Warehouse.insert(
            Warehouse(
                organization=organization,
                name="呼兰仓库",
                address="呼兰区仓库路1号",
                region=county,
                lat=45.89,
                lon=126.58,
            )
        )
        .returning(Warehouse.id)
        .run()
    )
    member = await make_user("d_member", Role.charity, organization=organization)
    other_member = await make_user("d_other", Role.charity, organization=other)
    return Charity(
        organization_id=organization,
        warehouse_id=int(rows[0]["id"]),
        county_id=county,
        member=await _token(member, "donations-member-token"),
        other_member=await _token(other_member, "donations-other-token"),
    )


async def open_campaign(
    client: httpx.AsyncClient, charity: Charity, *, items: list[str] | None = None
) -> int:
    ends = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    response = await client.post(
        "/api/campaigns",
        headers=charity.member,
        json={
            "title": "呼兰区冬季取暖",
            "region_code": "230111",
            "item_codes": items or ["coal", "quilt"],
            "target_fen": 1_000_000,
            "ends_on": ends,
        },
    )
    assert response.status_code == 201, response.text
    campaign_id = int(response.json()["id"])
    charity.campaign_id = campaign_id
    return campaign_id


@pytest.fixture
async def charity(db: None) -> Charity:
    return await make_charity()


async def paid_donation(campaign_id: int, organization_id: int, amount_fen: int) -> int:
    """A donation already paid (for tests of the books, not of Stripe)."""
    now = datetime.now(UTC)
    code = new_tracking_code()
    rows = (
        await Donation.insert(
            Donation(
                tracking_code=code,
                kind="money",
                organization=organization_id,
                campaign=campaign_id,
                amount_fen=amount_fen,
                status="paid",
                created_at=now,
                updated_at=now,
                settled_at=now,
            )
        )
        .returning(Donation.id)
        .run()
    )
    return int(rows[0]["id"])


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """A Stripe-Signature header for ``payload``, as Stripe computes it."""
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def event_payload(event_id: str, event_type: str, obj: dict[str, Any], created: int) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": created,
            "api_version": "2017-08-15",
            "data": {"object": obj},
        }
    ).encode()


async def deliver(client: httpx.AsyncClient, body: bytes, signature: str) -> httpx.Response:
    return await client.post(
        "/api/stripe/webhook",
        content=body,
        headers={"stripe-signature": signature, "content-type": "application/json"},
    )


async def deliver_webhook(client: httpx.AsyncClient, webhook: DeliveredWebhook) -> str:
    response = await deliver(client, webhook.body, webhook.signature)
    assert response.status_code == 200, response.text
    return str(response.json()["outcome"])
