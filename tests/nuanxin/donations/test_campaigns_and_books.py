"""Campaigns, their books, purchases, goods donations, tracking and receipts (no Stripe)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from nuanxin.accounts.tables import Organization
from nuanxin.audit.tables import AuditEntry
from nuanxin.donations.tables import Campaign, Donation, Purchase
from nuanxin.offers.tables import Offer
from tests.nuanxin.authz.world import build_world
from tests.nuanxin.conftest import csrf_headers
from tests.nuanxin.donations.conftest import Charity, open_campaign, paid_donation


def future(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


async def buy(
    client: httpx.AsyncClient, charity: Charity, cost_fen: int, quantity: int = 10
) -> httpx.Response:
    return await client.post(
        f"/api/campaigns/{charity.campaign_id}/purchases",
        headers=charity.member,
        json={
            "item_code": "coal",
            "quantity": quantity,
            "cost_fen": cost_fen,
            "warehouse_id": charity.warehouse_id,
        },
    )


async def test_a_campaign_shows_its_progress_to_everyone(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(client, charity)
    await paid_donation(campaign_id, charity.organization_id, 500_00)
    bought = await buy(client, charity, 200_00, quantity=8)
    assert bought.status_code == 201, bought.text
    listed = (await client.get("/api/campaigns")).json()
    assert listed["total"] == 1
    books = listed["items"][0]["books"]
    assert books == {
        "raised_fen": 500_00,
        "refunded_fen": 0,
        "spent_fen": 200_00,
        "left_fen": 300_00,
        "donations": 1,
        "goods_bought": 8,
        "units_delivered": 0,
    }
    detail = (await client.get(f"/api/campaigns/{campaign_id}")).json()
    assert detail["books"] == books and detail["region_code"] == "230111"
    purchases = (await client.get(f"/api/campaigns/{campaign_id}/purchases")).json()
    assert [(p["item_code"], p["quantity"], p["cost_fen"]) for p in purchases["items"]] == [
        ("coal", 8, 200_00)
    ]
    offer = await Offer.select().where(Offer.id == purchases["items"][0]["offer_id"]).first().run()
    assert offer is not None
    assert (offer["organization"], offer["warehouse"], offer["available"]) == (
        charity.organization_id,
        charity.warehouse_id,
        8,
    )


async def test_money_cannot_be_spent_twice(client: httpx.AsyncClient, charity: Charity) -> None:
    campaign_id = await open_campaign(client, charity)
    donation_id = await paid_donation(campaign_id, charity.organization_id, 100_00)
    assert (await buy(client, charity, 60_00)).status_code == 201
    second = await buy(client, charity, 60_00)
    assert second.status_code == 409
    assert second.json()["error"] == "insufficient_funds"
    assert second.json()["field"] == "cost_fen"
    assert await Purchase.count().run() == 1
    assert await Offer.count().where(Offer.note == f"campaign {campaign_id}").run() == 1
    # Nor refunded once spent: only the unspent ¥40.00 can go back.
    refund = await client.post(
        f"/api/donations/{donation_id}/refunds", headers=charity.member, json={"amount_fen": 50_00}
    )
    assert refund.status_code in (409,), refund.text
    assert refund.json()["error"] in ("money_spent", "payments_unavailable")
    assert (await buy(client, charity, 40_00)).status_code == 201
    books = (await client.get(f"/api/campaigns/{campaign_id}")).json()["books"]
    assert books["left_fen"] == 0 and books["spent_fen"] == 100_00


async def test_purchases_are_for_the_charity_s_own_campaign_and_items(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(client, charity, items=["coal"])
    await paid_donation(campaign_id, charity.organization_id, 100_00)
    other = await client.post(
        f"/api/campaigns/{campaign_id}/purchases",
        headers=charity.other_member,
        json={
            "item_code": "coal",
            "quantity": 1,
            "cost_fen": 100,
            "warehouse_id": charity.warehouse_id,
        },
    )
    assert other.status_code == 404
    wrong_item = await client.post(
        f"/api/campaigns/{campaign_id}/purchases",
        headers=charity.member,
        json={
            "item_code": "quilt",
            "quantity": 1,
            "cost_fen": 100,
            "warehouse_id": charity.warehouse_id,
        },
    )
    assert wrong_item.status_code == 400 and wrong_item.json()["field"] == "item_code"
    assert await Purchase.count().run() == 0


async def test_only_a_verified_charity_opens_a_campaign_and_the_end_date_is_ahead(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    body = {
        "title": "冬季",
        "region_code": "230111",
        "item_codes": ["coal"],
        "target_fen": 100_00,
        "ends_on": future(),
    }
    past = await client.post(
        "/api/campaigns", headers=charity.member, json={**body, "ends_on": "2020-01-01"}
    )
    assert past.status_code == 400 and past.json()["field"] == "ends_on"
    unknown = await client.post(
        "/api/campaigns", headers=charity.member, json={**body, "item_codes": ["caviar"]}
    )
    assert unknown.status_code == 400 and unknown.json()["field"] == "item_codes"
    county = await client.post(
        "/api/campaigns", headers=charity.member, json={**body, "region_code": "999999"}
    )
    assert county.status_code == 400 and county.json()["field"] == "region_code"
    await (
        Organization.update({Organization.status: "pending"})
        .where(Organization.id == charity.organization_id)
        .run()
    )
    pending = await client.post("/api/campaigns", headers=charity.member, json=body)
    assert pending.status_code == 409 and pending.json()["error"] == "charity_not_verified"
    assert await Campaign.count().run() == 0


async def test_a_closed_campaign_takes_no_donations(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(client, charity)
    refused = await client.post(f"/api/campaigns/{campaign_id}/close", headers=charity.other_member)
    assert refused.status_code == 404
    closed = await client.post(f"/api/campaigns/{campaign_id}/close", headers=charity.member)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = await client.post(f"/api/campaigns/{campaign_id}/close", headers=charity.member)
    assert again.status_code == 409
    assert (await client.get("/api/campaigns")).json()["total"] == 0
    assert (await client.get("/api/campaigns?status=closed")).json()["total"] == 1


async def test_malformed_donations_are_refused_naming_the_field(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(client, charity)
    headers = await csrf_headers(client)
    url = f"/api/campaigns/{campaign_id}/donations"
    for body, field in (
        ({"amount_fen": -500}, "amount_fen"),
        ({"amount_fen": 12.5}, "amount_fen"),
        ({"amount_fen": "1000"}, "amount_fen"),
        ({"amount_fen": 1000.0}, "amount_fen"),
        ({"amount_fen": 10**15}, "amount_fen"),
        ({"amount_fen": 0}, "amount_fen"),
        ({"amount_fen": 1000, "currency": "usdollar"}, "currency"),
        ({"amount_fen": 1000, "idempotency_key": "short"}, "idempotency_key"),
        ({"amount_fen": 1000, "tip": 5}, "tip"),
    ):
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["field"] == field, (body, response.text)
    # A currency the platform does not take (checked before Stripe's configuration).
    response = await client.post(url, json={"amount_fen": 1000, "currency": "usd"}, headers=headers)
    assert response.status_code == 400 and response.json()["field"] == "currency"
    assert await Donation.count().run() == 0


async def test_without_stripe_a_donation_is_refused_clearly_and_nothing_is_written(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(client, charity)
    response = await client.post(
        f"/api/campaigns/{campaign_id}/donations",
        json={"amount_fen": 1000},
        headers=await csrf_headers(client),
    )
    assert response.status_code == 409
    assert response.json()["error"] == "payments_unavailable"
    assert await Donation.count().run() == 0
    webhook = await client.post("/api/stripe/webhook", content=b"{}")
    assert webhook.status_code == 409


async def test_goods_are_accepted_into_an_offer_and_the_donor_follows_them(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    headers = await csrf_headers(client)
    given = await client.post(
        "/api/goods-donations",
        headers=headers,
        json={
            "organization_id": charity.organization_id,
            "item_code": "quilt",
            "quantity": 5,
            "donor_name": "李女士",
            "donor_email": "li@example.org",
        },
    )
    assert given.status_code == 201, given.text
    code, donation_id = given.json()["tracking_code"], given.json()["donation_id"]
    url = f"/api/donations/{donation_id}"
    other = await client.post(
        f"{url}/accept", headers=charity.other_member, json={"warehouse_id": charity.warehouse_id}
    )
    assert other.status_code == 404
    accepted = await client.post(
        f"{url}/accept", headers=charity.member, json={"warehouse_id": charity.warehouse_id}
    )
    assert accepted.status_code == 200, accepted.text
    offer_id = accepted.json()["offer_id"]
    assert accepted.json()["status"] == "accepted"
    again = await client.post(f"{url}/decline", headers=charity.member, json={"reason": "重复"})
    assert again.status_code == 409

    # A second gift of quilts joins the same open offer.
    more = await client.post(
        "/api/goods-donations",
        headers=headers,
        json={"organization_id": charity.organization_id, "item_code": "quilt", "quantity": 3},
    )
    joined = await client.post(
        f"/api/donations/{more.json()['donation_id']}/accept",
        headers=charity.member,
        json={"warehouse_id": charity.warehouse_id, "offer_id": offer_id},
    )
    assert joined.status_code == 200, joined.text
    offer = await Offer.select(Offer.quantity, Offer.available).where(Offer.id == offer_id).run()
    assert offer == [{"quantity": 8, "available": 8}]

    timeline = (await client.get(f"/api/track/{code}")).json()
    assert [e["step"] for e in timeline["timeline"]] == ["received", "accepted", "goods"]
    assert timeline["timeline"][-1]["units"] == 5
    receipt = await client.get(f"/donations/{code}/receipt")
    assert receipt.status_code == 200
    assert "棉被" in receipt.text and "Cotton quilt" in receipt.text and "× 5" in receipt.text
    dashboard = (await client.get("/api/donation-dashboard")).json()
    assert dashboard == [
        {
            "county_code": "230111",
            "county_name": "区划230111",
            "kind": "quilt",
            "donated_fen": 0,
            "donated_units": 8,
            "bought_units": 0,
            "delivered_units": 0,
        }
    ]
    assert await AuditEntry.count().where(AuditEntry.action == "donation.accept").run() == 2


async def test_declined_goods_join_no_offer(client: httpx.AsyncClient, charity: Charity) -> None:
    given = await client.post(
        "/api/goods-donations",
        headers=await csrf_headers(client),
        json={"organization_id": charity.organization_id, "item_code": "coal", "quantity": 2},
    )
    donation_id = given.json()["donation_id"]
    offers_before = await Offer.count().run()
    declined = await client.post(
        f"/api/donations/{donation_id}/decline", headers=charity.member, json={"reason": "受潮"}
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert await Offer.count().run() == offers_before
    timeline = (await client.get(f"/api/track/{given.json()['tracking_code']}")).json()
    assert [e["step"] for e in timeline["timeline"]] == ["received", "declined"]


async def test_an_unknown_or_malformed_tracking_code_is_not_found(
    client: httpx.AsyncClient,
) -> None:
    for code in ("ABCDEFGHJKMN", "short", "O0O0O0O0O0O0", "a" * 40):
        assert (await client.get(f"/api/track/{code}")).status_code == 404


async def test_the_tracking_page_and_receipt_never_show_household_data(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    await (
        Campaign.update({Campaign.items: ["quilt", "coal"]})
        .where(Campaign.id == world.campaign_x_id)
        .run()
    )
    member = world.headers(next(c for c in world.tokens if c.value == "charity"))
    bought = await client.post(
        f"/api/campaigns/{world.campaign_x_id}/purchases",
        headers=member,
        json={
            "item_code": "quilt",
            "quantity": 4,
            "cost_fen": 40_00,
            "warehouse_id": world.warehouse_x_id,
        },
    )
    assert bought.status_code == 201, bought.text
    code = world.tracking_code_x
    answers = [
        await client.get(f"/api/track/{code}"),
        await client.get(f"/api/track/{code}/receipt"),
        await client.get(f"/donations/{code}"),
        await client.get(f"/donations/{code}/receipt"),
        await client.get("/api/donation-dashboard"),
    ]
    assert all(answer.status_code == 200 for answer in answers)
    timeline = answers[0].json()["timeline"]
    assert [e["step"] for e in timeline] == ["received", "paid", "goods"]
    assert timeline[-1]["units"] == 4.0 and timeline[-1]["amount_fen"] == 40_00
    for answer in answers:
        for secret in ("测试户主", "HHWORLD", "13912345678", "现住址", "户籍地址", "123X"):
            assert secret not in answer.text
    assert "¥100.00" in answers[3].text and "Donation receipt" in answers[3].text


async def test_the_campaign_page_loads_stripe_js_and_says_when_it_cannot(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(offline_client, charity)
    page = await offline_client.get(f"/campaigns/{campaign_id}")
    assert page.status_code == 200
    assert 'src="http://127.0.0.1:9/js.stripe.com/v3/"' in page.text
    assert 'data-key="pk_test_nuanxin"' in page.text
    assert "Stripe.js could not load" in page.text and "无法加载 Stripe 支付组件" in page.text
    assert "¥10,000.00" in page.text  # the target, formatted from fen
    await offline_client.post(f"/api/campaigns/{campaign_id}/close", headers=charity.member)
    closed = await offline_client.get(f"/campaigns/{campaign_id}")
    assert "This campaign has ended" in closed.text and "js.stripe.com" not in closed.text
    assert (await offline_client.get("/campaigns/999999")).status_code == 404


async def test_without_payments_the_campaign_page_offers_no_card_form(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(client, charity)
    page = await client.get(f"/campaigns/{campaign_id}")
    assert page.status_code == 200
    assert "Online giving is not configured" in page.text and "js.stripe.com" not in page.text
