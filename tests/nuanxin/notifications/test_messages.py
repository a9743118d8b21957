"""The four messages, from the places that queue them, to the local fakes and back.

A household learns its visit's day and code by SMS and the courier confirms with that code; a
courier gets the day's list; a donor learns the county the gift reached; staff get the day's
deadlines. Opt-outs, duplicates, wrong roles and other jurisdictions are refused or skipped.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import httpx

from nuanxin.accounts.tables import User
from nuanxin.deliveries.tables import Delivery, Visit
from nuanxin.donations.tables import Donation
from nuanxin.households.tables import Household
from nuanxin.identity import Role
from nuanxin.notifications import compose
from nuanxin.notifications.preferences import is_opted_out
from nuanxin.notifications.tables import Notification
from nuanxin.notifications.vocabulary import Kind, Status
from nuanxin.settings import Settings
from tests.nuanxin.conftest import make_region, make_user, run_jobs
from tests.nuanxin.helpers import bearer
from tests.nuanxin.loop_world import COUNTY, Loop, add_household, add_offer, build_loop
from tests.nuanxin.notifications.conftest import Wired, wired_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUSEHOLD_PHONE = "13900001111"


def app_key() -> str:
    """The secret key of the app under test (the opt-out link's token is made with it)."""
    return Settings.from_env().secret_key


def today() -> str:
    return datetime.now(SHANGHAI).date().isoformat()


async def approved_visit(client: httpx.AsyncClient, loop: Loop) -> int:
    await add_household(loop, "HN1", (COUNTY[0] + 0.01, COUNTY[1]), quilts=1)
    await add_offer(loop, quantity=1)
    started = await client.post("/api/rounds", json={}, headers=loop.auth("staff"))
    await run_jobs()
    approved = await client.post(
        f"/api/rounds/{started.json()['id']}/approve",
        json={"all": True},
        headers=loop.auth("staff"),
    )
    assert approved.status_code == 200, approved.text
    [delivery] = approved.json()["delivery_ids"]
    row = await Delivery.select(Delivery.visit).where(Delivery.id == delivery).first().run()
    assert row is not None
    return int(row["visit"])


async def schedule(
    client: httpx.AsyncClient, loop: Loop, visit_id: int, who: str = "staff"
) -> httpx.Response:
    return await client.post(
        f"/api/visits/{visit_id}/schedule", json={"visit_on": today()}, headers=loop.auth(who)
    )


def sms_values(wired: Wired, index: int = 0) -> list[str]:
    params = wired.sms.sent[index].params
    return list(params.values()) if isinstance(params, dict) else list(params)


async def test_the_household_gets_its_code_by_sms_and_the_courier_confirms_with_it(
    client: httpx.AsyncClient, db: None, wired: Wired
) -> None:
    loop = await build_loop()
    visit_id = await approved_visit(client, loop)
    scheduled = await schedule(client, loop, visit_id)
    assert scheduled.status_code == 201, scheduled.text
    assert scheduled.json()["status"] == "queued"
    assert await run_jobs() >= 1
    [sent] = wired.sms.sent
    assert sent.phone.endswith(HOUSEHOLD_PHONE)
    assert sent.template_id == "T_visit_code_zh"
    day, code, hotline = sms_values(wired)
    assert day.endswith("日") and hotline == Settings.from_env().hotline
    assert len(code) == 8 and code.isdigit()
    confirmed = await client.post(
        f"/api/visits/{visit_id}/confirm", json={"code": code}, headers=loop.auth("courier")
    )
    assert confirmed.status_code == 200, confirmed.text


async def test_a_visit_is_scheduled_once_and_its_household_told_once(
    client: httpx.AsyncClient, db: None, aliyun_wired: Wired
) -> None:
    loop = await build_loop()
    visit_id = await approved_visit(client, loop)
    assert (await schedule(client, loop, visit_id)).status_code == 201
    again = await schedule(client, loop, visit_id)
    assert again.status_code == 409
    assert again.json()["error"] == "already_scheduled"
    await run_jobs()
    assert len(aliyun_wired.sms.sent) == 1
    assert await Notification.count().where(Notification.kind == Kind.visit_code).run() == 1


async def test_only_staff_of_the_households_jurisdiction_schedule_a_visit(
    client: httpx.AsyncClient, db: None, aliyun_wired: Wired
) -> None:
    loop = await build_loop()
    visit_id = await approved_visit(client, loop)
    assert (await schedule(client, loop, visit_id, who="courier")).status_code == 403
    assert (await schedule(client, loop, visit_id, who="charity")).status_code == 403
    neighbour_county = await make_region("230112")
    await make_user("neighbour_staff", Role.staff, jurisdiction=neighbour_county)
    elsewhere = await client.post(
        f"/api/visits/{visit_id}/schedule",
        json={"visit_on": today()},
        headers=await bearer(client, "neighbour_staff"),
    )
    assert elsewhere.status_code == 404, "another county's visit is not found"
    too_late = await client.post(
        f"/api/visits/{visit_id}/schedule",
        json={"visit_on": (datetime.now(SHANGHAI).date() + timedelta(days=90)).isoformat()},
        headers=loop.auth("staff"),
    )
    assert too_late.status_code == 400
    assert too_late.json()["field"] == "visit_on"
    malformed = await client.post(
        f"/api/visits/{visit_id}/schedule",
        json={"visit_on": "tomorrow"},
        headers=loop.auth("staff"),
    )
    assert malformed.status_code == 400
    assert aliyun_wired.sms.sent == []


async def test_a_household_that_opted_out_gets_no_sms_and_no_code_is_issued(
    client: httpx.AsyncClient, db: None, aliyun_wired: Wired
) -> None:
    loop = await build_loop()
    visit_id = await approved_visit(client, loop)
    household = loop.households[0]
    opted = await client.put(
        f"/api/notifications/households/{household}",
        json={"opted_out": True},
        headers=loop.auth("staff"),
    )
    assert opted.status_code == 200, opted.text
    assert opted.json()["opted_out"] is True
    refused = await client.put(
        f"/api/notifications/households/{household}",
        json={"email": "x@example.org"},
        headers=loop.auth("staff"),
    )
    assert refused.status_code == 400 and refused.json()["field"] == "email"
    scheduled = await schedule(client, loop, visit_id)
    assert scheduled.status_code == 201
    assert scheduled.json()["status"] == "skipped"
    assert await run_jobs() == 0
    assert aliyun_wired.sms.sent == []
    visit = await Visit.select(Visit.printed_count).where(Visit.id == visit_id).first().run()
    assert visit is not None and visit["printed_count"] == 0, "staff print the slip instead"


async def test_a_courier_gets_the_days_list_once_in_the_morning(
    client: httpx.AsyncClient, db: None, aliyun_wired: Wired
) -> None:
    loop = await build_loop()
    visit_id = await approved_visit(client, loop)
    await schedule(client, loop, visit_id)
    await run_jobs()
    await User.update({User.phone: "13712345678"}).where(User.username == "loop_courier").run()
    local = datetime.now(SHANGHAI)
    night = local.replace(hour=3, minute=0)
    assert await compose.courier_days(now=night.astimezone(UTC)) == 0, "not at night"
    morning = local.replace(hour=7, minute=5).astimezone(UTC)
    assert await compose.courier_days(now=morning) == 1
    assert await compose.courier_days(now=morning + timedelta(hours=1)) == 0, "once a day"
    await run_jobs()
    courier = [s for s in aliyun_wired.sms.sent if s.phone == "13712345678"]
    assert len(courier) == 1
    assert courier[0].template_id == "T_courier_day_zh"
    params = courier[0].params
    assert isinstance(params, dict)
    assert params["count"] == "1"
    assert "HN1" in params["stops"] and "测试HN1" not in params["stops"], "references, no names"


async def goods_gift(loop: Loop, email: str) -> int:
    now = datetime.now(UTC)
    rows = (
        await Donation.insert(
            Donation(
                tracking_code=f"NXGIFT{len(email):02d}AB",
                kind="goods",
                organization=loop.charity_id,
                donor_name="好心人",
                donor_email=email,
                item=loop.quilt_id,
                quantity=1,
                offer=loop.offers[0],
                status="accepted",
                created_at=now,
                updated_at=now,
            )
        )
        .returning(Donation.id)
        .run()
    )
    return int(rows[0]["id"])


async def test_a_donor_learns_the_county_the_gift_reached_never_the_household(
    client: httpx.AsyncClient, db: None, aliyun_wired: Wired
) -> None:
    loop = await build_loop()
    visit_id = await approved_visit(client, loop)
    await goods_gift(loop, "donor@example.org")
    await goods_gift(loop, "")  # no email: nobody to tell
    slip = await client.post(f"/api/visits/{visit_id}/slip", headers=loop.auth("staff"))
    confirmed = await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": slip.json()["code"]},
        headers=loop.auth("courier"),
    )
    assert confirmed.status_code == 200
    await run_jobs()  # the visit's job queues the email, whose job sends it
    await run_jobs()
    [email] = aliyun_wired.inbox.messages
    assert email["To"] == "donor@example.org"
    assert email["Subject"] == "您的捐赠已送达呼兰区"
    body = email.get_content()
    assert "棉被" in body or "quilt" in body.lower()
    assert "HN1" not in body and "测试HN1" not in body and HOUSEHOLD_PHONE not in body
    # confirming again, or the job running again, tells nobody twice
    await compose.visit_delivered(visit_id=visit_id)
    await run_jobs()
    assert len(aliyun_wired.inbox.messages) == 1


