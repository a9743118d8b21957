"""Charities sign up, are verified or suspended by staff over their region, and keep their
own members and warehouses."""

from __future__ import annotations

import httpx

from nuanxin.accounts.organizations import credit_code_is_valid
from nuanxin.accounts.tables import ApiToken, Organization, User
from nuanxin.audit.tables import AuditEntry
from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.world import World, build_world
from tests.nuanxin.conftest import csrf_headers
from tests.nuanxin.helpers import (
    CREDIT_CODE,
    assert_error,
    offer_body,
    sign_up,
    sign_up_body,
)
from tests.nuanxin.helpers import member_bearer as bearer


async def test_a_charity_signs_up_is_verified_adds_a_warehouse_and_posts_an_offer(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    signed = await sign_up(client)
    assert signed.status_code == 201, signed.text
    organization = signed.json()["organization"]
    assert organization["status"] == "pending"
    assert signed.json()["account"]["role"] == "charity"
    org_id = organization["id"]
    member = await bearer(client, "nuandong")

    warehouse = await client.post(
        f"/api/organizations/{org_id}/warehouses",
        json={"name": "呼兰仓", "address": "呼兰区利民路8号", "region_code": "230111005"},
        headers=member,
    )
    assert warehouse.status_code == 201, warehouse.text
    warehouse_id = warehouse.json()["id"]
    assert warehouse.json()["region_code"] == "230111005"
    assert (warehouse.json()["lat"], warehouse.json()["lon"]) == (45.89, 126.58)  # its township

    too_early = await client.post("/api/offers", json=offer_body(warehouse_id), headers=member)
    assert_error(too_early, 409, "charity_not_verified")

    pending = await client.get(
        "/api/organizations", params={"status": "pending"}, headers=world.headers(Caller.STAFF)
    )
    assert [o["id"] for o in pending.json()["items"]] == [org_id]
    verified = await client.post(
        f"/api/organizations/{org_id}/verify",
        json={"reason": "登记证书已核验"},
        headers=world.headers(Caller.STAFF),
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verified"
    assert verified.json()["verified_at"]

    posted = await client.post("/api/offers", json=offer_body(warehouse_id), headers=member)
    assert posted.status_code == 201, posted.text
    offer = posted.json()
    assert (offer["quantity"], offer["available"], offer["reserved"]) == (40, 40, 0)
    assert offer["organization_id"] == org_id
    assert (offer["lat"], offer["lon"]) == (45.89, 126.58)
    mine = await client.get("/api/offers", headers=member)
    assert [o["id"] for o in mine.json()["items"]] == [offer["id"]]

    actions = {
        row["action"]
        for row in await AuditEntry.select(AuditEntry.action)
        .where(AuditEntry.region_code.like("230111%"))
        .run()
    }
    assert {"organization.sign_up", "warehouse.create", "organization.verify"} <= actions
    assert "offer.create" in actions


async def test_staff_of_a_neighbouring_county_neither_see_nor_verify_a_charity(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    org_id = (await sign_up(client)).json()["organization"]["id"]
    neighbour = world.headers(Caller.NEIGHBOUR)
    listed = await client.get("/api/organizations", headers=neighbour)
    assert org_id not in [o["id"] for o in listed.json()["items"]]
    assert_error(
        await client.get(f"/api/organizations/{org_id}", headers=neighbour), 404, "not_found"
    )
    refused = await client.post(f"/api/organizations/{org_id}/verify", json={}, headers=neighbour)
    assert_error(refused, 404, "not_found")
    as_charity = await client.post(
        f"/api/organizations/{org_id}/verify", json={}, headers=world.headers(Caller.CHARITY)
    )
    assert_error(as_charity, 403, "forbidden")
    status = await Organization.select(Organization.status).where(Organization.id == org_id).first()
    assert status == {"status": "pending"}
    province = await client.post(
        f"/api/organizations/{org_id}/verify", json={}, headers=world.headers(Caller.PROVINCE)
    )
    assert province.json()["status"] == "verified"


async def test_a_suspended_charity_changes_nothing_until_verified_again(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    staff, member = world.headers(Caller.STAFF), world.headers(Caller.CHARITY)
    url = f"/api/organizations/{world.charity_x_id}"
    no_reason = await client.post(f"{url}/suspend", json={"reason": " "}, headers=staff)
    assert assert_error(no_reason, 400, "bad_request")["field"] == "reason"
    suspended = await client.post(f"{url}/suspend", json={"reason": "投诉核查"}, headers=staff)
    assert suspended.json()["status"] == "suspended"
    again = await client.post(f"{url}/suspend", json={"reason": "投诉核查"}, headers=staff)
    assert again.status_code == 409

    offer = await client.post("/api/offers", json=offer_body(world.warehouse_x_id), headers=member)
    assert_error(offer, 409, "charity_not_verified")
    edit = await client.patch(
        f"/api/offers/{world.offer_x_id}", json={"quantity": 30}, headers=member
    )
    assert_error(edit, 409, "charity_not_verified")
    warehouse = await client.post(
        f"{url}/warehouses",
        json={"name": "新仓", "address": "某路1号", "region_code": "230111"},
        headers=member,
    )
    assert_error(warehouse, 409, "charity_suspended")
    withdraw = await client.post(
        f"/api/offers/{world.offer_x_id}/withdraw",
        json={"reason": "暂停期间收回"},
        headers=member,
    )
    assert withdraw.status_code == 200  # giving back stock is always allowed

    reinstated = await client.post(f"{url}/verify", json={"reason": "核查完毕"}, headers=staff)
    assert reinstated.json()["status"] == "verified"
    offer = await client.post("/api/offers", json=offer_body(world.warehouse_x_id), headers=member)
    assert offer.status_code == 201


async def test_sign_up_refuses_bad_codes_and_duplicates_and_leaves_nothing_behind(
    client: httpx.AsyncClient,
) -> None:
    await build_world()
    wrong_check = await sign_up(client, credit_code="91110108551385082A")
    assert assert_error(wrong_check, 400, "bad_request")["field"] == "credit_code"
    malformed = await sign_up(client, credit_code="short")
    assert assert_error(malformed, 400, "validation_error")["field"] == "credit_code"
    unknown_region = await sign_up(client, region_code="999999")
    assert assert_error(unknown_region, 400, "bad_request")["field"] == "region_code"
    extra = await client.post(
        "/api/organizations/signup",
        json={**sign_up_body(), "status": "verified"},
        headers=await csrf_headers(client),
    )
    assert extra.status_code == 400  # nobody signs up verified
    same_name = await sign_up(client, name="测试慈善X")
    assert assert_error(same_name, 409, "conflict")["field"] == "name"
    taken_username = await sign_up(client, username="w_charity")
    assert assert_error(taken_username, 409, "conflict")["field"] == "username"
    assert not await Organization.exists().where(Organization.name == "暖冬公益").run()
    assert not await AuditEntry.exists().where(AuditEntry.action == "organization.sign_up").run()
    assert (await sign_up(client)).status_code == 201
    same_code = await sign_up(client, name="另一家", username="another")
    assert assert_error(same_code, 409, "conflict")["field"] == "credit_code"


def test_the_credit_code_check_character_is_computed_as_the_standard_says() -> None:
    assert credit_code_is_valid(CREDIT_CODE)
    assert not credit_code_is_valid(CREDIT_CODE[:-1] + "R")
    assert not credit_code_is_valid("91110108551385082")
    assert not credit_code_is_valid("9111010855138508IQ")  # I is not in the alphabet


async def test_members_add_a_courier_and_remove_them_whose_tokens_die(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    member = world.headers(Caller.CHARITY)
    url = f"/api/organizations/{world.charity_x_id}/members"
    added = await client.post(
        url,
        json={"username": "courier2", "password": "a long password", "role": "courier"},
        headers=member,
    )
    assert added.status_code == 201, added.text
    assert added.json()["role"] == "courier"
    courier = await bearer(client, "courier2")
    assert (
        await client.get(f"/api/organizations/{world.charity_x_id}", headers=courier)
    ).is_success
    assert_error(await client.get(url, headers=courier), 403, "forbidden")
    staff_member = await client.post(
        url,
        json={"username": "boss", "password": "a long password", "role": "staff"},
        headers=member,
    )
    assert staff_member.status_code == 400  # a charity makes no staff
    other = await client.post(
        f"/api/organizations/{world.charity_y_id}/members",
        json={"username": "spy", "password": "a long password"},
        headers=member,
    )
    assert_error(other, 404, "not_found")
    assert not await User.exists().where(User.username.is_in(["boss", "spy"])).run()

    listed = await client.get(url, params={"role": "courier"}, headers=member)
    assert {m["username"] for m in listed.json()["items"]} == {"w_courier", "courier2"}
    removed = await client.delete(f"{url}/{added.json()['id']}", headers=member)
    assert removed.status_code == 204
    assert_error(await client.get("/api/auth/me", headers=courier), 401, "not_authenticated")
    assert (
        not await ApiToken.exists()
        .where((ApiToken.user == added.json()["id"]) & ApiToken.revoked_at.is_null())
        .run()
    )
    myself = await client.delete(f"{url}/{world.user_ids[Caller.CHARITY]}", headers=member)
    assert myself.status_code == 409
    not_ours = await client.delete(f"{url}/{world.user_ids[Caller.OTHER_CHARITY]}", headers=member)
    assert_error(not_ours, 404, "not_found")


async def test_members_change_their_charitys_contact_but_not_its_status(
    client: httpx.AsyncClient,
) -> None:
    world: World = await build_world()
    url = f"/api/organizations/{world.charity_x_id}"
    changed = await client.patch(
        url, json={"contact_phone": "13912340000"}, headers=world.headers(Caller.CHARITY)
    )
    assert changed.json()["contact_phone"] == "13912340000"
    sneaky = await client.patch(
        url, json={"status": "verified"}, headers=world.headers(Caller.CHARITY)
    )
    assert assert_error(sneaky, 400, "validation_error")["field"] == "status"
    courier = await client.patch(
        url, json={"contact_name": "快递"}, headers=world.headers(Caller.COURIER)
    )
    assert_error(courier, 403, "forbidden")


async def test_staff_page_and_filter_the_charities_of_their_jurisdiction(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    await sign_up(client)
    province = world.headers(Caller.PROVINCE)
    everything = await client.get("/api/organizations", headers=province)
    assert everything.json()["total"] == 3
    page = await client.get(
        "/api/organizations", params={"limit": 1, "offset": 2}, headers=province
    )
    assert [o["name"] for o in page.json()["items"]] == ["暖冬公益"]
    by_name = await client.get("/api/organizations", params={"q": "暖冬"}, headers=province)
    assert [o["name"] for o in by_name.json()["items"]] == ["暖冬公益"]
    county_b = await client.get(
        "/api/organizations", params={"region_code": "230112"}, headers=province
    )
    assert [o["id"] for o in county_b.json()["items"]] == [world.charity_y_id]
    verified = await client.get(
        "/api/organizations", params={"status": "verified"}, headers=world.headers(Caller.STAFF)
    )
    assert [o["id"] for o in verified.json()["items"]] == [world.charity_x_id]
    bad_limit = await client.get("/api/organizations", params={"limit": 0}, headers=province)
    assert assert_error(bad_limit, 400, "validation_error")["field"] == "limit"
