"""The hand-over's row locks and its answers to a request that commits in between (issue 19).

PostgreSQL only: SQLite runs one transaction at a time, so none of this can interleave there.
These tests commit real rows (the ``committed`` client) and hold a visit's row lock from a
connection of their own while a service runs, then let it go.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest

from nuanxin.deliveries import confirmation
from nuanxin.deliveries.tables import Visit
from nuanxin.errors import DomainError
from tests.nuanxin.deliveries.test_confirmation import KEY, _row, _slip, _visit, _world, _wrong
from tests.nuanxin.helpers import until_one_waits_for_a_lock


def _postgres_only() -> None:
    if Visit._meta.db.engine_type != "postgres":
        pytest.skip("row locks are PostgreSQL's; SQLite runs one transaction at a time")


async def test_a_wrong_code_racing_a_lock_or_a_close_is_answered_as_the_visit_now_stands(
    committed: httpx.AsyncClient,
) -> None:
    """A wrong code read the visit open; before its count is written the visit is locked (by
    other wrong codes) or closed (the right code): nothing is counted, and the answer says so."""
    _postgres_only()
    world = await _world()
    expected = {
        "locked": ("Locked", "delivery_locked", "Too many wrong codes"),
        "delivered": ("Conflict", "delivery_closed", "The delivery was delivered just now"),
    }
    for index, (meanwhile, (kind, error, detail)) in enumerate(expected.items()):
        visit_id, _ = await _visit(world, f"HR{index}")
        code = await _slip(world, visit_id)
        holder = await asyncpg.connect(os.environ["DATABASE_URL"])
        prober = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            held = holder.transaction()
            await held.start()
            await holder.execute("SELECT 1 FROM visit WHERE id = $1 FOR UPDATE", visit_id)
            wrong = asyncio.create_task(
                confirmation.confirm(
                    actor=world.courier, secret_key=KEY, visit_id=visit_id, code=_wrong(code)
                )
            )
            assert await until_one_waits_for_a_lock(prober, wrong)
            await holder.execute("UPDATE visit SET status = $2 WHERE id = $1", visit_id, meanwhile)
            await held.commit()
            with pytest.raises(DomainError) as refused:
                await asyncio.wait_for(wrong, timeout=30)
        finally:
            await holder.close()
            await prober.close()
        assert (type(refused.value).__name__, refused.value.error) == (kind, error)
        assert refused.value.detail.startswith(detail), refused.value.detail
        assert (await _row(visit_id))["failed_attempts"] == 0


async def test_a_failure_takes_its_visits_lock_before_it_touches_an_item(
    committed: httpx.AsyncClient,
) -> None:
    """A whole visit failed, or one item of it: the service waits for the visit's row lock
    before it fails (locks) any item, the one order every path keeps (visit, then items)."""
    _postgres_only()
    world = await _world()
    moves: list[Callable[[int, list[int]], Awaitable[object]]] = [
        lambda visit_id, _: confirmation.fail(
            actor=world.courier, visit_id=visit_id, reason="无人"
        ),
        lambda _, items: confirmation.fail_delivery(
            actor=world.courier, delivery_id=items[1], reason="破损"
        ),
    ]
    for index, failing in enumerate(moves):
        visit_id, items = await _visit(world, f"HF{index}", items=("quilt", "quilt"))
        holder = await asyncpg.connect(os.environ["DATABASE_URL"])
        prober = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            held = holder.transaction()
            await held.start()
            await holder.execute("SELECT 1 FROM visit WHERE id = $1 FOR UPDATE", visit_id)
            task = asyncio.ensure_future(failing(visit_id, items))
            assert await until_one_waits_for_a_lock(prober, task), "it waits for the visit"
            async with prober.transaction():
                await prober.execute(
                    "SELECT 1 FROM delivery WHERE visit = $1 FOR UPDATE NOWAIT", visit_id
                )  # no item is locked yet
            await held.rollback()
            await asyncio.wait_for(task, timeout=30)
        finally:
            await holder.close()
            await prober.close()
