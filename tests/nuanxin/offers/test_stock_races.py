"""The ledger's guards against a move that commits in between (issue 19).

A move decides from the offer as it read it, then updates it conditionally: the condition is
what keeps a change committed in between from being overwritten. These tests commit real rows
(each side on its own connection), so they use ``committed``, not the rolled-back ``db``; on
SQLite and on PostgreSQL alike the second move reads the offer before the first commits and
writes after it.
"""

from __future__ import annotations

import asyncio

import httpx

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
