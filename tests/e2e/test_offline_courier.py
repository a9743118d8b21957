"""The courier's screen without a network, in a real browser on a phone-sized screen: the day's
list is opened online, the network goes, three visits are confirmed at the door, the network
comes back, and each of the three lands on the server once (checked through the API as the
admin: the visit delivered, one ``visit.confirm`` audit entry each)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import PASSWORD, log_in, shoot


def _api(server: str, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    request = urllib.request.Request(
        server + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "content-type": "application/json",
            **({"authorization": f"Bearer {token}"} if token else {}),
        },
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"null")


def _token(server: str, username: str) -> str:
    body = {"username": username, "password": PASSWORD}
    return str(_api(server, "POST", "/api/auth/token", body=body)["token"])


def _answer_the_safety_check(page: Page) -> None:
    """A visit bringing coal or a stove asks the heating-safety checklist: answer it."""
    checklist = page.get_by_test_id("safety-checklist")
    if checklist.count() == 0:
        return
    for name in ("chimney_sealed", "vent", "stove_not_in_bedroom", "leaflet"):
        page.check(f"input[name=safety_{name}][value=yes]")
    page.check("input[name=safety_co_alarm][value=present]")


def test_three_visits_confirmed_offline_land_once_each_when_the_network_is_back(
    browser: Browser, server: str
) -> None:
    phone = browser.new_context(
        base_url=server,
        locale="zh-CN",
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        service_workers="allow",
    )
    phone.set_default_timeout(30_000)
    page = phone.new_page()
    log_in(page, "courier_warmth")
    page.goto("/courier")
    cards = page.locator("[data-testid^=deliver-visit-]")
    visit_ids = [
        int((cards.nth(i).get_attribute("data-testid") or "").removeprefix("deliver-visit-"))
        for i in range(min(cards.count(), 3))
    ]
    assert len(visit_ids) == 3, "the demo gives the courier at least three visits"

    staff = _token(server, "staff_hulan")
    codes = {
        v: str(_api(server, "POST", f"/api/visits/{v}/slip", staff)["code"]) for v in visit_ids
    }

    # Online: the service worker takes the page and keeps the day's visit pages
    page.reload()
    expect(page.locator("[data-outbox]")).to_have_attribute("data-kept", "true")
    expect(page.get_by_test_id("outbox-count")).to_have_attribute("data-count", "0")

    phone.set_offline(True)
    for done, visit_id in enumerate(visit_ids, start=1):
        page.goto(f"/courier/visits/{visit_id}")  # from the phone: there is no network
        expect(page.locator("form[data-testid=confirm-form]")).to_be_visible()
        page.fill("#code", codes[visit_id])
        _answer_the_safety_check(page)
        page.click("form[data-testid=confirm-form] button[type=submit]")
        expect(page).to_have_url(f"{server}/courier")
        count = page.get_by_test_id("outbox-count")
        expect(count).to_have_attribute("data-count", str(done))
        expect(count).to_have_text(f"离线 · {done} 条待上传")
        expect(page.get_by_test_id(f"deliver-visit-{visit_id}")).to_contain_text("已送达（待上传）")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the courier list is {width} px wide on a 360 px phone offline"
    shoot(page, "40-courier-offline-three-waiting")

    phone.set_offline(False)
    count = page.get_by_test_id("outbox-count")
    expect(count).to_have_attribute("data-count", "0")
    expect(count).to_have_text("0 条待上传")
    expect(page.locator("[data-outbox]")).to_contain_text("已上传 3 条")
    expect(page.get_by_test_id(f"deliver-visit-{visit_ids[0]}")).to_contain_text("已送达（已上传）")
    shoot(page, "41-courier-back-online-all-sent")

    admin = _token(server, "admin")
    confirmed = _api(
        server, "GET", "/api/audit?entity=visit&action=visit.confirm&limit=200", admin
    )["items"]
    for visit_id in visit_ids:
        visit = _api(server, "GET", f"/api/visits/{visit_id}", admin)
        assert visit["status"] == "delivered", visit
        entries = [e for e in confirmed if e["entity_id"] == str(visit_id)]
        assert len(entries) == 1, f"visit {visit_id} confirmed {len(entries)} times"
        assert entries[0]["after"]["by"] == "offline code"
    phone.close()
