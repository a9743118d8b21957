"""Staff register, edit and verify households through the API, inside their jurisdiction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from nuanxin.audit.tables import AuditEntry
from nuanxin.households.tables import Household, Member, Need
from tests.nuanxin.helpers import assert_error
from tests.nuanxin.households.helpers import build_place, household_body, id_number


async def test_staff_register_verify_and_edit_a_household(client: httpx.AsyncClient) -> None:
    place = await build_place()
    created = await client.post("/api/households", json=household_body(), headers=place.staff)
    assert created.status_code == 201, created.text
    household = created.json()
    assert household["status"] == "unverified"
    assert household["is_verification_current"] is False
    assert household["reference"].startswith("HH230111")
    assert household["id_number"].endswith(id_number()[-4:])
    assert id_number() not in created.text
    assert household["lat"] == 45.89  # the region's point when none is given
    assert household["priority_weight"] == 2.0 + 0.5 + 1.0  # dibao, elderly, disability 2

    needs = (
        await client.get(f"/api/households/{household['id']}/needs", headers=place.staff)
    ).json()
    by_item = {need["item_code"]: need for need in needs}
    assert by_item["coal"]["quantity"] == 40  # severe cold, coal stove
    assert by_item["coat_child_130"]["quantity"] == 1
    assert by_item["coat_adult_m"]["quantity"] == 1
    assert "严寒" in by_item["coal"]["rule_zh"] and "severe-cold" in by_item["coal"]["rule_en"]

    verified = await client.post(f"/api/households/{household['id']}/verify", headers=place.staff)
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["status"] == "verified"
    assert body["is_verification_current"] is True
    expires = datetime.fromisoformat(body["verification_expires_at"])
    assert timedelta(days=360) < expires - datetime.now(UTC) < timedelta(days=370)

    edited = await client.patch(
        f"/api/households/{household['id']}",
        json={"tags": ["electricity", "no_heating"], "phone": "13700001111"},
        headers=place.staff,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["phone"] == "13700001111"
    needs = (
        await client.get(f"/api/households/{household['id']}/needs", headers=place.staff)
    ).json()
    by_item = {need["item_code"]: need for need in needs}
    assert by_item["coal"]["quantity"] == 0  # no coal stove any more
    assert by_item["stove"]["quantity"] == 1

    actions = [
        row["action"]
        for row in await AuditEntry.select(AuditEntry.action)
        .where(AuditEntry.entity_id == str(household["id"]))
        .order_by(AuditEntry.id)
        .run()
    ]
    assert actions == ["household.create", "household.verify", "household.update"]
    trail = await AuditEntry.select().where(AuditEntry.entity == "household").run()
    assert id_number() not in str(trail) and "13912345678" not in str(trail)


async def test_the_id_number_is_stored_only_as_a_keyed_hash(client: httpx.AsyncClient) -> None:
    place = await build_place()
    await client.post("/api/households", json=household_body(), headers=place.staff)
    row = await Household.select().first().run()
    assert row is not None
    assert id_number() not in str(row)
    assert row["id_last4"] == id_number()[-4:]
    assert len(row["id_hash"]) == 64


async def test_a_malformed_household_is_a_400_naming_the_field(client: httpx.AsyncClient) -> None:
    place = await build_place()
    bad_id = id_number()[:17] + ("0" if id_number()[17] != "0" else "1")
    cases = {
        "id_number": household_body(id_number=bad_id),
        "category": household_body(category="rich"),
        "members": household_body(members=[]),
        "tags": household_body(tags=["jacuzzi"]),
        "region_code": household_body(region_code="230100"),  # a city, not a county
        "lives_alone": household_body(lives_alone=True),  # with two members
        "members[0].birth_year": household_body(members=[{"birth_year": 2090}]),
    }
    for field, body in cases.items():
        response = await client.post("/api/households", json=body, headers=place.staff)
        error = assert_error(response, 400, "validation_error")
        assert field in str(error["field"]), (field, error)
    assert await Household.count().run() == 0
    assert await Member.count().run() == 0


async def test_staff_cannot_place_a_household_outside_their_jurisdiction(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    response = await client.post(
        "/api/households", json=household_body(region_code="230112"), headers=place.staff
    )
    assert_error(response, 404, "not_found")
    assert await Household.count().run() == 0


async def test_households_are_seen_only_inside_the_jurisdiction(client: httpx.AsyncClient) -> None:
    place = await build_place()
    mine = (await client.post("/api/households", json=household_body(), headers=place.staff)).json()
    theirs = await client.post(
        "/api/households",
        json=household_body(
            head_name="李四",
            id_number=id_number(sequence=7),
            region_code="230112",
            current_address="阿城区某村",
        ),
        headers=place.neighbour,
    )
    assert theirs.status_code == 201, theirs.text
    listed = (await client.get("/api/households", headers=place.staff)).json()
    assert [item["id"] for item in listed["items"]] == [mine["id"]]
    assert listed["total"] == 1
    assert (
        await client.get(f"/api/households/{theirs.json()['id']}", headers=place.staff)
    ).status_code == 404
    assert (
        await client.get(f"/api/households/{mine['id']}", headers=place.neighbour)
    ).status_code == 404
    province = (await client.get("/api/households", headers=place.province)).json()
    assert province["total"] == 2
    assert (await client.get("/api/households", headers=place.charity)).status_code == 403
    verify = await client.post(f"/api/households/{mine['id']}/verify", headers=place.neighbour)
    assert verify.status_code == 404
    assert (
        await Household.select(Household.status).where(Household.id == mine["id"]).first().run()
    ) == {"status": "unverified"}


async def test_lists_filter_by_verification_category_region_and_search(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    first = (
        await client.post("/api/households", json=household_body(), headers=place.staff)
    ).json()
    second = (
        await client.post(
            "/api/households",
            json=household_body(
                head_name="赵六",
                id_number=id_number(sequence=2),
                category="extremely_poor",
                region_code="230111005",
                current_address="康金街道某屯",
            ),
            headers=place.staff,
        )
    ).json()
    third = (
        await client.post(
            "/api/households",
            json=household_body(
                head_name="钱七", id_number=id_number(sequence=3), current_address="某处"
            ),
            headers=place.staff,
        )
    ).json()
    await client.post(f"/api/households/{first['id']}/verify", headers=place.staff)
    await client.post(f"/api/households/{second['id']}/verify", headers=place.staff)
    # The second one's verification ran out yesterday.
    past = datetime.now(UTC) - timedelta(days=1)
    await (
        Household.update({Household.verification_expires_at: past})
        .where(Household.id == second["id"])
        .run()
    )

    async def ids(**params: str) -> list[int]:
        page = (await client.get("/api/households", params=params, headers=place.staff)).json()
        return sorted(item["id"] for item in page["items"])

    assert await ids(verification="current") == [first["id"]]
    assert await ids(verification="expired") == [second["id"]]
    assert await ids(verification="unverified") == [third["id"]]
    assert await ids(category="extremely_poor") == [second["id"]]
    assert await ids(region="230111005") == [second["id"]]
    assert await ids(q="钱") == [third["id"]]
    assert await ids(q=first["reference"]) == [first["id"]]
    got = (await client.get(f"/api/households/{second['id']}", headers=place.staff)).json()
    assert got["status"] == "verified" and got["is_verification_current"] is False
    paged = (await client.get("/api/households", params={"limit": 2}, headers=place.staff)).json()
    assert paged["total"] == 3 and len(paged["items"]) == 2


async def test_an_override_survives_a_change_of_members(client: httpx.AsyncClient) -> None:
    place = await build_place()
    household = (
        await client.post("/api/households", json=household_body(), headers=place.staff)
    ).json()
    url = f"/api/households/{household['id']}/needs"
    override = await client.post(
        url, json={"item_code": "quilt", "quantity": 5, "reason": "房屋漏风"}, headers=place.staff
    )
    assert override.status_code == 200, override.text
    assert override.json()["override_reason"] == "房屋漏风"
    bad = await client.post(
        url, json={"item_code": "yacht", "quantity": 1, "reason": "x"}, headers=place.staff
    )
    assert assert_error(bad, 400, "validation_error")["field"] == "item_code"
    await client.patch(
        f"/api/households/{household['id']}",
        json={"members": [{"birth_year": 1950, "sex": "F"}]},
        headers=place.staff,
    )
    by_item = {
        need["item_code"]: need for need in (await client.get(url, headers=place.staff)).json()
    }
    assert by_item["quilt"]["quantity"] == 5
    assert by_item["coat_child_130"]["quantity"] == 0
    assert await AuditEntry.count().where(AuditEntry.action == "need.override").run() == 1
    neighbour = await client.post(
        url, json={"item_code": "quilt", "quantity": 9, "reason": "x"}, headers=place.neighbour
    )
    assert neighbour.status_code == 404
    assert (
        await Need.select(Need.quantity).where(Need.override_reason == "房屋漏风").first().run()
    ) == {"quantity": 5}


async def test_an_expired_verification_counts_as_unverified_until_renewed(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    household = (
        await client.post("/api/households", json=household_body(), headers=place.staff)
    ).json()
    url = f"/api/households/{household['id']}"
    await client.post(f"{url}/verify", headers=place.staff)
    past = datetime.now(UTC) - timedelta(seconds=1)
    await (
        Household.update({Household.verification_expires_at: past})
        .where(Household.id == household["id"])
        .run()
    )
    expired = (await client.get(url, headers=place.staff)).json()
    assert expired["status"] == "verified" and expired["is_verification_current"] is False
    renewed = (await client.post(f"{url}/verify", headers=place.staff)).json()
    assert renewed["is_verification_current"] is True


def test_a_verification_lasts_calendar_months() -> None:
    from nuanxin.households.verification import add_months

    start = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    assert add_months(start, 1) == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)
    assert add_months(start, 12) == datetime(2027, 1, 31, 9, 0, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 29, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)


async def test_an_address_pre_fills_the_region_and_an_unclear_one_offers_candidates(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    url = "/api/households/locate"
    one = (
        await client.get(
            url, params={"address": "黑龙江省哈尔滨市呼兰区康金街道幸福村"}, headers=place.staff
        )
    ).json()
    assert one["region"]["code"] == "230111005" and one["region"]["in_jurisdiction"] is True
    city = (
        await client.get(url, params={"address": "哈尔滨市某路1号"}, headers=place.staff)
    ).json()
    assert city["region"] is None and city["problem"]
    assert [c["code"] for c in city["candidates"]] == ["230111", "230112"]  # the loaded ones
    assert [c["in_jurisdiction"] for c in city["candidates"]] == [True, False]
    nowhere = (await client.get(url, params={"address": "火星基地"}, headers=place.staff)).json()
    assert nowhere["region"] is None and nowhere["candidates"] == []
    assert (
        await client.get(url, params={"address": "呼兰区"}, headers=place.charity)
    ).status_code == 403
