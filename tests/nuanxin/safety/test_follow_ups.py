"""Follow-ups after coal, a stove or a blanket: scheduled on the right days, listed by township
for the staff of the jurisdiction only, marked done once with a note (audited)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx

from nuanxin.accounts.tables import User
from nuanxin.audit.tables import AuditEntry
from nuanxin.identity import CurrentUser, Role
from nuanxin.pagination import Pagination
from nuanxin.safety import services
from nuanxin.safety.schemas import SafetyChecklistIn
from nuanxin.safety.services import SafetyPolicy
from nuanxin.safety.tables import FollowUp
from tests.nuanxin.conftest import make_region
from tests.nuanxin.loop_world import Loop, build_loop
from tests.nuanxin.safety.helpers import CHECKLIST_YES, other_county_staff, visit_with

POLICY = SafetyPolicy()


async def staff_actor() -> CurrentUser:
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


async def delivered(
    client: httpx.AsyncClient,
    loop: Loop,
    on: datetime,
    items: tuple[str, ...] = ("coal",),
    *,
    checklist: dict[str, Any] | None = None,
    reference: str = "HS1",
) -> dict[str, tuple[date, date]]:
    """A visit whose delivery is scheduled as if confirmed at ``on``: kind -> window."""
    visit_id, _, household = await visit_with(client, loop, items, reference=reference)
    await services.after_delivery(
        actor=await staff_actor(),
        visit_id=visit_id,
        household_id=household,
        region_code="230111",
        item_codes=items,
        checklist=SafetyChecklistIn(**(checklist or CHECKLIST_YES)),
        policy=POLICY,
        delivered_at=on,
    )
    rows = await FollowUp.select().where(FollowUp.visit == visit_id).run()
    return {str(r["kind"]): (r["due_from"], r["due_by"]) for r in rows}


async def kinds_listed(state: str, today: date) -> set[str]:
    found = await services.list_follow_ups(
        actor=await staff_actor(), page=Pagination(limit=100), today=today, state=state
    )
    return {item.kind for item in found.items}


async def test_follow_ups_are_scheduled_on_the_right_days_and_fall_due_in_turn(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    # 10 November, 12:00 in Shanghai: before the default first cold spell (15 November)
    windows = await delivered(
        client, loop, datetime(2026, 11, 10, 4, tzinfo=UTC), ("coal", "electric_blanket")
    )
    assert windows == {
        "cold_spell": (date(2026, 11, 15), date(2026, 11, 22)),
        "peak_recheck": (date(2026, 12, 1), date(2027, 1, 31)),
        "blanket_check": (date(2026, 12, 1), date(2027, 1, 31)),
    }
    assert await kinds_listed("upcoming", date(2026, 11, 14)) == set(windows)
    assert await kinds_listed("due", date(2026, 11, 22)) == {"cold_spell"}
    assert await kinds_listed("overdue", date(2026, 11, 23)) == {"cold_spell"}
    assert await kinds_listed("upcoming", date(2026, 11, 30)) == {"peak_recheck", "blanket_check"}
    assert await kinds_listed("due", date(2026, 12, 1)) == {"peak_recheck", "blanket_check"}
    assert await kinds_listed("due", date(2027, 1, 31)) == {"peak_recheck", "blanket_check"}
    assert await kinds_listed("overdue", date(2027, 2, 1)) == set(windows)


async def test_the_local_day_of_the_delivery_counts(client: httpx.AsyncClient, db: None) -> None:
    loop = await build_loop()
    # 31 January 2027, 23:30 in Shanghai is still in the peak (15:30 UTC)
    windows = await delivered(client, loop, datetime(2027, 1, 31, 15, 30, tzinfo=UTC))
    assert windows["peak_recheck"] == (date(2027, 1, 31), date(2027, 1, 31))
    # 1 February, 00:30 in Shanghai (16:30 UTC the day before) is past it: no peak re-check
    later = await delivered(
        client, loop, datetime(2027, 1, 31, 16, 30, tzinfo=UTC), reference="HS2"
    )
    assert "peak_recheck" not in later
    assert later["cold_spell"] == (date(2027, 2, 1), date(2027, 2, 8))


async def test_setting_a_countys_cold_spell_moves_its_open_follow_ups(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    await delivered(client, loop, datetime(2026, 11, 10, 4, tzinfo=UTC))
    answer = await client.put(
        "/api/safety/cold-spells",
        json={"region_code": "230111", "starts_on": "2026-12-05"},
        headers=loop.auth("staff"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["winter"] == 2026 and answer.json()["rescheduled"] == 1
    [row] = await FollowUp.select().where(FollowUp.kind == "cold_spell").run()
    assert (row["due_from"], row["due_by"]) == (date(2026, 12, 5), date(2026, 12, 12))
    later = await delivered(client, loop, datetime(2026, 11, 20, 4, tzinfo=UTC), reference="HS2")
    assert later["cold_spell"] == (date(2026, 12, 5), date(2026, 12, 12)), "the county's date"
    audited = await AuditEntry.select().where(AuditEntry.action == "safety.cold_spell").run()
    assert len(audited) == 1


async def test_a_cold_spell_is_set_only_for_a_county_of_ones_own(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    neighbour = await other_county_staff()
    foreign = await client.put(
        "/api/safety/cold-spells",
        json={"region_code": "230111", "starts_on": "2026-11-20"},
        headers=neighbour,
    )
    assert foreign.status_code == 400 and foreign.json()["field"] == "region_code"
    county = await User.select(User.jurisdiction).where(User.username == "loop_staff").run()
    await make_region("230111005", "township", parent=county[0]["jurisdiction"])
    township = await client.put(
        "/api/safety/cold-spells",
        json={"region_code": "230111005", "starts_on": "2026-11-20"},
        headers=loop.auth("staff"),
    )
    assert township.status_code == 400
    for body in (
        {"region_code": "999999", "starts_on": "2026-11-20"},
        {"region_code": "230111", "starts_on": "20 November"},
        {"region_code": "230111"},
        {"region_code": "230111", "starts_on": "2026-11-20", "winter": 2026},
    ):
        bad = await client.put("/api/safety/cold-spells", json=body, headers=loop.auth("staff"))
        assert bad.status_code == 400, body
    courier = await client.put(
        "/api/safety/cold-spells",
        json={"region_code": "230111", "starts_on": "2026-11-20"},
        headers=loop.auth("courier"),
    )
    assert courier.status_code == 403


async def test_staff_list_follow_ups_urgent_first_and_mark_one_done_with_a_note(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code, _ = await visit_with(client, loop, ("coal",))
    confirmed = await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": code, "safety": {**CHECKLIST_YES, "chimney_sealed": False}},
        headers=loop.auth("courier"),
    )
    assert confirmed.status_code == 200, confirmed.text
    listed = await client.get("/api/safety/follow-ups", headers=loop.auth("staff"))
    assert listed.status_code == 200, listed.text
    first = listed.json()["items"][0]
    assert first["kind"] == "door_answer" and first["urgent"] is True
    assert first["problems"] == ["chimney_sealed"] and first["state"] == "due"
    assert first["township"] == "" and first["county"] == "呼兰区"
    due = await client.get(
        "/api/safety/follow-ups", params={"state": "due"}, headers=loop.auth("staff")
    )
    assert first["id"] in {item["id"] for item in due.json()["items"]}

    empty = await client.post(
        f"/api/safety/follow-ups/{first['id']}/done", json={"note": ""}, headers=loop.auth("staff")
    )
    assert empty.status_code == 400
    made = await client.post(
        f"/api/safety/follow-ups/{first['id']}/done",
        json={"note": "上门查看，烟囱接口已重新密封"},
        headers=loop.auth("staff"),
    )
    assert made.status_code == 200, made.text
    assert made.json()["status"] == "done" and made.json()["state"] == "done"
    again = await client.post(
        f"/api/safety/follow-ups/{first['id']}/done",
        json={"note": "再次"},
        headers=loop.auth("staff"),
    )
    assert again.status_code == 409
    [entry] = (
        await AuditEntry.select()
        .where(AuditEntry.action == "safety.follow_up_done")
        .output(load_json=True)
        .run()
    )
    assert entry["after"]["note"] == "上门查看，烟囱接口已重新密封"
    assert entry["region_code"] == "230111"
    still_open = await client.get("/api/safety/follow-ups", headers=loop.auth("staff"))
    assert first["id"] not in {item["id"] for item in still_open.json()["items"]}
    finished = await client.get(
        "/api/safety/follow-ups", params={"state": "done"}, headers=loop.auth("staff")
    )
    assert [item["id"] for item in finished.json()["items"]] == [first["id"]]
    province = await client.get("/api/safety/follow-ups", headers=loop.auth("province"))
    assert province.json()["total"] == still_open.json()["total"], "the province sees them too"


async def test_another_countys_staff_neither_see_nor_close_them(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code, _ = await visit_with(client, loop, ("stove",))
    await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": code, "safety": {**CHECKLIST_YES, "vent": False}},
        headers=loop.auth("courier"),
    )
    [urgent] = await FollowUp.select(FollowUp.id).where(FollowUp.kind == "door_answer").run()
    neighbour = await other_county_staff()
    listed = await client.get("/api/safety/follow-ups", headers=neighbour)
    assert listed.status_code == 200 and listed.json()["total"] == 0
    narrowed = await client.get(
        "/api/safety/follow-ups", params={"region_code": "230111"}, headers=neighbour
    )
    assert narrowed.json()["total"] == 0, "naming the county does not widen the jurisdiction"
    closing = await client.post(
        f"/api/safety/follow-ups/{urgent['id']}/done", json={"note": "x"}, headers=neighbour
    )
    assert closing.status_code == 404
    check = await client.get(f"/api/safety/visits/{visit_id}", headers=neighbour)
    assert check.status_code == 404
    own = await client.get(f"/api/safety/visits/{visit_id}", headers=loop.auth("charity"))
    assert own.status_code == 200 and own.json()["problems"] == ["vent"]
    page = await client.get("/staff/safety", headers=neighbour)
    assert page.status_code == 200 and f'data-testid="follow-up-{urgent["id"]}"' not in page.text


async def test_couriers_and_charities_are_refused_the_follow_ups(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    for who in ("courier", "charity"):
        listed = await client.get("/api/safety/follow-ups", headers=loop.auth(who))
        assert listed.status_code == 403
        closing = await client.post(
            "/api/safety/follow-ups/1/done", json={"note": "x"}, headers=loop.auth(who)
        )
        assert closing.status_code == 403
        page = await client.get("/staff/safety", headers=loop.auth(who))
        assert page.status_code == 403
    anonymous = await client.get("/api/safety/follow-ups")
    assert anonymous.status_code == 401
    bad_filter = await client.get(
        "/api/safety/follow-ups", params={"state": "soon"}, headers=loop.auth("staff")
    )
    assert bad_filter.status_code == 400


async def test_the_staff_page_lists_them_by_township_in_both_languages_and_marks_one_done(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code, _ = await visit_with(client, loop, ("coal",))
    await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": code, "safety": {**CHECKLIST_YES, "co_alarm": "missing"}},
        headers=loop.auth("courier"),
    )
    [urgent] = await FollowUp.select(FollowUp.id).where(FollowUp.kind == "door_answer").run()
    zh = await client.get("/staff/safety?lang=zh-CN", headers=loop.auth("staff"))
    assert zh.status_code == 200
    assert "取暖安全回访" in zh.text and "呼兰区" in zh.text and "紧急" in zh.text
    assert "没有一氧化碳报警器" in zh.text
    en = await client.get("/staff/safety?lang=en", headers=loop.auth("staff"))
    assert "Heating safety follow-ups" in en.text and "Urgent" in en.text
    overdue = await client.get("/staff/safety?state=overdue", headers=loop.auth("staff"))
    assert f'data-testid="follow-up-{urgent["id"]}"' not in overdue.text

    empty = await client.post(
        f"/staff/safety/follow-ups/{urgent['id']}/done?lang=zh-CN",
        data={"note": "  "},
        headers=loop.auth("staff"),
    )
    assert empty.status_code == 400
    assert f'id="note-{urgent["id"]}-error"' in empty.text and "<title>错误：" in empty.text
    made = await client.post(
        f"/staff/safety/follow-ups/{urgent['id']}/done",
        data={"note": "已送报警器并安装"},
        headers=loop.auth("staff"),
    )
    assert made.status_code == 303, made.text
    [row] = (
        await FollowUp.select(FollowUp.status, FollowUp.note)
        .where(FollowUp.id == urgent["id"])
        .run()
    )
    assert row == {"status": "done", "note": "已送报警器并安装"}
    cold = await client.post(
        "/staff/safety/cold-spells",
        data={"county": "呼兰区", "starts_on": "2026-11-25"},
        headers=loop.auth("staff"),
    )
    assert cold.status_code == 303, cold.text
    wrong = await client.post(
        "/staff/safety/cold-spells?lang=zh-CN",
        data={"county": "呼兰区", "starts_on": "11/25/2026"},
        headers=loop.auth("staff"),
    )
    assert wrong.status_code == 400 and 'id="starts_on-error"' in wrong.text
    assert 'value="11/25/2026"' in wrong.text, "what was typed stays"


async def test_the_staff_visit_page_shows_the_answers_at_the_door_and_the_follow_ups(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code, _ = await visit_with(client, loop, ("coal",))
    before = await client.get(f"/staff/visits/{visit_id}", headers=loop.auth("staff"))
    assert before.status_code == 200 and 'data-testid="visit-safety"' not in before.text
    await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": code, "safety": {**CHECKLIST_YES, "vent": False}},
        headers=loop.auth("courier"),
    )
    zh = await client.get(f"/staff/visits/{visit_id}?lang=zh-CN", headers=loop.auth("staff"))
    assert 'data-testid="visit-safety"' in zh.text
    assert "是否装有风斗并保持通畅？</dt><dd>否" in zh.text
    assert "上门检查有“否”项" in zh.text
    en = await client.get(f"/staff/visits/{visit_id}?lang=en", headers=loop.auth("staff"))
    assert "Is a vent (fengdou) fitted and open?</dt><dd>No" in en.text