async def test_staff_get_the_days_deadlines_by_email_once_a_day(
    client: httpx.AsyncClient, db: None, aliyun_wired: Wired
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "HX1", COUNTY)
    soon = datetime.now(UTC) + timedelta(days=10)
    await (
        Household.update({Household.verification_expires_at: soon})
        .where(Household.id == household)
        .run()
    )
    mine = await client.put(
        "/api/notifications/preferences",
        json={"email": "staff@example.org", "language": "en"},
        headers=loop.auth("staff"),
    )
    assert mine.status_code == 200, mine.text
    bad = await client.put(
        "/api/notifications/preferences", json={"language": "fr"}, headers=loop.auth("staff")
    )
    assert bad.status_code == 400 and bad.json()["field"] == "language"
    nothing = await client.put(
        "/api/notifications/preferences", json={}, headers=loop.auth("staff")
    )
    assert nothing.status_code == 400, "a change that changes nothing is refused"
    night = datetime.now(SHANGHAI).replace(hour=2).astimezone(UTC)
    assert await compose.staff_deadlines(now=night) == 0, "not at night"
    now = datetime.now(SHANGHAI).replace(hour=9).astimezone(UTC)
    queued = await compose.staff_deadlines(now=now)
    assert queued == 2, "the county's staff member and the province's"
    assert await compose.staff_deadlines(now=now) == 0
    await run_jobs()
    [email] = aliyun_wired.inbox.messages
    assert email["To"] == "staff@example.org"
    assert email["Subject"] == "Open deadlines in your area"
    assert "Verifications expired or expiring within 30 days: 1" in email.get_content()
    # the province's staff member gave no email and has no phone: skipped, not failed
    skipped = (
        await Notification.select(Notification.status, Notification.last_error)
        .where(Notification.kind == Kind.staff_deadlines)
        .run()
    )
    assert sorted(row["status"] for row in skipped) == [Status.sent, Status.skipped]


