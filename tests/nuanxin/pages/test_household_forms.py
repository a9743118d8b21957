"""Staff register a household directly (a migrant too), edit it and set a need by hand, in
pages: a refused form keeps what was typed and says what is wrong beside the field, in the
page's language; other roles and other jurisdictions are kept out."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from nuanxin.audit.tables import AuditEntry
from nuanxin.households.identity import check_character
from nuanxin.households.tables import Household, Need
from tests.nuanxin.authz.model import CHARITY, NEIGHBOUR, STAFF
from tests.nuanxin.authz.world import World
from tests.nuanxin.pages.conftest import get_page


def id_number(first17: str = "23010419800101123") -> str:
    return first17 + check_character(first17)


MIGRANT_ID = id_number("41010219850607123")  # registered in Henan
MIGRANT: dict[str, Any] = {
    "category": "temporary",
    "head_name": "外来务工者",
    "id_number": MIGRANT_ID,
    "registered_address": "河南省郑州市中原区某村",
    "current_address": "康金街道新华村3组",
    "region": "康金街道",
    "m1_birth_year": "1985",
    "m1_relation": "self",
    "m1_sex": "M",
    "m1_disability_level": "0",
    "m2_birth_year": "2015",
    "m2_relation": "child",
    "tags": ["coal_stove", "electricity"],
}


async def test_staff_register_a_migrant_household_whose_registration_is_elsewhere(
    client: httpx.AsyncClient, world: World
) -> None:
    form = await get_page(client, world, STAFF, "/staff/households/new")
    assert form.status_code == 200
    assert "登记家庭" in form.text
    assert 'id="registered_address"' in form.text
    answer = await client.post(
        "/staff/households/new?lang=zh-CN", data=MIGRANT, headers=world.headers(STAFF)
    )
    assert answer.status_code == 303, answer.text
    row = await Household.select().where(Household.head_name == "外来务工者").first().run()
    assert row is not None
    assert row["registered_address"] == "河南省郑州市中原区某村"
    assert row["id_last4"] == MIGRANT_ID[-4:]
    assert MIGRANT_ID not in str(row)  # only its hash and last 4 are kept
    tags = json.loads(row["tags"]) if isinstance(row["tags"], str) else row["tags"]
    assert sorted(tags) == ["coal_stove", "electricity"]
    assert answer.headers["location"] == f"/staff/households/{row['id']}"
    detail = await client.get(answer.headers["location"], headers=world.headers(STAFF))
    assert row["reference"] in detail.text


async def test_a_wrong_id_number_is_said_beside_its_field_and_the_form_is_kept(
    client: httpx.AsyncClient, world: World
) -> None:
    wrong = id_number("41010219850607123")[:-1] + ("0" if MIGRANT_ID[-1] != "0" else "1")
    answer = await client.post(
        "/staff/households/new?lang=zh-CN",
        data={**MIGRANT, "id_number": wrong},
        headers=world.headers(STAFF),
    )
    assert answer.status_code == 400
    assert "<title>错误：" in answer.text
    assert 'href="#id_number"' in answer.text
    assert 'id="id_number-error"' in answer.text
    assert "最后一位" in answer.text  # the check character, in words
    assert 'value="外来务工者"' in answer.text
    assert 'value="河南省郑州市中原区某村"' in answer.text
    assert 'value="coal_stove" checked' in answer.text
    english = await client.post(
        "/staff/households/new?lang=en",
        data={**MIGRANT, "id_number": "1234"},
        headers=world.headers(STAFF),
    )
    assert english.status_code == 400
    assert "18 characters" in english.text
    assert await Household.count().where(Household.head_name == "外来务工者").run() == 0


async def test_bad_members_a_missing_category_and_a_place_outside_the_jurisdiction_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    cases = {
        "m2_birth_year": {**MIGRANT, "m2_birth_year": "20x5"},
        "category": {**MIGRANT, "category": ""},
        "region": {**MIGRANT, "region": "阿城区"},  # county B: not STAFF's
        "m1_birth_year": {**MIGRANT, "m1_birth_year": "", "m2_birth_year": ""},
    }
    for field, data in cases.items():
        answer = await client.post(
            "/staff/households/new?lang=zh-CN", data=data, headers=world.headers(STAFF)
        )
        assert answer.status_code == 400, field
        assert f'href="#{field}"' in answer.text, field
        assert f'id="{field}-error"' in answer.text, field
    assert await Household.count().where(Household.head_name == "外来务工者").run() == 0


async def test_a_person_without_papers_is_registered_saying_why(
    client: httpx.AsyncClient, world: World
) -> None:
    data = {**MIGRANT, "id_number": "", "without_id": "证件在火灾中遗失"}
    answer = await client.post("/staff/households/new", data=data, headers=world.headers(STAFF))
    assert answer.status_code == 303, answer.text
    row = await Household.select().where(Household.head_name == "外来务工者").first().run()
    assert row is not None
    assert row["id_last4"] == ""
    neither = {**MIGRANT, "head_name": "另一人", "id_number": ""}
    refused = await client.post(
        "/staff/households/new?lang=en", data=neither, headers=world.headers(STAFF)
    )
    assert refused.status_code == 400
    assert 'href="#id_number"' in refused.text


async def test_a_duplicate_id_number_names_the_household_already_registered(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await client.post("/staff/households/new", data=MIGRANT, headers=world.headers(STAFF))
    assert first.status_code == 303
    again = await client.post(
        "/staff/households/new?lang=zh-CN",
        data={**MIGRANT, "current_address": "别处"},
        headers=world.headers(STAFF),
    )
    assert again.status_code == 400
    assert 'href="#id_number"' in again.text
    assert "已登记" in again.text


async def test_other_roles_and_other_counties_cannot_register_or_edit(
    client: httpx.AsyncClient, world: World
) -> None:
    assert (await get_page(client, world, CHARITY, "/staff/households/new")).status_code == 403
    answer = await client.post(
        "/staff/households/new", data=MIGRANT, headers=world.headers(CHARITY)
    )
    assert answer.status_code == 403
    path = f"/staff/households/{world.household_id}"
    for suffix in ("/edit", "/needs"):
        assert (await get_page(client, world, NEIGHBOUR, path + suffix)).status_code == 404
    edit = await client.post(
        f"{path}/edit", data={"head_name": "x"}, headers=world.headers(NEIGHBOUR)
    )
    assert edit.status_code == 404
    need = await client.post(
        f"{path}/needs",
        data={"item_code": "quilt", "quantity": "3", "reason": "x"},
        headers=world.headers(NEIGHBOUR),
    )
    assert need.status_code == 404


async def test_staff_edit_a_household_and_only_what_changed_is_sent(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/staff/households/{world.household_id}/edit"
    form = await get_page(client, world, STAFF, path)
    assert form.status_code == 200
    row = await Household.select().where(Household.id == world.household_id).first().run()
    assert row is not None
    assert f'value="{row["head_name"]}"' in form.text
    assert "已登记：尾号 123X" in form.text  # the ID number only as its last 4
    unchanged = await client.post(path, data=_form_of(form.text), headers=world.headers(STAFF))
    assert unchanged.status_code == 303, unchanged.text
    changed = _form_of(form.text) | {"phone": "13900000009", "notes": "入户核查：炉子坏了"}
    saved = await client.post(path, data=changed, headers=world.headers(STAFF))
    assert saved.status_code == 303, saved.text
    after = await Household.select().where(Household.id == world.household_id).first().run()
    assert after is not None
    assert after["phone"] == "13900000009"
    assert after["head_name"] == row["head_name"]
    entries = await AuditEntry.count().where(AuditEntry.action == "household.update").run()
    assert entries == 1  # the unchanged save wrote nothing
    bad = await client.post(
        f"{path}?lang=en", data=changed | {"phone": "call me"}, headers=world.headers(STAFF)
    )
    assert bad.status_code == 400
    assert 'href="#phone"' in bad.text
    assert 'value="call me"' in bad.text


async def test_staff_set_a_need_by_hand_with_a_reason_that_is_audited(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/staff/households/{world.household_id}/needs"
    listing = await get_page(client, world, STAFF, path, "en")
    assert listing.status_code == 200
    assert "Set a need by hand" in listing.text
    no_reason = await client.post(
        f"{path}?lang=zh-CN",
        data={"item_code": "quilt", "quantity": "4", "reason": ""},
        headers=world.headers(STAFF),
    )
    assert no_reason.status_code == 400
    assert 'href="#reason"' in no_reason.text
    assert 'value="4"' in no_reason.text
    not_a_number = await client.post(
        path,
        data={"item_code": "quilt", "quantity": "many", "reason": "x"},
        headers=world.headers(STAFF),
    )
    assert not_a_number.status_code == 400
    assert 'href="#quantity"' in not_a_number.text
    answer = await client.post(
        path,
        data={"item_code": "quilt", "quantity": "4", "reason": "入户核查：孩子生病"},
        headers=world.headers(STAFF),
    )
    assert answer.status_code == 303, answer.text
    need = await Need.select().where(Need.id == world.need_id).first().run()
    assert need is not None
    assert need["quantity"] == 4
    assert need["override_reason"] == "入户核查：孩子生病"
    audited = await AuditEntry.count().where(AuditEntry.action == "need.override").run()
    assert audited == 1


def _form_of(html: str) -> dict[str, Any]:
    """The values of the household form as the page shows them (inputs, selections, ticks)."""
    values: dict[str, Any] = {}
    for name, value in re.findall(
        r'<input id="([\w-]+)" name="[\w-]+"[^>]*? value="([^"]*)"', html
    ):
        values[name] = value
    for name, body in re.findall(r'<select id="(\w+)" name="\w+"[^>]*>(.*?)</select>', html, re.S):
        picked = re.search(r'<option value="([^"]*)" selected>', body)
        values[name] = picked.group(1) if picked else ""
    notes = re.search(r'<textarea id="notes"[^>]*>(.*?)</textarea>', html, re.S)
    values["notes"] = notes.group(1) if notes else ""
    values["tags"] = re.findall(r'name="tags" value="(\w+)" checked', html)
    if re.search(r'name="lives_alone" value="1" checked', html):
        values["lives_alone"] = "1"
    return {k: v for k, v in values.items() if not k.startswith("tag-")}
