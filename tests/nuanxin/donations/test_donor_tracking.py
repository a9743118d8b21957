"""A donor follows a gift to the doorstep: matched and delivered, county and category only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from nuanxin.donations.tables import Campaign, Donation
from tests.nuanxin.conftest import run_jobs
from tests.nuanxin.loop_world import COUNTY, add_household, build_loop


async def test_a_donors_timeline_reaches_the_confirmed_delivery_without_the_household(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    await add_household(loop, "HHD", (COUNTY[0] + 0.01, COUNTY[1]), quilts=2)
    now = datetime.now(UTC)
    campaign = (
        await Campaign.insert(
            Campaign(
                organization=loop.charity_id,
                title="呼兰区冬季取暖",
                region=loop.county_id,
                items=["quilt"],
                target_fen=100_000,
                ends_on=(now + timedelta(days=30)).date(),
                created_at=now,
            )
        )
        .returning(Campaign.id)
        .run()
    )
    campaign_id = int(campaign[0]["id"])
    await Donation.insert(
        Donation(
            tracking_code="TRACKDEMX234",
            kind="money",
            organization=loop.charity_id,
            campaign=campaign_id,
            amount_fen=20_000,
            status="paid",
            created_at=now,
            updated_at=now,
            settled_at=now,
        )
    ).run()
    bought = await client.post(
        f"/api/campaigns/{campaign_id}/purchases",
        json={
            "item_code": "quilt",
            "quantity": 2,
            "cost_fen": 16_000,
            "warehouse_id": loop.warehouse_id,
            "radius_km": 30,
        },
        headers=loop.auth("charity"),
    )
    assert bought.status_code == 201, bought.text

    started = await client.post("/api/rounds", json={}, headers=loop.auth("staff"))
    round_id = started.json()["id"]
    await run_jobs()
    approval = await client.post(
        f"/api/rounds/{round_id}/approve", json={"all": True}, headers=loop.auth("staff")
    )
    delivery_id = approval.json()["delivery_ids"][0]
    code = (
        await client.post(f"/api/deliveries/{delivery_id}/slip", headers=loop.auth("staff"))
    ).json()["code"]
    matched = (await client.get("/api/track/TRACKDEMX234")).json()
    assert [e["step"] for e in matched["timeline"]][-1] == "matched"

    confirmed = await client.post(
        f"/api/deliveries/{delivery_id}/confirm", json={"code": code}, headers=loop.auth("courier")
    )
    assert confirmed.status_code == 200
    answer = await client.get("/api/track/TRACKDEMX234")
    timeline = answer.json()["timeline"]
    assert [e["step"] for e in timeline] == ["received", "paid", "goods", "matched", "delivered"]
    delivered = timeline[-1]
    assert delivered["county_name"] == "呼兰区" and delivered["county_code"] == "230111"
    assert "household_category" not in delivered, "no category on a public page (UI.md)"
    assert delivered["units"] == 2.0, "the only gift of the campaign owns all the units"
    assert "household_id" not in answer.text and "reference" not in answer.text
    for secret in ("测试HHD", "HHD", "呼兰区测试村", "13900001111", "000X"):
        assert secret not in answer.text, secret

    books = (await client.get(f"/api/campaigns/{campaign_id}")).json()
    assert books["books"]["units_delivered"] == 2, books
    dashboard = (await client.get("/api/donation-dashboard")).json()
    rows = dashboard if isinstance(dashboard, list) else dashboard["items"]
    assert any(
        row["county_code"] == "230111" and row["kind"] == "quilt" and row["delivered_units"] == 2
        for row in rows
    ), rows