async def test_staff_see_their_jurisdictions_failed_notifications_in_both_languages(
    client: httpx.AsyncClient, db: None, aliyun_wired: Wired
) -> None:
    loop = await build_loop()
    visit_id = await approved_visit(client, loop)
    aliyun_wired.sms.refusals.append("isv.MOBILE_NUMBER_ILLEGAL")
    await schedule(client, loop, visit_id)
    await run_jobs()
    listed = await client.get("/api/notifications/failures", headers=loop.auth("staff"))
    assert listed.status_code == 200, listed.text
    [failure] = listed.json()["items"]
    assert failure["status"] == "failed"
    assert failure["address"] == "139****1111"
    assert "params" not in failure and "MOBILE_NUMBER_ILLEGAL" in failure["last_error"]
    chinese = await client.get("/staff/notifications?lang=zh-CN", headers=loop.auth("staff"))
    assert chinese.status_code == 200
    assert "发送失败的通知" in chinese.text and "上门日期和确认码" in chinese.text
    assert "139****1111" in chinese.text and HOUSEHOLD_PHONE not in chinese.text
    english = await client.get("/staff/notifications?lang=en", headers=loop.auth("staff"))
    assert "Failed notifications" in english.text and "visit day and code" in english.text
    courier = await client.get("/api/notifications/failures", headers=loop.auth("courier"))
    assert courier.status_code == 403
    assert (
        await client.get("/staff/notifications", headers=loop.auth("charity"))
    ).status_code == 403


