"""Approving a round's proposals through the service (issue 19): audit, stale write-back, edits."""

from __future__ import annotations

from typing import Any

import httpx

from nuanxin.audit.tables import AuditEntry
from nuanxin.households.tables import Need
from nuanxin.offers import stock as ledger
from nuanxin.rounds.tables import Proposal
from tests.nuanxin.loop_world import (
    COUNTY,
    Loop,
    add_household,
    add_offer,
    allocated,
    build_loop,
    proposals,
    run_round,
    stock,
)


async def _two_proposals(
    client: httpx.AsyncClient, quantity: int = 5
) -> tuple[Loop, int, int, list[dict[str, Any]]]:
    loop = await build_loop()
    await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]), quilts=2)
    await add_household(loop, "HH2", (COUNTY[0] + 0.02, COUNTY[1]), quilts=2)
    offer = await add_offer(loop, quantity=quantity)
    round_body = await run_round(client, loop)
    listed = sorted(await proposals(client, loop, round_body["id"]), key=lambda p: p["id"])
    assert len(listed) == 2
    return loop, offer, int(round_body["id"]), listed


async def _approve(
    client: httpx.AsyncClient, loop: Loop, round_id: int, body: dict[str, Any], who: str = "staff"
) -> httpx.Response:
    return await client.post(f"/api/rounds/{round_id}/approve", json=body, headers=loop.auth(who))


async def _proposal(proposal_id: int) -> dict[str, Any]:
    row = await Proposal.select().where(Proposal.id == proposal_id).first().run()
    assert row is not None
    return dict(row)


