"""Approving in batches (issue 17): a batch's edge changes nothing of what is approved.

The set-based approval writes a batch of proposals per statement; these tests lower the
batch to a few rows so that an offer runs out, a need is met and a visit is shared across
the batches' edges, and check that the answer, the ledgers and the trail are those of
approving one proposal after another.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from nuanxin import db as database
from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries import allocations
from nuanxin.deliveries.tables import Allocation, Delivery
from nuanxin.households.tables import Need
from nuanxin.identity import CurrentUser, Role
from nuanxin.offers import stock as ledger
from nuanxin.rounds.tables import Proposal
from tests.nuanxin.loop_world import (
    COUNTY,
    add_household,
    add_offer,
    allocated,
    build_loop,
    proposals,
    proposed_round,
    stock,
)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> int:
    """Two rows per statement: five proposals make three batches."""
    monkeypatch.setattr(database, "SET_BATCH", 2)
    return 2


async def _approval_entries() -> dict[int, dict[str, Any]]:
    rows = (
        await AuditEntry.select(AuditEntry.entity_id, AuditEntry.after, AuditEntry.actor)
        .where(AuditEntry.action == "proposal.approve")
        .output(load_json=True)
        .run()
    )
    return {int(row["entity_id"]): row for row in rows}


async def test_an_offer_running_out_inside_a_batch_leaves_the_later_proposals_stale(
    client: httpx.AsyncClient, db: None, small_batches: int
) -> None:
    loop = await build_loop()
    households = [
        await add_household(loop, f"HB{index}", (COUNTY[0] + 0.01 * index, COUNTY[1]))
        for index in range(5)
    ]
    offer = await add_offer(loop, quantity=5)
    round_body = {"id": await proposed_round(loop, [(h, offer, 1, 1.0) for h in households])}
    ids = sorted(int(p["id"]) for p in await proposals(client, loop, round_body["id"]))
    assert len(ids) == 5
    await ledger.withdraw(offer_id=offer, quantity=2)  # three units left for five proposals

    answer = await client.post(
        f"/api/rounds/{round_body['id']}/approve", json={"all": True}, headers=loop.auth("staff")
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["approved"] == ids[:3]  # the second batch runs out after its first proposal
    assert body["stale"] == [
        {"proposal_id": pid, "reason": "Only 0 units are available, not 1"} for pid in ids[3:]
    ]
    assert await stock(offer) == {"available": 0, "reserved": 3, "delivered": 0}
    rows = {
        int(row["id"]): row
        for row in await Proposal.select(
            Proposal.id, Proposal.status, Proposal.quantity, Proposal.decision_reason
        ).run()
    }
    assert [rows[pid]["status"] for pid in ids] == ["approved"] * 3 + ["stale"] * 2
    assert {rows[pid]["decision_reason"] for pid in ids[3:]} == {
        "Only 0 units are available, not 1"
    }
    assert {rows[pid]["quantity"] for pid in ids} == {1}
    made = {
        int(row["proposal"]): row
        for row in await Allocation.select(
            Allocation.id, Allocation.proposal, Allocation.need, Allocation.household
        ).run()
    }
    assert sorted(made) == ids[:3]
    entries = await _approval_entries()
    assert sorted(entries) == ids[:3]
    for pid, delivery_id in zip(ids[:3], body["delivery_ids"], strict=True):
        assert entries[pid]["after"]["allocation"] == made[pid]["id"]
        assert entries[pid]["after"]["delivery"] == delivery_id
        assert await allocated(int(made[pid]["need"])) == 1
    deliveries = await Delivery.select(Delivery.allocation, Delivery.id).run()
    assert sorted((int(d["allocation"]), int(d["id"])) for d in deliveries) == sorted(
        (int(made[pid]["id"]), delivery_id)
        for pid, delivery_id in zip(ids[:3], body["delivery_ids"], strict=True)
    )


async def test_a_need_met_across_a_batch_edge_gives_its_units_back_and_no_row_is_mixed_up(
    db: None, small_batches: int
) -> None:
    loop = await build_loop()
    staff_row = await _staff_id()
    staff = CurrentUser(
        id=staff_row,
        username="loop_staff",
        role=Role.staff,
        jurisdiction_id=loop.county_id,
        organization_id=None,
        jurisdiction_code="230111",
        jurisdiction_level="county",
    )
    households = [
        await add_household(loop, f"HN{index}", (COUNTY[0] + 0.01 * index, COUNTY[1]), quilts=1)
        for index in range(4)
    ]
    first, second = await add_offer(loop, quantity=3), await add_offer(loop, quantity=3)
    # the third household's need is asked twice, once from each offer: in two batches
    wanted = [
        (first, households[0]),
        (second, households[1]),
        (first, households[2]),
        (second, households[2]),
        (first, households[3]),
    ]
    outcome = await allocations.allocate_many(
        actor=staff,
        requests=[
            allocations.AllocationRequest(
                offer_id=offer,
                organization_id=loop.charity_id,
                household_id=household,
                need_id=loop.needs[household],
                quantity=1,
                distance_km=float(index),
            )
            for index, (offer, household) in enumerate(wanted)
        ],
    )

    assert [(r.offer_id, r.household_id) for r, _ in outcome.made] == [
        wanted[i] for i in (0, 1, 2, 4)
    ]
    assert [(r.offer_id, r.household_id, why) for r, why in outcome.refused] == [
        (second, households[2], "The household's need is already met by other allocations")
    ]
    assert await stock(first) == {"available": 0, "reserved": 3, "delivered": 0}
    assert await stock(second) == {"available": 2, "reserved": 1, "delivered": 0}
    for household in households:
        assert await allocated(loop.needs[household]) == 1
    for request, made in outcome.made:
        row = await Allocation.select().where(Allocation.id == made.allocation_id).first().run()
        assert row is not None
        assert (row["offer"], row["household"], row["need"], row["distance_km"]) == (
            request.offer_id,
            request.household_id,
            request.need_id,
            request.distance_km,
        )
        delivery = (
            await Delivery.select(Delivery.allocation)
            .where(Delivery.id == made.delivery_id)
            .first()
            .run()
        )
        assert delivery == {"allocation": made.allocation_id}
    released = (
        await AuditEntry.select(AuditEntry.entity_id, AuditEntry.before, AuditEntry.after)
        .where(AuditEntry.action == "offer.release")
        .output(load_json=True)
        .run()
    )
    assert [(int(e["entity_id"]), e["after"]["quantity"]) for e in released] == [(second, 1)]
    assert (released[0]["before"]["reserved"], released[0]["after"]["reserved"]) == (2, 1)


async def _staff_id() -> int:
    from nuanxin.accounts.tables import User

    row = await User.select(User.id).where(User.username == "loop_staff").first().run()
    assert row is not None
    return int(row["id"])


async def test_approving_a_round_twice_in_batches_reports_the_second_as_already_approved(
    client: httpx.AsyncClient, db: None, small_batches: int
) -> None:
    loop = await build_loop()
    households = [
        await add_household(loop, f"HT{index}", (COUNTY[0] + 0.01 * index, COUNTY[1]), quilts=2)
        for index in range(5)
    ]
    offer = await add_offer(loop, quantity=20)
    round_body = {"id": await proposed_round(loop, [(h, offer, 2, 1.0) for h in households])}
    listed = sorted(await proposals(client, loop, round_body["id"]), key=lambda p: p["id"])
    ids = [int(p["id"]) for p in listed]
    url = f"/api/rounds/{round_body['id']}/approve"
    edits = [{"proposal_id": ids[2], "quantity": 1}]
    first = (await client.post(url, json={"edits": edits}, headers=loop.auth("staff"))).json()
    rest = (await client.post(url, json={"all": True}, headers=loop.auth("staff"))).json()
    again = (await client.post(url, json={"all": True}, headers=loop.auth("staff"))).json()

    assert first["approved"] == [ids[2]]
    assert rest["approved"] == ids[:2] + ids[3:] and rest["already_approved"] == [ids[2]]
    assert again["approved"] == [] and again["already_approved"] == ids
    units = sum(int(p["quantity"]) for p in listed) - int(listed[2]["quantity"]) + 1
    assert (await stock(offer))["reserved"] == units
    assert sum(int(r["allocated"]) for r in await Need.select(Need.allocated).run()) == units
    entries = await _approval_entries()
    assert sorted(entries) == ids
    assert entries[ids[2]]["after"]["quantity"] == 1
