"""Admins manage staff accounts and their jurisdictions; API clients revoke their tokens."""

from __future__ import annotations

import httpx

from nuanxin.accounts.tables import ApiToken, User
from nuanxin.audit.tables import AuditEntry
from nuanxin.identity import Role
from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.world import World, build_world
from tests.nuanxin.conftest import PASSWORD, csrf_headers
from tests.nuanxin.helpers import assert_error


async def token_for(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/token", json={"username": username, "password": password})


def as_(world: World, caller: Caller) -> dict[str, str]:
    return world.headers(caller)


async def test_an_admin_creates_a_staff_account_with_a_jurisdiction_who_then_logs_in(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    created = await client.post(
        "/api/accounts",
        json={
            "username": "hulan_staff",
            "password": "a long password",
            "display_name": "呼兰民政",
            "jurisdiction_code": "230111",
            "phone": "13900001111",
        },
        headers=as_(world, Caller.ADMIN),
    )
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["role"] == "staff"
    assert account["jurisdiction_code"] == "230111"
    assert "password" not in created.text and "password_hash" not in created.text
    issued = await token_for(client, "hulan_staff", "a long password")
    assert issued.status_code == 201
    me = await client.get(
        "/api/auth/me", headers={"authorization": f"Bearer {issued.json()['token']}"}
    )
    assert me.json()["jurisdiction_id"] == world.county_a_id
    entry = await AuditEntry.select().where(AuditEntry.action == "account.create").first().run()
    assert entry is not None and entry["after"]
    assert "a long password" not in str(entry)


async def test_a_staff_account_needs_a_known_jurisdiction_and_a_free_username(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    admin = as_(world, Caller.ADMIN)
    body = {"username": "x_staff", "password": "a long password"}
    missing = await client.post("/api/accounts", json=body, headers=admin)
    assert assert_error(missing, 400, "bad_request")["field"] == "jurisdiction_id"
    unknown = await client.post(
        "/api/accounts", json={**body, "jurisdiction_code": "999999"}, headers=admin
    )
    assert assert_error(unknown, 400, "bad_request")["field"] == "jurisdiction_code"
    short = await client.post(
        "/api/accounts",
        json={**body, "password": "short", "jurisdiction_code": "230111"},
        headers=admin,
    )
    assert assert_error(short, 400, "validation_error")["field"] == "password"
    taken = await client.post(
        "/api/accounts",
        json={**body, "username": "w_staff", "jurisdiction_code": "230111"},
        headers=admin,
    )
    assert assert_error(taken, 409, "conflict")["field"] == "username"
    admin_with_region = await client.post(
        "/api/accounts",
        json={**body, "role": "admin", "jurisdiction_code": "230111"},
        headers=admin,
    )
    assert assert_error(admin_with_region, 400, "bad_request")["field"] == "jurisdiction_code"
    assert not await User.exists().where(User.username == "x_staff").run()


async def test_only_admins_manage_accounts(client: httpx.AsyncClient) -> None:
    world = await build_world()
    body = {"username": "sneaky", "password": "a long password", "jurisdiction_code": "230000"}
    for caller in (Caller.STAFF, Caller.PROVINCE, Caller.CHARITY):
        response = await client.post("/api/accounts", json=body, headers=as_(world, caller))
        assert_error(response, 403, "forbidden")
    anonymous = await client.post("/api/accounts", json=body, headers=await csrf_headers(client))
    assert_error(anonymous, 401, "not_authenticated")
    assert not await User.exists().where(User.username == "sneaky").run()


async def test_accounts_are_listed_by_jurisdiction_including_the_regions_below(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    admin = as_(world, Caller.ADMIN)
    county = await client.get(
        "/api/accounts", params={"jurisdiction_code": "230111"}, headers=admin
    )
    assert [a["username"] for a in county.json()["items"]] == ["w_staff"]
    province = await client.get(
        "/api/accounts", params={"jurisdiction_code": "230000", "role": "staff"}, headers=admin
    )
    assert {a["username"] for a in province.json()["items"]} == {
        "w_staff",
        "w_neighbour",
        "w_province",
    }
    paged = await client.get("/api/accounts", params={"limit": 2, "offset": 1}, headers=admin)
    assert paged.json()["total"] == 7
    assert len(paged.json()["items"]) == 2
    named = await client.get("/api/accounts", params={"q": "NEIGH"}, headers=admin)
    assert [a["username"] for a in named.json()["items"]] == ["w_neighbour"]
    bad = await client.get("/api/accounts", params={"role": "king"}, headers=admin)
    assert bad.status_code == 400


async def test_moving_a_staff_member_changes_what_they_cover(client: httpx.AsyncClient) -> None:
    world = await build_world()
    staff_id = world.user_ids[Caller.STAFF]
    moved = await client.patch(
        f"/api/accounts/{staff_id}",
        json={"jurisdiction_code": "230112"},
        headers=as_(world, Caller.ADMIN),
    )
    assert moved.status_code == 200, moved.text
    household = await client.get(
        f"/api/organizations/{world.charity_x_id}", headers=as_(world, Caller.STAFF)
    )
    assert_error(household, 404, "not_found")
    not_staff = await client.patch(
        f"/api/accounts/{world.user_ids[Caller.CHARITY]}",
        json={"jurisdiction_code": "230112"},
        headers=as_(world, Caller.ADMIN),
    )
    assert assert_error(not_staff, 400, "bad_request")["field"] == "jurisdiction_code"


async def test_a_deactivated_account_loses_its_tokens_and_cannot_log_in(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    staff_id = world.user_ids[Caller.STAFF]
    response = await client.patch(
        f"/api/accounts/{staff_id}", json={"is_active": False}, headers=as_(world, Caller.ADMIN)
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert_error(
        await client.get("/api/auth/me", headers=as_(world, Caller.STAFF)), 401, "not_authenticated"
    )
    assert_error(await token_for(client, "w_staff", PASSWORD), 401, "not_authenticated")
    live = await ApiToken.count().where((ApiToken.user == staff_id) & ApiToken.revoked_at.is_null())
    assert live == 0


async def test_an_admin_cannot_deactivate_their_own_account(client: httpx.AsyncClient) -> None:
    world = await build_world()
    response = await client.patch(
        f"/api/accounts/{world.user_ids[Caller.ADMIN]}",
        json={"is_active": False},
        headers=as_(world, Caller.ADMIN),
    )
    assert assert_error(response, 409, "conflict")["field"] == "is_active"
    row = await User.select(User.is_active).where(User.role == Role.admin.value).first().run()
    assert row is not None and row["is_active"]


async def test_an_api_client_revokes_its_token(client: httpx.AsyncClient) -> None:
    world = await build_world()
    issued = (await token_for(client, "w_staff", PASSWORD)).json()["token"]
    headers = {"authorization": f"Bearer {issued}"}
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200
    other = await client.post(
        "/api/auth/revoke", json={"token": issued}, headers=as_(world, Caller.NEIGHBOUR)
    )
    assert other.status_code == 204  # someone else's token: quietly nothing
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200
    revoked = await client.post("/api/auth/revoke", json={"token": issued}, headers=headers)
    assert revoked.status_code == 204
    assert_error(await client.get("/api/auth/me", headers=headers), 401, "not_authenticated")
