"""A charity's warehouses, campaigns, purchases, gifts received and offer withdrawal, in pages:
each works for the charity's members, keeps what was typed when refused (the problem at its
field, in the page's language), and stays out of reach of couriers, staff and other charities."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from nuanxin.accounts.tables import Organization
from nuanxin.donations.tables import Campaign, Donation, Purchase
from nuanxin.offers.tables import Offer
from nuanxin.warehouses.tables import Warehouse
from tests.nuanxin.authz.model import ANON, CHARITY, COURIER, OTHER_CHARITY, STAFF, Caller
from tests.nuanxin.authz.world import World
from tests.nuanxin.conftest import csrf_headers, run_jobs
from tests.nuanxin.loop_world import COUNTY, add_household, add_offer, build_loop, run_round
from tests.nuanxin.pages.conftest import get_page


def later(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


async def test_a_member_adds_a_warehouse_in_a_region_picked_by_name(
    client: httpx.AsyncClient, world: World
) -> None:
    listing = await get_page(client, world, CHARITY, "/charity/warehouses")
    assert listing.status_code == 200
    assert "仓库" in listing.text and 'href="/charity/warehouses"' in listing.text  # navigation
    added = await client.post(
        "/charity/warehouses",
        data={"name": "呼兰二仓", "address": "测试路 2 号", "region": "呼兰区"},
        headers=world.headers(CHARITY),
    )
    assert added.status_code == 303, added.text
    row = await Warehouse.select().where(Warehouse.name == "呼兰二仓").first().run()
    assert row is not None and row["organization"] == world.charity_x_id
    english = await get_page(client, world, CHARITY, "/charity/warehouses", "en")
    assert "呼兰二仓" in english.text and "Add a warehouse" in english.text


async def test_a_refused_warehouse_keeps_the_values_and_names_the_field(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(CHARITY)
    unknown = await client.post(
        "/charity/warehouses?lang=zh-CN",
        data={"name": "新仓", "address": "测试路", "region": "不存在区"},
        headers=headers,
    )
    assert unknown.status_code == 400
    assert "<title>错误：" in unknown.text and 'href="#region"' in unknown.text
    assert 'value="新仓"' in unknown.text and 'value="不存在区"' in unknown.text
    bad_point = await client.post(
        "/charity/warehouses?lang=en",
        data={"name": "新仓", "address": "测试路", "region": "呼兰区", "lat": "north"},
        headers=headers,
    )
    assert bad_point.status_code == 400
    assert 'href="#lat"' in bad_point.text and "Latitude is a number" in bad_point.text
    assert 'value="north"' in bad_point.text
    assert await Warehouse.count().where(Warehouse.name == "新仓").run() == 0


async def test_a_warehouse_offers_were_posted_from_stays_and_another_charitys_is_not_found(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/charity/warehouses/{world.warehouse_x_id}/remove"
    kept = await client.post(f"{path}?lang=zh-CN", headers=world.headers(CHARITY))
    assert kept.status_code == 400 and 'role="alert"' in kept.text
    assert (await client.post(path, headers=world.headers(OTHER_CHARITY))).status_code == 404
    assert await Warehouse.exists().where(Warehouse.id == world.warehouse_x_id).run()


@pytest.mark.parametrize("caller", [COURIER, STAFF])
@pytest.mark.parametrize(
    "path", ["/charity/warehouses", "/charity/campaigns", "/charity/donations"]
)
async def test_couriers_and_staff_cannot_open_the_charity_pages(
    client: httpx.AsyncClient, world: World, caller: Caller, path: str
) -> None:
    answer = await client.get(
        f"{path}?lang=zh-CN", headers={"accept": "text/html", **world.headers(caller)}
    )
    assert answer.status_code == 403
    assert "<html" in answer.text and "无权打开此页面" in answer.text  # a page of the site


async def test_a_member_opens_a_campaign_for_a_county_and_its_items(
    client: httpx.AsyncClient, world: World
) -> None:
    form = await get_page(client, world, CHARITY, "/charity/campaigns")
    assert form.status_code == 200 and "呼兰区冬季取暖" in form.text
    opened = await client.post(
        "/charity/campaigns",
        data={
            "title": "阿城棉被",
            "region": "呼兰区",
            "item_codes": ["quilt", "coal"],
            "target_yuan": "5,000.50",
            "ends_on": later(),
        },
        headers=world.headers(CHARITY),
    )
    assert opened.status_code == 303, opened.text
    row = await Campaign.select().where(Campaign.title == "阿城棉被").first().run()
    assert row is not None
    assert row["target_fen"] == 500_050 and row["organization"] == world.charity_x_id
    assert opened.headers["location"] == f"/charity/campaigns/{row['id']}"
    shown = await client.get(opened.headers["location"], headers=world.headers(CHARITY))
    assert shown.status_code == 200 and "阿城棉被" in shown.text


async def test_a_refused_campaign_keeps_the_ticked_items_and_names_the_field(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(CHARITY)
    no_items = await client.post(
        "/charity/campaigns?lang=zh-CN",
        data={"title": "无物资", "region": "呼兰区", "target_yuan": "100", "ends_on": later()},
        headers=headers,
    )
    assert no_items.status_code == 400
    assert 'href="#item_codes"' in no_items.text and "请至少勾选一种物资" in no_items.text
    assert 'value="无物资"' in no_items.text
    bad_target = await client.post(
        "/charity/campaigns?lang=en",
        data={
            "title": "坏目标",
            "region": "呼兰区",
            "item_codes": "quilt",
            "target_yuan": "a lot",
            "ends_on": later(),
        },
        headers=headers,
    )
    assert bad_target.status_code == 400 and 'href="#target_yuan"' in bad_target.text
    assert 'value="quilt" id="item_codes-quilt" checked' in bad_target.text
    past = await client.post(
        "/charity/campaigns?lang=zh-CN",
        data={
            "title": "过期",
            "region": "呼兰区",
            "item_codes": "quilt",
            "target_yuan": "100",
            "ends_on": "2020-01-01",
        },
        headers=headers,
    )
    assert past.status_code == 400 and 'href="#ends_on"' in past.text
    assert "end date" not in past.text  # in the page's language
    assert (
        await Campaign.count().where(Campaign.title.is_in(["无物资", "坏目标", "过期"])).run() == 0
    )


async def test_a_member_records_a_purchase_from_the_campaigns_money(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/charity/campaigns/{world.campaign_x_id}/purchases"
    headers = world.headers(CHARITY)
    form = {"item_code": "quilt", "quantity": "2", "warehouse_id": str(world.warehouse_x_id)}
    too_much = await client.post(
        f"{path}?lang=zh-CN", data={**form, "cost_yuan": "100.01"}, headers=headers
    )
    assert too_much.status_code == 400 and 'href="#cost_yuan"' in too_much.text
    assert 'value="100.01"' in too_much.text
    malformed = await client.post(
        f"{path}?lang=en", data={**form, "cost_yuan": "12.345"}, headers=headers
    )
    assert malformed.status_code == 400 and "Enter an amount in yuan" in malformed.text
    bought = await client.post(path, data={**form, "cost_yuan": "60"}, headers=headers)
    assert bought.status_code == 303, bought.text
    row = await Purchase.select().where(Purchase.campaign == world.campaign_x_id).first().run()
    assert row is not None and row["cost_fen"] == 6000 and row["advice"] is None
    offer = await Offer.select().where(Offer.id == row["offer"]).first().run()
    assert offer is not None and offer["quantity"] == 2
    page = await client.get(f"/charity/campaigns/{world.campaign_x_id}", headers=headers)
    assert "¥40.00" in page.text  # ¥100 raised, ¥60 spent


async def test_another_charitys_campaign_is_not_found(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/charity/campaigns/{world.campaign_x_id}"
    assert (await get_page(client, world, OTHER_CHARITY, path)).status_code == 404
    for action, body in (
        ("/close", {}),
        ("/purchases", {"item_code": "quilt", "quantity": "1", "cost_yuan": "1"}),
    ):
        answer = await client.post(path + action, data=body, headers=world.headers(OTHER_CHARITY))
        assert answer.status_code == 404
    closed = await client.post(f"{path}/close", headers=world.headers(CHARITY))
    assert closed.status_code == 303
    status = await Campaign.select(Campaign.status).where(Campaign.id == world.campaign_x_id).run()
    assert status == [{"status": "closed"}]


async def test_a_member_accepts_donated_goods_into_an_offer(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(CHARITY)
    listing = await get_page(client, world, CHARITY, "/charity/donations")
    assert f'href="/charity/donations/{world.goods_donation_x_id}"' in listing.text
    path = f"/charity/donations/{world.goods_donation_x_id}"
    shown = await get_page(client, world, CHARITY, path)
    assert shown.status_code == 200 and 'data-testid="accept-form"' in shown.text
    bad = await client.post(
        f"{path}/accept?lang=zh-CN",
        data={"warehouse_id": str(world.warehouse_x_id), "radius_km": "9000"},
        headers=headers,
    )
    assert bad.status_code == 400 and 'href="#radius_km"' in bad.text
    assert 'value="9000"' in bad.text
    accepted = await client.post(
        f"{path}/accept", data={"warehouse_id": str(world.warehouse_x_id)}, headers=headers
    )
    assert accepted.status_code == 303, accepted.text
    row = await Donation.select().where(Donation.id == world.goods_donation_x_id).first().run()
    assert row is not None and row["status"] == "accepted" and row["offer"] is not None
    again = await client.post(
        f"{path}/decline?lang=zh-CN", data={"reason": "重复"}, headers=headers
    )
    assert again.status_code == 400 and "这项已处理过" not in again.text  # decided once
    assert 'role="alert"' in again.text


async def test_a_member_declines_goods_with_a_reason_and_another_charity_cannot(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/charity/donations/{world.goods_donation_x_id}"
    assert (await get_page(client, world, OTHER_CHARITY, path)).status_code == 404
    other = await client.post(
        f"{path}/decline", data={"reason": "x"}, headers=world.headers(OTHER_CHARITY)
    )
    assert other.status_code == 404
    empty = await client.post(
        f"{path}/decline?lang=zh-CN", data={"reason": " "}, headers=world.headers(CHARITY)
    )
    assert empty.status_code == 400 and 'href="#reason"' in empty.text
    declined = await client.post(
        f"{path}/decline", data={"reason": "破损"}, headers=world.headers(CHARITY)
    )
    assert declined.status_code == 303
    row = await Donation.select(Donation.status).where(Donation.id == world.goods_donation_x_id)
    assert row == [{"status": "declined"}]


async def test_a_member_takes_units_of_an_offer_back_or_withdraws_it(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/charity/offers/{world.offer_x_id}"
    headers = world.headers(CHARITY)
    before = await Offer.select().where(Offer.id == world.offer_x_id).first().run()
    assert before is not None
    form = await get_page(client, world, CHARITY, path)
    assert 'data-testid="withdraw-form"' in form.text
    no_reason = await client.post(
        f"{path}/withdraw?lang=zh-CN", data={"quantity": "1"}, headers=headers
    )
    assert no_reason.status_code == 400 and 'href="#reason"' in no_reason.text
    too_many = await client.post(
        f"{path}/withdraw?lang=zh-CN",
        data={"quantity": str(before["available"] + 1), "reason": "受潮"},
        headers=headers,
    )
    assert too_many.status_code == 400 and 'href="#quantity"' in too_many.text
    assert (
        await client.post(
            f"{path}/withdraw", data={"reason": "x"}, headers=world.headers(OTHER_CHARITY)
        )
    ).status_code in (403, 404)
    some = await client.post(
        f"{path}/withdraw", data={"quantity": "1", "reason": "受潮"}, headers=headers
    )
    assert some.status_code == 303
    all_ = await client.post(f"{path}/withdraw", data={"reason": "停止发放"}, headers=headers)
    assert all_.status_code == 303
    after = await Offer.select().where(Offer.id == world.offer_x_id).first().run()
    assert after is not None and after["status"] == "withdrawn"
    assert after["available"] == 0 and after["withdrawn"] == before["available"]


async def test_a_goods_gift_reaches_delivered_through_pages_only(
    client: httpx.AsyncClient,
) -> None:
    """A donor registers goods, the charity accepts them, staff run and approve a round and
    print the slip, the courier confirms with the slip's code: all by pages."""
    loop = await build_loop()
    await add_household(loop, "HHGOODS1", COUNTY, quilts=2)
    opened = await client.post(
        "/charity/campaigns",
        data={
            "title": "棉被",
            "region": "呼兰区",
            "item_codes": "quilt",
            "target_yuan": "100",
            "ends_on": later(),
        },
        headers=loop.auth("charity"),
    )
    assert opened.status_code == 303, opened.text
    campaign_id = int(opened.headers["location"].rsplit("/", 1)[1])
    client.cookies.clear()  # the donor is someone else, in another browser
    given = await client.post(
        f"/campaigns/{campaign_id}/goods",
        data={"item_code": "quilt", "quantity": "2"},
        headers=await csrf_headers(client),
    )
    assert given.status_code == 303, given.text
    code = given.headers["location"].rsplit("/", 1)[1]
    donation = await Donation.select(Donation.id).where(Donation.tracking_code == code).first()
    assert donation is not None
    accepted = await client.post(
        f"/charity/donations/{donation['id']}/accept",
        data={"warehouse_id": str(loop.warehouse_id)},
        headers=loop.auth("charity"),
    )
    assert accepted.status_code == 303, accepted.text
    started = await client.post(
        "/staff/rounds", data={"item_codes": "quilt"}, headers=loop.auth("staff")
    )
    assert started.status_code == 303, started.text
    round_id = int(re.search(r"/staff/rounds/(\d+)", started.headers["location"]).group(1))  # type: ignore[union-attr]
    assert await run_jobs() == 1
    approved = await client.post(
        f"/staff/rounds/{round_id}/approve",
        data={"all": "1", "confirmed": "1"},
        headers=loop.auth("staff"),
    )
    assert approved.status_code == 303, approved.text
    visits = await client.get("/staff/deliveries", headers=loop.auth("staff"))
    visit_id = re.search(r'name="visit_id" value="(\d+)"', visits.text).group(1)  # type: ignore[union-attr]
    slips = await client.post(
        "/staff/visits/slips",
        data={"visit_id": [visit_id], "paper": "a4"},
        headers=loop.auth("staff"),
    )
    assert slips.status_code == 200, slips.text
    grouped = re.search(r'data-field="code">([\d ]+)<', slips.text).group(1)  # type: ignore[union-attr]
    confirmed = await client.post(
        f"/courier/visits/{visit_id}/confirm",
        data={"code": grouped.replace(" ", "")},
        headers=loop.auth("courier"),
    )
    assert confirmed.status_code == 303, confirmed.text
    tracked = (await client.get(f"/api/track/{code}")).json()
    assert [e["step"] for e in tracked["timeline"]][-1] == "delivered", tracked
    timeline = await client.get(f"/donations/{code}?lang=zh-CN")
    assert 'data-step="delivered"' in timeline.text


