"""A round closes once when its last proposals are decided by requests at the same moment."""

from __future__ import annotations

import asyncio

import httpx

from nuanxin.audit.tables import AuditEntry
from nuanxin.rounds.tables import MatchingRound, Proposal
from tests.nuanxin.rounds.big_round import build_big_round


async def test_decisions_finishing_together_close_the_round_exactly_once(
    committed: httpx.AsyncClient,
) -> None:
    client = committed
    big = await build_big_round(client, townships=2, per_township=6, prefix="r")
    staff = big.loop.auth("staff")
    ids = [
        int(row["id"])
        for row in await Proposal.select(Proposal.id)
        .where(Proposal.round == big.round_id)
        .order_by(Proposal.id)
        .run()
    ]
    chunks = [ids[i::4] for i in range(4)]

    async def decide(index: int) -> int:
        if index % 2 == 0:
            answer = await client.post(
                f"/api/rounds/{big.round_id}/approve",
                json={"proposal_ids": chunks[index]},
                headers=staff,
            )
        else:
            answer = await client.post(
                f"/api/rounds/{big.round_id}/reject",
                json={"proposal_ids": chunks[index], "reason": "重复申领"},
                headers=staff,
            )
        assert answer.status_code == 200, answer.text
        return answer.status_code

    await asyncio.gather(*(decide(i) for i in range(4)))
    row = (
        await MatchingRound.select(MatchingRound.status)
        .where(MatchingRound.id == big.round_id)
        .first()
        .run()
    )
    assert row is not None and row["status"] == "closed"
    assert (
        await Proposal.count()
        .where((Proposal.round == big.round_id) & (Proposal.status == "proposed"))
        .run()
        == 0
    )
    closings = (
        await AuditEntry.count()
        .where((AuditEntry.action == "round.close") & (AuditEntry.entity_id == str(big.round_id)))
        .run()
    )
    assert closings == 1
