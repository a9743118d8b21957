"""Deliveries through the API: a failed one returns its stock; wrong codes lock one."""

from __future__ import annotations

import httpx

from nuanxin.households.tables import Need
from tests.nuanxin.loop_world import (
    COUNTY,
    add_household,
    add_offer,
    allocated,
    build_loop,
    proposals,
    run_round,
    stock,
)


async def test_a_failed_delivery_returns_the_stock_and_the_next_round_serves_someone_else(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    first = await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]), weight=3.0)
    second = await add_household(loop, "HH2", (COUNTY[0] + 0.02, COUNTY[1]), weight=1.0)
    offer = await add_offer(loop, quantity=1)
    round_one = await run_round(client, loop)
    approval = await client.post(
        f"/api/rounds/{round_one['id']}/approve", json={"all": True}, headers=loop.auth("staff")
    )
    delivery_id = approval.json()["delivery_ids"][0]
    failed = await client.post(
        f"/api/deliveries/{delivery_id}/fail",
        json={"reason": "家中无人，已搬走"},
        headers=loop.auth("courier"),
    )
    assert failed.status_code == 200, failed.text
    assert failed.json()["failure_reason"] == "家中无人，已搬走"
    assert await stock(offer) == {"available": 1, "reserved": 0, "delivered": 0}
    assert await allocated(loop.needs[first]) == 0
    # Staff take the first household out (it moved away): the next round serves the second.
    await Need.update({Need.quantity: 0}).where(Need.id == loop.needs[first]).run()
    round_two = await run_round(client, loop)
    assert [p["household_id"] for p in await proposals(client, loop, round_two["id"])] == [second]


async def test_five_wrong_codes_lock_the_delivery_and_staff_may_confirm_it(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]))
    await add_offer(loop, quantity=1)
    round_body = await run_round(client, loop)
    approval = await client.post(
        f"/api/rounds/{round_body['id']}/approve", json={"all": True}, headers=loop.auth("staff")
    )
    delivery_id = approval.json()["delivery_ids"][0]
    code = (
        await client.post(f"/api/deliveries/{delivery_id}/slip", headers=loop.auth("staff"))
    ).json()["code"]
    answers = [
        await client.post(
            f"/api/deliveries/{delivery_id}/confirm",
            json={"code": "12345678" if code != "12345678" else "87654321"},
            headers=loop.auth("courier"),
        )
        for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 423]
    assert answers[3].json()["detail"] == "Wrong code: 1 attempts left"
    locked = await client.post(
        f"/api/deliveries/{delivery_id}/confirm", json={"code": code}, headers=loop.auth("courier")
    )
    assert locked.status_code == 423, "even the right code is refused once locked"
    staff = await client.post(
        f"/api/deliveries/{delivery_id}/staff-confirm",
        json={"reason": "到户核实"},
        headers=loop.auth("staff"),
    )
    assert staff.status_code == 200 and staff.json()["status"] == "delivered"


async def test_an_edited_approval_allocates_the_lowered_quantity_and_refuses_a_raised_one(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]), quilts=3)
    await add_household(loop, "HH2", (COUNTY[0] + 0.02, COUNTY[1]), quilts=2)
    offer = await add_offer(loop, quantity=5)
    round_body = await run_round(client, loop)
    listed = {p["household_id"]: p for p in await proposals(client, loop, round_body["id"])}
    first, second = (listed[h] for h in sorted(listed))
    approval = await client.post(
        f"/api/rounds/{round_body['id']}/approve",
        json={
            "edits": [
                {"proposal_id": first["id"], "quantity": first["quantity"] - 1},
                {"proposal_id": second["id"], "quantity": second["quantity"] + 1},
            ]
        },
        headers=loop.auth("staff"),
    )
    # A raised edit is a mistake in the request (400 naming it), not a stale proposal:
    # nothing of the request is applied.
    assert approval.status_code == 400, approval.text
    assert approval.json()["field"] == "edits[1].quantity"
    assert await stock(offer) == {"available": 5, "reserved": 0, "delivered": 0}
    approval = await client.post(
        f"/api/rounds/{round_body['id']}/approve",
        json={"edits": [{"proposal_id": first["id"], "quantity": first["quantity"] - 1}]},
        headers=loop.auth("staff"),
    )
    assert approval.status_code == 200, approval.text
    assert approval.json()["approved"] == [first["id"]]
    assert await stock(offer) == {
        "available": 5 - (first["quantity"] - 1),
        "reserved": first["quantity"] - 1,
        "delivered": 0,
    }
