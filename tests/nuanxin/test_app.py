"""The app: health, OpenAPI, JSON errors, login (session and token), CSRF and the admin guard."""

from __future__ import annotations

import httpx
from litestar import Litestar
from litestar.routes import HTTPRoute

from nuanxin.accounts.tables import ApiToken
from nuanxin.app import SESSION_COOKIE
from nuanxin.audit.tables import AuditEntry
from nuanxin.identity import Role
from tests.nuanxin.conftest import PASSWORD, csrf_headers, make_region, make_user
from tests.nuanxin.helpers import assert_error, bearer


async def test_health_reports_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["engine"] in ("sqlite", "postgres")


async def test_the_openapi_schema_documents_the_api(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["info"]["title"].startswith("Nuanxin")
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {"GetHealth", "LogIn", "LogOut", "CreateToken", "GetMe"} <= operations
    assert "BearerToken" in schema["components"]["securitySchemes"]
    docs = await client.get("/schema/swagger")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_no_handler_resolves_its_dependencies_in_a_task_group(app: Litestar) -> None:
    """Litestar would start a task group per request for independent dependencies (``actor``
    and ``page`` of a list): every batch holds one, resolved in turn."""
    sizes = [
        len(batch)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for _, model in route.route_handler_map.values()
        for batch in model.dependency_batches
    ]
    assert len(sizes) > 100
    assert set(sizes) == {1}


async def test_an_unknown_path_is_a_json_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/no/such/thing"), 404, "not_found")


async def test_a_request_without_login_is_a_json_401(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/auth/me"), 401, "not_authenticated")


async def test_a_malformed_body_is_a_400_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/token", json={"username": "someone", "password": 5})
    body = assert_error(response, 400, "validation_error")
    assert body["field"] == "password"
    missing = await client.post("/api/auth/token", json={"username": "someone"})
    assert assert_error(missing, 400, "validation_error")["field"] == "password"
    not_json = await client.post(
        "/api/auth/token", content=b"{", headers={"content-type": "application/json"}
    )
    assert_error(not_json, 400, "bad_request")


async def test_wrong_credentials_are_refused_without_saying_which(
    client: httpx.AsyncClient,
) -> None:
    await make_user("admin1", Role.admin)
    wrong_password = await client.post(
        "/api/auth/token", json={"username": "admin1", "password": "nope"}
    )
    unknown_user = await client.post(
        "/api/auth/token", json={"username": "ghost", "password": "nope"}
    )
    first = assert_error(wrong_password, 401, "not_authenticated")
    second = assert_error(unknown_user, 401, "not_authenticated")
    assert first["detail"] == second["detail"]


async def test_a_bearer_token_authenticates_an_api_client(client: httpx.AsyncClient) -> None:
    county = await make_region()
    await make_user("staff1", Role.staff, jurisdiction=county)
    issued = await client.post("/api/auth/token", json={"username": "staff1", "password": PASSWORD})
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert not await ApiToken.exists().where(ApiToken.token_hash == token).run()  # stored hashed
    me = await client.get("/api/auth/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["username"] == "staff1"
    assert me.json()["jurisdiction_id"] == county
    forged = await client.get("/api/auth/me", headers={"authorization": "Bearer forged"})
    assert_error(forged, 401, "not_authenticated")


async def test_browser_login_needs_the_csrf_token(client: httpx.AsyncClient) -> None:
    await make_user("admin1", Role.admin)
    response = await client.post(
        "/api/auth/login", json={"username": "admin1", "password": PASSWORD}
    )
    assert_error(response, 403, "forbidden")


async def test_login_issues_a_new_session_id_and_the_old_one_is_dead(
    client: httpx.AsyncClient,
) -> None:
    await make_user("admin1", Role.admin)
    headers = await csrf_headers(client)
    first = await client.post(
        "/api/auth/login", json={"username": "admin1", "password": PASSWORD}, headers=headers
    )
    assert first.status_code == 200, first.text
    old_session = client.cookies.get(SESSION_COOKIE)
    assert old_session
    assert (await client.get("/api/auth/me")).json()["username"] == "admin1"

    again = await client.post(
        "/api/auth/login", json={"username": "admin1", "password": PASSWORD}, headers=headers
    )
    assert again.status_code == 200
    new_session = client.cookies.get(SESSION_COOKIE)
    assert new_session and new_session != old_session

    stale = httpx.Cookies({SESSION_COOKIE: old_session})
    client.cookies = stale
    assert_error(await client.get("/api/auth/me"), 401, "not_authenticated")


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    await make_user("admin1", Role.admin)
    headers = await csrf_headers(client)
    await client.post(
        "/api/auth/login", json={"username": "admin1", "password": PASSWORD}, headers=headers
    )
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    assert_error(await client.get("/api/auth/me"), 401, "not_authenticated")


async def test_logins_are_audited(client: httpx.AsyncClient) -> None:
    await make_user("admin1", Role.admin)
    await client.post("/api/auth/token", json={"username": "admin1", "password": PASSWORD})
    actions = (
        await AuditEntry.select(AuditEntry.action).where(AuditEntry.actor_label == "admin1").run()
    )
    assert {row["action"] for row in actions} >= {"account.login", "token.issue"}


async def test_the_admin_is_for_admins_only(client: httpx.AsyncClient) -> None:
    county = await make_region()
    await make_user("staff1", Role.staff, jurisdiction=county)
    await make_user("admin1", Role.admin)
    assert_error(await client.get("/admin/"), 401, "not_authenticated")
    staff = await client.get("/admin/", headers=await bearer(client, "staff1"))
    assert_error(staff, 403, "forbidden")
    admin = await client.get("/admin/", headers=await bearer(client, "admin1"))
    assert admin.status_code in (200, 301, 302, 307), admin.text


def test_a_unique_constraint_hit_by_a_race_is_a_409_naming_only_the_constraint() -> None:
    import json
    import sqlite3
    from typing import Any, cast

    from nuanxin.responses import integrity_handler

    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE account (username TEXT UNIQUE)")
    connection.execute("INSERT INTO account VALUES ('secret-name')")
    try:
        connection.execute("INSERT INTO account VALUES ('secret-name')")
    except sqlite3.IntegrityError as exc:
        response = integrity_handler(cast(Any, None), exc)
    assert response.status_code == 409
    body = json.loads(response.render(response.content, "application/json"))
    assert body["error"] == "conflict" and "account.username" in body["detail"]
    assert "secret-name" not in body["detail"]
