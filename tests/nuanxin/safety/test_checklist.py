"""The heating-safety checklist at the door: asked only for coal or a stove, stored with the
visit, a "no" followed up urgently, a malformed one refused before the code counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from nuanxin.deliveries.tables import Visit
from nuanxin.safety.tables import FollowUp, SafetyCheck
from tests.nuanxin.loop_world import build_loop
from tests.nuanxin.safety.helpers import CHECKLIST_YES, visit_with

NOW = datetime.now(UTC)


async def follow_ups(visit_id: int) -> dict[str, dict[str, Any]]:
    rows = await FollowUp.select().where(FollowUp.visit == visit_id).output(load_json=True).run()
    return {str(row["kind"]): row for row in rows}


async def visit_row(visit_id: int) -> dict[str, Any]:
    row = (
        await Visit.select(Visit.status, Visit.failed_attempts)
        .where(Visit.id == visit_id)
        .first()
        .run()
    )
    assert row is not None
    return row


async def test_a_coal_visit_keeps_the_couriers_checklist_and_schedules_its_follow_ups(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code, household = await visit_with(client, loop, ("coal", "quilt"))
    confirmed = await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": code, "safety": CHECKLIST_YES},
        headers=loop.auth("courier"),
    )
    assert confirmed.status_code == 200, confirmed.text
    [check] = await SafetyCheck.select().where(SafetyCheck.visit == visit_id).run()
    assert check["household"] == household
    assert check["co_alarm"] == "present" and check["vent"] is True
    found = await follow_ups(visit_id)
    assert "cold_spell" in found and "door_answer" not in found and "door_check" not in found
    assert all(not row["urgent"] for row in found.values())
    again = await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": code, "safety": CHECKLIST_YES},
        headers=loop.auth("courier"),
    )
    assert again.status_code == 200 and again.json()["already_confirmed"] is True
    assert await SafetyCheck.count().where(SafetyCheck.visit == visit_id) == 1
    assert len(await follow_ups(visit_id)) == len(found), "a repeated confirmation adds nothing"


async def test_a_no_at_the_door_opens_an_urgent_follow_up_due_the_next_day(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code, _ = await visit_with(client, loop, ("stove",))
    answers = {**CHECKLIST_YES, "vent": False, "co_alarm": "missing"}
    confirmed = await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": code, "safety": answers},
        headers=loop.auth("courier"),
    )
    assert confirmed.status_code == 200, confirmed.text
    urgent = (await follow_ups(visit_id))["door_answer"]
    assert urgent["urgent"] is True
    assert urgent["problems"] == ["vent", "co_alarm"]
    assert (urgent["due_by"] - urgent["due_from"]).days == 1
    assert urgent["due_from"] == urgent["delivered_on"]


async def test_a_coal_visit_confirmed_without_the_checklist_gets_a_door_check_within_7_days(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code, _ = await visit_with(client, loop, ("coal",))
    confirmed = await client.post(
        f"/api/visits/{visit_id}/confirm", json={"code": code}, headers=loop.auth("courier")
    )
    assert confirmed.status_code == 200, confirmed.text
    assert await SafetyCheck.count().where(SafetyCheck.visit == visit_id) == 0
    check = (await follow_ups(visit_id))["door_check"]
    assert (check["due_by"] - check["due_from"]).days == 7 and check["urgent"] is False


async def test_staff_confirming_a_stove_visit_leaves_a_door_check(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, _, _ = await visit_with(client, loop, ("stove",))
    confirmed = await client.post(
        f"/api/visits/{visit_id}/staff-confirm",
        json={"reason": "现场见证"},
        headers=loop.auth("staff"),
    )
    assert confirmed.status_code == 200, confirmed.text
    assert "door_check" in await follow_ups(visit_id)


async def test_a_blanket_visit_asks_no_checklist_and_gets_a_fold_and_age_check(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code, _ = await visit_with(client, loop, ("electric_blanket",))
    confirmed = await client.post(
        f"/api/visits/{visit_id}/confirm", json={"code": code}, headers=loop.auth("courier")
    )
    assert confirmed.status_code == 200, confirmed.text
    found = await follow_ups(visit_id)
    assert set(found) <= {"blanket_check"}
    assert "door_check" not in found and "cold_spell" not in found


async def test_a_checklist_for_a_quilt_visit_is_refused_before_the_code_counts(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code, _ = await visit_with(client, loop, ("quilt",))
    refused = await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": "00000000", "safety": CHECKLIST_YES},
        headers=loop.auth("courier"),
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["field"] == "safety"
    assert await visit_row(visit_id) == {"status": "pending", "failed_attempts": 0}
    plain = await client.post(
        f"/api/visits/{visit_id}/confirm", json={"code": code}, headers=loop.auth("courier")
    )
    assert plain.status_code == 200
    assert await follow_ups(visit_id) == {}, "a quilt brings no safety follow-up"


@pytest.mark.parametrize(
    "safety",
    [
        {k: v for k, v in CHECKLIST_YES.items() if k != "vent"},  # an answer missing
        {**CHECKLIST_YES, "chimney_sealed": "yes"},  # a word for a true/false answer
        {**CHECKLIST_YES, "co_alarm": "maybe"},  # not one of the alarm's answers
        {**CHECKLIST_YES, "co_alarm": None},
        {**CHECKLIST_YES, "stove_in_kitchen": True},  # a question nobody asked
        ["chimney_sealed"],
        "all fine",
    ],
)
async def test_a_malformed_checklist_is_refused_with_400_and_nothing_is_kept(
    client: httpx.AsyncClient, db: None, safety: object
) -> None:
    loop = await build_loop()
    visit_id, code, _ = await visit_with(client, loop, ("coal",))
    refused = await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": code, "safety": safety},
        headers=loop.auth("courier"),
    )
    assert refused.status_code == 400, refused.text
    assert "safety" in refused.json().get("field", "") + refused.json()["detail"]
    assert await visit_row(visit_id) == {"status": "pending", "failed_attempts": 0}
    assert await SafetyCheck.count() == 0 and await FollowUp.count() == 0


# -- the courier's page ------------------------------------------------------------------------


async def test_the_courier_page_shows_the_checklist_only_for_coal_or_stove_visits(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    coal, _, _ = await visit_with(client, loop, ("coal",), reference="HS1")
    stove, _, _ = await visit_with(client, loop, ("stove", "quilt"), reference="HS2")
    quilt, _, _ = await visit_with(client, loop, ("quilt", "electric_blanket"), reference="HS3")
    for visit_id, shown in ((coal, True), (stove, True), (quilt, False)):
        for lang, words in (("zh-CN", "风斗"), ("en", "vent")):
            answer = await client.get(
                f"/courier/visits/{visit_id}?lang={lang}", headers=loop.auth("courier")
            )
            assert answer.status_code == 200
            assert ('data-testid="safety-checklist"' in answer.text) is shown, (visit_id, lang)
            assert (words in answer.text) is shown


async def test_the_courier_page_wants_every_answer_and_keeps_those_given(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code, _ = await visit_with(client, loop, ("coal",))
    answer = await client.post(
        f"/courier/visits/{visit_id}/confirm?lang=zh-CN",
        data={"code": code, "safety_chimney_sealed": "yes", "safety_vent": "no"},
        headers=loop.auth("courier"),
    )
    assert answer.status_code == 400
    assert 'data-testid="safety-error"' in answer.text
    assert re.search(r'name="safety_vent" value="no" required checked', answer.text)
    assert (
        'id="safety_leaflet-error"' in answer.text and 'id="safety_vent-error"' not in answer.text
    )
    assert "请回答" in answer.text or "请选择" in answer.text
    assert await visit_row(visit_id) == {"status": "pending", "failed_attempts": 0}


async def test_the_courier_page_confirms_a_stove_in_the_bedroom_and_staff_follow_it_up(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code, _ = await visit_with(client, loop, ("stove",))
    answer = await client.post(
        f"/courier/visits/{visit_id}/confirm",
        data={
            "code": code,
            "safety_chimney_sealed": "yes",
            "safety_vent": "yes",
            "safety_stove_not_in_bedroom": "no",
            "safety_co_alarm": "installed",
            "safety_leaflet": "yes",
        },
        headers=loop.auth("courier"),
    )
    assert answer.status_code == 303, answer.text
    [check] = await SafetyCheck.select().where(SafetyCheck.visit == visit_id).run()
    assert check["co_alarm"] == "installed" and check["stove_not_in_bedroom"] is False
    urgent = (await follow_ups(visit_id))["door_answer"]
    assert urgent["urgent"] is True and urgent["problems"] == ["stove_not_in_bedroom"]


async def test_an_alarm_found_at_the_door_stops_the_rules_proposing_one(
    client: httpx.AsyncClient, db: None
) -> None:
    from nuanxin.households.tables import Household, Need
    from nuanxin.offers.tables import Item

    loop = await build_loop()
    visit_id, code, household = await visit_with(client, loop, ("coal",))
    alarm = await Item.select(Item.id).where(Item.code == "co_alarm").first().run()
    assert alarm is not None
    await Household.update({Household.tags: ["coal_stove"]}).where(Household.id == household).run()
    await Need.insert(
        Need(household=household, item=alarm["id"], quantity=1, rule="test", updated_at=NOW)
    ).run()
    confirmed = await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": code, "safety": {**CHECKLIST_YES, "co_alarm": "installed"}},
        headers=loop.auth("courier"),
    )
    assert confirmed.status_code == 200, confirmed.text
    row = await Household.select(Household.tags).where(Household.id == household).first().run()
    assert row is not None and "co_alarm" in row["tags"]
    need = (
        await Need.select(Need.quantity)
        .where((Need.household == household) & (Need.item == alarm["id"]))
        .first()
        .run()
    )
    assert need == {"quantity": 0}, "no alarm is proposed any more"


async def test_a_missing_alarm_leaves_the_household_without_the_tag(
    client: httpx.AsyncClient, db: None
) -> None:
    from nuanxin.households.tables import Household

    loop = await build_loop()
    visit_id, code, household = await visit_with(client, loop, ("stove",))
    await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": code, "safety": {**CHECKLIST_YES, "co_alarm": "missing"}},
        headers=loop.auth("courier"),
    )
    row = await Household.select(Household.tags).where(Household.id == household).first().run()
    assert row is not None and "co_alarm" not in row["tags"]


async def test_the_per_delivery_page_asks_the_checklist_of_its_coal_visit_too(
    client: httpx.AsyncClient, db: None
) -> None:
    from nuanxin.deliveries.tables import Delivery

    loop = await build_loop()
    visit_id, code, _ = await visit_with(client, loop, ("coal", "quilt"))
    deliveries = await Delivery.select(Delivery.id).where(Delivery.visit == visit_id).run()
    delivery_id = deliveries[-1]["id"]  # the quilt's line: its visit brings coal
    shown = await client.get(f"/courier/deliveries/{delivery_id}", headers=loop.auth("courier"))
    assert 'data-testid="safety-checklist"' in shown.text
    missing = await client.post(
        f"/courier/deliveries/{delivery_id}/confirm",
        data={"code": code},
        headers=loop.auth("courier"),
    )
    assert missing.status_code == 400 and 'data-testid="safety-error"' in missing.text
    answered = await client.post(
        f"/courier/deliveries/{delivery_id}/confirm",
        data={
            "code": code,
            "safety_chimney_sealed": "yes",
            "safety_vent": "yes",
            "safety_stove_not_in_bedroom": "yes",
            "safety_co_alarm": "present",
            "safety_leaflet": "no",
        },
        headers=loop.auth("courier"),
    )
    assert answered.status_code == 303, answered.text
    urgent = (await follow_ups(visit_id))["door_answer"]
    assert urgent["problems"] == ["leaflet"]
    quilt_only, _, _ = await visit_with(client, loop, ("quilt",), reference="HS2")
    [line] = await Delivery.select(Delivery.id).where(Delivery.visit == quilt_only).run()
    plain = await client.get(f"/courier/deliveries/{line['id']}", headers=loop.auth("courier"))
    assert 'data-testid="safety-checklist"' not in plain.text


async def test_an_offline_confirmation_counts_the_follow_ups_from_the_time_at_the_door(
    client: httpx.AsyncClient, db: None
) -> None:
    import uuid
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    loop = await build_loop()
    visit_id, code, _ = await visit_with(client, loop, ("coal",))
    await (
        Visit.update({Visit.created_at: NOW - timedelta(days=3)}).where(Visit.id == visit_id).run()
    )
    at_door = (NOW - timedelta(days=2)).replace(microsecond=0)
    answer = await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={
            "code": code,
            "offline": True,
            "at_door": at_door.isoformat(),
            "safety": {**CHECKLIST_YES, "leaflet": False},
        },
        headers={**loop.auth("courier"), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 200, answer.text
    urgent = (await follow_ups(visit_id))["door_answer"]
    assert urgent["delivered_on"] == at_door.astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert urgent["problems"] == ["leaflet"]
