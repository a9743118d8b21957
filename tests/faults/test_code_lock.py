"""Thirty wrong codes at once: exactly five are checked, the rest are refused as locked.

Real committed rows, each request in its own transaction; with
``NUANXIN_TEST_DATABASE=postgres`` (CI runs it) the requests truly run at once, and the count
is one ``UPDATE ... SET failed_attempts = failed_attempts + 1 ... RETURNING`` per wrong code.
"""

from __future__ import annotations

import asyncio

import httpx

from nuanxin.deliveries.tables import Delivery, Visit
from tests.nuanxin.conftest import run_jobs
from tests.nuanxin.loop_world import COUNTY, add_household, add_offer, build_loop

RACERS = 30


async def test_thirty_concurrent_wrong_codes_check_five_and_lock_the_visit(
    committed: httpx.AsyncClient,
) -> None:
    client = committed
    loop = await build_loop(prefix="w")
    await add_household(loop, "HW1", (COUNTY[0] + 0.01, COUNTY[1]))
    await add_offer(loop, quantity=1)
    started = await client.post("/api/rounds", json={}, headers=loop.auth("staff"))
    await run_jobs()
    approved = await client.post(
        f"/api/rounds/{started.json()['id']}/approve",
        json={"all": True},
        headers=loop.auth("staff"),
    )
    [delivery] = approved.json()["delivery_ids"]
    row = await Delivery.select(Delivery.visit).where(Delivery.id == delivery).first().run()
    assert row is not None
    visit_id = int(row["visit"])
    slip = await client.post(f"/api/visits/{visit_id}/slip", headers=loop.auth("staff"))
    code = slip.json()["code"]
    wrong = "12345678" if code != "12345678" else "87654321"

    async def guess(_: int) -> httpx.Response:
        return await client.post(
            f"/api/visits/{visit_id}/confirm", json={"code": wrong}, headers=loop.auth("courier")
        )

    answers = await asyncio.gather(*(guess(i) for i in range(RACERS)))
    codes = sorted(a.status_code for a in answers)
    # Four wrong codes are checked and counted (400), the fifth locks the visit (423); every
    # other racer is refused unchecked: locked (423) or, past the courier's abuse limit, 429.
    assert codes.count(400) == 4, codes
    assert codes.count(423) >= 1, codes
    assert set(codes[4:]) <= {423, 429}, codes
    state = (
        await Visit.select(Visit.status, Visit.failed_attempts).where(Visit.id == visit_id).run()
    )
    assert state == [{"status": "locked", "failed_attempts": 5}]
