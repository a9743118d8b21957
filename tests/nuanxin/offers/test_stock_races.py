"""The ledger's guards against a move that commits in between (issue 19).

A move decides from the offer as it read it, then updates it conditionally: the condition is
what keeps a change committed in between from being overwritten. These tests commit real rows
(each side on its own connection), so they use ``committed``, not the rolled-back ``db``; on
SQLite and on PostgreSQL alike the second move reads the offer before the first commits and
writes after it.
"""

from __future__ import annotations

import asyncio
import os

import asyncpg
import httpx
import pytest

from nuanxin.db import atomic
from nuanxin.errors import DomainError
from nuanxin.offers import stock as ledger
from nuanxin.offers.tables import Offer
from tests.nuanxin.loop_world import add_offer, build_loop

HOLD = 0.5  # seconds the first move keeps its transaction open once it has written


async def _counts(offer_id: int) -> dict[str, object]:
    row = (
        await Offer.select(Offer.available, Offer.reserved, Offer.withdrawn, Offer.status)
        .where(Offer.id == offer_id)
        .first()
        .run()
    )
    assert row is not None
    return dict(row)


async def test_units_released_while_the_offer_is_being_withdrawn_never_become_available(
    committed: httpx.AsyncClient,
) -> None:
    loop = await build_loop()
    offer = await add_offer(loop, quantity=4)
    await ledger.reserve(offer_id=offer, quantity=2, actor=None)
    written = asyncio.Event()

    async def withdraw_all() -> None:
        async with atomic():
            await ledger.withdraw(offer_id=offer, quantity=None)
            written.set()
            await asyncio.sleep(HOLD)  # the release reads the offer as open meanwhile

    async def release_meanwhile() -> str:
        await written.wait()
        try:
            await ledger.release(offer_id=offer, quantity=2, actor=None, reason="送达失败")
        except DomainError as refused:
            return refused.error
        return "released"

    _, outcome = await asyncio.gather(withdraw_all(), release_meanwhile())
    after = await _counts(offer)
    assert (after["status"], after["available"]) == ("withdrawn", 0), (outcome, after)
    # Refused (it read an open offer that is no longer open), or counted as withdrawn.
    assert outcome in ("insufficient_reserved", "released"), outcome
    assert after["reserved"] + after["withdrawn"] == 4  # type: ignore[operator]


async def test_moving_many_at_once_locks_the_offers_rows_and_not_their_charity_or_region(
    committed: httpx.AsyncClient,
) -> None:
    """The set-based moves lock each offer's row (``FOR UPDATE OF offer``) while they decide,
    and only those: the charity, its warehouse and the region stay free for their own edits.
    PostgreSQL only (SQLite locks the whole file)."""
    if Offer._meta.db.engine_type != "postgres":
        pytest.skip("row locks are PostgreSQL's; SQLite locks the whole file")
    loop = await build_loop()
    offer = await add_offer(loop, quantity=4)
    prober = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        async with atomic():
            await ledger.reserve_each(wanted=[(offer, 1)], actor=None)
            async with prober.transaction():
                with pytest.raises(asyncpg.exceptions.LockNotAvailableError):
                    await prober.execute(
                        "SELECT 1 FROM offer WHERE id = $1 FOR UPDATE NOWAIT", offer
                    )
            async with prober.transaction():
                for table, row_id in (
                    ("organization", loop.charity_id),
                    ("warehouse", loop.warehouse_id),
                    ("region", loop.county_id),
                ):
                    await prober.execute(
                        f"SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE NOWAIT", row_id
                    )
    finally:
        await prober.close()
    assert (await _counts(offer))["reserved"] == 1
