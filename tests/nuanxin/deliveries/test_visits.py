"""Household visits: one code for all a charity brings a household; codes keyed, locks reprinted."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import httpx

from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries.confirmation import code_hash
from nuanxin.deliveries.tables import Delivery, Visit
from nuanxin.deliveries.visits import VISIT_COLUMNS, load_visit
from tests.nuanxin.conftest import csrf_headers, run_jobs
from tests.nuanxin.loop_world import COUNTY, Loop, add_household, add_offer, build_loop, stock


async def approved_visit(client: httpx.AsyncClient, loop: Loop) -> tuple[list[int], int]:
    """One household needing 2 quilts, two offers of 1 each by one charity: two deliveries."""
    await add_household(loop, "HV1", (COUNTY[0] + 0.01, COUNTY[1]), quilts=2)
    await add_offer(loop, quantity=1)
    await add_offer(loop, quantity=1)
    started = await client.post("/api/rounds", json={}, headers=loop.auth("staff"))
    await run_jobs()
    approved = await client.post(
        f"/api/rounds/{started.json()['id']}/approve",
        json={"all": True},
        headers=loop.auth("staff"),
    )
    assert approved.status_code == 200, approved.text
    deliveries = list(approved.json()["delivery_ids"])
    visits = {
        int(r["visit"])
        for r in await Delivery.select(Delivery.visit).where(Delivery.id.is_in(deliveries)).run()
    }
    assert len(visits) == 1
    return deliveries, visits.pop()


async def audit(action: str) -> list[dict[str, Any]]:
    return await AuditEntry.select().where(AuditEntry.action == action).output(load_json=True).run()


async def test_one_household_gets_one_code_for_all_the_items_of_a_charity_visit(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    deliveries, visit_id = await approved_visit(client, loop)
    assert len(deliveries) == 2
    slip = await client.post(f"/api/visits/{visit_id}/slip", headers=loop.auth("staff"))
    assert slip.status_code == 201, slip.text
    body = slip.json()
    assert sorted(i["delivery_id"] for i in body["items"]) == sorted(deliveries)
    assert body["reprint"] is False
    confirmed = await client.post(
        f"/api/visits/{visit_id}/confirm", json={"code": body["code"]}, headers=loop.auth("courier")
    )
    assert confirmed.status_code == 200, confirmed.text
    statuses = {
        r["status"]
        for r in await Delivery.select(Delivery.status).where(Delivery.id.is_in(deliveries)).run()
    }
    assert statuses == {"delivered"}
    for offer in loop.offers:
        assert await stock(offer) == {"available": 0, "reserved": 0, "delivered": 1}
    visit = await client.get(f"/api/visits/{visit_id}", headers=loop.auth("charity"))
    assert visit.json()["status"] == "delivered"
    assert visit.json()["address"] is None, "the charity's view of the address ends with the visit"


async def test_the_code_is_stored_as_a_keyed_hash_never_a_plain_digest(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    _, visit_id = await approved_visit(client, loop)
    code = (await client.post(f"/api/visits/{visit_id}/slip", headers=loop.auth("staff"))).json()[
        "code"
    ]
    row = await Visit.select(Visit.code_hash).where(Visit.id == visit_id).first().run()
    assert row is not None
    assert row["code_hash"] == code_hash(os.environ["SECRET_KEY"], code)
    assert row["code_hash"] != hashlib.sha256(code.encode()).hexdigest()
    assert code_hash("another-secret-key-that-is-long-enough-xx", code) != row["code_hash"]


async def test_staff_reprint_a_locked_visit_with_a_new_code_and_the_count_starts_over(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    deliveries, visit_id = await approved_visit(client, loop)
    old = (await client.post(f"/api/visits/{visit_id}/slip", headers=loop.auth("staff"))).json()[
        "code"
    ]
    wrong = "12345678" if old != "12345678" else "87654321"
    answers = [
        await client.post(
            f"/api/visits/{visit_id}/confirm", json={"code": wrong}, headers=loop.auth("courier")
        )
        for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 423]
    assert "staff" in answers[4].json()["detail"], "a locked visit tells whom to call"
    assert len(await audit("visit.wrong_code")) == 5, "every wrong code is audited"
    by_delivery = await client.post(
        f"/api/deliveries/{deliveries[1]}/confirm", json={"code": old}, headers=loop.auth("courier")
    )
    assert by_delivery.status_code == 423, "the lock holds for every item of the visit"

    reprint = await client.post(f"/api/visits/{visit_id}/slip", headers=loop.auth("staff"))
    assert reprint.status_code == 201, reprint.text
    assert reprint.json()["reprint"] is True and reprint.json()["printed_count"] == 2
    new = reprint.json()["code"]
    assert new != old
    row = await Visit.select(Visit.status, Visit.failed_attempts).where(Visit.id == visit_id).run()
    assert row == [{"status": "pending", "failed_attempts": 0}], "the counter is reset"
    [printed] = [e for e in await audit("visit.slip") if e["after"]["reprint"]]
    assert printed["before"]["status"] == "locked"

    dead = await client.post(
        f"/api/visits/{visit_id}/confirm", json={"code": old}, headers=loop.auth("courier")
    )
    assert dead.status_code == 400, "the old code is dead"
    assert dead.json()["detail"] == "Wrong code: 4 attempts left", "counting starts over"
    done = await client.post(
        f"/api/visits/{visit_id}/confirm", json={"code": new}, headers=loop.auth("courier")
    )
    assert done.status_code == 200 and done.json()["status"] == "delivered"


async def test_items_approved_after_the_slip_is_printed_make_a_second_visit(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    _, first = await approved_visit(client, loop)
    await client.post(f"/api/visits/{first}/slip", headers=loop.auth("staff"))
    await add_offer(loop, quantity=1)
    household = loop.households[0]
    from nuanxin.households.tables import Need

    await Need.update({Need.quantity: 3}).where(Need.id == loop.needs[household]).run()
    started = await client.post("/api/rounds", json={}, headers=loop.auth("staff"))
    await run_jobs()
    approved = await client.post(
        f"/api/rounds/{started.json()['id']}/approve",
        json={"all": True},
        headers=loop.auth("staff"),
    )
    [delivery] = approved.json()["delivery_ids"]
    second = await client.get(f"/api/deliveries/{delivery}", headers=loop.auth("staff"))
    assert second.json()["visit_id"] != first
    listed = await client.get("/api/visits", params={"q": "HV1"}, headers=loop.auth("courier"))
    assert [v["visit_no"] for v in listed.json()["items"]] == [1, 2]


async def test_a_failed_visit_returns_the_stock_of_all_its_items(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    _, visit_id = await approved_visit(client, loop)
    failed = await client.post(
        f"/api/visits/{visit_id}/fail", json={"reason": "家中无人"}, headers=loop.auth("courier")
    )
    assert failed.status_code == 200, failed.text
    assert failed.json()["status"] == "failed"
    for offer in loop.offers:
        assert await stock(offer) == {"available": 1, "reserved": 0, "delivered": 0}


async def test_the_household_reports_not_received_with_the_visit_code(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    _, visit_id = await approved_visit(client, loop)
    code = (await client.post(f"/api/visits/{visit_id}/slip", headers=loop.auth("staff"))).json()[
        "code"
    ]
    case = await client.post(
        "/api/delivery-reports",
        json={"code": code, "description": "没收到"},
        headers=await csrf_headers(client),
    )
    assert case.status_code == 201, case.text
    assert case.json()["visit_id"] == visit_id


async def test_a_visit_loaded_by_its_id_has_what_the_visit_columns_select(
    client: httpx.AsyncClient, db: None
) -> None:
    """``load_visit`` is raw SQL (the couriers' hot path): the same names and values as
    :data:`VISIT_COLUMNS` selected through Piccolo, printed and confirmed or not."""
    loop = await build_loop()
    _, visit_id = await approved_visit(client, loop)

    async def through_piccolo() -> dict[str, Any] | None:
        return await Visit.select(*VISIT_COLUMNS).where(Visit.id == visit_id).first().run()

    assert await load_visit(visit_id) == await through_piccolo()
    slip = await client.post(f"/api/visits/{visit_id}/slip", headers=loop.auth("staff"))
    confirmed = await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": slip.json()["code"]},
        headers=loop.auth("courier"),
    )
    assert confirmed.status_code == 200, confirmed.text
    loaded = await load_visit(visit_id)
    assert loaded == await through_piccolo()
    assert loaded["status"] == "delivered" and loaded["household.region.parent.name"]
