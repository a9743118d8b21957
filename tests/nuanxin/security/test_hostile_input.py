"""Hostile input is refused as the client's mistake: 400 with the usual body, never a 500, never
an answer that does not come, and nothing stored.

The class, walked over the route table: every state-changing route (public and logged in, API
and pages) is sent JSON nested 3,000 levels deep, and its valid body with a NUL byte in every
text field, as JSON, as a form, and as a form labelled ``text/plain``; a CSV import carries a
NUL in a cell; a multipart login gets an answer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

import httpx
from litestar import Litestar
from piccolo.table import Table

from nuanxin.app import CSRF_COOKIE
from nuanxin.help_requests.tables import HelpRequest
from nuanxin.identity import Role
from nuanxin.security import MAX_JSON_DEPTH, nested_deeper_than
from tests.nuanxin.authz.matrix import endpoints, fill_path, load_policy
from tests.nuanxin.authz.model import ANON, Caller, Rule
from tests.nuanxin.authz.world import World, build_world
from tests.nuanxin.conftest import csrf_headers, make_user
from tests.nuanxin.households.helpers import build_place

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
DEEP = b"[" * 3000 + b"]" * 3000
DEEP_OBJECT = b'{"a":' * 3000 + b"1" + b"}" * 3000


def _tables() -> list[type[Table]]:
    found: list[type[Table]] = []
    pending = list(Table.__subclasses__())
    while pending:
        table = pending.pop()
        pending.extend(table.__subclasses__())
        if table.__module__.startswith("nuanxin."):
            found.append(table)
    return sorted(set(found), key=lambda t: t._meta.tablename)


async def row_counts() -> dict[str, int]:
    return {table._meta.tablename: await table.count().run() for table in _tables()}


def caller_for(rule: Rule) -> Caller:
    """Someone the rule lets through, so that the input reaches the decoder and the service."""
    for caller in (ANON, Caller.ADMIN, Caller.STAFF, Caller.CHARITY, Caller.COURIER):
        if caller in rule.allowed:
            return caller
    return next(iter(rule.allowed))


def assert_refused(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:200]}"
    is_json = response.headers.get("content-type", "").startswith("application/json")
    if is_json and response.status_code >= 400:
        assert set(response.json()) == {"error", "detail", "field"}, what


def with_nul(value: Any) -> tuple[Any, bool]:
    """The value with a NUL byte in every string (and whether there was one)."""
    if isinstance(value, str):
        return f"{value}\x00", True
    if isinstance(value, dict):
        pairs = {key: with_nul(item) for key, item in value.items()}
        return {key: item for key, (item, _) in pairs.items()}, any(
            hit for _, hit in pairs.values()
        )
    if isinstance(value, list):
        items = [with_nul(item) for item in value]
        return [item for item, _ in items], any(hit for _, hit in items)
    return value, False


def unsafe_routes(app: Litestar) -> list[tuple[str, str, str, Rule]]:
    policy = load_policy()
    return [
        (key, method, path, policy[key])
        for key, method, path in endpoints(app)
        if method in UNSAFE and key in policy
    ]


async def test_json_nested_3000_levels_deep_is_a_400_on_every_route(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    world = await build_world()
    before = await row_counts()
    wrong = []
    for key, method, path, rule in unsafe_routes(app):
        if rule.form:
            continue  # a page decodes any body as a form (its NUL bytes: the next test)
        url = fill_path(path, rule, world)
        for body in (DEEP, DEEP_OBJECT):
            response = await client.request(
                method,
                url,
                content=body,
                headers={**world.headers(caller_for(rule)), "content-type": "application/json"},
            )
            if response.status_code != 400:
                wrong.append(f"{key}: {response.status_code} {response.text[:120]}")
            else:
                assert set(response.json()) == {"error", "detail", "field"}, key
    assert not wrong, "\n".join(wrong)
    assert await row_counts() == before


async def test_a_nul_byte_in_any_text_field_is_refused_on_every_route_whatever_the_encoding(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    world = await build_world()
    await client.get("/health")
    before = await row_counts()
    tried = 0
    for key, method, path, rule in unsafe_routes(app):
        if rule.body is None:
            continue
        body, injected = with_nul(rule.body(world))
        if not injected:
            continue
        url = fill_path(path, rule, world)
        headers = world.headers(caller_for(rule))
        if rule.form:
            encoded = urlencode(body, doseq=True).encode()
            spellings = [("application/x-www-form-urlencoded", encoded), ("text/plain", encoded)]
        else:
            encoded = json.dumps(body).encode()
            spellings = [("application/json", encoded), ("text/plain", encoded)]
        for content_type, content in spellings:
            response = await client.request(
                method, url, content=content, headers={**headers, "content-type": content_type}
            )
            tried += 1
            assert_refused(response, f"{key} as {content_type}")
            assert response.status_code >= 400, f"{key} as {content_type}: {response.status_code}"
            assert await row_counts() == before, f"{key} as {content_type} stored something"
    assert tried >= 40


async def test_a_raw_nul_byte_in_a_form_body_is_refused(client: httpx.AsyncClient) -> None:
    await make_user("someone", Role.admin)
    csrf = await csrf_headers(client)
    for content_type in ("application/x-www-form-urlencoded", "text/plain", "multipart/mixed"):
        response = await client.post(
            "/login",
            content=b"username=some\x00one&password=x",
            headers={**csrf, "content-type": content_type},
        )
        assert response.status_code == 400, (content_type, response.text[:200])


async def test_a_nul_byte_in_a_csv_cell_is_a_row_error_and_stores_nothing_of_the_row(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    csv_text = (
        "姓名,电话,现住址,区划代码,情况说明\n"
        "刘\x00一,13800000001,康金街道,230111,缺煤\n"
        "陈二,13800000002,康金街道,230111,缺\x00煤\n"
        "张三,13800000003,康金街道,230111,缺煤\n"
    )
    files = {"file": ("export.csv", csv_text.encode(), "text/csv")}
    response = await client.post("/api/help-requests/import", files=files, headers=place.staff)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["imported"] == 1
    assert {(e["row"], e["field"]) for e in report["errors"]} == {(2, "name"), (3, "description")}
    rows = await HelpRequest.select(HelpRequest.person_name, HelpRequest.description).run()
    assert rows == [{"person_name": "张三", "description": "缺煤"}]


async def call_like_a_server(
    app: Litestar, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    """One request as uvicorn hands it over: after the body, ``receive`` waits until the
    client goes away (an in-process client answers "disconnected" at once instead)."""
    delivered = False
    gone = asyncio.Event()
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    try:
        await asyncio.wait_for(app(scope, receive, send), timeout=10)  # type: ignore[arg-type]
    finally:
        gone.set()
    start = next(m for m in messages if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return int(start["status"]), content


async def test_a_multipart_login_is_answered(app: Litestar, client: httpx.AsyncClient) -> None:
    """The CSRF check reads a multipart form from the stream; the limits and the handler read
    the body again: each gets it, and the login answers (as a form it does not read: 400/401)."""
    await make_user("someone", Role.admin)
    await client.get("/health")
    token = client.cookies.get(CSRF_COOKIE)
    assert token
    fields = {"username": "someone", "password": "wrong", "_csrf_token": token}
    parts = {key: (None, value) for key, value in fields.items()}
    request = httpx.Request("POST", "http://testserver/", files=parts)
    body = request.read()
    headers = {
        "content-type": request.headers["content-type"],
        "content-length": str(len(body)),
        "cookie": f"{CSRF_COOKIE}={token}",
        "host": "testserver",
    }
    for path in ("/login", "/api/auth/login"):
        status, answer = await call_like_a_server(app, path, headers, body)
        assert status in (400, 401, 415), (path, status, answer[:200])


def test_the_depth_check_ignores_brackets_inside_strings() -> None:
    assert not nested_deeper_than(json.dumps({"text": "[" * 500}).encode(), MAX_JSON_DEPTH)
    assert not nested_deeper_than(json.dumps({"t": '\\"[[[' * 100}).encode(), MAX_JSON_DEPTH)
    assert not nested_deeper_than(json.dumps([[1]] * 5000).encode(), MAX_JSON_DEPTH)
    assert nested_deeper_than(b"[" * (MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)
    assert not nested_deeper_than(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, MAX_JSON_DEPTH)


async def test_the_world_is_what_the_walks_expect(app: Litestar) -> None:
    """The walks reach every state-changing route with a rule (a guard against a silent skip)."""
    assert len(unsafe_routes(app)) >= 40
    assert isinstance(await build_world(), World)
