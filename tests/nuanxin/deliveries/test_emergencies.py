"""先行救助: one household helped at once from the nearest stock, paperwork due after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from nuanxin.deliveries.tables import Allocation
from nuanxin.households.tables import Household, Need
from nuanxin.offers.tables import Offer
from tests.nuanxin.loop_world import COUNTY, add_household, add_offer, build_loop


async def test_staff_help_an_unverified_household_at_once_from_the_nearest_stock(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "HHE", (COUNTY[0] + 0.05, COUNTY[1]), quilts=0)
    await Household.update({Household.status: "unverified"}).where(Household.id == household).run()
    far = await add_offer(loop, quantity=5, radius_km=80)
    await Offer.update({Offer.lat: COUNTY[0] + 0.4}).where(Offer.id == far).run()
    near = await add_offer(loop, quantity=5, radius_km=80)
    answer = await client.post(
        "/api/emergencies",
        json={"household_id": household, "item_code": "quilt", "quantity": 2, "reason": "暴雪断电"},
        headers=loop.auth("staff"),
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["offer_id"] == near, "the nearest stock first"
    assert body["quantity"] == 2 and body["delivery_id"] > 0
    due = datetime.fromisoformat(body["paperwork_due_at"])
    assert timedelta(days=6) < due - datetime.now(UTC) <= timedelta(days=7)
    stock = (
        await Offer.select(Offer.available, Offer.reserved).where(Offer.id == near).first().run()
    )
    assert stock == {"available": 3, "reserved": 2}
    need = (
        await Need.select(Need.quantity, Need.allocated)
        .where(Need.id == loop.needs[household])
        .first()
        .run()
    )
    assert need == {"quantity": 2, "allocated": 2}, "the need is raised to what was given"


async def test_overdue_paperwork_is_listed_until_it_is_done(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "HHE", (COUNTY[0] + 0.05, COUNTY[1]))
    await add_offer(loop, quantity=5)
    given = (
        await client.post(
            "/api/emergencies",
            json={"household_id": household, "item_code": "quilt", "reason": "独居老人"},
            headers=loop.auth("staff"),
        )
    ).json()
    overdue = await client.get("/api/emergencies?overdue=true", headers=loop.auth("staff"))
    assert overdue.json()["total"] == 0
    await (
        Allocation.update({Allocation.paperwork_due_at: datetime.now(UTC) - timedelta(days=1)})
        .where(Allocation.id == given["allocation_id"])
        .run()
    )
    overdue = await client.get("/api/emergencies?overdue=true", headers=loop.auth("staff"))
    assert [e["allocation_id"] for e in overdue.json()["items"]] == [given["allocation_id"]]
    assert overdue.json()["items"][0]["overdue"] is True
    done = await client.post(
        f"/api/emergencies/{given['allocation_id']}/paperwork", headers=loop.auth("staff")
    )
    assert done.status_code == 200 and done.json()["overdue"] is False
    again = await client.post(
        f"/api/emergencies/{given['allocation_id']}/paperwork", headers=loop.auth("staff")
    )
    assert again.status_code == 200, "doing it twice is harmless"
    overdue = await client.get("/api/emergencies?overdue=true", headers=loop.auth("staff"))
    assert overdue.json()["total"] == 0


async def test_no_stock_in_reach_is_a_clear_conflict_and_changes_nothing(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "HHE", (COUNTY[0] + 1.0, COUNTY[1]))
    offer = await add_offer(loop, quantity=5, radius_km=20)
    answer = await client.post(
        "/api/emergencies",
        json={"household_id": household, "item_code": "quilt", "reason": "暴雪"},
        headers=loop.auth("staff"),
    )
    assert answer.status_code == 409
    assert answer.json()["error"] == "no_stock_in_reach"
    assert await Allocation.count().run() == 0
    stock = await Offer.select(Offer.available).where(Offer.id == offer).first().run()
    assert stock == {"available": 5}
    bad = await client.post(
        "/api/emergencies",
        json={"household_id": household, "item_code": "quilt", "reason": "", "quantity": 0},
        headers=loop.auth("staff"),
    )
    assert bad.status_code == 400 and bad.json()["field"] in ("reason", "quantity")
