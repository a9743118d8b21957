"""The same person is registered once in the whole system, and a refusal leaks nothing."""

from __future__ import annotations

import httpx

from nuanxin.audit.tables import AuditEntry
from nuanxin.households.tables import Household, Member, Need
from tests.nuanxin.helpers import assert_error
from tests.nuanxin.households.helpers import build_place, household_body, id_number


async def test_a_neighbour_registering_the_same_id_learns_nothing_about_the_other_record(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    first = await client.post("/api/households", json=household_body(), headers=place.staff)
    assert first.status_code == 201
    original = first.json()
    counts = (await Household.count().run(), await Member.count().run(), await Need.count().run())
    entries = await AuditEntry.count().run()

    same_person = household_body(
        head_name="王某",
        phone="13500000000",
        region_code="230112",
        current_address="阿城区另一处住址",
        registered_address="",
    )
    response = await client.post("/api/households", json=same_person, headers=place.neighbour)
    body = assert_error(response, 409, "duplicate_household")
    assert body["field"] == "id_number"
    assert "another jurisdiction" in str(body["detail"])
    assert "呼兰区" in str(body["detail"])  # whom to contact
    for secret in (
        original["reference"],
        original["head_name"],
        "13912345678",
        original["current_address"],
        original["registered_address"],
        id_number(),
        id_number()[-4:],
        str(original["id"]),
    ):
        assert secret not in response.text, secret
    # Nothing was written by the refused request.
    assert (
        await Household.count().run(),
        await Member.count().run(),
        await Need.count().run(),
    ) == counts
    assert await AuditEntry.count().run() == entries


async def test_inside_the_jurisdiction_the_refusal_names_the_existing_household(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    original = (
        await client.post("/api/households", json=household_body(), headers=place.staff)
    ).json()
    same_id = await client.post("/api/households", json=household_body(), headers=place.staff)
    assert original["reference"] in str(assert_error(same_id, 409, "duplicate_household")["detail"])
    same_name_and_address = household_body(id_number=id_number(sequence=5))
    response = await client.post("/api/households", json=same_name_and_address, headers=place.staff)
    body = assert_error(response, 409, "duplicate_household")
    assert body["field"] == "head_name"
    assert original["reference"] in str(body["detail"])
    assert await Household.count().run() == 1


async def test_a_neighbour_with_the_same_name_and_address_is_refused_without_details(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    await client.post("/api/households", json=household_body(), headers=place.staff)
    response = await client.post(
        "/api/households",
        json=household_body(id_number=id_number(sequence=8), region_code="230112"),
        headers=place.neighbour,
    )
    body = assert_error(response, 409, "duplicate_household")
    assert body["field"] == "head_name"
    assert "HH230111" not in response.text and "13912345678" not in response.text


async def test_an_edit_to_an_id_already_registered_is_refused(client: httpx.AsyncClient) -> None:
    place = await build_place()
    await client.post("/api/households", json=household_body(), headers=place.staff)
    second = (
        await client.post(
            "/api/households",
            json=household_body(
                head_name="另一户", id_number=id_number(sequence=4), current_address="别处"
            ),
            headers=place.staff,
        )
    ).json()
    response = await client.patch(
        f"/api/households/{second['id']}", json={"id_number": id_number()}, headers=place.staff
    )
    assert_error(response, 409, "duplicate_household")
    row = (
        await Household.select(Household.id_last4).where(Household.id == second["id"]).first().run()
    )
    assert row == {"id_last4": id_number(sequence=4)[-4:]}


async def test_phones_are_masked_outside_the_jurisdiction_and_ids_always(
    client: httpx.AsyncClient,
) -> None:
    from nuanxin.households.read_model import household_out as _out  # where DTOs are built
    from nuanxin.identity import CurrentUser, Role

    place = await build_place()
    created = (
        await client.post("/api/households", json=household_body(), headers=place.staff)
    ).json()
    assert created["phone"] == "13912345678"
    assert created["id_number"] == "**************" + id_number()[-4:]
    columns = (*Household.all_columns(), Household.region.code, Household.region.name)
    row = await Household.select(*columns).first().run()
    assert row is not None
    outsider = CurrentUser(
        id=0,
        username="x",
        role=Role.staff,
        jurisdiction_id=place.county_b,
        organization_id=None,
        jurisdiction_code="230112",
        jurisdiction_level="county",
    )
    seen = _out(dict(row), [], outsider, latitude=45.0, now=row["created_at"])
    assert seen.phone == "139****5678"
    assert seen.id_number.endswith(id_number()[-4:]) and id_number() not in str(seen)
