"""An approval takes its row locks in the one order (offers, then needs), so two decisions that
meet on the same rows wait for each other instead of deadlocking (issue 19).

PostgreSQL only: it commits real rows (the ``committed`` client) and holds a need's row lock
from a connection of its own while the approval runs. SQLite locks the whole file instead.
"""

from __future__ import annotations

import asyncio
import os

import asyncpg
import httpx
import pytest

from nuanxin.households.tables import Need
from tests.nuanxin.loop_world import COUNTY, add_household, add_offer, build_loop, run_round


async def _waits_for_a_lock(prober: asyncpg.Connection, holder_pid: int) -> bool:
    waiting = await prober.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND pid <> $1",
        holder_pid,
    )
    return bool(waiting)


async def test_an_approval_holds_the_offer_before_it_waits_for_the_need(
    committed: httpx.AsyncClient,
) -> None:
    if Need._meta.db.engine_type != "postgres":
        pytest.skip("row locks are PostgreSQL's; SQLite locks the whole file")
    client = committed
    loop = await build_loop(prefix="k")
    household = await add_household(loop, "HK1", (COUNTY[0] + 0.01, COUNTY[1]), quilts=1)
    offer = await add_offer(loop, quantity=2)
    round_id = int((await run_round(client, loop))["id"])
    holder = await asyncpg.connect(os.environ["DATABASE_URL"])
    prober = await asyncpg.connect(os.environ["DATABASE_URL"])
    held = holder.transaction()
    await held.start()
    await holder.execute("SELECT 1 FROM need WHERE id = $1 FOR UPDATE", loop.needs[household])
    approval = asyncio.create_task(
        client.post(
            f"/api/rounds/{round_id}/approve", json={"all": True}, headers=loop.auth("staff")
        )
    )
    try:
        for _ in range(400):
            if approval.done() or await _waits_for_a_lock(prober, holder.get_server_pid()):
                break
            await asyncio.sleep(0.025)
        assert not approval.done(), "the approval waits for the need another transaction holds"
        async with prober.transaction():
            with pytest.raises(asyncpg.exceptions.LockNotAvailableError):
                await prober.execute("SELECT 1 FROM offer WHERE id = $1 FOR UPDATE NOWAIT", offer)
        await held.rollback()
        answer = await asyncio.wait_for(approval, timeout=30)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["approved"]) == 1
    finally:
        await holder.close()  # the need's lock goes with it: the approval ends before the wipe
        await prober.close()
        await asyncio.wait_for(approval, timeout=30)
