"""Two overlapping rounds approved at the same moment, a few proposals per statement.

A county's round and its province's round propose the same households the same offers.
Approved at once (each request in its own transaction, on its own connection), with batches
of three rows so that each approval locks offers and needs over several statements: no
unit is given twice, no need is met twice, nothing deadlocks, every proposal is decided and
every approval is in the trail. Commits real rows, so it wipes them (the ``committed``
fixture); with ``NUANXIN_TEST_DATABASE=postgres`` the approvals truly interleave.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from nuanxin import db as database
from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries.tables import Allocation, Delivery
from nuanxin.households.tables import Need
from nuanxin.offers.tables import Offer
from nuanxin.rounds.tables import Proposal
from tests.nuanxin.conftest import run_jobs
from tests.nuanxin.loop_world import COUNTY, add_household, add_offer, build_loop

HOUSEHOLDS = 12
STOCK = (4, 3)  # two offers, fewer units than the households need


async def test_overlapping_rounds_approved_at_once_in_batches_give_each_unit_once(
    committed: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "SET_BATCH", 3)
    client = committed
    loop = await build_loop(prefix="b")
    for index in range(HOUSEHOLDS):
        await add_household(loop, f"HO{index}", (COUNTY[0] + 0.005 * index, COUNTY[1]))
    offers = [await add_offer(loop, quantity=units) for units in STOCK]
    rounds = []
    for who in ("staff", "province"):
        started = await client.post("/api/rounds", json={}, headers=loop.auth(who))
        assert started.status_code == 202, started.text
        rounds.append((who, int(started.json()["id"])))
    assert await run_jobs() == 2
    proposed = await Proposal.count()
    assert proposed == 2 * sum(STOCK)  # each round proposes every unit

    async def approve(who: str, round_id: int) -> dict[str, Any]:
        answer = await client.post(
            f"/api/rounds/{round_id}/approve", json={"all": True}, headers=loop.auth(who)
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    answers = await asyncio.gather(*(approve(who, round_id) for who, round_id in rounds * 2))

    approved = sorted(pid for a in answers for pid in a["approved"])
    stale = {s["proposal_id"] for a in answers for s in a["stale"]}
    assert len(approved) == len(set(approved)) == sum(STOCK), (approved, stale)
    # each proposal decided by one approval; the second of a round finds them decided
    assert not set(approved) & stale
    assert len(set(approved) | stale) == proposed
    assert sorted(pid for a in answers for pid in a["already_approved"]) == approved
    for offer, units in zip(offers, STOCK, strict=True):
        row = await Offer.select(Offer.available, Offer.reserved).where(Offer.id == offer).first()
        assert row == {"available": 0, "reserved": units}
    needs = [int(r["allocated"]) for r in await Need.select(Need.allocated).run()]
    assert max(needs) == 1 and sum(needs) == sum(STOCK)
    assert await Proposal.count().where(Proposal.status == "proposed") == 0
    made = sorted(int(r["proposal"]) for r in await Allocation.select(Allocation.proposal).run())
    assert made == approved
    assert await Delivery.count() == len(approved)
    entries = await AuditEntry.select(AuditEntry.entity_id).where(
        AuditEntry.action == "proposal.approve"
    )
    assert sorted(int(e["entity_id"]) for e in entries) == approved
