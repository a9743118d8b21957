"""Each role's main path in a real browser, in order: the charity posts an offer, staff verify a
household, run a round (watching its progress bar) and approve; a courier confirms with the code
from the slip staff print; a donor gives goods and tracks them; the language switch; a phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import PASSWORD, log_in, shoot


def test_the_home_page_is_chinese_first_and_english_is_one_click_away(page: Page) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("把冬天的温暖送到最需要的家庭")
    expect(page.get_by_test_id("totals")).to_contain_text("已核实家庭")
    shoot(page, "01-home-zh")
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Winter warmth for the households that need it most")
    page.goto("/dashboard")  # the choice is remembered
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shoot(page, "02-public-dashboard-en")
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_a_charity_posts_an_offer_from_its_warehouse(page: Page) -> None:
    log_in(page, "charity_warmth")
    expect(page).to_have_url(re.compile(r"/charity$"))
    expect(page.get_by_test_id("stock")).to_be_visible()
    expect(page.locator(".map[data-ready=true]")).to_have_count(1)  # Leaflet, no tiles offline
    expect(page.locator(".map path").first).to_be_attached()  # the county areas
    expect(page.locator("[data-chart] canvas").first).to_be_visible()  # six kinds: a chart
    shoot(page, "03-charity-dashboard")
    page.get_by_test_id("new-offer").click()
    page.select_option("#item_code", "quilt")
    page.fill("#quantity", "40")
    page.fill("#radius_km", "80")
    shoot(page, "04-charity-offer-form")
    page.click("form[data-testid=offer-form] button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("已发布")
    expect(page.get_by_test_id("offers")).to_contain_text("40")


def test_staff_verify_a_household_run_a_round_and_approve(page: Page) -> None:
    log_in(page, "staff_hulan")
    expect(page).to_have_url(re.compile(r"/staff$"))
    # One week, one township, one place: each chart gives way to its figures; the map has
    # the county areas under its marker (never a grey box)
    expect(page.locator("[data-chart-figures]").first).to_be_visible()
    expect(page.locator(".map[data-ready=true] .outline-label").first).to_be_visible()
    shoot(page, "05-staff-dashboard")
    page.goto("/staff/households?verification=unverified")
    first = page.locator("[data-testid^=verify-]").first
    reference = (first.get_attribute("data-testid") or "").removeprefix("verify-")
    first.click()
    expect(page.locator(".flash")).to_contain_text(reference)
    page.select_option("#verification", "current")
    page.fill("#q", reference)
    page.click("form[data-testid=household-filters] button[type=submit]")
    expect(page.get_by_test_id("households")).to_contain_text("有效期至")
    shoot(page, "06-staff-households")

    page.goto("/staff/rounds")
    page.click("form[data-testid=start-round] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/staff/rounds/\d+$"))
    progress = page.get_by_test_id("round-progress")
    expect(progress.locator("progress")).to_be_visible()  # the bar, polled until the round ends
    shoot(page, "07-staff-round-running")
    expect(page.get_by_test_id("proposals")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("round-progress")).to_have_attribute("data-status", "proposed")
    shoot(page, "08-staff-proposals")
    # the bar of actions stays in view while the table scrolls under it
    page.locator("tbody[data-household]").last.scroll_into_view_if_needed()
    page.locator("tbody[data-household]").first.scroll_into_view_if_needed()
    bar = page.get_by_test_id("action-bar").bounding_box()
    viewport = page.viewport_size
    assert bar is not None and viewport is not None
    assert bar["y"] >= 0 and bar["y"] + bar["height"] <= viewport["height"] + 1, bar
    page.get_by_test_id("approve-all").click()
    expect(page.get_by_test_id("approve-all-preview")).to_contain_text("将批准")
    shoot(page, "08b-staff-approve-all-confirmation")
    page.get_by_test_id("confirm-approve-all").click()
    expect(page.locator(".flash")).to_contain_text("已批准")
    expect(page.get_by_test_id("proposals")).to_contain_text("已批准")


def test_staff_print_a_batch_of_slips_and_a_courier_confirms_a_visit_on_a_phone(
    browser: Browser, server: str
) -> None:
    phone = browser.new_context(
        base_url=server,
        locale="zh-CN",
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    page = phone.new_page()
    log_in(page, "courier_warmth")
    deliver = page.locator("[data-testid^=deliver-visit-]").first
    visit_id = (deliver.get_attribute("data-testid") or "").removeprefix("deliver-visit-")

    staff = browser.new_context(base_url=server, locale="zh-CN").new_page()
    log_in(staff, "staff_hulan")
    staff.goto("/staff/deliveries")
    staff.locator("[data-select-all]").check()
    button = staff.get_by_test_id("print-batch")
    expect(button).to_contain_text("打印")
    expect(button).to_contain_text("张签收单")
    button.click()
    slips = staff.locator(".slip-card")
    assert slips.count() >= 2, "a batch prints every ticked visit on one page"
    assert staff.locator(".slip-card svg").count() == slips.count(), "each slip has its QR code"
    card = staff.locator("[data-slip] >> nth=0")
    expect(card).to_contain_text("12345")  # the hotline
    shoot(staff, "09-staff-slips")
    codes = {
        staff.locator(".slip-card").nth(i).locator("[data-field=reference]").inner_text().strip(): (
            staff.locator(".slip-card").nth(i).locator("[data-field=code]").inner_text().strip()
        )
        for i in range(slips.count())
    }
    staff.context.close()

    page.goto(f"/courier/visits/{visit_id}")
    reference = page.locator("h1").inner_text().split()[-1]
    if page.get_by_test_id("safety-checklist").count():  # coal or a stove: every point answered
        for name in ("chimney_sealed", "vent", "stove_not_in_bedroom", "leaflet"):
            page.check(f"input[name=safety_{name}][value=yes]")
        page.check("input[name=safety_co_alarm][value=present]")
    page.fill("#code", "11111111")
    page.click("form[data-testid=confirm-form] button[type=submit]")
    expect(page.locator(".error")).to_be_visible()  # a wrong code is a message, not a crash
    page.fill("#code", codes[reference])
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the visit page is {width} px wide on a 360 px phone"
    shoot(page, "10-courier-code")
    page.click("form[data-testid=confirm-form] button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("已确认送达")
    phone.close()


def test_a_donor_gives_goods_and_tracks_them_by_code(page: Page) -> None:
    # The demo has no campaign: the charity opens one through the API (its own client).
    api = page.context.request
    token = api.post(
        "/api/auth/token", data={"username": "charity_warmth", "password": PASSWORD}
    ).json()["token"]
    ends = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    opened = api.post(
        "/api/campaigns",
        headers={"authorization": f"Bearer {token}"},
        data={
            "title": "呼兰区冬季送温暖",
            "region_code": "230111",
            "item_codes": ["quilt", "coal"],
            "target_fen": 1_000_000,
            "ends_on": ends,
        },
    )
    assert opened.ok, opened.text()
    page.goto("/give")
    page.locator(".cards a").first.click()
    page.fill("#quantity", "3")
    shoot(page, "11-donor-campaign")
    page.click("form[data-testid=goods-form] button[type=submit]")
    code = page.get_by_test_id("tracking-code").inner_text().strip()
    page.goto("/track")
    page.fill("#code", code)
    page.click("form[data-testid=track-form] button[type=submit]")
    expect(page.get_by_test_id("timeline")).to_be_visible()
    expect(page.get_by_test_id("tracking-code")).to_have_text(code)
    shoot(page, "12-donor-tracking")


def test_the_pages_fit_a_360_pixel_phone(browser: Browser, server: str) -> None:
    phone = browser.new_context(
        base_url=server,
        locale="zh-CN",
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    page = phone.new_page()
    for name, username, path in (
        ("13-phone-courier", "courier_warmth", "/courier"),
        ("14-phone-staff-households", "staff_hulan", "/staff/households"),
    ):
        log_in(page, username)
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide on a 360 px phone"
        shoot(page, name)
        page.click("header form button")  # log out
    phone.close()


def test_without_the_vendor_files_the_pages_still_work_and_say_so(page: Page) -> None:
    page.route(re.compile(r"/static/vendor/"), lambda route: route.abort())
    log_in(page, "staff_hulan")
    expect(page.locator(".map.missing")).to_contain_text("未安装地图组件")
    expect(page.get_by_test_id("stale")).to_be_visible()  # the figures are still there
    expect(page.locator(".map-block .legend")).to_be_visible()
    page.goto("/staff/rounds")
    page.click("form[data-testid=start-round] button[type=submit]")
    # app.js polls the progress partial itself when htmx is missing, then reloads the page
    expect(page.locator("h2", has_text="匹配建议")).to_be_visible(timeout=60_000)
    shoot(page, "15-staff-without-vendor-files")
    log_in(page, "charity_warmth")
    expect(page.locator(".chart.missing").first).to_contain_text("未安装图表组件")
    expect(page.get_by_test_id("stock")).to_be_visible()
