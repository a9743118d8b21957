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
    cases = await DeliveryCase.count()  # the world's own case
    csrf = await csrf_headers(client)
    for _ in range(10):
        guess = await client.post("/api/delivery-reports", json={"code": "00000001"}, headers=csrf)
        assert guess.status_code == 404
    assert_too_many(
        await client.post("/api/delivery-reports", json={"code": DELIVERY_CODE}, headers=csrf)
    )
    assert await DeliveryCase.count() == cases, "a refused report writes nothing"
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


def spellings(number: int) -> list[str]:
    """Paths the router resolves to the same delivery: signs, spaces, zeros, slashes."""
    return [
        f"/api/deliveries/+{number}/confirm",
        f"/api/deliveries/%20{number}/confirm",
        f"/api/deliveries/%2B{number}/confirm",
        f"/api/deliveries/0{number}/confirm",
        f"/api/deliveries/{number}/confirm/",
    ]


async def test_every_spelling_of_a_delivery_path_is_the_same_limited_operation(
    client: httpx.AsyncClient,
) -> None:
    """Signs, spaces, zeros and slashes resolve to the confirm operation: each wrong code
    counts against the courier, and the eleventh attempt is refused."""
    world = await build_world()
    courier = world.headers(Caller.COURIER)
    for number in range(10):
        path = spellings(999990 + number)[number % 5]
        wrong = await client.post(path, json={"code": "00000000"}, headers=courier)
        assert wrong.status_code == 404, (path, wrong.text)
    right = await client.post(
        f"/api/deliveries/{world.delivery_id}/confirm",
        json={"code": DELIVERY_CODE},
        headers=courier,
    )
    assert_too_many(right)


async def test_the_courier_page_form_counts_with_the_api(client: httpx.AsyncClient) -> None:
    """The page's code form is the same operation as the API's: the same limits."""
    world = await build_world()
    courier = world.headers(Caller.COURIER)
    for number in range(10):
        if number % 2:
            answer = await client.post(
                f"/courier/deliveries/999{number}/confirm", data={"code": "1"}, headers=courier
            )
        else:
            answer = await client.post(
                f"/api/deliveries/999{number}/confirm", json={"code": "1"}, headers=courier
            )
        assert 400 <= answer.status_code < 500 and answer.status_code != 429, answer.text
    page = await client.post(
        f"/courier/deliveries/{world.delivery_id}/confirm",
        data={"code": DELIVERY_CODE},
        headers=courier,
    )
    assert_too_many(page)


@pytest.mark.parametrize(
    "content_type", ["text/plain", None, "application/x-www-form-urlencoded", "application/json"]
)
async def test_a_login_counts_against_its_account_whatever_its_content_type(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    """The API decodes the body as JSON whatever the header says; so does the limit."""
    await make_user("victim", Role.admin)
    headers = {} if content_type is None else {"content-type": content_type}
    wrong = b'{"username": "victim", "password": "wrong"}'
    for _ in range(10):
        answer = await client.post("/api/auth/token", content=wrong, headers=headers)
        assert answer.status_code == 401, answer.text
    right = {"username": "victim", "password": PASSWORD}
    assert_too_many(await client.post("/api/auth/token", json=right))


async def test_a_page_login_counts_against_its_account_whatever_its_content_type(
    client: httpx.AsyncClient,
) -> None:
    """The page decodes its body as a form whatever the header says; so does the limit."""
    await make_user("victim", Role.admin)
    csrf = await csrf_headers(client)
    for content_type in ("text/plain", "application/json", "application/octet-stream") * 4:
        answer = await client.post(
            "/login",
            content=b"username=victim&password=wrong",
            headers={**csrf, "content-type": content_type},
        )
        if answer.status_code == 429:
            break
        assert answer.status_code == 401, answer.text
    right = {"username": "victim", "password": PASSWORD}
    assert_too_many(await client.post("/api/auth/token", json=right))


def test_every_operation_that_takes_a_secret_to_guess_is_limited(app: Litestar) -> None:
    """Logins and every route reading a code (path, query or body) name their kind of guess."""
    from nuanxin.limits import GUESSING, Guess

    limited: dict[str, Guess] = {}
    unlimited: list[str] = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            data = getattr(handler, "parsed_data_field", None)
            fields = set(getattr(data.annotation, "__struct_fields__", ())) if data else set()
            takes_code = "{code:" in route.path or "code" in fields
            logs_in = "password" in fields and fields <= {"username", "password", "next"}
            kind = handler.opt.get(GUESSING)
            if handler.http_methods <= {"OPTIONS", "HEAD"}:
                continue
            if kind is not None:
                limited[f"{sorted(handler.http_methods)} {route.path}"] = Guess(kind)
            elif takes_code or logs_in:
                unlimited.append(f"{sorted(handler.http_methods)} {route.path}")
    assert not unlimited, f"guessable but unlimited: {unlimited}"
    assert set(limited.values()) == set(Guess), limited


@pytest.mark.parametrize(
    ("lang", "says"), [("en", "Too many attempts in a short time"), ("zh-CN", "尝试次数过多")]
)
async def test_a_browser_over_the_limit_gets_the_site_s_page_in_its_language(
    client: httpx.AsyncClient, lang: str, says: str
) -> None:
    headers = {**await csrf_headers(client), "accept": "text/html"}
    for _ in range(30):
        await client.post(
            f"/login?lang={lang}", data={"username": "a", "password": "b"}, headers=headers
        )
    refused = await client.post(
        f"/login?lang={lang}", data={"username": "a", "password": "b"}, headers=headers
    )
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert f'lang="{lang}"' in refused.text and says in refused.text
