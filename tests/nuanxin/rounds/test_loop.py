"""The whole loop through the API: round, proposals, approval, delivery, code, need met."""

from __future__ import annotations

import httpx

from nuanxin.app import create_app
from nuanxin.rounds.services import run_round as run_round_again
from nuanxin.rounds.services import start_round
from nuanxin.rounds.tables import MatchingRound, Proposal
from nuanxin.settings import Settings
from tests.nuanxin.conftest import run_jobs
from tests.nuanxin.loop_world import (
    COUNTY,
    add_household,
    add_offer,
    allocated,
    build_loop,
    proposals,
    run_round,
    stock,
)


async def test_the_whole_loop_from_round_to_a_met_need(client: httpx.AsyncClient, db: None) -> None:
    loop = await build_loop()
    near = await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]), weight=3.0)
    far = await add_household(loop, "HH2", (COUNTY[0] + 0.15, COUNTY[1]), weight=1.0)
    expired = await add_household(
        loop, "HH3", (COUNTY[0], COUNTY[1] + 0.01), weight=5.0, expired=True
    )
    offer = await add_offer(loop, quantity=1)

    round_body = await run_round(client, loop)
    listed = await proposals(client, loop, round_body["id"])
    assert [p["household_id"] for p in listed] == [near], "one quilt: to the higher priority"
    assert listed[0]["reason"] and "km" in listed[0]["reason"]
    assert expired not in {p["household_id"] for p in listed}, "expired verification is excluded"
    assert round_body["stats"]["optimal"] is True
    rounds = (await client.get("/api/rounds", headers=loop.auth("staff"))).json()["items"]
    assert [(r["id"], r["proposals"]) for r in rounds] == [(round_body["id"], len(listed))]

    approval = await client.post(
        f"/api/rounds/{round_body['id']}/approve", json={"all": True}, headers=loop.auth("staff")
    )
    assert approval.status_code == 200, approval.text
    result = approval.json()
    assert result["approved"] == [listed[0]["id"]]
    assert await stock(offer) == {"available": 0, "reserved": 1, "delivered": 0}
    assert await allocated(loop.needs[near]) == 1
    delivery_id = result["delivery_ids"][0]

    again = await client.post(
        f"/api/rounds/{round_body['id']}/approve", json={"all": True}, headers=loop.auth("staff")
    )
    assert again.json()["already_approved"] == [listed[0]["id"]], "approving twice is harmless"
    assert await stock(offer) == {"available": 0, "reserved": 1, "delivered": 0}

    charity_view = await client.get("/api/deliveries", headers=loop.auth("courier"))
    open_delivery = charity_view.json()["items"][0]
    assert open_delivery["address"] and open_delivery["phone"], (
        "the charity sees the address while open"
    )

    slip = await client.post(f"/api/deliveries/{delivery_id}/slip", headers=loop.auth("staff"))
    assert slip.status_code == 201, slip.text
    code = slip.json()["code"]
    wrong = await client.post(
        f"/api/deliveries/{delivery_id}/confirm",
        json={"code": "00000000"},
        headers=loop.auth("courier"),
    )
    assert wrong.status_code == 400 and wrong.json()["field"] == "code"
    right = await client.post(
        f"/api/deliveries/{delivery_id}/confirm", json={"code": code}, headers=loop.auth("courier")
    )
    assert right.status_code == 200 and right.json() == {
        "delivery_id": delivery_id,
        "visit_id": right.json()["visit_id"],
        "status": "delivered",
        "already_confirmed": False,
        "held_for_review": False,  # an online code is checked at once, never held
        "review_id": None,
    }
    twice = await client.post(
        f"/api/deliveries/{delivery_id}/confirm", json={"code": code}, headers=loop.auth("courier")
    )
    assert twice.status_code == 200 and twice.json()["already_confirmed"] is True
    assert await stock(offer) == {"available": 0, "reserved": 0, "delivered": 1}

    closed = (
        await client.get(f"/api/deliveries/{delivery_id}", headers=loop.auth("courier"))
    ).json()
    assert closed["status"] == "delivered"
    assert closed["address"] is None and closed["phone"] is None, "the charity loses the address"
    assert far not in {p["household_id"] for p in listed}


