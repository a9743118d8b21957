"""CSRF guards ambient credentials only, and a bad bearer token is refused everywhere.

* A state-changing request that carries the session cookie needs the CSRF token; one without
  the session cookie (an API client, an anonymous caller on a public endpoint) does not, since
  a browser cannot be made to send a credential it does not hold. The logins, which start a
  session, always need it.
* A bearer token that is invalid, revoked or expired answers 401 on every route, public ones
  included: it never passes as anonymous.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from litestar import Litestar

from nuanxin.accounts.tables import ApiToken
from nuanxin.app import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from nuanxin.identity import Role, digest
from tests.nuanxin.authz.matrix import call, endpoints, fill_path, load_policy
from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.world import World, build_world
from tests.nuanxin.conftest import PASSWORD, csrf_headers, make_user

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
LOGINS = {"/login", "/api/auth/login"}
WEBHOOK = "/api/stripe/webhook"
# Signed by Stripe, or answering only with a token the forging page could not read.
NEVER_CSRF = {WEBHOOK, "/api/auth/token"}


def public_posts(app: Litestar) -> list[tuple[str, str, str]]:
    """(operation, method, path) of every state-changing route that needs no login."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not handler.opt.get("exclude_from_auth"):
                continue
            for key, method, path in endpoints(app):
                if path == route.path and method in UNSAFE & set(handler.http_methods):
                    found.append((key, method, path))
    return sorted(set(found))


async def test_the_public_posts_are_the_ones_the_issue_names(app: Litestar) -> None:
    paths = {path for _, _, path in public_posts(app)}
    for path in (
        "/api/help-requests/report",
        "/api/organizations/signup",
        "/api/goods-donations",
        "/api/delivery-reports",
    ):
        assert any(p.rstrip("/") == path for p in paths), (path, paths)


async def test_public_posts_take_an_api_client_without_any_cookie(app: Litestar) -> None:
    """No session cookie, no CSRF cookie: the endpoint answers on its merits, never 403."""
    world = await build_world()
    policy = load_policy()
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    wrong = []
    for key, method, path in public_posts(app):
        if path.rstrip("/") in LOGINS or path == WEBHOOK:
            continue
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as fresh:
            response = await call(fresh, method, path, policy[key], world, Caller.ANON)
        if response.status_code == 403 or response.status_code >= 500:
            wrong.append(f"{key}: {response.status_code} {response.text[:200]}")
    assert not wrong, "\n".join(wrong)


async def _browser_session(client: httpx.AsyncClient) -> None:
    await make_user("browser", Role.admin)
    logged_in = await client.post(
        "/login",
        data={"username": "browser", "password": PASSWORD},
        headers=await csrf_headers(client),
    )
    assert logged_in.status_code == 303, logged_in.text
    assert client.cookies.get(SESSION_COOKIE)


async def test_with_a_session_cookie_every_state_changing_route_needs_the_csrf_token(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    world = await build_world()
    policy = load_policy()
    await _browser_session(client)
    client.cookies.delete(CSRF_COOKIE)
    wrong = []
    for key, method, path in endpoints(app):
        if method not in UNSAFE or path in NEVER_CSRF:
            continue
        url = fill_path(path, policy[key], world)
        response = await client.request(method, url, json={})
        if response.status_code != 403:
            wrong.append(f"{key}: {response.status_code}")
    assert not wrong, "answered without the CSRF token:\n" + "\n".join(wrong)


async def test_a_forged_csrf_token_is_refused_and_the_right_one_passes(
    client: httpx.AsyncClient,
) -> None:
    await build_world()
    await _browser_session(client)
    body = {"region_code": "230111", "description": "缺煤"}
    forged = await client.post(
        "/api/help-requests/report", json=body, headers={CSRF_HEADER: "forged"}
    )
    assert forged.status_code == 403, forged.text
    token = client.cookies.get(CSRF_COOKIE)
    assert token
    right = await client.post("/api/help-requests/report", json=body, headers={CSRF_HEADER: token})
    assert right.status_code != 403, right.text


async def test_the_logins_always_need_the_csrf_token(client: httpx.AsyncClient) -> None:
    """A forged login would sign a victim's browser in as the forger."""
    await make_user("someone", Role.admin)
    credentials = {"username": "someone", "password": PASSWORD}
    assert (await client.post("/api/auth/login", json=credentials)).status_code == 403
    assert (await client.post("/login", data=credentials)).status_code == 403
    # the bearer token endpoint starts no session: no CSRF
    assert (await client.post("/api/auth/token", json=credentials)).status_code == 201


async def _bad_tokens(world: World) -> dict[str, str]:
    """A token never issued, a revoked one and an expired one (each of a real account)."""
    now = datetime.now(UTC)
    staff = world.tokens[Caller.STAFF]
    admin = world.tokens[Caller.ADMIN]
    await (
        ApiToken.update({ApiToken.revoked_at: now})
        .where(ApiToken.token_hash == digest(staff))
        .run()
    )
    await (
        ApiToken.update({ApiToken.expires_at: now - timedelta(minutes=1)})
        .where(ApiToken.token_hash == digest(admin))
        .run()
    )
    return {"never issued": "not-a-token", "revoked": staff, "expired": admin}


async def test_a_bad_bearer_token_answers_401_on_every_route(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    world = await build_world()
    policy = load_policy()
    routes = [*endpoints(app), ("static", "GET", "/static/app.css"), ("docs", "GET", "/schema")]
    for kind, token in (await _bad_tokens(world)).items():
        wrong = []
        for key, method, path in routes:
            url = fill_path(path, policy[key], world) if key in policy else path
            response = await client.request(
                method, url, headers={"authorization": f"Bearer {token}"}, json={}
            )
            if response.status_code != 401:
                wrong.append(f"{key}: {response.status_code}")
            else:
                assert response.json()["error"] == "not_authenticated"
        assert not wrong, f"a {kind} token was not refused:\n" + "\n".join(wrong)


async def test_the_openapi_document_states_the_rule(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert "CSRF protects ambient credentials" in document["info"]["description"]
    schemes = document["components"]["securitySchemes"]
    assert "CSRF" in schemes["SessionCookie"]["description"]
    assert "401" in schemes["BearerToken"]["description"]
