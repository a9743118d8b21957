"""Concurrent approvals over the same stock never allocate a unit twice.

This test commits real rows (each request runs in its own transaction, on its own
connection), so it does not use the rolled-back ``db`` fixture; it wipes what it wrote.
With ``NUANXIN_TEST_DATABASE=postgres`` (CI runs it) the approvals truly run at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.nuanxin.conftest import run_jobs
from tests.nuanxin.loop_world import COUNTY, add_household, add_offer, build_loop

APPROVALS = 24
STOCK = 5


async def test_concurrent_approvals_never_allocate_a_unit_twice(
    committed: httpx.AsyncClient,
) -> None:
    client = committed
    loop = await build_loop(prefix="c")
    for index in range(8):
        await add_household(loop, f"HC{index}", (COUNTY[0] + 0.01 * index, COUNTY[1]))
    offer = await add_offer(loop, quantity=STOCK)
    county_round = (await client.post("/api/rounds", json={}, headers=loop.auth("staff"))).json()
    province_round = (
        await client.post("/api/rounds", json={}, headers=loop.auth("province"))
    ).json()
    rounds = [county_round["id"], province_round["id"]]
    assert await run_jobs() == 2
    for who, round_id in zip(("staff", "province"), rounds, strict=True):
        body = (await client.get(f"/api/rounds/{round_id}", headers=loop.auth(who))).json()
        assert body["status"] == "proposed" and body["stats"]["totals"]["units"] == STOCK

    async def approve(index: int) -> dict[str, Any]:
        who, round_id = (("staff", rounds[0]), ("province", rounds[1]))[index % 2]
        answer = await client.post(
            f"/api/rounds/{round_id}/approve", json={"all": True}, headers=loop.auth(who)
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    answers = await asyncio.gather(*(approve(i) for i in range(APPROVALS)))
    approved = sum(len(a["approved"]) for a in answers)
    stale = sum(len(a["stale"]) for a in answers)
    from nuanxin.offers.tables import Offer

    row = await Offer.select(Offer.available, Offer.reserved).where(Offer.id == offer).first().run()
    assert row == {"available": 0, "reserved": STOCK}, row
    assert approved == STOCK, f"{approved} approved, {stale} stale"
    from nuanxin.households.tables import Need

    assert sum(r["allocated"] for r in await Need.select(Need.allocated).run()) == STOCK
    print(f"\n{APPROVALS} concurrent approvals: {approved} approved, {stale} stale, stock {row}")  # noqa: T201
