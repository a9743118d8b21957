"""Helpers of the donations tests: a charity, its campaign, paid donations, signed events.

Fixtures are in conftest.py; tests import these helpers from here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import stripe

from nuanxin.accounts.tables import ApiToken, Organization
from nuanxin.donations.records import new_tracking_code
from nuanxin.donations.tables import Donation
from nuanxin.identity import Role, digest
from nuanxin.settings import Settings
from nuanxin.warehouses.tables import Warehouse
from tests.nuanxin.conftest import csrf_headers, make_region, make_user
from tests.stripe_server import DeliveredWebhook, LocalStripe, WebhookReceiver

WEBHOOK_SECRET = "whsec_nuanxin_tests_0123456789"
SECRET_KEY = "sk_test_nuanxin"
PUBLISHABLE_KEY = "pk_test_nuanxin"
FORM_KEY = "form-7c4e1f0a9b8d4e2f"


@dataclass(frozen=True, slots=True)
class StripeServer:
    server: LocalStripe
    webhooks: WebhookReceiver
    client: stripe.StripeClient

    @property
    def api_base(self) -> str:
        return self.server.api_base


def stripe_settings(api_base: str) -> Settings:
    return dataclasses.replace(
        Settings.from_env(),
        stripe_secret_key=SECRET_KEY,
        stripe_publishable_key=PUBLISHABLE_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=api_base,
    )


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


def future(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


async def buy(
    client: httpx.AsyncClient, charity: Charity, cost_fen: int, quantity: int = 10
) -> httpx.Response:
    return await client.post(
        f"/api/campaigns/{charity.campaign_id}/purchases",
        headers=charity.member,
        json={
            "item_code": "coal",
            "quantity": quantity,
            "cost_fen": cost_fen,
            "warehouse_id": charity.warehouse_id,
        },
    )


async def start(
    client: httpx.AsyncClient, campaign_id: int, amount_fen: int = 12_34, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/campaigns/{campaign_id}/donations",
        json={"amount_fen": amount_fen, "donor_name": "王先生", **extra},
        headers=await csrf_headers(client),  # a browser's form: the CSRF header
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def intent_id(started: dict[str, Any]) -> str:
    return str(started["client_secret"]).split("_secret_")[0]


def pay(localstripe: StripeServer, started: dict[str, Any], method: str = "pm_card_visa") -> str:
    """What Stripe.js does in the browser: attach a test card, confirm."""
    intent = intent_id(started)
    localstripe.client.v1.payment_intents.update(intent, params={"payment_method": method})
    localstripe.client.v1.payment_intents.confirm(intent)
    return intent


async def paid(
    client: httpx.AsyncClient, localstripe: StripeServer, campaign_id: int, amount_fen: int
) -> tuple[dict[str, Any], str]:
    started = await start(client, campaign_id, amount_fen)
    intent = pay(localstripe, started)
    webhook = localstripe.webhooks.wait_for("payment_intent.succeeded", intent)
    assert await deliver_webhook(client, webhook) == "applied"
    return started, intent


async def status_of(donation_id: int) -> tuple[str, int]:
    row = (
        await Donation.select(Donation.status, Donation.refunded_fen)
        .where(Donation.id == donation_id)
        .first()
        .run()
    )
    assert row is not None
    return str(row["status"]), int(row["refunded_fen"])
