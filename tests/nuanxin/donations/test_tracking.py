"""What a donor and the public see: the timeline by its code, the receipt."""

from __future__ import annotations

import httpx

from nuanxin.donations.tables import Campaign
from tests.nuanxin.authz.world import build_world


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