async def test_staff_send_the_day_and_code_from_the_visits_page(
    client: httpx.AsyncClient, db: None, aliyun_wired: Wired
) -> None:
    loop = await build_loop()
    visit_id = await approved_visit(client, loop)
    await client.get("/health")
    csrf = {"x-nuanxin-csrf": client.cookies.get("nuanxin_csrf") or ""}
    shown = await client.get(f"/staff/visits/{visit_id}?lang=zh-CN", headers=loop.auth("staff"))
    assert "用短信通知住户" in shown.text
    wrong = await client.post(
        f"/staff/visits/{visit_id}/schedule?lang=en",
        data={"visit_on": "2001-01-01"},
        headers={**loop.auth("staff"), **csrf},
    )
    assert wrong.status_code == 400
    assert "2001-01-01" in wrong.text, "what was typed stays"
    assert "within the next 60 days" in wrong.text
    sent = await client.post(
        f"/staff/visits/{visit_id}/schedule",
        data={"visit_on": today()},
        headers={**loop.auth("staff"), **csrf},
    )
    assert sent.status_code == 303, sent.text
    await run_jobs()
    assert len(aliyun_wired.sms.sent) == 1
    again = await client.post(
        f"/staff/visits/{visit_id}/schedule?lang=zh-CN",
        data={"visit_on": today()},
        headers={**loop.auth("staff"), **csrf},
    )
    assert again.status_code == 400 and "该次上门已安排" in again.text


async def test_a_donor_opts_out_by_the_link_at_the_end_of_the_email(
    client: httpx.AsyncClient, db: None, aliyun_wired: Wired, tmp_path: Path
) -> None:
    from nuanxin.notifications import outbox

    settings = wired_settings(tmp_path, "aliyun", aliyun_wired.sms, aliyun_wired.inbox)
    outbox.configure(replace(settings, public_url="https://nuanxin.example", secret_key=app_key()))
    loop = await build_loop()
    visit_id = await approved_visit(client, loop)
    await goods_gift(loop, "donor@example.org")
    slip = await client.post(f"/api/visits/{visit_id}/slip", headers=loop.auth("staff"))
    await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": slip.json()["code"]},
        headers=loop.auth("courier"),
    )
    await run_jobs()
    await run_jobs()
    [email] = aliyun_wired.inbox.messages
    link = re.search(r"https://nuanxin\.example(/notifications/opt-out\?\S+)", email.get_content())
    assert link is not None, email.get_content()
    path = link.group(1)
    asked = await client.get(path + "&lang=zh-CN")
    assert asked.status_code == 200 and "不再给我发邮件" in asked.text
    query = dict(parse_qsl(urlsplit(path).query))
    await client.get("/health")
    csrf = {"x-nuanxin-csrf": client.cookies.get("nuanxin_csrf") or ""}
    forged = await client.post(
        "/notifications/opt-out", data={"r": query["r"], "t": "0" * 32}, headers=csrf
    )
    assert forged.status_code == 400
    assert not await is_opted_out(query["r"])
    done = await client.post("/notifications/opt-out?lang=en", data=query, headers=csrf)
    assert done.status_code == 200 and "no more emails" in done.text
    assert await is_opted_out(query["r"])
    assert (await client.get("/notifications/opt-out?r=email:x&t=bad")).status_code == 400