async def test_a_donor_gives_goods_to_a_verified_charity_without_a_campaign(
    client: httpx.AsyncClient, world: World
) -> None:
    await Campaign.update({Campaign.status: "closed"}).where(Campaign.id == world.campaign_x_id)
    give = await get_page(client, world, ANON, "/give")
    assert give.status_code == 200
    assert f'href="/give/charities/{world.charity_x_id}"' in give.text
    assert "目前没有进行中的募捐活动" in give.text
    path = f"/give/charities/{world.charity_x_id}"
    headers = await csrf_headers(client)
    bad = await client.post(
        f"{path}?lang=zh-CN",
        data={"item_code": "quilt", "quantity": "two", "donor_name": "李四"},
        headers=headers,
    )
    assert bad.status_code == 400 and 'href="#quantity"' in bad.text
    assert 'value="李四"' in bad.text and 'value="two"' in bad.text
    assert "<title>错误：" in bad.text
    given = await client.post(
        path, data={"item_code": "quilt", "quantity": "4", "donor_name": "李四"}, headers=headers
    )
    assert given.status_code == 303, given.text
    code = given.headers["location"].rsplit("/", 1)[1]
    row = await Donation.select().where(Donation.tracking_code == code).first().run()
    assert row is not None
    assert row["campaign"] is None and row["organization"] == world.charity_x_id
    assert row["quantity"] == 4 and row["status"] == "created"


