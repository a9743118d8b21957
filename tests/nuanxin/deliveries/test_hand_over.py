"""The hand-over's outcomes (issue 19): what a confirmation and a failure leave behind."""

from __future__ import annotations

from typing import Any

import httpx

from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries.tables import Allocation, Delivery
from tests.nuanxin.loop_world import (
    COUNTY,
    Loop,
    add_household,
    add_offer,
    allocated,
    build_loop,
    run_round,
    stock,
)


async def _one_delivery(client: httpx.AsyncClient, quilts: int = 1) -> tuple[Loop, int, int, int]:
    loop = await build_loop()
    household = await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]), quilts=quilts)
    offer = await add_offer(loop, quantity=3)
    round_body = await run_round(client, loop)
    approval = await client.post(
        f"/api/rounds/{round_body['id']}/approve", json={"all": True}, headers=loop.auth("staff")
    )
    return loop, household, offer, int(approval.json()["delivery_ids"][0])


async def _allocation(delivery_id: int) -> dict[str, Any]:
    row = await Delivery.select(Delivery.allocation).where(Delivery.id == delivery_id).first()
    assert row is not None
    found = await Allocation.select().where(Allocation.id == row["allocation"]).first().run()
    assert found is not None
    return dict(found)


async def _delivery(delivery_id: int) -> dict[str, Any]:
    row = await Delivery.select().where(Delivery.id == delivery_id).first().run()
    assert row is not None
    return dict(row)


async def _actions(delivery_id: int) -> list[tuple[str, Any]]:
    rows = (
        await AuditEntry.select(AuditEntry.action, AuditEntry.after)
        .where((AuditEntry.entity == "delivery") & (AuditEntry.entity_id == str(delivery_id)))
        .order_by(AuditEntry.id)
        .output(load_json=True)
        .run()
    )
    return [(r["action"], r["after"]) for r in rows]


async def test_a_failed_delivery_leaves_its_allocation_failed_not_pending(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, household, offer, delivery_id = await _one_delivery(client, quilts=2)
    failed = await client.post(
        f"/api/deliveries/{delivery_id}/fail", json={"reason": "无人"}, headers=loop.auth("courier")
    )
    assert failed.status_code == 200, failed.text
    assert (await _allocation(delivery_id))["status"] == "failed"
    assert (await _delivery(delivery_id))["status"] == "failed"
    assert await stock(offer) == {"available": 3, "reserved": 0, "delivered": 0}
    assert await allocated(loop.needs[household]) == 0
    [(action, after)] = await _actions(delivery_id)
    assert action == "delivery.fail"
    assert (after["status"], after["reason"]) == ("failed", "无人")
    again = await client.post(
        f"/api/deliveries/{delivery_id}/fail", json={"reason": "无人"}, headers=loop.auth("courier")
    )
    assert again.status_code == 409
    assert await stock(offer) == {"available": 3, "reserved": 0, "delivered": 0}


async def test_a_confirmed_delivery_closes_its_allocation_and_counts_the_units_delivered(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, _, offer, delivery_id = await _one_delivery(client, quilts=2)
    code = (
        await client.post(f"/api/deliveries/{delivery_id}/slip", headers=loop.auth("staff"))
    ).json()["code"]
    spaced = f"{code[:4]} {code[4:]}"
    done = await client.post(
        f"/api/deliveries/{delivery_id}/confirm",
        json={"code": spaced},
        headers=loop.auth("courier"),
    )
    assert done.status_code == 200, done.text
    assert (await _allocation(delivery_id))["status"] == "delivered"
    row = await _delivery(delivery_id)
    assert row["status"] == "delivered" and row["confirmed_at"] is not None
    assert row["confirmed_by"] is not None
    assert await stock(offer) == {"available": 1, "reserved": 0, "delivered": 2}
    failed = await client.post(
        f"/api/deliveries/{delivery_id}/fail", json={"reason": "晚了"}, headers=loop.auth("courier")
    )
    assert failed.status_code == 409
    wrong = await client.post(
        f"/api/deliveries/{delivery_id}/confirm",
        json={"code": "0" * 8 if code != "0" * 8 else "1" * 8},
        headers=loop.auth("courier"),
    )
    assert wrong.status_code == 409 and wrong.json()["error"] == "already_delivered"


async def test_staff_confirm_a_hand_over_they_witnessed_and_couriers_cannot(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, _, offer, delivery_id = await _one_delivery(client)
    staff_only = await client.post(
        f"/api/deliveries/{delivery_id}/confirm",
        json={"code": "12345678"},
        headers=loop.auth("staff"),
    )
    assert staff_only.status_code == 403
    done = await client.post(
        f"/api/deliveries/{delivery_id}/staff-confirm",
        json={"reason": "到户核实"},
        headers=loop.auth("staff"),
    )
    assert (done.json()["status"], done.json()["already_confirmed"]) == ("delivered", False)
    again = await client.post(
        f"/api/deliveries/{delivery_id}/staff-confirm",
        json={"reason": "到户核实"},
        headers=loop.auth("staff"),
    )
    assert again.json()["already_confirmed"] is True
    assert await stock(offer) == {"available": 2, "reserved": 0, "delivered": 1}
