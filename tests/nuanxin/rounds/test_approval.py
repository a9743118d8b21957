"""Approving a round's proposals through the service (issue 19): audit, stale write-back, edits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar

from nuanxin import db as database
from nuanxin.accounts.tables import User
from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries.tables import Allocation
from nuanxin.errors import Conflict, Invalid
from nuanxin.households.tables import Need
from nuanxin.identity import CurrentUser, Role
from nuanxin.offers import stock as ledger
from nuanxin.offers.tables import Offer
from nuanxin.rounds import proposals as decisions
from nuanxin.rounds.schemas import ApproveIn, ProposalEdit
from nuanxin.rounds.tables import MatchingRound, Proposal
from tests.conftest import fresh_app
from tests.nuanxin.conftest import make_user
from tests.nuanxin.helpers import bearer
from tests.nuanxin.loop_world import (
    COUNTY,
    Loop,
    add_household,
    add_offer,
    allocated,
    build_loop,
    proposals,
    proposed_round,
    stock,
)
from tests.nuanxin.rounds.big_round import build_big_round

_APPS: list[Litestar] = []


@pytest.fixture
def app(db: None) -> Litestar:
    """One app for the module's tests, each still in its own rolled-back transaction (the
    tests keep no state in the app: their rows are the transaction's, tokens are bearer ones).

    Building the app is most of a test's time, and the mutation run (tests/mutation) runs
    these tests again in a process forked per mutant: the app is kept in the module and taken
    from those a warm collection built (``fresh_app``), so those runs build none.
    """
    if not _APPS:
        _APPS.append(cast(Litestar, fresh_app()))
    return _APPS[0]


async def _two_proposals(
    client: httpx.AsyncClient, quantity: int = 5
) -> tuple[Loop, int, int, list[dict[str, Any]]]:
    """Two households needing two quilts each, an offer of ``quantity``, and a round proposing
    two quilts to each, as the engine would (written straight to the table: no engine run)."""
    loop = await build_loop()
    near = await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]), quilts=2)
    far = await add_household(loop, "HH2", (COUNTY[0] + 0.02, COUNTY[1]), quilts=2)
    offer = await add_offer(loop, quantity=quantity)
    round_id = await proposed_round(loop, [(near, offer, 2, 1.11), (far, offer, 2, 2.22)])
    listed = sorted(await proposals(client, loop, round_id), key=lambda p: p["id"])
    assert len(listed) == 2
    return loop, offer, round_id, listed


async def _approve(
    client: httpx.AsyncClient, loop: Loop, round_id: int, body: dict[str, Any], who: str = "staff"
) -> httpx.Response:
    return await client.post(f"/api/rounds/{round_id}/approve", json=body, headers=loop.auth(who))


async def _proposal(proposal_id: int) -> dict[str, Any]:
    row = await Proposal.select().where(Proposal.id == proposal_id).first().run()
    assert row is not None
    return dict(row)


async def _staff() -> CurrentUser:
    row = await User.select(User.id).where(User.username == "loop_staff").first().run()
    assert row is not None
    return CurrentUser(
        id=int(row["id"]),
        username="loop_staff",
        role=Role.staff,
        jurisdiction_id=None,
        organization_id=None,
        jurisdiction_code="230111",
        jurisdiction_level="county",
    )


async def _audit(action: str) -> list[dict[str, Any]]:
    return list(
        await AuditEntry.select(
            AuditEntry.actor,
            AuditEntry.entity,
            AuditEntry.entity_id,
            AuditEntry.before,
            AuditEntry.after,
            AuditEntry.region_code,
        )
        .where(AuditEntry.action == action)
        .order_by(AuditEntry.id)
        .output(load_json=True)
        .run()
    )


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
    made = await Allocation.select(
        Allocation.proposal,
        Allocation.offer,
        Allocation.household,
        Allocation.need,
        Allocation.quantity,
        Allocation.distance_km,
        Allocation.approved_by,
    ).order_by(Allocation.id)
    assert made == [
        {
            "proposal": p["id"],
            "offer": p["offer_id"],
            "household": p["household_id"],
            "need": loop.needs[p["household_id"]],
            "quantity": p["quantity"],
            "distance_km": p["distance_km"],
            "approved_by": (await _staff()).id,
        }
        for p in listed
    ]


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
    assert body["stale"] == [
        {"proposal_id": listed[1]["id"], "reason": "Only 0 units are available, not 2"}
    ]
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
    third = await add_household(loop, "HH3", (COUNTY[0] + 0.03, COUNTY[1]), quilts=1)
    other = {"id": await proposed_round(loop, [(third, offer, 1, 3.33)])}
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
    rejected = await client.post(
        f"/api/rounds/{other['id']}/reject",
        json={"proposal_ids": [mine[0]["id"], listed[0]["id"]], "reason": "重复申领"},
        headers=loop.auth("staff"),
    )
    assert rejected.status_code == 400, rejected.text
    assert rejected.json()["detail"] == (
        f"proposal_ids: proposals [{listed[0]['id']}] are not in this round"
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
    client: httpx.AsyncClient, db: None, clock_in_china: None
) -> None:
    loop, _, round_id, listed = await _two_proposals(client)
    await _approve(client, loop, round_id, {"proposal_ids": [listed[0]["id"]]})
    before = datetime.now(UTC)
    answer = await client.post(
        f"/api/rounds/{round_id}/reject",
        json={"proposal_ids": [p["id"] for p in listed], "reason": "已由其他渠道解决"},
        headers=loop.auth("staff"),
    )
    assert answer.status_code == 200, answer.text
    rejected = await _proposal(listed[1]["id"])
    assert (rejected["status"], rejected["decision_reason"]) == ("rejected", "已由其他渠道解决")
    assert rejected["decided_by"] == (await _staff()).id
    assert before <= rejected["decided_at"] <= datetime.now(UTC)
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


async def test_approval_records_who_decided_and_when(
    client: httpx.AsyncClient, db: None, clock_in_china: None
) -> None:
    loop, _, round_id, listed = await _two_proposals(client)
    staff = await _staff()
    before = datetime.now(UTC)
    await _approve(client, loop, round_id, {"proposal_ids": [listed[0]["id"]]})
    written = await _proposal(listed[0]["id"])
    assert written["decided_by"] == staff.id
    assert before <= written["decided_at"] <= datetime.now(UTC)
    [entry] = await _audit("proposal.approve")
    assert (entry["actor"], entry["entity"]) == (staff.id, "proposal")


async def test_a_proposal_ticked_twice_and_edited_too_is_approved_once_at_the_edit(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, offer, round_id, listed = await _two_proposals(client)
    first, second = listed
    answer = await _approve(
        client,
        loop,
        round_id,
        {
            "proposal_ids": [first["id"], first["id"], second["id"]],
            "edits": [{"proposal_id": first["id"], "quantity": 1}],
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["approved"] == [first["id"], second["id"]]
    assert len(answer.json()["delivery_ids"]) == 2
    assert (await _proposal(first["id"]))["quantity"] == 1
    assert (await _proposal(second["id"]))["quantity"] == second["quantity"]
    assert await stock(offer) == {
        "available": 5 - 1 - second["quantity"],
        "reserved": 1 + second["quantity"],
        "delivered": 0,
    }
    assert await allocated(loop.needs[first["household_id"]]) == 1
    entries = await _audit("proposal.approve")
    assert [e["entity_id"] for e in entries] == [str(first["id"]), str(second["id"])]
    assert entries[0]["before"] == {"status": "proposed", "quantity": first["quantity"]}
    assert entries[0]["after"]["quantity"] == 1


async def test_approving_again_reports_the_approved_and_moves_nothing(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, offer, round_id, listed = await _two_proposals(client)
    first, second = listed
    await _approve(client, loop, round_id, {"proposal_ids": [first["id"]]})
    rest = (await _approve(client, loop, round_id, {"all": True})).json()
    assert (rest["approved"], rest["already_approved"]) == ([second["id"]], [first["id"]])
    assert rest["stale"] == []
    held = await stock(offer)
    again = (await _approve(client, loop, round_id, {"all": True})).json()
    assert again == {
        "approved": [],
        "already_approved": [first["id"], second["id"]],
        "stale": [],
        "delivery_ids": [],
    }
    assert await stock(offer) == held
    assert len(await _audit("proposal.approve")) == 2
    [closing] = await _audit("round.close")  # by the approval that decided the last one
    assert (closing["entity_id"], closing["actor"]) == (str(round_id), (await _staff()).id)


async def test_a_rejected_proposal_named_in_an_approval_is_reported_as_rejected(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, offer, round_id, listed = await _two_proposals(client)
    first, second = listed
    await client.post(
        f"/api/rounds/{round_id}/reject",
        json={"proposal_ids": [first["id"]], "reason": "重复申领"},
        headers=loop.auth("staff"),
    )
    body = (
        await _approve(client, loop, round_id, {"proposal_ids": [first["id"], second["id"]]})
    ).json()
    assert body["approved"] == [second["id"]]
    assert body["stale"] == [{"proposal_id": first["id"], "reason": "it is rejected"}]
    assert (await _proposal(first["id"]))["status"] == "rejected"
    assert (await stock(offer))["reserved"] == second["quantity"]


async def test_a_round_not_yet_proposed_has_nothing_to_approve(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, offer, round_id, listed = await _two_proposals(client)
    await MatchingRound.update({MatchingRound.status: "running"}).where(
        MatchingRound.id == round_id
    )
    answer = await _approve(client, loop, round_id, {"all": True})
    assert answer.status_code == 409, answer.text
    assert answer.json()["detail"] == "The round is running: nothing to approve"
    with pytest.raises(Conflict) as refused:
        await decisions.approve(actor=await _staff(), round_id=round_id, data=ApproveIn(all=True))
    assert refused.value.message_id == "round_not_proposed"
    assert (await _proposal(listed[0]["id"]))["status"] == "proposed"
    assert await stock(offer) == {"available": 5, "reserved": 0, "delivered": 0}


async def test_an_admin_reads_a_round_but_only_staff_decide_on_it(
    client: httpx.AsyncClient, db: None
) -> None:
    _, offer, round_id, listed = await _two_proposals(client)
    await make_user("root", Role.admin)
    admin = await bearer(client, "root")
    read = await client.get(f"/api/rounds/{round_id}/proposals", headers=admin)
    assert read.status_code == 200 and len(read.json()["items"]) == 2
    approve = await client.post(
        f"/api/rounds/{round_id}/approve", json={"all": True}, headers=admin
    )
    assert approve.status_code == 403
    assert approve.json()["detail"] == "Only civil affairs staff approve proposals"
    reject = await client.post(
        f"/api/rounds/{round_id}/reject",
        json={"proposal_ids": [listed[0]["id"]], "reason": "重复申领"},
        headers=admin,
    )
    assert reject.status_code == 403
    assert reject.json()["detail"] == "Only civil affairs staff reject proposals"
    assert {(await _proposal(p["id"]))["status"] for p in listed} == {"proposed"}
    assert await stock(offer) == {"available": 5, "reserved": 0, "delivered": 0}


async def test_each_refused_approval_says_what_is_wrong_in_words_a_page_can_translate(
    client: httpx.AsyncClient, db: None
) -> None:
    _, _, round_id, listed = await _two_proposals(client)
    staff = await _staff()
    first = listed[0]
    with pytest.raises(Invalid) as unticked:
        await decisions.approve(actor=staff, round_id=round_id, data=ApproveIn())
    assert unticked.value.detail == "Say which proposals to approve: all, proposal_ids or edits"
    assert (unticked.value.field, unticked.value.message_id) == (
        "proposal_ids",
        "proposals_unticked",
    )
    raise_it = ProposalEdit(proposal_id=first["id"], quantity=first["quantity"] + 1)
    with pytest.raises(Invalid) as raised:
        await decisions.approve(actor=staff, round_id=round_id, data=ApproveIn(edits=[raise_it]))
    assert raised.value.detail == (
        f"edits[0].quantity: {first['quantity'] + 1} is more than the {first['quantity']}"
        " proposed; an edit may lower the quantity, not raise it"
    )
    assert raised.value.message_id == "edit_above_proposal"
    assert raised.value.params == {"proposal_id": first["id"], "limit": first["quantity"]}
    missing = max(p["id"] for p in listed) + 1
    for data, field in (
        (ApproveIn(proposal_ids=[missing, first["id"]]), "proposal_ids"),
        (ApproveIn(edits=[ProposalEdit(proposal_id=missing, quantity=1)]), "edits[0].proposal_id"),
    ):
        with pytest.raises(Invalid) as foreign:
            await decisions.approve(actor=staff, round_id=round_id, data=data)
        assert foreign.value.detail == f"{field}: proposals [{missing}] are not in this round"
        assert (foreign.value.field, foreign.value.message_id) == (field, "proposals_not_in_round")
        assert foreign.value.params == {"proposal_ids": [missing]}
    assert await _audit("proposal.approve") == []


async def test_the_last_decision_closes_the_round_with_one_audit_entry(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, _, round_id, listed = await _two_proposals(client)
    staff = await _staff()
    assert await decisions.close_if_decided(actor=staff, round_id=round_id) is False
    await _approve(client, loop, round_id, {"proposal_ids": [listed[0]["id"]]})
    assert await _audit("round.close") == []
    before = datetime.now(UTC)
    rejected = await decisions.reject(
        actor=staff, round_id=round_id, proposal_ids=[listed[1]["id"]], reason="重复申领"
    )
    assert rejected == [listed[1]["id"]]
    [closing] = await _audit("round.close")
    assert (closing["entity"], closing["entity_id"]) == ("round", str(round_id))
    assert closing["actor"] == staff.id
    assert closing["before"] == {"status": "proposed"}
    assert closing["after"]["status"] == "closed"
    assert before <= datetime.fromisoformat(closing["after"]["at"]) <= datetime.now(UTC)
    assert await decisions.close_if_decided(actor=staff, round_id=round_id) is False
    assert len(await _audit("round.close")) == 1


async def test_the_round_closes_by_the_call_that_finds_nothing_open(
    client: httpx.AsyncClient, db: None
) -> None:
    _, _, round_id, _ = await _two_proposals(client)
    await Proposal.update({Proposal.status: "rejected"}).where(Proposal.round == round_id)
    assert await decisions.close_if_decided(actor=await _staff(), round_id=round_id) is True
    row = await MatchingRound.select(MatchingRound.status).where(MatchingRound.id == round_id)
    assert row == [{"status": "closed"}]


async def test_the_proposals_read_back_with_their_facts_by_status_and_a_page_at_a_time(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    near = await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]), quilts=2, weight=3.0)
    far = await add_household(loop, "HH2", (COUNTY[0] + 0.02, COUNTY[1]), quilts=1)
    offer = await add_offer(loop, quantity=5, radius_km=25.0)
    round_id = await proposed_round(loop, [(near, offer, 2, 1.11), (far, offer, 1, 2.22)])
    listed = await proposals(client, loop, round_id)
    assert [p["household_id"] for p in listed] == [near, far]
    first = listed[0]
    assert {k: v for k, v in first.items() if k not in ("id", "distance_km", "reason")} == {
        "round_id": round_id,
        "household_id": near,
        "household_reference": "HH1",
        "household_category": "dibao",
        "region_code": "230111",
        "lat": COUNTY[0] + 0.01,
        "lon": COUNTY[1],
        "offer_id": offer,
        "organization_id": loop.charity_id,
        "charity": "暖冬基金会",
        "item_code": "quilt",
        "quantity": 2,
        "radius_km": 25.0,
        "priority": 3.0,
        "status": "proposed",
        "decision_reason": "",
        "location_source": "county",
    }
    assert first["distance_km"] == 1.11
    stored = await _proposal(first["id"])
    assert first["reason"] == stored["reason"] != ""
    await _approve(client, loop, round_id, {"proposal_ids": [listed[1]["id"]]})

    async def page(**query: Any) -> dict[str, Any]:
        answer = await client.get(
            f"/api/rounds/{round_id}/proposals", params=query, headers=loop.auth("staff")
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    approved = await page(status="approved")
    assert [p["id"] for p in approved["items"]] == [listed[1]["id"]]
    assert approved["total"] == 1 and approved["items"][0]["status"] == "approved"
    assert [p["id"] for p in (await page(status="proposed"))["items"]] == [first["id"]]
    second = await page(limit=1, offset=1)
    assert [p["id"] for p in second["items"]] == [listed[1]["id"]]
    assert (second["total"], second["limit"], second["offset"]) == (2, 1, 1)
    assert [p["id"] for p in (await page(limit=1))["items"]] == [first["id"]]
    beyond = await page(offset=2)
    assert (beyond["items"], beyond["total"]) == ([], 2), "a page past the end is empty"


async def test_rejecting_one_proposal_leaves_the_others_and_the_round_open(
    client: httpx.AsyncClient, db: None
) -> None:
    _, _, round_id, listed = await _two_proposals(client)
    staff = await _staff()
    rejected = await decisions.reject(
        actor=staff, round_id=round_id, proposal_ids=[listed[0]["id"]], reason="重复申领"
    )
    assert rejected == [listed[0]["id"]]
    assert (await _proposal(listed[1]["id"]))["status"] == "proposed"
    row = await MatchingRound.select(MatchingRound.status).where(MatchingRound.id == round_id)
    assert row == [{"status": "proposed"}]
    [entry] = await _audit("proposal.reject")
    assert (entry["entity"], entry["entity_id"]) == ("proposal", str(listed[0]["id"]))
    assert entry["actor"] == staff.id
    missing = max(p["id"] for p in listed) + 1
    with pytest.raises(Invalid) as foreign:
        await decisions.reject(
            actor=staff, round_id=round_id, proposal_ids=[listed[1]["id"], missing], reason="r"
        )
    assert foreign.value.field == "proposal_ids"
    assert foreign.value.params == {"proposal_ids": [missing]}
    assert (await _proposal(listed[1]["id"]))["status"] == "proposed"


async def test_an_edit_to_zero_is_refused_and_approves_nothing(
    client: httpx.AsyncClient, db: None
) -> None:
    loop, offer, round_id, listed = await _two_proposals(client)
    answer = await _approve(
        client,
        loop,
        round_id,
        {
            "proposal_ids": [listed[1]["id"]],
            "edits": [{"proposal_id": listed[0]["id"], "quantity": 0}],
        },
    )
    assert answer.status_code == 400, answer.text
    assert "edits[0].quantity" in (answer.json()["field"] or answer.json()["detail"])
    assert {(await _proposal(p["id"]))["status"] for p in listed} == {"proposed"}
    assert await stock(offer) == {"available": 5, "reserved": 0, "delivered": 0}


async def test_proposals_named_across_several_batches_are_all_approved(
    client: httpx.AsyncClient, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "SET_BATCH", 2)  # five named proposals read in three batches
    loop = await build_loop()
    households = [
        await add_household(loop, f"HB{index}", (COUNTY[0] + 0.01 * index, COUNTY[1]))
        for index in range(5)
    ]
    offer = await add_offer(loop, quantity=5)
    round_id = await proposed_round(loop, [(h, offer, 1, 1.0) for h in households])
    ids = sorted(int(p["id"]) for p in await proposals(client, loop, round_id))
    answer = await _approve(
        client,
        loop,
        round_id,
        {"proposal_ids": ids[:4], "edits": [{"proposal_id": ids[4], "quantity": 1}]},
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["approved"], answer.json()["stale"]) == (ids, [])
    assert await stock(offer) == {"available": 0, "reserved": 5, "delivered": 0}


async def test_approving_all_of_a_round_past_five_hundred_proposals_approves_each_once(
    client: httpx.AsyncClient, db: None
) -> None:
    big = await build_big_round(client, townships=3, per_township=100)  # 600 proposals
    ids = [
        int(row["id"])
        for row in await Proposal.select(Proposal.id)
        .where(Proposal.round == big.round_id)
        .order_by(Proposal.id)
    ]
    edited = ids[550]
    answer = await client.post(
        f"/api/rounds/{big.round_id}/approve",
        json={"all": True, "edits": [{"proposal_id": edited, "quantity": 1}]},
        headers=big.loop.auth("staff"),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["approved"], body["stale"], body["already_approved"]) == (ids, [], [])
    assert len(set(body["delivery_ids"])) == 600
    assert await Proposal.count().where(Proposal.status == "approved") == 600
    assert await Offer.select(Offer.reserved).order_by(Offer.id) == [
        {"reserved": 300},
        {"reserved": 300},
    ]
    assert len(await _audit("proposal.approve")) == 600
