"""Charity sign-up, verification, members and staff accounts in pages: each role reaches its
own, a refused form keeps what was typed and names the field, regions are picked by name."""

from __future__ import annotations

import httpx
import pytest

from nuanxin.accounts.tables import Organization, User
from tests.nuanxin.authz.model import ADMIN, ANON, CHARITY, COURIER, NEIGHBOUR, STAFF
from tests.nuanxin.authz.world import World
from tests.nuanxin.conftest import csrf_headers
from tests.nuanxin.pages.conftest import get_page

SIGN_UP = {
    "name": "新慈善",
    "credit_code": "91110108551385082Q",
    "region": "呼兰区",
    "contact_name": "联系人",
    "contact_phone": "13800000001",
    "username": "new_charity",
    "password": "long enough password",
}


async def test_a_charity_signs_up_by_naming_its_region_and_waits_for_verification(
    client: httpx.AsyncClient, world: World
) -> None:
    form = await get_page(client, world, ANON, "/charities/sign-up")
    assert form.status_code == 200
    assert "登记慈善组织" in form.text
    answer = await client.post(
        "/charities/sign-up?lang=zh-CN", data=SIGN_UP, headers=await csrf_headers(client)
    )
    assert answer.status_code == 303, answer.text
    row = await Organization.select().where(Organization.name == "新慈善").first().run()
    assert row is not None
    assert row["status"] == "pending"


async def test_a_refused_sign_up_keeps_the_values_and_names_the_field(
    client: httpx.AsyncClient, world: World
) -> None:
    bad = {**SIGN_UP, "region": "不存在区"}
    headers = await csrf_headers(client)
    answer = await client.post("/charities/sign-up?lang=zh-CN", data=bad, headers=headers)
    assert answer.status_code == 400
    assert "<title>错误：" in answer.text
    assert 'id="region"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert 'href="#region"' in answer.text
    assert 'value="新慈善"' in answer.text  # kept
    assert "long enough password" not in answer.text  # never the password
    short = await client.post(
        "/charities/sign-up?lang=en", data={**SIGN_UP, "credit_code": "123"}, headers=headers
    )
    assert short.status_code == 400
    assert 'href="#credit_code"' in short.text
    assert "18 characters" in short.text
    assert await Organization.count().where(Organization.name == "新慈善").run() == 0


async def test_the_region_list_offers_regions_by_part_of_their_name(
    client: httpx.AsyncClient, world: World
) -> None:
    answer = await client.get("/regions/options", params={"region": "呼兰"})
    assert answer.status_code == 200
    assert 'value="呼兰区"' in answer.text
    assert "阿城区" not in answer.text


async def test_staff_verify_and_suspend_a_charity_of_their_jurisdiction(
    client: httpx.AsyncClient, world: World
) -> None:
    listing = await get_page(client, world, STAFF, "/staff/charities")
    assert listing.status_code == 200
    assert "辖区内的慈善组织" in listing.text
    path = f"/staff/charities/{world.charity_x_id}"
    assert (await get_page(client, world, STAFF, path, "en")).status_code == 200
    empty = await client.post(
        f"{path}/suspend?lang=zh-CN", data={"reason": ""}, headers=world.headers(STAFF)
    )
    assert empty.status_code == 400
    assert 'href="#reason"' in empty.text
    suspended = await client.post(
        f"{path}/suspend", data={"reason": "核查中"}, headers=world.headers(STAFF)
    )
    assert suspended.status_code == 303
    verified = await client.post(f"{path}/verify", data={}, headers=world.headers(STAFF))
    assert verified.status_code == 303
    status = (
        await Organization.select(Organization.status)
        .where(Organization.id == world.charity_x_id)
        .first()
        .run()
    )
    assert status == {"status": "verified"}


async def test_staff_of_another_county_cannot_reach_the_charity(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/staff/charities/{world.charity_x_id}"
    assert (await get_page(client, world, NEIGHBOUR, path)).status_code == 404
    answer = await client.post(
        f"{path}/suspend", data={"reason": "x"}, headers=world.headers(NEIGHBOUR)
    )
    assert answer.status_code == 404
    assert (await get_page(client, world, CHARITY, "/staff/charities")).status_code == 403


async def test_a_member_adds_a_courier_and_a_courier_cannot(
    client: httpx.AsyncClient, world: World
) -> None:
    listing = await get_page(client, world, CHARITY, "/charity/members")
    assert listing.status_code == 200
    assert "成员与送货员" in listing.text
    bad = await client.post(
        "/charity/members?lang=zh-CN",
        data={"role": "courier", "username": "送货 员", "password": "long enough password"},
        headers=world.headers(CHARITY),
    )
    assert bad.status_code == 400
    assert 'href="#username"' in bad.text
    assert 'value="送货 员"' in bad.text
    added = await client.post(
        "/charity/members",
        data={"role": "courier", "username": "courier2", "password": "long enough password"},
        headers=world.headers(CHARITY),
    )
    assert added.status_code == 303
    assert await User.exists().where(User.username == "courier2").run()
    assert (await get_page(client, world, COURIER, "/charity/members")).status_code == 403


@pytest.mark.parametrize("caller", [STAFF, CHARITY])
async def test_only_an_admin_creates_staff_accounts(
    client: httpx.AsyncClient, world: World, caller: object
) -> None:
    assert (await get_page(client, world, caller, "/staff/accounts")).status_code == 403  # type: ignore[arg-type]


async def test_an_admin_creates_a_staff_account_over_a_jurisdiction_picked_by_name(
    client: httpx.AsyncClient, world: World
) -> None:
    page = await get_page(client, world, ADMIN, "/staff/accounts", "en")
    assert page.status_code == 200
    form = {"role": "staff", "username": "county_b", "password": "long enough password"}
    missing = await client.post(
        "/staff/accounts?lang=zh-CN", data=form, headers=world.headers(ADMIN)
    )
    assert missing.status_code == 400
    assert 'href="#jurisdiction"' in missing.text
    created = await client.post(
        "/staff/accounts", data={**form, "jurisdiction": "阿城区"}, headers=world.headers(ADMIN)
    )
    assert created.status_code == 303
    row = await User.select(User.jurisdiction.code).where(User.username == "county_b").first().run()
    assert row == {"jurisdiction.code": "230112"}
