"""The whole loop in a real browser, from an empty platform, by clicking only.

The platform starts with nothing but its migrations, the gazetteer and one admin account made
with ``create-admin`` on the command line: no demo data and no API call. Everything else is done
in pages, as the people who use the platform would do it: the admin creates staff accounts; a
charity signs up, is verified, adds a warehouse, posts offers and opens a campaign; one donor gives
money through Stripe.js (against localstripe on loopback, whose webhooks reach the app), another
gives goods that the charity accepts; the public reports a person in difficulty; staff register
and verify households (one a migrant registered elsewhere), run a round, approve it and print a
batch of slips; a courier confirms on a phone; a household reports "not received" and staff
resolve it; the donor's timeline reaches "delivered" and the public dashboard counts it.

The loop runs once per language, each time on its own empty platform, and every step keeps a
screenshot: ``var/screenshots/<run>/loop-<lang>-<nn>-<step>.png``. Selectors are ids and test
ids, never the text of one language.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from nuanxin.demo import credit_code, id_number
from tests.e2e.conftest import SHOTS, free_port
from tests.stripe_server import LocalStripe

ADMIN = "admin"
PASSWORD = "loop-password-1"
WEBHOOK_SECRET = "whsec_loop"
LANGUAGES = ("zh-CN", "en")
HULAN = "230111"  # 哈尔滨市呼兰区: the charity, its households and staff
MIGRANT_HOME = "230103"  # 哈尔滨市南岗区: where the migrant's registration (户籍) is


@pytest.fixture(scope="module")
def stripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    server = LocalStripe(tmp_path_factory.mktemp("loop-stripe") / "state.pickle").start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Platform:
    base: str
    language: str
    folder: Path


def _run(args: list[str], env: dict[str, str], stdin: str = "") -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nuanxin", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"nuanxin {args[0]} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(params=LANGUAGES)
def platform(
    request: pytest.FixtureRequest, tmp_path: Path, stripe_server: LocalStripe
) -> Iterator[Platform]:
    """An empty platform: migrations, the gazetteer, one admin; then ``serve``."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'loop.sqlite3'}",
        "NUANXIN_VAR_DIR": str(tmp_path / "var"),
        "NUANXIN_ENV": "development",
        "NUANXIN_HOST": "127.0.0.1",
        "NUANXIN_PORT": str(port),
        "MAP_TILE_URL": "",
        "STRIPE_SECRET_KEY": "sk_test_loop",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_loop",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_server.api_base,
    }
    _run(["migrate"], env)
    _run(["load-regions"], env)
    _run(["create-admin", ADMIN, "--password-stdin"], env, stdin=PASSWORD + "\n")
    # localstripe signs each event with the secret and posts it to the app, as Stripe would.
    stripe_server.register_webhook(f"{base}/api/stripe/webhook", WEBHOOK_SECRET)
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "nuanxin", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the app did not start: {(tmp_path / 'server.log').read_text()}")
        time.sleep(0.3)
    try:
        yield Platform(base=base, language=str(request.param), folder=tmp_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@dataclass
class Loop:
    """The browser contexts of the people in the loop, and what they learn on the way."""

    browser: Browser
    platform: Platform
    step: int = 0
    contexts: list[BrowserContext] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)

    def person(self, *, phone: bool = False) -> Page:
        """A new person: their own browser context (cookies, language) and page."""
        options: dict[str, object] = {
            "base_url": self.platform.base,
            "locale": self.platform.language,
        }
        if phone:
            options |= {
                "viewport": {"width": 360, "height": 740},
                "is_mobile": True,
                "has_touch": True,
            }
        else:
            options["viewport"] = {"width": 1366, "height": 768}
        context = self.browser.new_context(**options)  # type: ignore[arg-type]
        context.set_default_timeout(20_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # "approve all?": yes
        page.goto(f"/?lang={self.platform.language}")
        expect(page.locator("html")).to_have_attribute("lang", self.platform.language)
        return page

    def shoot(self, page: Page, name: str) -> None:
        self.step += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"loop-{self.platform.language}-{self.step:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form[data-testid=login] button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".account .who")).to_have_text(username)


def pick_region(page: Page, name: str, typed: str) -> None:
    """Type part of a region's name into a region field and pick the first suggestion."""
    page.fill(f"#{name}", "")
    page.type(f"#{name}", typed, delay=30)
    option = page.locator(f"#{name}-options option").first
    expect(option).to_be_attached(timeout=10_000)
    page.fill(f"#{name}", option.get_attribute("value") or "")


def submit(page: Page, form: str) -> None:
    with page.expect_navigation():
        page.click(f"form[data-testid={form}] button[type=submit]")


def no_form_errors(page: Page) -> None:
    errors = page.locator(".field.has-error, .error-summary, .error")
    assert errors.count() == 0, f"{page.url}: {errors.all_inner_texts()}"


def test_the_whole_loop_from_an_empty_platform_by_clicking_only(
    browser: Browser, platform: Platform
) -> None:
    loop = Loop(browser=browser, platform=platform)
    try:
        _walk(loop)
    finally:
        loop.close()


def _walk(loop: Loop) -> None:
    # 1. The admin creates the staff account of 呼兰区.
    admin = loop.person()
    log_in(admin, ADMIN, PASSWORD)
    admin.goto("/staff/accounts")
    admin.select_option("#role", "staff")
    pick_region(admin, "jurisdiction", "呼兰")
    admin.fill("#username", "staff_hulan")
    admin.fill("#display_name", "王芳")
    admin.fill("#password", PASSWORD)
    submit(admin, "account-form")
    no_form_errors(admin)
    expect(admin.get_by_test_id("accounts")).to_contain_text("staff_hulan")
    loop.shoot(admin, "admin-creates-staff")

    # 2. A charity signs up; staff verify it.
    charity = loop.person()
    charity.goto("/charities/sign-up")
    charity.fill("#name", "呼兰暖冬公益协会")
    charity.fill("#credit_code", credit_code("51230111MJ0000001"))
    pick_region(charity, "region", "呼兰")
    charity.fill("#contact_name", "李四")
    charity.fill("#contact_phone", "13800001234")
    charity.fill("#username", "nuandong")
    charity.fill("#password", PASSWORD)
    loop.shoot(charity, "charity-signs-up")
    submit(charity, "sign-up-form")
    no_form_errors(charity)

    staff = loop.person()
    log_in(staff, "staff_hulan", PASSWORD)
    staff.goto("/staff/charities")
    staff.get_by_test_id("charities").locator("a", has_text="呼兰暖冬公益协会").click()
    submit(staff, "verify-form")
    expect(staff.get_by_test_id("charity-status")).to_have_attribute("data-status", "verified")
    loop.shoot(staff, "staff-verify-the-charity")

    # 3. The charity's member adds a courier.
    log_in(charity, "nuandong", PASSWORD)
    charity.goto("/charity/members")
    charity.select_option("#role", "courier")
    charity.fill("#username", "courier_zhao")
    charity.fill("#display_name", "赵师傅")
    charity.fill("#password", PASSWORD)
    submit(charity, "member-form")
    no_form_errors(charity)
    expect(charity.get_by_test_id("remove-courier_zhao")).to_be_visible()
    loop.shoot(charity, "charity-adds-a-courier")

    # 4. The public reports a person in difficulty: a migrant, registered in 南岗区.
    neighbour = loop.person(phone=True)
    neighbour.goto("/help")
    pick_region(neighbour, "region", "呼兰")
    neighbour.fill("#address", "呼兰区康金街道新华村三组")
    neighbour.fill("#description", "独居老人，没有煤，炉子坏了")
    neighbour.fill("#person_name", "张大爷")
    neighbour.fill("#reporter_contact", "邻居 13900001111")
    loop.shoot(neighbour, "public-reports-a-person")
    submit(neighbour, "report-form")
    no_form_errors(neighbour)

    # 5. Staff register the reported person as a household (the migrant) and verify it.
    staff.goto("/staff/help-requests")
    staff.get_by_test_id("help-requests").locator("tbody a").first.click()
    staff.select_option("#category", "extremely_poor")
    staff.fill("#id_number", id_number(MIGRANT_HOME, date(1948, 3, 2), 17))
    staff.fill("#birth_years", "1948")
    staff.check("input[name=tags][value=electricity]")
    staff.check("input[name=tags][value=coal_stove]")
    staff.check("input[name=lives_alone]")
    loop.shoot(staff, "staff-register-the-migrant")
    submit(staff, "convert-form")
    no_form_errors(staff)
    staff.goto("/staff/households?verification=unverified")
    verify = staff.locator("[data-testid^=verify-]")
    expect(verify).to_have_count(1)
    verify.first.click()
    staff.wait_for_load_state()
    expect(staff.locator("[data-testid^=verify-]")).to_have_count(0)
    loop.shoot(staff, "staff-verify-the-household")

    # 6. The charity adds a warehouse, posts offers and opens a campaign.
    charity.goto("/charity/warehouses")
    charity.fill("#name", "呼兰总仓")
    charity.fill("#address", "呼兰区利民街道仓库路 8 号")
    pick_region(charity, "region", "呼兰")
    submit(charity, "warehouse-form")
    no_form_errors(charity)
    expect(charity.get_by_test_id("warehouses")).to_contain_text("呼兰总仓")
    loop.shoot(charity, "charity-adds-a-warehouse")
    for item, quantity in (("coal", "40"), ("coat_adult_l", "10")):
        charity.goto("/charity/offers/new")
        charity.select_option("#item_code", item)
        charity.fill("#quantity", quantity)
        charity.fill("#radius_km", "80")
        submit(charity, "offer-form")
        no_form_errors(charity)
    loop.shoot(charity, "charity-posts-offers")
    charity.goto("/charity/campaigns")
    charity.fill("#title", "呼兰区冬季送温暖")
    pick_region(charity, "region", "呼兰")
    charity.check("#item_codes-quilt")
    charity.check("#item_codes-coal")
    charity.fill("#target_yuan", "50000")
    charity.fill("#ends_on", date(datetime.now(UTC).year + 1, 2, 28).isoformat())
    submit(charity, "campaign-form")
    no_form_errors(charity)
    expect(charity.locator("h1")).to_contain_text("呼兰区冬季送温暖")
    loop.shoot(charity, "charity-opens-a-campaign")

    # 7. A donor gives money through Stripe.js (localstripe's card element).
    donor = loop.person()
    donor.goto("/give")
    donor.locator(".cards a").first.click()
    donor.fill("#amount", "200.00")
    donor.fill("#donor_name", "刘女士")
    card = donor.locator("#card")
    card.locator("input[placeholder=number]").fill("4242424242424242")
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("30")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("150500")
    loop.shoot(donor, "donor-gives-money")
    console: list[str] = []
    donor.on("console", lambda message: console.append(message.text))
    donor.click("form#give button[type=submit]")
    try:
        donor.wait_for_url(re.compile(r"/donations/[A-Za-z0-9-]+$"), timeout=60_000)
    except Exception as exc:
        status = donor.locator("#give-status").inner_text()
        raise AssertionError(f"the gift did not go through: {status!r} {console}") from exc
    money_code = donor.get_by_test_id("tracking-code").inner_text().strip()
    # The payment is confirmed by Stripe's webhook (localstripe posts it, signed, to the app).
    for _ in range(60):
        donor.reload()
        if donor.locator("[data-testid=timeline] [data-step=paid]").count():
            break
        time.sleep(1)
    expect(donor.locator("[data-testid=timeline] [data-step=paid]")).to_have_count(1)
    loop.shoot(donor, "donor-money-paid")
    loop.facts["money_code"] = money_code

    # 8. Another donor gives goods; the charity accepts them into its stock.
    giver = loop.person(phone=True)
    giver.goto("/give")
    giver.locator(".cards a").first.click()
    giver.select_option("#item_code", "quilt")
    giver.fill("#quantity", "5")
    submit(giver, "goods-form")
    goods_code = giver.get_by_test_id("tracking-code").inner_text().strip()
    loop.shoot(giver, "donor-gives-goods")
    charity.goto("/charity/donations")
    charity.get_by_test_id("goods-waiting").locator("[data-testid^=decide-]").first.click()
    submit(charity, "accept-form")
    no_form_errors(charity)
    expect(charity.get_by_test_id("donation-status")).to_be_visible()
    loop.shoot(charity, "charity-accepts-the-goods")
    loop.facts["goods_code"] = goods_code

    # 9. Staff register a second household directly, and verify it.
    staff.goto("/staff/households/new")
    staff.select_option("#category", "dibao")
    staff.fill("#head_name", "李桂兰")
    staff.fill("#id_number", id_number(HULAN, date(1952, 11, 8), 23))
    staff.fill("#phone", "13700002222")
    staff.fill("#current_address", "呼兰区康金街道永安村二组 12 号")
    pick_region(staff, "region", "呼兰")
    staff.fill("#m1_birth_year", "1952")
    staff.select_option("#m1_sex", "F")
    staff.check("#tag-electricity")
    staff.check("#tag-coal_stove")
    loop.shoot(staff, "staff-register-a-household")
    submit(staff, "household-form")
    no_form_errors(staff)
    staff.goto("/staff/households?verification=unverified")
    staff.locator("[data-testid^=verify-]").first.click()
    staff.wait_for_load_state()
    expect(staff.locator("[data-testid^=verify-]")).to_have_count(0)

    # 10. Staff run a round and approve it, after the confirmation.
    staff.goto("/staff/rounds")
    submit(staff, "start-round")
    expect(staff).to_have_url(re.compile(r"/staff/rounds/\d+$"))
    expect(staff.get_by_test_id("proposals")).to_be_visible(timeout=90_000)
    loop.shoot(staff, "staff-round-proposals")
    staff.get_by_test_id("approve-all").click()
    expect(staff.get_by_test_id("approve-all-preview")).to_be_visible()  # counts, then confirm
    loop.shoot(staff, "staff-confirm-approve-all")
    submit(staff, "approve-all-form")
    no_form_errors(staff)
    expect(staff.get_by_test_id("action-bar")).to_have_count(0)  # every proposal decided
    loop.shoot(staff, "staff-round-approved")

    # 11. Staff print the batch of slips, one page; the codes are read off the slips.
    staff.goto("/staff/deliveries")
    staff.locator("[data-select-all]").check()
    staff.get_by_test_id("print-batch").click()
    slips = staff.locator(".slip-card")
    expect(slips.first).to_be_visible()
    assert slips.count() == 2, "one slip per household visit: two households, one charity"
    codes = {
        slips.nth(i).locator("[data-field=reference]").inner_text().strip(): (
            slips.nth(i).locator("[data-field=code]").inner_text().strip()
        )
        for i in range(slips.count())
    }
    loop.shoot(staff, "staff-print-slips")

    # 12. The courier confirms both visits on a phone, with the codes on the slips.
    courier = loop.person(phone=True)
    log_in(courier, "courier_zhao", PASSWORD)
    confirmed: list[str] = []
    for _ in range(len(codes)):
        courier.goto("/courier")
        deliver = courier.locator("[data-testid^=deliver-visit-]").first
        expect(deliver).to_be_visible()
        deliver.click()
        reference = courier.locator("h1").inner_text().split()[-1]
        courier.fill("#code", codes[reference])
        if courier.get_by_test_id("safety-checklist").count():  # coal or a stove: the check
            worry = bool(confirmed)  # the second home has no vent and no alarm yet
            courier.check("input[name=safety_chimney_sealed][value=yes]")
            courier.check(f"input[name=safety_vent][value={'no' if worry else 'yes'}]")
            courier.check("input[name=safety_stove_not_in_bedroom][value=yes]")
            alarm = "missing" if worry else "installed"
            courier.check(f"input[name=safety_co_alarm][value={alarm}]")
            courier.check("input[name=safety_leaflet][value=yes]")
        if not confirmed:
            loop.shoot(courier, "courier-types-the-code")
        submit(courier, "confirm-form")
        no_form_errors(courier)
        confirmed.append(reference)
    courier.goto("/courier")
    expect(courier.locator("[data-testid^=deliver-visit-]")).to_have_count(0)
    loop.shoot(courier, "courier-done")

    # The "no" answers of the second home's safety check wait for staff as an urgent follow-up.
    staff.goto("/staff/safety")
    urgent = staff.get_by_test_id("follow-ups").locator("tr", has=staff.locator(".badge.bad"))
    expect(urgent).to_have_count(1)
    expect(urgent).to_contain_text(confirmed[1])
    loop.shoot(staff, "staff-safety-follow-ups")

    # 13. One household reports that nothing came; staff look into it and resolve the case.
    household = loop.person(phone=True)
    household.goto("/not-received")
    household.fill("#code", codes[confirmed[0]])
    household.fill("#description", "没有收到棉被")
    submit(household, "not-received-form")
    no_form_errors(household)
    loop.shoot(household, "household-reports-not-received")
    staff.goto("/staff/cases")
    staff.locator("a[href^='/staff/cases/']").first.click()
    staff.check("#outcome-redelivered")
    staff.fill("#note", "慈善组织已补送")
    submit(staff, "resolve-form")
    no_form_errors(staff)
    loop.shoot(staff, "staff-resolve-the-case")

    # 14. The goods donor's timeline reaches "delivered"; the public dashboard counts it.
    giver.goto("/track")
    giver.fill("#code", loop.facts["goods_code"])
    submit(giver, "track-form")
    expect(giver.locator("[data-testid=timeline] [data-step=delivered]").first).to_be_visible()
    loop.shoot(giver, "donor-sees-delivered")
    public = loop.person()
    public.goto("/dashboard")
    board = public.get_by_test_id("public-dashboard")
    expect(board).to_contain_text("呼兰区")
    figures = public.get_by_test_id("dashboard-totals").locator("strong").all_inner_texts()
    deliveries, counties = (int(f.replace(",", "")) for f in figures)
    assert deliveries >= len(confirmed) and counties == 1, figures
    loop.shoot(public, "public-dashboard")
