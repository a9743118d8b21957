"""'Not received' cases: a household reports with its code, staff settle the case once."""

from __future__ import annotations

import httpx

from nuanxin.audit.tables import AuditEntry
from tests.nuanxin.conftest import csrf_headers
from tests.nuanxin.loop_world import (
    COUNTY,
    add_household,
    add_offer,
    allocated,
    build_loop,
    run_round,
)


async def _delivered_and_reported(client: httpx.AsyncClient, loop: object) -> tuple[int, int]:
    """A delivered quilt whose household says it never came: (delivery id, case id)."""
    round_body = await run_round(client, loop)  # type: ignore[arg-type]
    auth = loop.auth  # type: ignore[attr-defined]
    approval = await client.post(
        f"/api/rounds/{round_body['id']}/approve", json={"all": True}, headers=auth("staff")
    )
    delivery_id = approval.json()["delivery_ids"][0]
    code = (await client.post(f"/api/deliveries/{delivery_id}/slip", headers=auth("staff"))).json()[
        "code"
    ]
    confirmed = await client.post(
        f"/api/deliveries/{delivery_id}/confirm", json={"code": code}, headers=auth("courier")
    )
    assert confirmed.status_code == 200, confirmed.text
    reported = await client.post(
        "/api/delivery-reports",
        json={"code": code, "description": "没有收到棉被"},
        headers=await csrf_headers(client),
    )
    assert reported.status_code == 201, reported.text
    return delivery_id, int(reported.json()["id"])


async def test_staff_resolve_a_case_once_with_an_outcome_and_a_note_audited(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]))
    await add_offer(loop, quantity=1)
    _, case_id = await _delivered_and_reported(client, loop)
    url = f"/api/deliveries/cases/{case_id}/resolve"
    resolved = await client.post(
        url,
        json={"outcome": "received", "note": "电话回访：邻居代收，已送到"},
        headers=loop.auth("staff"),
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["outcome"] == "received"
    again = await client.post(
        url, json={"outcome": "written_off", "note": "再次处理"}, headers=loop.auth("staff")
    )
    assert again.status_code == 409, again.text
    listed = (await client.get("/api/deliveries/cases", headers=loop.auth("staff"))).json()
    assert [(c["id"], c["outcome"], c["resolution"]) for c in listed["items"]] == [
        (case_id, "received", "电话回访：邻居代收，已送到")
    ]
    trail = await AuditEntry.select(AuditEntry.action, AuditEntry.after).where(
        AuditEntry.entity == "delivery_case"
    )
    assert [row["action"] for row in trail] == ["delivery_case.resolve"]
    unknown = await client.post(
        "/api/deliveries/cases/987654/resolve",
        json={"outcome": "received", "note": "无"},
        headers=loop.auth("staff"),
    )
    assert unknown.status_code == 404
    wrong = await client.post(
        url, json={"outcome": "lost", "note": "无"}, headers=loop.auth("staff")
    )
    assert wrong.status_code == 400 and wrong.json()["field"] == "outcome"


async def test_goods_written_off_reopen_the_households_need_for_the_next_round(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]))
    await add_offer(loop, quantity=1)
    _, case_id = await _delivered_and_reported(client, loop)
    assert await allocated(loop.needs[household]) == 1
    written_off = await client.post(
        f"/api/deliveries/cases/{case_id}/resolve",
        json={"outcome": "written_off", "note": "快递丢失，核实无误"},
        headers=loop.auth("staff"),
    )
    assert written_off.status_code == 200, written_off.text
    assert await allocated(loop.needs[household]) == 0
    offer = await add_offer(loop, quantity=1)
    next_round = await run_round(client, loop)
    listed = await client.get(
        f"/api/rounds/{next_round['id']}/proposals", headers=loop.auth("staff")
    )
    assert [(p["household_id"], p["offer_id"]) for p in listed.json()["items"]] == [
        (household, offer)
    ]