async def test_only_verified_charities_are_offered_to_donors(
    client: httpx.AsyncClient, world: World
) -> None:
    await Organization.update({Organization.status: "suspended"}).where(
        Organization.id == world.charity_y_id
    )
    listed = await client.get("/api/organizations/verified")
    assert listed.status_code == 200
    body = listed.json()
    assert [item["id"] for item in body["items"]] == [world.charity_x_id]
    assert set(body["items"][0]) == {"id", "name", "region_code", "region_name"}  # no contact
    found = await client.get("/api/organizations/verified", params={"q": "慈善X"})
    assert found.json()["total"] == 1
    none = await client.get("/api/organizations/verified", params={"q": "无此机构"})
    assert none.json()["total"] == 0
    page = await get_page(client, world, ANON, f"/give/charities/{world.charity_y_id}")
    assert page.status_code == 404
    refused = await client.post(
        f"/give/charities/{world.charity_y_id}",
        data={"item_code": "quilt", "quantity": "1"},
        headers=await csrf_headers(client),
    )
    assert refused.status_code == 404
    assert await Donation.count().where(Donation.organization == world.charity_y_id).run() == 0


async def test_the_dashboard_counts_every_delivery_as_the_home_page_does(
    client: httpx.AsyncClient, db: None
) -> None:
    """Stock of the charity's own (neither given nor bought) delivered: the public dashboard
    shows it per county and kind, and its deliveries equal the home page's total."""
    loop = await build_loop()
    await add_offer(loop, 5)
    await add_household(loop, "HHOWN1", COUNTY, quilts=2)
    round_ = await run_round(client, loop)
    approval = await client.post(
        f"/api/rounds/{round_['id']}/approve", json={"all": True}, headers=loop.auth("staff")
    )
    assert approval.status_code == 200, approval.text
    for delivery_id in approval.json()["delivery_ids"]:
        slip = await client.post(f"/api/deliveries/{delivery_id}/slip", headers=loop.auth("staff"))
        confirmed = await client.post(
            f"/api/deliveries/{delivery_id}/confirm",
            json={"code": slip.json()["code"]},
            headers=loop.auth("courier"),
        )
        assert confirmed.status_code == 200, confirmed.text
    rows = (await client.get("/api/donation-dashboard")).json()
    by_key = {(row["county_code"], row["kind"]): row for row in rows}
    assert by_key[("230111", "quilt")]["delivered_units"] == 2
    assert by_key[("230111", "quilt")]["donated_units"] == 0
    home = await client.get("/?lang=en")
    dashboard = await client.get("/dashboard?lang=en")
    delivered = sum(row["deliveries"] for row in rows)
    assert delivered == len(approval.json()["delivery_ids"]) >= 1
    shown = re.search(r"<strong>([\d,]+)</strong><span>deliveries confirmed", home.text)
    on_dashboard = re.search(r"<strong>([\d,]+)</strong><span>deliveries confirmed", dashboard.text)
    assert shown is not None and on_dashboard is not None
    assert shown.group(1) == on_dashboard.group(1) == str(delivered)
    assert "Dehui" not in dashboard.text and "HHOWN1" not in dashboard.text  # never a household