async def test_a_round_in_flight_is_left_to_its_job_and_its_proposals_are_stored_once(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]))
    await add_offer(loop, quantity=1)
    me = (await client.get("/api/auth/me", headers=loop.auth("staff"))).json()
    from nuanxin.identity import CurrentUser, Role

    actor = CurrentUser(
        id=me["id"],
        username=me["username"],
        role=Role(me["role"]),
        jurisdiction_id=me["jurisdiction_id"],
        organization_id=None,
        jurisdiction_code="230111",
        jurisdiction_level="county",
    )
    round_id = await start_round(actor=actor, item_codes=["quilt"])  # its server "dies" here
    busy = await client.post("/api/rounds", json={}, headers=loop.auth("staff"))
    assert busy.status_code == 409 and busy.json()["error"] == "round_running"
    # a new server starting changes nothing: the round waits for its job, not for a server
    create_app(Settings.from_env(), manage_pool=False)
    row = (
        await MatchingRound.select(MatchingRound.status)
        .where(MatchingRound.id == round_id)
        .first()
        .run()
    )
    assert row is not None and row["status"] == "running"
    assert await Proposal.count().where(Proposal.round == round_id).run() == 0
    assert await run_jobs() == 1
    after = (await client.get(f"/api/rounds/{round_id}", headers=loop.auth("staff"))).json()
    assert after["status"] == "proposed"
    assert [p["household_id"] for p in await proposals(client, loop, round_id)] == [household]
    # the job run again (a killed worker's job is retried elsewhere) stores nothing twice
    await run_round_again(round_id)
    assert [p["household_id"] for p in await proposals(client, loop, round_id)] == [household]


async def test_a_failed_round_runs_again_through_a_new_job(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]))
    await add_offer(loop, quantity=1)
    started = await client.post("/api/rounds", json={}, headers=loop.auth("staff"))
    round_id = started.json()["id"]
    await (
        MatchingRound.update({MatchingRound.status: "failed"})
        .where(MatchingRound.id == round_id)
        .run()
    )
    assert await run_jobs() == 1  # the job finds the round failed and does nothing
    assert await Proposal.count().where(Proposal.round == round_id).run() == 0
    retried = await client.post(f"/api/rounds/{round_id}/retry", headers=loop.auth("staff"))
    assert retried.status_code == 202, retried.text
    assert await run_jobs() == 1
    after = (await client.get(f"/api/rounds/{round_id}", headers=loop.auth("staff"))).json()
    assert after["status"] == "proposed"
    assert [p["household_id"] for p in await proposals(client, loop, round_id)] == [household]


async def test_a_neighbour_sees_neither_the_round_nor_its_deliveries(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]))
    await add_offer(loop, quantity=1)
    round_body = await run_round(client, loop, who="province")
    assert round_body["region_code"] == "230000"
    from nuanxin.identity import Role
    from tests.nuanxin.conftest import make_region, make_user
    from tests.nuanxin.loop_world import _token

    other_county = await make_region("230112", level="county")
    neighbour = await make_user("loop_neighbour", Role.staff, jurisdiction=other_county)
    loop.tokens["neighbour"] = await _token(neighbour, "neighbour")
    assert (
        await client.get(f"/api/rounds/{round_body['id']}", headers=loop.auth("neighbour"))
    ).status_code == 404
    approve = await client.post(
        f"/api/rounds/{round_body['id']}/approve",
        json={"all": True},
        headers=loop.auth("neighbour"),
    )
    assert approve.status_code == 404
    county_staff_view = await client.get(
        f"/api/rounds/{round_body['id']}", headers=loop.auth("staff")
    )
    assert county_staff_view.status_code == 404, "a county does not see the province's rounds"


async def test_starting_the_app_leaves_rounds_in_flight_alone(db: None) -> None:
    """A second server starting (or one restarting) never fails another's round."""
    import dataclasses

    from nuanxin.accounts.tables import User

    loop = await build_loop()
    staff = await User.select(User.id).where(User.username == "loop_staff").first().run()
    assert staff is not None
    await MatchingRound.insert(
        MatchingRound(region=loop.county_id, status="running", created_by=staff["id"])
    ).run()
    settings = dataclasses.replace(Settings.from_env(), embedded_worker=False)
    app = create_app(settings, manage_pool=True)
    async with app.lifespan():
        rows = await MatchingRound.select(MatchingRound.status, MatchingRound.error).run()
    assert rows == [{"status": "running", "error": ""}]
