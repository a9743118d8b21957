"""Decisions at the same moment: a round closes once when its last proposals are decided, and
approvals of one round at once approve each proposal once (truly at once on PostgreSQL)."""

from __future__ import annotations

import asyncio

import httpx

from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries.tables import Allocation
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


async def test_approvals_of_one_round_at_once_approve_each_proposal_once(
    committed: httpx.AsyncClient,
) -> None:
    client = committed
    big = await build_big_round(client, townships=1, per_township=6, prefix="s")
    staff = big.loop.auth("staff")
    ids = [
        int(row["id"])
        for row in await Proposal.select(Proposal.id)
        .where(Proposal.round == big.round_id)
        .order_by(Proposal.id)
        .run()
    ]

    async def approve_all() -> dict[str, list[int]]:
        answer = await client.post(
            f"/api/rounds/{big.round_id}/approve", json={"all": True}, headers=staff
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    answers = await asyncio.gather(*(approve_all() for _ in range(4)))
    approved = sorted(pid for answer in answers for pid in answer["approved"])
    assert approved == ids, "each proposal approved by exactly one of the requests"
    for answer in answers:
        assert answer["stale"] == []
        assert sorted(answer["approved"] + answer["already_approved"]) == ids
    entries = await AuditEntry.select(AuditEntry.entity_id).where(
        AuditEntry.action == "proposal.approve"
    )
    assert sorted(int(e["entity_id"]) for e in entries) == ids
    assert await Allocation.count().where(Allocation.proposal.is_in(ids)) == len(ids)
    closings = await AuditEntry.count().where(
        (AuditEntry.action == "round.close") & (AuditEntry.entity_id == str(big.round_id))
    )
    assert closings == 1