async def test_approving_all_writes_one_audit_entry_per_proposal(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, _, round_id, listed = await _two_proposals(client)
    answer = await _approve(client, loop, round_id, {"all": True})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["approved"] == [p["id"] for p in listed]
    entries = (
        await AuditEntry.select(
            AuditEntry.entity_id, AuditEntry.before, AuditEntry.after, AuditEntry.region_code
        )
        .where(AuditEntry.action == "proposal.approve")
        .order_by(AuditEntry.entity_id)
        .output(load_json=True)
        .run()
    )
    assert [e["entity_id"] for e in entries] == [str(p["id"]) for p in listed]
    for entry, proposal, delivery in zip(entries, listed, body["delivery_ids"], strict=True):
        assert entry["before"] == {"status": "proposed", "quantity": proposal["quantity"]}
        assert entry["after"]["status"] == "approved"
        assert entry["after"]["quantity"] == proposal["quantity"]
        assert entry["after"]["delivery"] == delivery
        assert isinstance(entry["after"]["allocation"], int)
        assert entry["region_code"] == "230111"
    for proposal in listed:
        assert (await _proposal(proposal["id"]))["status"] == "approved"


async def test_approving_some_leaves_the_others_proposed(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, offer, round_id, listed = await _two_proposals(client)
    answer = await _approve(client, loop, round_id, {"proposal_ids": [listed[1]["id"]]})
    assert answer.json()["approved"] == [listed[1]["id"]]
    assert (await _proposal(listed[0]["id"]))["status"] == "proposed"
    assert (await _proposal(listed[1]["id"]))["decided_by"] is not None
    assert (await stock(offer))["reserved"] == listed[1]["quantity"]


async def test_a_proposal_whose_stock_is_gone_is_written_back_as_stale(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, offer, round_id, listed = await _two_proposals(client, quantity=4)
    await ledger.withdraw(offer_id=offer, quantity=3)  # one unit left for two proposals of 2
    answer = await _approve(
        client,
        loop,
        round_id,
        {
            "edits": [{"proposal_id": listed[0]["id"], "quantity": 1}],
            "proposal_ids": [listed[1]["id"]],
        },
    )
    body = answer.json()
    assert body["approved"] == [listed[0]["id"]]
    assert [s["proposal_id"] for s in body["stale"]] == [listed[1]["id"]]
    stale = await _proposal(listed[1]["id"])
    assert stale["status"] == "stale"
    assert stale["decision_reason"] == "Only 0 units are available, not 2"
    assert stale["quantity"] == listed[1]["quantity"]
    assert (await _proposal(listed[0]["id"]))["quantity"] == 1
    assert await stock(offer) == {"available": 0, "reserved": 1, "delivered": 0}
    again = await _approve(client, loop, round_id, {"proposal_ids": [listed[1]["id"]]})
    assert again.json()["stale"] == [{"proposal_id": listed[1]["id"], "reason": "it is stale"}]


async def test_an_edited_proposal_refused_keeps_its_proposed_quantity(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, offer, round_id, listed = await _two_proposals(client)
    first = listed[0]
    await Need.update({Need.allocated: 2}).where(Need.id == loop.needs[first["household_id"]])
    answer = await _approve(
        client, loop, round_id, {"edits": [{"proposal_id": first["id"], "quantity": 1}]}
    )
    body = answer.json()
    assert body["approved"] == [] and body["delivery_ids"] == []
    assert [s["proposal_id"] for s in body["stale"]] == [first["id"]]
    written = await _proposal(first["id"])
    assert (written["status"], written["quantity"]) == ("stale", first["quantity"])
    assert written["decision_reason"] == "The household's need is already met by other allocations"
    assert await stock(offer) == {"available": 5, "reserved": 0, "delivered": 0}
    assert await allocated(loop.needs[first["household_id"]]) == 2


async def test_an_edit_equal_to_the_proposal_is_an_approval_and_a_raise_is_refused(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, offer, round_id, listed = await _two_proposals(client)
    first, second = listed
    answer = await _approve(
        client,
        loop,
        round_id,
        {
            "edits": [
                {"proposal_id": first["id"], "quantity": first["quantity"]},
                {"proposal_id": second["id"], "quantity": second["quantity"] + 1},
            ]
        },
    )
    # A raise is a mistake in the request: 400 naming the edit's quantity, nothing applied.
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == "edits[1].quantity"
    assert (await _proposal(second["id"]))["status"] == "proposed"
    assert (await stock(offer))["reserved"] == 0
    equal = await _approve(
        client,
        loop,
        round_id,
        {"edits": [{"proposal_id": first["id"], "quantity": first["quantity"]}]},
    )
    assert equal.json()["approved"] == [first["id"]]
    assert (await stock(offer))["reserved"] == first["quantity"]


async def test_ids_and_edits_from_another_round_are_refused_and_change_nothing(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, offer, round_id, listed = await _two_proposals(client)
    await Proposal.update({Proposal.status: "rejected"}).where(Proposal.round == round_id)
    await add_household(loop, "HH3", (COUNTY[0] + 0.03, COUNTY[1]), quilts=1)
    other = await run_round(client, loop)
    mine = await proposals(client, loop, other["id"])
    for body, field in (
        ({"proposal_ids": [listed[0]["id"]]}, "proposal_ids"),
        ({"edits": [{"proposal_id": listed[0]["id"], "quantity": 1}]}, "edits[0].proposal_id"),
        (
            {
                "proposal_ids": [mine[0]["id"]],
                "edits": [{"proposal_id": listed[1]["id"], "quantity": 1}],
            },
            "edits[0].proposal_id",
        ),
    ):
        answer = await _approve(client, loop, other["id"], body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["field"] == field
        assert (
            str(listed[0]["id"]) in answer.json()["detail"]
            or str(listed[1]["id"]) in (answer.json()["detail"])
        )
    assert await stock(offer) == {"available": 5, "reserved": 0, "delivered": 0}
    assert (await _proposal(mine[0]["id"]))["status"] == "proposed"


async def test_an_approval_must_say_what_and_come_from_staff(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, offer, round_id, _ = await _two_proposals(client)
    empty = await _approve(client, loop, round_id, {})
    assert empty.status_code == 400 and empty.json()["field"] == "proposal_ids"
    charity = await _approve(client, loop, round_id, {"all": True}, who="charity")
    assert charity.status_code in (403, 404)
    assert await stock(offer) == {"available": 5, "reserved": 0, "delivered": 0}


async def test_rejecting_writes_the_reason_and_an_audit_entry_for_open_proposals_only(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, _, round_id, listed = await _two_proposals(client)
    await _approve(client, loop, round_id, {"proposal_ids": [listed[0]["id"]]})
    answer = await client.post(
        f"/api/rounds/{round_id}/reject",
        json={"proposal_ids": [p["id"] for p in listed], "reason": "已由其他渠道解决"},
        headers=loop.auth("staff"),
    )
    assert answer.status_code == 200, answer.text
    rejected = await _proposal(listed[1]["id"])
    assert (rejected["status"], rejected["decision_reason"]) == ("rejected", "已由其他渠道解决")
    assert rejected["decided_by"] is not None and rejected["decided_at"] is not None
    assert (await _proposal(listed[0]["id"]))["status"] == "approved"
    entries = (
        await AuditEntry.select(AuditEntry.entity_id, AuditEntry.after)
        .where(AuditEntry.action == "proposal.reject")
        .output(load_json=True)
        .run()
    )
    assert entries == [
        {
            "entity_id": str(listed[1]["id"]),
            "after": {"status": "rejected", "reason": "已由其他渠道解决"},
        }
    ]
