"""A household's best point known: staff pins, couriers' positions staff accept, region centres;
matching measures to it and every proposal says which point it used."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from geopy.distance import great_circle

from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries.positions import offer_position
from nuanxin.deliveries.tables import Delivery
from nuanxin.households.locations import region_point_source
from nuanxin.households.tables import Household
from nuanxin.identity import CurrentUser, Role
from nuanxin.regions.services import get_region
from tests.nuanxin.conftest import make_user, run_jobs
from tests.nuanxin.households.helpers import household_body, id_number, token_for
from tests.nuanxin.loop_world import (
    COUNTY,
    Loop,
    add_household,
    add_offer,
    build_loop,
    proposals,
    region,
    run_round,
)

DOOR = (COUNTY[0] + 0.031, COUNTY[1] - 0.012)  # where the courier stood


async def point(household: int) -> dict[str, Any]:
    row = (
        await Household.select(Household.lat, Household.lon, Household.location_source)
        .where(Household.id == household)
        .first()
        .run()
    )
    assert row is not None
    return dict(row)


async def audit(action: str) -> list[dict[str, Any]]:
    return await AuditEntry.select().where(AuditEntry.action == action).output(load_json=True).run()


async def courier_of(loop: Loop) -> CurrentUser:
    from nuanxin.accounts.tables import User

    row = await User.select(User.id).where(User.username == "loop_courier").first().run()
    assert row is not None
    return CurrentUser(
        id=int(row["id"]),
        username="loop_courier",
        role=Role.courier,
        jurisdiction_id=None,
        organization_id=loop.charity_id,
    )


async def delivered_visit(client: httpx.AsyncClient, loop: Loop, reference: str) -> tuple[int, int]:
    """A household whose visit the courier confirmed with its code: (household, visit)."""
    household = await add_household(loop, reference, (COUNTY[0] + 0.02, COUNTY[1]))
    await add_offer(loop, quantity=1)
    started = await client.post("/api/rounds", json={}, headers=loop.auth("staff"))
    await run_jobs()
    approved = await client.post(
        f"/api/rounds/{started.json()['id']}/approve",
        json={"all": True},
        headers=loop.auth("staff"),
    )
    delivery = approved.json()["delivery_ids"][0]
    row = await Delivery.select(Delivery.visit).where(Delivery.id == delivery).first().run()
    assert row is not None
    visit = int(row["visit"])
    slip = await client.post(f"/api/visits/{visit}/slip", headers=loop.auth("staff"))
    confirmed = await client.post(
        f"/api/visits/{visit}/confirm",
        json={"code": slip.json()["code"]},
        headers=loop.auth("courier"),
    )
    assert confirmed.status_code == 200, confirmed.text
    return household, visit


async def test_staff_place_a_pin_which_becomes_the_point_and_is_audited(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "LP1", COUNTY)
    assert (await point(household))["location_source"] == "county"
    placed = await client.put(
        f"/api/households/{household}/location",
        json={"lat": 45.9012, "lon": 126.6011},
        headers=loop.auth("staff"),
    )
    assert placed.status_code == 200, placed.text
    assert placed.json()["location_source"] == "pin"
    assert (placed.json()["lat"], placed.json()["lon"]) == (45.9012, 126.6011)
    assert await point(household) == {"lat": 45.9012, "lon": 126.6011, "location_source": "pin"}
    (entry,) = await audit("household.pin")
    assert entry["before"]["location_source"] == "county"
    assert entry["after"] == {"lat": 45.9012, "lon": 126.6011, "location_source": "pin"}


async def test_a_pin_is_refused_to_charities_outside_the_jurisdiction_and_out_of_range(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "LP2", COUNTY)
    other_county = await region("230112", "阿城区", "county", None, (45.55, 126.95))
    neighbour = await token_for(
        await make_user("lp_neighbour", Role.staff, jurisdiction=other_county)
    )
    url = f"/api/households/{household}/location"
    body = {"lat": 45.9, "lon": 126.6}
    assert (await client.put(url, json=body, headers=loop.auth("charity"))).status_code == 403
    assert (await client.put(url, json=body, headers=loop.auth("courier"))).status_code == 403
    assert (await client.put(url, json=body, headers=neighbour)).status_code == 404
    for bad in ({"lat": 91, "lon": 126.6}, {"lat": 45.9}, {"lat": "north", "lon": 1}):
        assert (await client.put(url, json=bad, headers=loop.auth("staff"))).status_code == 400
    assert (await point(household))["location_source"] == "county"


async def test_a_household_registered_with_a_point_is_pinned_and_without_one_takes_its_county(
    client: httpx.AsyncClient, db: None
) -> None:
    from tests.nuanxin.households.helpers import build_place

    place = await build_place()
    pinned = await client.post(
        "/api/households", json=household_body(lat=45.91, lon=126.61), headers=place.staff
    )
    assert pinned.status_code == 201, pinned.text
    assert pinned.json()["location_source"] == "pin"
    plain = await client.post(
        "/api/households",
        json=household_body(
            id_number=id_number(sequence=2), head_name="李桂兰", current_address="呼兰区另一村1号"
        ),
        headers=place.staff,
    )
    assert plain.status_code == 201, plain.text
    assert plain.json()["location_source"] == "county"


async def test_a_township_with_a_point_of_its_own_gives_its_centre_else_its_countys(
    db: None,
) -> None:
    county = await region("230111", "呼兰区", "county", None, COUNTY)
    await region("230111001", "兰河街道", "township", county, COUNTY)
    await region("230111100", "石人镇", "township", county, (45.95, 126.70))
    same = await get_region("230111001")
    own = await get_region("230111100")
    whole = await get_region("230111")
    assert same is not None and own is not None and whole is not None
    assert await region_point_source(same) == "county"
    assert await region_point_source(own) == "township"
    assert await region_point_source(whole) == "county"


async def test_a_couriers_position_at_the_first_visit_waits_for_staff_who_accept_it(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household, visit = await delivered_visit(client, loop, "LP3")
    before = await point(household)
    courier = await courier_of(loop)
    suggestion = await offer_position(
        actor=courier, visit_id=visit, lat=DOOR[0], lon=DOOR[1], accuracy_m=12.0
    )
    assert suggestion is not None
    assert await point(household) == before, "a suggestion alone moves nothing"
    again = await offer_position(actor=courier, visit_id=visit, lat=45.0, lon=126.0)
    assert again is None, "one suggestion a household"
    listed = await client.get("/api/location-suggestions", headers=loop.auth("staff"))
    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    assert item["status"] == "pending" and item["household_id"] == household
    assert item["accuracy_m"] == 12.0
    assert item["distance_km"] == pytest.approx(
        great_circle((before["lat"], before["lon"]), DOOR).km, rel=1e-6
    )
    (suggested,) = await audit("location.suggest")
    assert "lat" not in suggested["after"], "the trail keeps no whereabouts"
    for outsider in ("charity", "courier"):
        refused = await client.post(
            f"/api/location-suggestions/{suggestion}/decide",
            json={"decision": "accept"},
            headers=loop.auth(outsider),
        )
        assert refused.status_code == 403
    accepted = await client.post(
        f"/api/location-suggestions/{suggestion}/decide",
        json={"decision": "accept"},
        headers=loop.auth("staff"),
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    assert await point(household) == {"lat": DOOR[0], "lon": DOOR[1], "location_source": "courier"}
    twice = await client.post(
        f"/api/location-suggestions/{suggestion}/decide",
        json={"decision": "reject"},
        headers=loop.auth("staff"),
    )
    assert twice.status_code == 409
    (decided,) = await audit("location.accepted")
    assert decided["after"]["point_moved"] is True


async def test_an_accepted_courier_point_never_moves_a_pin_and_a_rejected_one_moves_nothing(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household, visit = await delivered_visit(client, loop, "LP4")
    await client.put(
        f"/api/households/{household}/location",
        json={"lat": 45.93, "lon": 126.55},
        headers=loop.auth("staff"),
    )
    suggestion = await offer_position(
        actor=await courier_of(loop), visit_id=visit, lat=DOOR[0], lon=DOOR[1]
    )
    accepted = await client.post(
        f"/api/location-suggestions/{suggestion}/decide",
        json={"decision": "accept"},
        headers=loop.auth("staff"),
    )
    assert accepted.status_code == 200
    assert await point(household) == {"lat": 45.93, "lon": 126.55, "location_source": "pin"}

    other, other_visit = await delivered_visit(client, loop, "LP5")
    before = await point(other)
    rejected_id = await offer_position(
        actor=await courier_of(loop), visit_id=other_visit, lat=DOOR[0], lon=DOOR[1]
    )
    rejected = await client.post(
        f"/api/location-suggestions/{rejected_id}/decide",
        json={"decision": "reject"},
        headers=loop.auth("staff"),
    )
    assert rejected.json()["status"] == "rejected"
    assert await point(other) == before


async def test_only_a_confirmed_visit_and_the_households_first_one_offer_a_position(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household, visit = await delivered_visit(client, loop, "LP6")
    courier = await courier_of(loop)
    from datetime import UTC, datetime

    from nuanxin.deliveries.tables import Visit

    later = (
        await Visit.insert(
            Visit(
                household=household,
                organization=loop.charity_id,
                status="delivered",
                created_at=datetime.now(UTC),
            )
        )
        .returning(Visit.id)
        .run()
    )
    assert (
        await offer_position(actor=courier, visit_id=int(later[0]["id"]), lat=45, lon=126) is None
    )
    pending = (
        await Visit.insert(
            Visit(household=household, organization=loop.charity_id, created_at=datetime.now(UTC))
        )
        .returning(Visit.id)
        .run()
    )
    assert (
        await offer_position(actor=courier, visit_id=int(pending[0]["id"]), lat=45, lon=126) is None
    )
    assert visit


async def test_suggestions_of_another_jurisdiction_are_neither_listed_nor_decided(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    _, visit = await delivered_visit(client, loop, "LP7")
    suggestion = await offer_position(
        actor=await courier_of(loop), visit_id=visit, lat=45.9, lon=126.6
    )
    other_county = await region("230112", "阿城区", "county", None, (45.55, 126.95))
    neighbour = await token_for(
        await make_user("lp_neighbour2", Role.staff, jurisdiction=other_county)
    )
    listed = await client.get("/api/location-suggestions", headers=neighbour)
    assert listed.json()["total"] == 0
    refused = await client.post(
        f"/api/location-suggestions/{suggestion}/decide",
        json={"decision": "accept"},
        headers=neighbour,
    )
    assert refused.status_code == 404
    province = await client.get(
        "/api/location-suggestions?status=pending", headers=loop.auth("province")
    )
    assert province.json()["total"] == 1


async def test_each_proposal_says_which_point_of_the_household_it_measured_to(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    pinned = await add_household(loop, "LP8", (COUNTY[0] + 0.01, COUNTY[1]))
    plain = await add_household(loop, "LP9", (COUNTY[0] + 0.02, COUNTY[1]))
    await client.put(
        f"/api/households/{pinned}/location",
        json={"lat": COUNTY[0] + 0.05, "lon": COUNTY[1]},
        headers=loop.auth("staff"),
    )
    await add_offer(loop, quantity=2)
    done = await run_round(client, loop)
    found = {p["household_id"]: p for p in await proposals(client, loop, done["id"])}
    assert found[pinned]["location_source"] == "pin"
    assert found[plain]["location_source"] == "county"
    assert found[pinned]["distance_km"] == pytest.approx(
        great_circle((COUNTY[0] + 0.05, COUNTY[1]), COUNTY).km, rel=1e-6
    )
    shown = await client.get(f"/staff/rounds/{done['id']}?lang=zh-CN", headers=loop.auth("staff"))
    assert "工作人员标注" in shown.text and "县中心" in shown.text
    english = await client.get(f"/staff/rounds/{done['id']}?lang=en", headers=loop.auth("staff"))
    assert "pin placed by staff" in english.text


async def test_the_household_page_places_a_pin_without_javascript_and_keeps_a_wrong_value(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "LP10", COUNTY)
    shown = await client.get(
        f"/staff/households/{household}?lang=zh-CN", headers=loop.auth("staff")
    )
    assert shown.status_code == 200
    assert "县中心" in shown.text and 'name="lat"' in shown.text and "pin.js" in shown.text
    wrong = await client.post(
        f"/staff/households/{household}/location?lang=zh-CN",
        data={"lat": "北纬45", "lon": "126.6"},
        headers=loop.auth("staff"),
    )
    assert wrong.status_code == 400
    assert 'value="北纬45"' in wrong.text and 'id="lat-error"' in wrong.text
    assert "错误：" in wrong.text
    saved = await client.post(
        f"/staff/households/{household}/location",
        data={"lat": "45.8999", "lon": "126.5999"},
        headers=loop.auth("staff"),
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/staff/households/{household}"
    assert await point(household) == {"lat": 45.8999, "lon": 126.5999, "location_source": "pin"}
    english = await client.get(
        f"/staff/households/{household}/location?lang=en", headers=loop.auth("staff")
    )
    assert "pin placed by staff" in english.text


async def test_staff_accept_a_couriers_point_on_the_page_of_suggestions(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household, visit = await delivered_visit(client, loop, "LP11")
    suggestion = await offer_position(
        actor=await courier_of(loop), visit_id=visit, lat=DOOR[0], lon=DOOR[1]
    )
    listed = await client.get("/staff/locations?lang=zh-CN", headers=loop.auth("staff"))
    assert listed.status_code == 200 and f'data-testid="suggestion-{suggestion}"' in listed.text
    accepted = await client.post(
        f"/staff/locations/{suggestion}/accept", headers=loop.auth("staff")
    )
    assert accepted.status_code == 303
    assert (await point(household))["location_source"] == "courier"
    empty = await client.get("/staff/locations?lang=en", headers=loop.auth("staff"))
    assert (
        "No courier&#39;s point is waiting." in empty.text
        or "No courier's point is waiting." in empty.text
    )
    assert (await client.get("/staff/locations", headers=loop.auth("courier"))).status_code == 403


async def test_a_courier_confirming_with_consent_offers_the_position_and_without_it_nothing(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    for reference, position in (
        ("LP12", {"lat": DOOR[0], "lon": DOOR[1], "accuracy_m": 8.0}),
        ("LP13", None),
    ):
        household = await add_household(loop, reference, (COUNTY[0] + 0.02, COUNTY[1]))
        await add_offer(loop, quantity=1)
        started = await client.post("/api/rounds", json={}, headers=loop.auth("staff"))
        await run_jobs()
        approved = await client.post(
            f"/api/rounds/{started.json()['id']}/approve",
            json={"all": True},
            headers=loop.auth("staff"),
        )
        delivery = approved.json()["delivery_ids"][0]
        row = await Delivery.select(Delivery.visit).where(Delivery.id == delivery).first().run()
        assert row is not None
        visit = int(row["visit"])
        slip = await client.post(f"/api/visits/{visit}/slip", headers=loop.auth("staff"))
        body: dict[str, Any] = {"code": slip.json()["code"]}
        if position is not None:
            body["position"] = position
        confirmed = await client.post(
            f"/api/visits/{visit}/confirm",
            json=body,
            headers={**loop.auth("courier"), "Idempotency-Key": str(uuid.uuid4())},
        )
        assert confirmed.status_code == 200, confirmed.text
        listed = await client.get("/api/location-suggestions", headers=loop.auth("staff"))
        mine = [s for s in listed.json()["items"] if s["household_id"] == household]
        if position is None:
            assert mine == []
        else:
            (suggestion,) = mine
            assert (suggestion["lat"], suggestion["lon"]) == DOOR
            assert suggestion["accuracy_m"] == 8.0
            assert suggestion["visit_id"] == visit
            assert (await point(household))["location_source"] == "county"
