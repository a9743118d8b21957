"""Guessing is slow: logins and delivery codes are limited per account and per address."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar

from nuanxin.deliveries.tables import DeliveryCase
from nuanxin.identity import Role
from nuanxin.limits import Limit, SlidingWindow
from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.world import DELIVERY_CODE, build_world
from tests.nuanxin.conftest import PASSWORD, csrf_headers, make_user


def assert_too_many(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "too_many_requests"
    assert set(response.json()) == {"error", "detail", "field"}
    assert 1 <= int(response.headers["retry-after"]) <= 60


@pytest.fixture
async def other_address(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A second client, calling from another address."""
    transport = httpx.ASGITransport(app=cast(Any, app), client=("203.0.113.9", 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_ten_failed_logins_lock_the_account_for_a_minute_even_with_the_right_password(
    client: httpx.AsyncClient, other_address: httpx.AsyncClient
) -> None:
    await make_user("victim", Role.admin)
    await make_user("bystander", Role.admin)
    for _ in range(10):
        wrong = await client.post("/api/auth/token", json={"username": "victim", "password": "x"})
        assert wrong.status_code == 401
    right = {"username": "victim", "password": PASSWORD}
    assert_too_many(await client.post("/api/auth/token", json=right))
    # per account, whatever the address, and whatever the spelling of the name
    assert_too_many(await other_address.post("/api/auth/token", json=right))
    shouted = {"username": "VICTIM ", "password": PASSWORD}
    assert_too_many(await other_address.post("/api/auth/token", json=shouted))
    # other accounts are not affected
    ok = await client.post("/api/auth/token", json={"username": "bystander", "password": PASSWORD})
    assert ok.status_code == 201


async def test_successful_logins_do_not_count_against_the_account(
    client: httpx.AsyncClient,
) -> None:
    await make_user("script", Role.admin)
    for _ in range(12):
        ok = await client.post("/api/auth/token", json={"username": "script", "password": PASSWORD})
        assert ok.status_code == 201


async def test_thirty_login_attempts_from_one_address_are_the_limit(
    client: httpx.AsyncClient, other_address: httpx.AsyncClient
) -> None:
    for _ in range(30):  # malformed: cheap, but attempts all the same
        assert (await client.post("/api/auth/token", json={})).status_code == 400
    assert_too_many(await client.post("/api/auth/token", json={"username": "a", "password": "b"}))
    form = await client.post(
        "/login", data={"username": "a", "password": "b"}, headers=await csrf_headers(client)
    )
    assert_too_many(form)
    fine = await other_address.post("/api/auth/token", json={"username": "a", "password": "b"})
    assert fine.status_code == 401


async def test_wrong_delivery_codes_are_limited_per_courier_across_deliveries(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    courier = world.headers(Caller.COURIER)
    url = f"/api/deliveries/{world.delivery_id}/confirm"
    for _ in range(10):
        # wrong codes on a delivery that does not exist, then on the real one
        await client.post(
            "/api/deliveries/999999/confirm", json={"code": "00000000"}, headers=courier
        )
    assert_too_many(await client.post(url, json={"code": DELIVERY_CODE}, headers=courier))
    # the charity's other member is not blocked (from another account, same address: 10 < 30)
    member = world.headers(Caller.CHARITY)
    confirmed = await client.post(url, json={"code": DELIVERY_CODE}, headers=member)
    assert confirmed.status_code == 200, confirmed.text


async def test_wrong_delivery_codes_are_limited_per_address(
    client: httpx.AsyncClient, other_address: httpx.AsyncClient
) -> None:
    world = await build_world()
    for caller in (Caller.COURIER, Caller.STAFF, Caller.OTHER_CHARITY):
        for _ in range(10):
            await client.post(
                "/api/deliveries/999999/confirm", json={"code": "1"}, headers=world.headers(caller)
            )
    url = f"/api/deliveries/{world.delivery_id}/confirm"
    assert_too_many(
        await client.post(url, json={"code": DELIVERY_CODE}, headers=world.headers(Caller.ADMIN))
    )
    elsewhere = await other_address.post(
        url, json={"code": DELIVERY_CODE}, headers=world.headers(Caller.CHARITY)
    )
    assert elsewhere.status_code == 200, elsewhere.text


async def test_right_codes_never_count(client: httpx.AsyncClient) -> None:
    world = await build_world()
    url = f"/api/deliveries/{world.delivery_id}/confirm"
    for _ in range(15):  # a repeated right code answers "already confirmed"
        again = await client.post(
            url, json={"code": DELIVERY_CODE}, headers=world.headers(Caller.COURIER)
        )
        assert again.status_code == 200, again.text


async def test_the_public_not_received_report_takes_ten_per_address_a_minute(
    client: httpx.AsyncClient, other_address: httpx.AsyncClient
) -> None:
    await build_world()
    csrf = await csrf_headers(client)
    for _ in range(10):
        guess = await client.post("/api/delivery-reports", json={"code": "00000001"}, headers=csrf)
        assert guess.status_code == 404
    assert_too_many(
        await client.post("/api/delivery-reports", json={"code": DELIVERY_CODE}, headers=csrf)
    )
    assert await DeliveryCase.count() == 0, "a refused report writes nothing"
    real = await other_address.post(
        "/api/delivery-reports",
        json={"code": DELIVERY_CODE},
        headers=await csrf_headers(other_address),
    )
    assert real.status_code == 201, real.text


async def test_guessing_donation_tracking_codes_is_limited_per_address(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    for number in range(30):
        assert (await client.get(f"/api/track/NOPE{number}")).status_code in (400, 404)
    assert_too_many(await client.get(f"/api/track/{world.tracking_code_x}"))


def test_a_sliding_window_forgets_hits_older_than_its_window() -> None:
    window = SlidingWindow(Limit(2, 60.0))
    window.hit("k", 0.0)
    window.hit("k", 10.0)
    assert window.retry_after("k", 30.0) == pytest.approx(30.0)
    assert window.retry_after("k", 60.0) is None  # the first hit has left the window
    assert window.retry_after("other", 30.0) is None


def test_a_full_window_forgets_the_oldest_keys_rather_than_grow() -> None:
    window = SlidingWindow(Limit(1, 60.0), max_keys=3)
    for number in range(10):
        window.hit(f"k{number}", float(number))
    assert window.retry_after("k9", 9.0) is not None
    assert len(window._hits) <= 3


async def test_a_login_form_carrying_its_token_in_a_field_is_counted_and_answered(
    client: httpx.AsyncClient,
) -> None:
    """The CSRF check reads the form first; the limiter reads the same cached body."""
    await make_user("former", Role.admin)
    token = (await csrf_headers(client))["x-nuanxin-csrf"]
    form = {"username": "former", "password": "wrong", "_csrf_token": token}
    for _ in range(10):
        answer = await asyncio.wait_for(client.post("/login", data=form), timeout=10)
        assert answer.status_code == 401
    assert_too_many(await asyncio.wait_for(client.post("/login", data=form), timeout=10))
