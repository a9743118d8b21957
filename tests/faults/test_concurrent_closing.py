"""Concurrent confirmations of one delivery, and a failure racing a confirmation, never count
stock twice. (Concurrent approvals: ``tests/nuanxin/deliveries/test_allocations.py``.)

Real committed rows, each request in its own transaction; with
``NUANXIN_TEST_DATABASE=postgres`` (CI runs it) the requests truly run at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from nuanxin.deliveries.tables import Delivery
from nuanxin.offers.tables import Offer
from tests.nuanxin.conftest import run_jobs
from tests.nuanxin.loop_world import COUNTY, Loop, add_household, add_offer, build_loop

RACERS = 12


async def open_deliveries(client: httpx.AsyncClient, loop: Loop, count: int) -> list[int]:
    for index in range(count):
        await add_household(loop, f"HR{index}", (COUNTY[0] + 0.01 * index, COUNTY[1]))
    await add_offer(loop, quantity=count)
    started = await client.post("/api/rounds", json={}, headers=loop.auth("staff"))
    round_id = started.json()["id"]
    await run_jobs()
    approved = await client.post(
        f"/api/rounds/{round_id}/approve", json={"all": True}, headers=loop.auth("staff")
    )
    assert approved.status_code == 200, approved.text
    return list(approved.json()["delivery_ids"])


async def slip(client: httpx.AsyncClient, loop: Loop, delivery_id: int) -> str:
    answer = await client.post(f"/api/deliveries/{delivery_id}/slip", headers=loop.auth("staff"))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["code"])


async def stock(offer_id: int) -> dict[str, Any]:
    row = await (
        Offer.select(Offer.quantity, Offer.available, Offer.reserved, Offer.delivered)
        .where(Offer.id == offer_id)
        .first()
        .run()
    )
    assert row is not None
    return row


async def test_a_delivery_confirmed_many_times_at_once_is_delivered_once(
    committed: httpx.AsyncClient,
) -> None:
    client = committed
    loop = await build_loop(prefix="k")
    [delivery] = await open_deliveries(client, loop, 1)
    code = await slip(client, loop, delivery)
    url = f"/api/deliveries/{delivery}/confirm"

    async def confirm(index: int) -> httpx.Response:
        who = ("courier", "charity")[index % 2]
        return await client.post(url, json={"code": code}, headers=loop.auth(who))

    answers = await asyncio.gather(*(confirm(i) for i in range(RACERS)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    first = [a for a in answers if a.json()["already_confirmed"] is False]
    assert len(first) == 1, "exactly one confirmation closes the delivery"
    assert await stock(loop.offers[0]) == {
        "quantity": 1,
        "available": 0,
        "reserved": 0,
        "delivered": 1,
    }


async def test_a_failure_racing_a_confirmation_leaves_one_outcome_and_consistent_stock(
    committed: httpx.AsyncClient,
) -> None:
    client = committed
    loop = await build_loop(prefix="r")
    deliveries = await open_deliveries(client, loop, 4)
    codes = {delivery: await slip(client, loop, delivery) for delivery in deliveries}

    async def confirm(delivery: int) -> httpx.Response:
        return await client.post(
            f"/api/deliveries/{delivery}/confirm",
            json={"code": codes[delivery]},
            headers=loop.auth("courier"),
        )

    async def fail(delivery: int) -> httpx.Response:
        return await client.post(
            f"/api/deliveries/{delivery}/fail",
            json={"reason": "家中无人"},
            headers=loop.auth("charity"),
        )

    calls = [op(d) for d in deliveries for op in (confirm, fail, confirm, fail)]
    answers = await asyncio.gather(*calls)
    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    statuses = {
        row["id"]: row["status"]
        for row in await Delivery.select(Delivery.id, Delivery.status)
        .where(Delivery.id.is_in(deliveries))
        .run()
    }
    assert set(statuses.values()) <= {"delivered", "failed"}
    delivered = sum(1 for s in statuses.values() if s == "delivered")
    failed = sum(1 for s in statuses.values() if s == "failed")
    row = await stock(loop.offers[0])
    assert row == {"quantity": 4, "available": failed, "reserved": 0, "delivered": delivered}, (
        statuses,
        row,
    )


async def test_staff_and_couriers_confirming_at_once_close_the_delivery_once(
    committed: httpx.AsyncClient,
) -> None:
    client = committed
    loop = await build_loop(prefix="s")
    [delivery] = await open_deliveries(client, loop, 1)
    code = await slip(client, loop, delivery)

    async def close(index: int) -> httpx.Response:
        if index % 2:
            return await client.post(
                f"/api/deliveries/{delivery}/staff-confirm",
                json={"reason": "到户核实"},
                headers=loop.auth("staff"),
            )
        return await client.post(
            f"/api/deliveries/{delivery}/confirm", json={"code": code}, headers=loop.auth("courier")
        )

    answers = await asyncio.gather(*(close(i) for i in range(RACERS)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert sum(a.json()["already_confirmed"] is False for a in answers) == 1
    assert await stock(loop.offers[0]) == {
        "quantity": 1,
        "available": 0,
        "reserved": 0,
        "delivered": 1,
    }
