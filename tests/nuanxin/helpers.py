"""Helpers shared by the platform's test modules (never imported from a test module)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from tests.nuanxin.conftest import PASSWORD, csrf_headers

__all__ = (
    "CREDIT_CODE",
    "SIGN_UP_PASSWORD",
    "assert_error",
    "bearer",
    "member_bearer",
    "offer_body",
    "sign_up",
    "sign_up_body",
    "until_one_waits_for_a_lock",
    "wipe",
)

SIGN_UP_PASSWORD = "a long password"


def assert_error(response: httpx.Response, status: int, error: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail", "field"}
    assert body["error"] == error
    assert isinstance(body["detail"], str) and body["detail"]
    return dict(body)


async def bearer(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    issued = await client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    return {"authorization": f"Bearer {issued.json()['token']}"}


async def member_bearer(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    """A bearer token for an account made by signing up (or added by a member)."""
    issued = await client.post(
        "/api/auth/token", json={"username": username, "password": SIGN_UP_PASSWORD}
    )
    assert issued.status_code == 201, issued.text
    return {"authorization": f"Bearer {issued.json()['token']}"}


CREDIT_CODE = "91110108551385082Q"  # a real code: its check character is right


def sign_up_body(**changes: Any) -> dict[str, Any]:
    return {
        "name": "暖冬公益",
        "credit_code": CREDIT_CODE,
        "region_code": "230111",
        "contact_name": "李四",
        "contact_phone": "13800001234",
        "username": "nuandong",
        "password": SIGN_UP_PASSWORD,
        **changes,
    }


def offer_body(warehouse_id: int, **changes: Any) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "warehouse_id": warehouse_id,
        "item_code": "quilt",
        "quantity": 40,
        "radius_km": 30,
        "available_from": today.isoformat(),
        "available_until": (today + timedelta(days=60)).isoformat(),
        **changes,
    }


async def sign_up(client: httpx.AsyncClient, **changes: Any) -> httpx.Response:
    return await client.post(
        "/api/organizations/signup",
        json=sign_up_body(**changes),
        headers=await csrf_headers(client),
    )


async def wipe() -> None:
    """Delete every row of every table, children first: for tests that commit real rows."""
    from nuanxin.admin import TABLES

    order = [
        "AuditEntry",
        "SafetyCheck",
        "FollowUp",
        "ColdSpell",
        "OfflineReview",
        "ConfirmationKey",
        "DeliveryCase",
        "Delivery",
        "Visit",
        "Allocation",
        "Proposal",
        "MatchingRound",
        "Purchase",
        "Payment",
        "WebhookEvent",
        "Donation",
        "Campaign",
        "HelpRequest",
        "Escalation",
        "Need",
        "Member",
        "Household",
        "Offer",
        "ApiToken",
        "User",
        "Warehouse",
        "Organization",
        "GeocodeCache",
        "Region",
    ]
    by_name = {table.__name__: table for table in TABLES}
    kept = {"Item"}  # the catalogue: reference rows a migration seeds
    assert set(order) | kept == set(by_name), set(by_name) ^ set(order) ^ kept
    for name in order:
        table = by_name[name]
        if name == "Region":
            await table.update({table.parent: None}, force=True).run()  # type: ignore[attr-defined]
        await table.delete(force=True).run()


async def rows_dropped_on_write(table: str, event: str) -> None:
    """From now on, in this test's transaction, the database silently drops every ``event``
    (INSERT or UPDATE) of a row of ``table``: what a guarded write that finds its row changed
    since it was read does (a BEFORE trigger that skips the row; rolled back with the test)."""
    from piccolo.querystring import QueryString

    from nuanxin.db import engine, is_postgres

    name = f"drop_{event.lower()}_{table}"
    if is_postgres():
        statements = [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS"
            " 'BEGIN RETURN NULL; END'",
            f"CREATE TRIGGER {name} BEFORE {event} ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    else:
        statements = [
            f"CREATE TRIGGER {name} BEFORE {event} ON {table} BEGIN SELECT RAISE(IGNORE); END"
        ]
    for statement in statements:
        await engine().run_querystring(QueryString(statement))


async def until_one_waits_for_a_lock(
    prober: asyncpg.Connection, task: asyncio.Future[Any] | None = None
) -> bool:
    """Whether a connection to this database comes to wait for a lock within about 10 s
    (PostgreSQL's ``pg_stat_activity``, read from ``prober``); False as soon as ``task``, the
    work expected to wait, is done without having waited."""
    for _ in range(400):
        if task is not None and task.done():
            return False
        waiting = await prober.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        )
        if waiting:
            return True
        await asyncio.sleep(0.025)
    return False
