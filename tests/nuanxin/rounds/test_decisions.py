"""Staff decisions on proposals: what a refused decision says, and what the next round remembers."""

from __future__ import annotations

import httpx

from tests.nuanxin.loop_world import (
    COUNTY,
    add_household,
    add_offer,
    build_loop,
    proposals,
    run_round,
    stock,
)


async def test_an_edit_that_raises_the_quantity_is_refused_naming_the_field_and_the_limit(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]), quilts=2)
    offer = await add_offer(loop, quantity=5)
    round_body = await run_round(client, loop)
    [proposal] = await proposals(client, loop, round_body["id"])
    assert proposal["quantity"] == 2
    raised = await client.post(
        f"/api/rounds/{round_body['id']}/approve",
        json={"edits": [{"proposal_id": proposal["id"], "quantity": 3}]},
        headers=loop.auth("staff"),
    )
    assert raised.status_code == 400, raised.text
    assert raised.json()["field"] == "edits[0].quantity"
    assert "2" in raised.json()["detail"], "the answer says the limit"
    assert await stock(offer) == {"available": 5, "reserved": 0, "delivered": 0}
    lowered = await client.post(
        f"/api/rounds/{round_body['id']}/approve",
        json={"edits": [{"proposal_id": proposal["id"], "quantity": 1}]},
        headers=loop.auth("staff"),
    )
    assert lowered.status_code == 200 and lowered.json()["approved"] == [proposal["id"]]
    assert await stock(offer) == {"available": 4, "reserved": 1, "delivered": 0}


async def test_rejecting_and_approving_ids_of_no_proposal_of_the_round_answer_alike(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]))
    await add_offer(loop, quantity=5)
    round_body = await run_round(client, loop)
    for verb, body in (
        ("approve", {"proposal_ids": [987654]}),
        ("reject", {"proposal_ids": [987654], "reason": "重复申领"}),
    ):
        answer = await client.post(
            f"/api/rounds/{round_body['id']}/{verb}", json=body, headers=loop.auth("staff")
        )
        assert answer.status_code == 400, (verb, answer.text)
        assert answer.json()["field"] == "proposal_ids", verb


async def test_a_rejected_household_and_offer_are_not_paired_by_the_next_round(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]), weight=3.0)
    other = await add_household(loop, "HH2", (COUNTY[0] + 0.05, COUNTY[1]), weight=1.0)
    near = await add_offer(loop, quantity=1)
    first = await run_round(client, loop)
    [proposal] = await proposals(client, loop, first["id"])
    assert (proposal["household_id"], proposal["offer_id"]) == (household, near)
    rejected = await client.post(
        f"/api/rounds/{first['id']}/reject",
        json={"proposal_ids": [proposal["id"]], "reason": "户主已搬离，暂不发放"},
        headers=loop.auth("staff"),
    )
    assert rejected.status_code == 200 and rejected.json() == [proposal["id"]]

    second = await run_round(client, loop)
    paired = {
        (p["household_id"], p["offer_id"]) for p in await proposals(client, loop, second["id"])
    }
    assert paired == {(other, near)}, "the quilt goes to the next household, not back to HH1"

    another = await add_offer(loop, quantity=1)
    third = await run_round(client, loop)
    paired = {
        (p["household_id"], p["offer_id"]) for p in await proposals(client, loop, third["id"])
    }
    assert (household, another) in paired, "another charity's offer may still serve HH1"
    assert (household, near) not in paired
