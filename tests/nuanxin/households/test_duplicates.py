"""The same person is registered once in the whole system, and a refusal leaks nothing."""

from __future__ import annotations

import httpx

from nuanxin.audit.tables import AuditEntry
from nuanxin.help_requests.tables import HelpRequest
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


def full_width(number: str) -> str:
    """The number as a phone's Chinese keyboard may type it: full-width, with spaces."""
    wide = "".join(chr(0xFF10 + int(c)) if c.isdigit() else "ｘ" for c in number)
    return f"{wide[:6]}\u3000{wide[6:14]} {wide[14:]}"


async def test_a_number_typed_in_full_width_is_the_same_person_at_every_door(
    client: httpx.AsyncClient,
) -> None:
    """Registration, edit, conversion of a help request and the CSV import all read the
    number the same way: the full-width spelling is found as the registered person."""
    place = await build_place()
    first = await client.post("/api/households", json=household_body(), headers=place.staff)
    assert first.status_code == 201, first.text
    spelt = full_width(id_number())
    elsewhere = {"head_name": "王某", "current_address": "阿城区另一处", "region_code": "230112"}

    # registering again, in another county
    again = household_body(id_number=spelt, **elsewhere)
    refused = await client.post("/api/households", json=again, headers=place.neighbour)
    assert assert_error(refused, 409, "duplicate_household")["field"] == "id_number"

    # an edit of another household to that number
    other = household_body(
        id_number=id_number(sequence=2), head_name="李某", current_address="别处"
    )
    second = await client.post("/api/households", json=other, headers=place.staff)
    assert second.status_code == 201, second.text
    edit = await client.patch(
        f"/api/households/{second.json()['id']}", json={"id_number": spelt}, headers=place.staff
    )
    assert assert_error(edit, 409, "duplicate_household")["field"] == "id_number"

    # a help request converted with that number
    report = await client.post(
        "/api/help-requests/hotline",
        json={"region_code": "230111", "description": "缺煤", "person_name": "王某"},
        headers=place.staff,
    )
    assert report.status_code == 201, report.text
    conversion = household_body(id_number=spelt, head_name="王某", current_address="另一处")
    converted = await client.post(
        f"/api/help-requests/{report.json()['id']}/convert", json=conversion, headers=place.staff
    )
    assert assert_error(converted, 409, "duplicate_household")["field"] == "id_number"

    # a CSV row with that number keeps the same hash, so its conversion is refused too
    csv_text = f"姓名,身份证号,现住址,区划代码\n王某,{spelt},康金街道,230111\n"
    files = {"file": ("export.csv", csv_text.encode(), "text/csv")}
    imported = await client.post("/api/help-requests/import", files=files, headers=place.staff)
    assert imported.status_code == 200, imported.text
    assert imported.json()["imported"] == 1, imported.text
    row = await HelpRequest.select().where(HelpRequest.source == "import").first().run()
    assert row is not None
    registered = (
        await Household.select(Household.id_hash)
        .where(Household.id == first.json()["id"])
        .first()
        .run()
    )
    assert registered is not None
    assert row["id_hash"] == registered["id_hash"]
    assert await Household.count().run() == 2
