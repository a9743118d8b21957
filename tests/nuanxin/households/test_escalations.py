"""一事一议: a request above the cap goes one level up; the decision binds the next round."""

from __future__ import annotations

import httpx

from nuanxin.households.tables import Need
from nuanxin.identity import Role
from tests.nuanxin.conftest import make_user, run_jobs
from tests.nuanxin.loop_world import COUNTY, _token, add_household, add_offer, build_loop


async def test_an_approved_request_above_the_cap_binds_the_next_round(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "HHX", (COUNTY[0] + 0.01, COUNTY[1]), quilts=1)
    await add_offer(loop, quantity=5)
    asked = await client.post(
        "/api/escalations",
        json={
            "household_id": household,
            "item_code": "quilt",
            "quantity": 3,
            "reason": "瘫痪在床，屋内无取暖",
        },
        headers=loop.auth("staff"),
    )
    assert asked.status_code == 201, asked.text
    escalation = asked.json()
    assert escalation["status"] == "pending" and escalation["decide_at_code"] == "230100"
    assert escalation["current_quantity"] == 1

    own_level = await client.post(
        f"/api/escalations/{escalation['id']}/decide",
        json={"approve": True, "reason": "同意"},
        headers=loop.auth("staff"),
    )
    assert own_level.status_code == 403, "the requester's level does not decide"

    decided = await client.post(
        f"/api/escalations/{escalation['id']}/decide",
        json={"approve": True, "reason": "经核实，特殊困难，同意"},
        headers=loop.auth("province"),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved" and decided.json()["current_quantity"] == 3
    need = (
        await Need.select(Need.quantity, Need.override_reason)
        .where(Need.id == loop.needs[household])
        .first()
        .run()
    )
    assert need is not None and need["quantity"] == 3
    assert need["override_reason"].startswith(f"一事一议 #{escalation['id']}")

    started = await client.post(
        "/api/rounds", json={"item_codes": ["quilt"]}, headers=loop.auth("staff")
    )
    round_id = started.json()["id"]
    await run_jobs()
    proposals = (
        await client.get(f"/api/rounds/{round_id}/proposals", headers=loop.auth("staff"))
    ).json()["items"]
    assert [(p["household_id"], p["quantity"]) for p in proposals] == [(household, 3)]


async def test_requests_are_checked_and_decided_once(client: httpx.AsyncClient, db: None) -> None:
    loop = await build_loop()
    household = await add_household(loop, "HHX", (COUNTY[0] + 0.01, COUNTY[1]), quilts=2)
    within = await client.post(
        "/api/escalations",
        json={"household_id": household, "item_code": "quilt", "quantity": 2, "reason": "多要"},
        headers=loop.auth("staff"),
    )
    assert within.status_code == 400 and within.json()["field"] == "quantity"
    first = await client.post(
        "/api/escalations",
        json={"household_id": household, "item_code": "quilt", "quantity": 4, "reason": "多人口"},
        headers=loop.auth("staff"),
    )
    duplicate = await client.post(
        "/api/escalations",
        json={"household_id": household, "item_code": "quilt", "quantity": 5, "reason": "再要"},
        headers=loop.auth("staff"),
    )
    assert duplicate.status_code == 409 and duplicate.json()["error"] == "escalation_pending"
    escalation_id = first.json()["id"]
    rejected = await client.post(
        f"/api/escalations/{escalation_id}/decide",
        json={"approve": False, "reason": "不符合条件"},
        headers=loop.auth("province"),
    )
    assert rejected.json()["status"] == "rejected"
    again = await client.post(
        f"/api/escalations/{escalation_id}/decide",
        json={"approve": False, "reason": "不符合条件"},
        headers=loop.auth("province"),
    )
    assert again.status_code == 200, "the same decision twice is harmless"
    flip = await client.post(
        f"/api/escalations/{escalation_id}/decide",
        json={"approve": True, "reason": "改判"},
        headers=loop.auth("province"),
    )
    assert flip.status_code == 409 and flip.json()["error"] == "already_decided"
    need = await Need.select(Need.quantity).where(Need.id == loop.needs[household]).first().run()
    assert need == {"quantity": 2}, "a rejection changes no need"

    from tests.nuanxin.conftest import make_region

    elsewhere = await make_region("230112", level="county")
    neighbour = await make_user("esc_neighbour", Role.staff, jurisdiction=elsewhere)
    loop.tokens["neighbour"] = await _token(neighbour, "neighbour")
    hidden = await client.post(
        f"/api/escalations/{escalation_id}/decide",
        json={"approve": True, "reason": "x"},
        headers=loop.auth("neighbour"),
    )
    assert hidden.status_code == 404
    listed = await client.get("/api/escalations", headers=loop.auth("neighbour"))
    assert listed.json()["total"] == 0