async def test_a_member_renames_and_moves_a_warehouse_and_its_open_offers_follow(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/charity/warehouses/{world.warehouse_x_id}"
    form = await get_page(client, world, CHARITY, path)
    assert form.status_code == 200 and 'data-testid="warehouse-edit-form"' in form.text
    headers = world.headers(CHARITY)
    half = await client.post(
        f"{path}?lang=zh-CN",
        data={"name": "总仓", "address": "测试路", "region": "", "lat": "45.9"},
        headers=headers,
    )
    assert half.status_code == 400 and 'href="#lon"' in half.text
    assert 'value="总仓"' in half.text and 'value="45.9"' in half.text
    moved = await client.post(
        path,
        data={"name": "总仓", "address": "测试路", "region": "", "lat": "45.9", "lon": "126.6"},
        headers=headers,
    )
    assert moved.status_code == 303, moved.text
    row = await Warehouse.select().where(Warehouse.id == world.warehouse_x_id).first().run()
    assert row is not None and row["name"] == "总仓" and (row["lat"], row["lon"]) == (45.9, 126.6)
    offer = await Offer.select(Offer.lat, Offer.lon).where(Offer.id == world.offer_x_id).first()
    assert offer == {"lat": 45.9, "lon": 126.6}
    assert (await get_page(client, world, OTHER_CHARITY, path)).status_code == 404
    other = await client.post(
        path, data={"name": "抢注", "address": "x"}, headers=world.headers(OTHER_CHARITY)
    )
    assert other.status_code == 404


async def test_a_refund_form_refuses_a_bad_amount_at_its_field(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/charity/donations/{world.donation_x_id}"
    shown = await get_page(client, world, CHARITY, path)
    assert 'data-testid="refund-form"' in shown.text
    bad = await client.post(
        f"{path}/refund?lang=zh-CN",
        data={"amount_yuan": "0.5", "reason": "捐错了"},
        headers=world.headers(CHARITY),
    )
    assert bad.status_code == 400 and 'href="#amount_yuan"' in bad.text
    assert 'value="0.5"' in bad.text and 'value="捐错了"' in bad.text
    offline = await client.post(
        f"{path}/refund?lang=en", data={"amount_yuan": "1"}, headers=world.headers(CHARITY)
    )
    assert offline.status_code == 400  # no Stripe here: said in words, nothing refunded
    assert "Online payments are not available" in offline.text
    other = await client.post(
        f"{path}/refund", data={"amount_yuan": "1"}, headers=world.headers(OTHER_CHARITY)
    )
    assert other.status_code == 404
    row = await Donation.select(Donation.refunded_fen).where(Donation.id == world.donation_x_id)
    assert row == [{"refunded_fen": 0}]


async def test_a_member_changes_the_charitys_contact_and_a_bad_phone_stays_at_its_field(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(CHARITY)
    bad = await client.post(
        "/charity/members/contact?lang=zh-CN",
        data={"contact_name": "王经理", "contact_phone": "电话"},
        headers=headers,
    )
    assert bad.status_code == 400 and 'href="#contact_phone"' in bad.text
    assert 'value="王经理"' in bad.text and 'value="电话"' in bad.text
    saved = await client.post(
        "/charity/members/contact",
        data={"contact_name": "王经理", "contact_phone": "13800000009"},
        headers=headers,
    )
    assert saved.status_code == 303
    row = await Organization.select(Organization.contact_name, Organization.contact_phone).where(
        Organization.id == world.charity_x_id
    )
    assert row == [{"contact_name": "王经理", "contact_phone": "13800000009"}]
    courier = await client.post(
        "/charity/members/contact",
        data={"contact_name": "x", "contact_phone": "13800000009"},
        headers=world.headers(COURIER),
    )
    assert courier.status_code == 403
