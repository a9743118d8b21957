"""Purchase advice, the campaign's unmet need and the round's what-if, against the engine."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import httpx

import matching
from nuanxin.accounts.tables import Organization
from nuanxin.audit.tables import AuditEntry
from nuanxin.donations.tables import Campaign, Purchase
from nuanxin.households.tables import Household
from nuanxin.identity import Role
from nuanxin.rounds.snapshot import take_snapshot, to_problem
from tests.nuanxin.conftest import make_region, make_user
from tests.nuanxin.donations.helpers import paid_donation
from tests.nuanxin.loop_world import (
    COUNTY,
    Loop,
    _token,
    add_household,
    add_offer,
    build_loop,
    run_round,
)


async def _world() -> Loop:
    """Four households wait for quilts near the warehouse, one quilt is on offer."""
    loop = await build_loop()
    for number, category in enumerate(("dibao", "dibao", "near_dibao", "temporary")):
        household = await add_household(
            loop, f"HH{number}", (COUNTY[0] + 0.01 * (number + 1), COUNTY[1]), weight=2.0
        )
        await (
            Household.update({Household.category: category}).where(Household.id == household).run()
        )
    await add_offer(loop, quantity=1, radius_km=30.0)
    return loop


def _served(solution: matching.Solution) -> set[str]:
    return {a.household for a in solution.assignments}


async def test_the_advice_agrees_with_solving_again_with_the_batch_added(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await _world()
    prices = await client.put(
        "/api/advice/prices", json={"prices": {"quilt": 8500}}, headers=loop.auth("charity")
    )
    assert prices.json() == [{"item_code": "quilt", "price_fen": 8500}]
    answer = await client.post("/api/advice?units=2", headers=loop.auth("charity"))
    assert answer.status_code == 201, answer.text
    advice = answer.json()
    [line] = advice["lines"]
    assert (line["warehouse_id"], line["item_code"], line["units"]) == (
        loop.warehouse_id,
        "quilt",
        2,
    )
    assert line["radius_km"] == 30.0, "the radius the charity already uses there"
    assert line["cost_fen"] == 17000

    snapshot = await take_snapshot(region_prefix="230111", item_codes=["quilt"])
    problem = to_problem(snapshot.households, snapshot.stock)
    extra = matching.Offer(
        id="extra", kind="quilt", quantity=2, lat=COUNTY[0], lon=COUNTY[1], radius_km=30.0
    )
    before = matching.solve(problem)
    after = matching.solve(dataclasses.replace(problem, offers=(*problem.offers, extra)))
    assert line["households"] == len(_served(after)) - len(_served(before)) == 2
    assert line["weighted_units"] == round(
        after.totals.weighted_units - before.totals.weighted_units, 6
    )
    assert line["unit_km"] == round(after.totals.unit_km - before.totals.unit_km, 3)
    assert sum(line["categories"].values()) == 2
    assert line["per_yuan"] == line["weighted_units"] / 170
    # one more unit at the warehouse: the engine's marginal value says the same
    [marginal] = [m for m in before.marginal_values if m.kind == "quilt"]
    one = matching.solve(
        dataclasses.replace(
            problem, offers=(*problem.offers, dataclasses.replace(extra, quantity=1))
        )
    )
    assert marginal.weighted_units == one.totals.weighted_units - before.totals.weighted_units

    page = await client.get("/charity/advice", headers=loop.auth("charity"))
    assert page.status_code == 200
    assert "呼兰仓库" in page.text and "HH0" not in page.text, "counts only, no household"


async def test_a_purchase_from_the_advice_is_linked_to_it_and_audited(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await _world()
    await client.put(
        "/api/advice/prices", json={"prices": {"quilt": 8500}}, headers=loop.auth("charity")
    )
    advice = (await client.post("/api/advice", headers=loop.auth("charity"))).json()
    rows = (
        await Campaign.insert(
            Campaign(
                organization=loop.charity_id,
                title="呼兰区冬季取暖",
                region=loop.county_id,
                items=["quilt"],
                target_fen=1_000_000,
                ends_on=(datetime.now(UTC) + timedelta(days=30)).date(),
                created_at=datetime.now(UTC),
            )
        )
        .returning(Campaign.id)
        .run()
    )
    campaign_id = int(rows[0]["id"])
    await paid_donation(campaign_id, loop.charity_id, 100_000)
    bought = await client.post(
        f"/api/advice/{advice['id']}/purchases",
        json={"campaign_id": campaign_id, "line": 0, "quantity": 10, "cost_fen": 85_000},
        headers=loop.auth("charity"),
    )
    assert bought.status_code == 201, bought.text
    assert bought.json()["advice_id"] == advice["id"]
    row = (
        await Purchase.select(Purchase.advice)
        .where(Purchase.id == bought.json()["id"])
        .first()
        .run()
    )
    assert row == {"advice": advice["id"]}
    audit = (
        await AuditEntry.select(AuditEntry.after)
        .where(AuditEntry.action == "purchase.create")
        .output(load_json=True)
        .first()
        .run()
    )
    assert audit is not None and audit["after"]["advice"] == advice["id"]

    now = datetime.now(UTC)
    org = (
        await Organization.insert(
            Organization(
                name="另一基金会",
                credit_code="91230100OTHER0001X",
                status="verified",
                region=loop.county_id,
                contact_name="联系人",
                contact_phone="13800000001",
                created_at=now,
            )
        )
        .returning(Organization.id)
        .run()
    )
    member = await make_user("advice_other", Role.charity, organization=int(org[0]["id"]))
    other = {"authorization": f"Bearer {await _token(member, 'other')}"}
    refused = await client.post(
        f"/api/advice/{advice['id']}/purchases",
        json={"campaign_id": campaign_id, "line": 0, "quantity": 1, "cost_fen": 100},
        headers=other,
    )
    assert refused.status_code == 404, "another charity's advice is not found"
    assert (await client.post("/api/advice", headers=loop.auth("staff"))).status_code == 403


async def test_what_if_equals_solving_the_changed_round_twice(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await _world()
    far = await add_household(loop, "FAR", (COUNTY[0] + 0.5, COUNTY[1]), weight=1.0)
    assert far
    round_body = await run_round(client, loop)
    offer = loop.offers[0]
    snapshot = await take_snapshot(region_prefix="230111", item_codes=["quilt"])
    problem = to_problem(snapshot.households, snapshot.stock)
    before = matching.solve(problem)

    stock = await client.post(
        f"/api/rounds/{round_body['id']}/what-if",
        json={"change": "stock", "offer_id": offer, "quantity": 3, "radius_km": 30.0},
        headers=loop.auth("staff"),
    )
    assert stock.status_code == 200, stock.text
    extra = matching.Offer(
        id="extra", kind="quilt", quantity=3, lat=COUNTY[0], lon=COUNTY[1], radius_km=30.0
    )
    after = matching.solve(dataclasses.replace(problem, offers=(*problem.offers, extra)))
    assert stock.json()["households_served"] == len(_served(after)) - len(_served(before)) == 3
    assert abs(stock.json()["unit_km"] - (after.totals.unit_km - before.totals.unit_km)) < 1e-3

    wider = await client.post(
        f"/api/rounds/{round_body['id']}/what-if",
        json={"change": "radius", "offer_id": offer, "radius_km": 80.0},
        headers=loop.auth("staff"),
    )
    assert wider.status_code == 200, wider.text
    widened = dataclasses.replace(
        problem,
        offers=tuple(dataclasses.replace(o, radius_km=80.0) for o in problem.offers),
    )
    after = matching.solve(widened)
    assert wider.json()["households_served"] == len(_served(after)) - len(_served(before))
    assert abs(wider.json()["unit_km"] - (after.totals.unit_km - before.totals.unit_km)) < 1e-3

    page = await client.post(
        f"/staff/rounds/{round_body['id']}/what-if",
        data={"change": "radius", "offer_id": str(offer), "radius_km": "80"},
        headers=loop.auth("staff"),
    )
    assert page.status_code == 200, page.text
    assert 'data-testid="what-if-answer"' in page.text

    # the wrong role is refused; another county's staff finds no such round
    refused = await client.get(
        f"/staff/rounds/{round_body['id']}/what-if", headers=loop.auth("charity")
    )
    assert refused.status_code == 403
    other_county = await make_region("230112", "county")
    stranger = await make_user("advice_stranger", Role.staff, jurisdiction=other_county)
    token = await _token(stranger, "stranger")
    hidden = await client.post(
        f"/api/rounds/{round_body['id']}/what-if",
        json={"change": "radius", "offer_id": offer, "radius_km": 80.0},
        headers={"authorization": f"Bearer {token}"},
    )
    assert hidden.status_code == 404


async def test_a_campaign_shows_its_regions_need_by_item_hidden_below_five(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await _world()
    rows = (
        await Campaign.insert(
            Campaign(
                organization=loop.charity_id,
                title="呼兰区冬季取暖",
                region=loop.county_id,
                items=["quilt"],
                target_fen=1_000_000,
                ends_on=(datetime.now(UTC) + timedelta(days=30)).date(),
                created_at=datetime.now(UTC),
            )
        )
        .returning(Campaign.id)
        .run()
    )
    campaign_id = int(rows[0]["id"])
    need = (await client.get(f"/api/campaigns/{campaign_id}/need")).json()
    assert need["items"] == [
        {"item_code": "quilt", "asked": True, "households": None, "units": None}
    ], "four households: hidden"
    await add_household(loop, "HH5", (COUNTY[0], COUNTY[1] + 0.02), quilts=2)
    need = (await client.get(f"/api/campaigns/{campaign_id}/need")).json()
    assert need["items"] == [{"item_code": "quilt", "asked": True, "households": 5, "units": 6}]
    page = await client.get(f"/campaigns/{campaign_id}")
    assert 'data-testid="campaign-need"' in page.text and "HH5" not in page.text
