"""Security headers on every answer; cookies HttpOnly, SameSite, secure in production; CSRF."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar
from litestar.stores.memory import MemoryStore

from nuanxin.app import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, create_app
from nuanxin.identity import Role
from nuanxin.security import content_security_policy
from nuanxin.settings import Settings
from tests.nuanxin.conftest import PASSWORD, csrf_headers, make_user
from tests.nuanxin.helpers import bearer

SITE_PATHS = (
    "/",
    "/login",
    "/health",
    "/api/auth/me",  # 401
    "/no/such/page",  # 404
    "/static/site.css",
    "/schema/openapi.json",
)


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", SITE_PATHS)
async def test_every_answer_carries_the_security_headers(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"accept": "application/json"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"
    policy = directives(response.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["script-src"] == ["'self'", "https://js.stripe.com"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert "strict-transport-security" not in response.headers  # not outside production


def test_the_policy_allows_no_inline_code_and_only_stripe_as_a_third_party() -> None:
    settings = dataclasses.replace(
        Settings.from_env(), map_tile_url="https://tiles.example.cn/{z}/{x}/{y}.png"
    )
    policy = directives(content_security_policy(settings))
    every_source = " ".join(" ".join(values) for values in policy.values())
    assert "unsafe-inline" not in every_source
    assert "unsafe-eval" not in every_source
    assert policy["img-src"] == ["'self'", "data:", "https://tiles.example.cn"]
    assert policy["frame-src"] == ["https://js.stripe.com", "https://hooks.stripe.com"]
    assert policy["default-src"] == ["'self'"]


async def test_the_admin_and_the_api_docs_have_their_own_looser_policy(
    client: httpx.AsyncClient,
) -> None:
    admin = await client.get("/admin/")
    admin_policy = directives(admin.headers["content-security-policy"])
    assert admin_policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" in admin_policy["script-src"]
    docs = await client.get("/schema/swagger")
    docs_policy = directives(docs.headers["content-security-policy"])
    assert "https://cdn.jsdelivr.net" in docs_policy["script-src"]
    assert docs_policy["frame-ancestors"] == ["'none'"]
    # the rest of /schema keeps the site's policy
    schema = await client.get("/schema/openapi.json")
    assert "'unsafe-inline'" not in schema.headers["content-security-policy"]


async def test_api_answers_are_never_cached(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/auth/me")).headers["cache-control"] == "no-store"


async def test_production_adds_hsts_and_secure_cookies(db: None, tmp_path: Path) -> None:
    settings = dataclasses.replace(Settings.from_env(), env="production", var_dir=tmp_path)
    app = create_app(settings, manage_pool=False)
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        await make_user("prod_admin", Role.admin)
        response = await http.get("/health")
        assert response.headers["strict-transport-security"].startswith("max-age=31536000")
        csrf = cookie_attributes(response, CSRF_COOKIE)
        assert {"secure", "samesite=strict"} <= csrf  # scripts read it: not HttpOnly
        login = await http.post(
            "/api/auth/login",
            json={"username": "prod_admin", "password": PASSWORD},
            headers={CSRF_HEADER: http.cookies[CSRF_COOKIE]},
        )
        assert login.status_code == 200, login.text
        session = cookie_attributes(login, SESSION_COOKIE)
        assert {"secure", "httponly", "samesite=lax"} <= session


def cookie_attributes(response: httpx.Response, name: str) -> set[str]:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return {part.strip().lower() for part in header.split(";")[1:]}
    raise AssertionError(f"no {name} cookie in {response.headers.get_list('set-cookie')}")


async def test_a_request_that_keeps_nothing_in_a_session_gets_no_session(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    """An anonymous visit, or an API client with a bearer token, leaves no session in the
    store and no session cookie (each would otherwise add an empty session to Redis); the API
    client gets no cookie at all."""
    await make_user("bearer_admin", Role.admin)
    anonymous = await client.get("/health")
    assert anonymous.status_code == 200
    token = await bearer(client, "bearer_admin")
    with_token = await client.get("/api/auth/me", headers=token)
    assert with_token.status_code == 200
    for response in (anonymous, with_token):
        sessions = [
            header
            for header in response.headers.get_list("set-cookie")
            if header.startswith(f"{SESSION_COOKIE}=")
        ]
        assert sessions == []
    assert with_token.headers.get_list("set-cookie") == []  # no CSRF cookie it would not use
    store = app.stores.get("sessions")
    assert isinstance(store, MemoryStore)
    assert [key async for key in _keys(store)] == []
    login = await client.post(
        "/api/auth/login",
        json={"username": "bearer_admin", "password": PASSWORD},
        headers=await csrf_headers(client),
    )
    assert login.status_code == 200
    assert [key async for key in _keys(store)] == [client.cookies[SESSION_COOKIE]]
    assert (await client.get("/api/auth/me")).json()["username"] == "bearer_admin"


async def _keys(store: MemoryStore) -> AsyncIterator[str]:
    for key in list(store._store):  # the test's own in-memory store: no other way to list it
        if await store.exists(key):
            yield key


async def test_cookies_are_http_only_and_same_site_outside_production_too(
    client: httpx.AsyncClient,
) -> None:
    await make_user("dev_admin", Role.admin)
    response = await client.get("/health")
    assert "samesite=strict" in cookie_attributes(response, CSRF_COOKIE)
    login = await client.post(
        "/api/auth/login",
        json={"username": "dev_admin", "password": PASSWORD},
        headers=await csrf_headers(client),
    )
    assert {"httponly", "samesite=lax"} <= cookie_attributes(login, SESSION_COOKIE)


async def test_a_cookie_session_cannot_post_without_the_csrf_token(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    await make_user("csrf_admin", Role.admin)
    headers = await csrf_headers(client)
    login = await client.post(
        "/api/auth/login", json={"username": "csrf_admin", "password": PASSWORD}, headers=headers
    )
    assert login.status_code == 200
    forged = await client.post("/api/auth/logout")  # the session cookie alone
    assert forged.status_code == 403
    assert forged.json()["error"] == "forbidden"
    wrong = await client.post("/api/auth/logout", headers={CSRF_HEADER: "not-the-token"})
    assert wrong.status_code == 403
    form_without = await client.post("/login/logout", data={})
    assert form_without.status_code == 403
    still_in = await client.get("/api/auth/me")
    assert still_in.status_code == 200, "a refused forgery changed nothing"
    form_with = await client.post("/login/logout", data={"_csrf_token": headers[CSRF_HEADER]})
    assert form_with.status_code == 303
    assert (await client.get("/api/auth/me")).status_code == 401
