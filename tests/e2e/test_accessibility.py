"""axe-core on the main page of each role, in both languages: no serious or critical violation
of WCAG 2.2 AA (wcag2a, wcag2aa, wcag21aa, wcag22aa).

axe-core comes from npm, pinned and sha512-checked by ``frontend/vendor.py`` (``make install``);
it is evaluated in the page by the test driver, never served to people.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser

from nuanxin.settings import ROOT
from tests.e2e.conftest import log_in, shoot

AXE = ROOT / "frontend" / "static" / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]

#: role, the account it logs in with (None: the public), its main page
MAIN_PAGES = (
    ("public", None, "/"),
    ("public-dashboard", None, "/dashboard"),
    ("staff", "staff_hulan", "/staff"),
    ("staff-safety", "staff_hulan", "/staff/safety"),
    ("charity", "charity_warmth", "/charity"),
    ("courier", "courier_warmth", "/courier"),
    ("admin", "admin", "/staff"),
    ("staff-round-review", "staff_hulan", "/staff/rounds/1"),  # the demo's first round
)


def serious(result: dict[str, Any]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in result["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize(("role", "username", "path"), MAIN_PAGES, ids=[p[0] for p in MAIN_PAGES])
def test_the_main_page_of_each_role_has_no_serious_accessibility_violation(
    browser: Browser, server: str, role: str, username: str | None, path: str, lang: str
) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make install fetches it)")
    context = browser.new_context(
        base_url=server, locale=lang, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        if username:
            log_in(page, username)
        page.goto(f"{path}?lang={lang}")
        page.wait_for_load_state("networkidle")
        page.evaluate(AXE.read_text(encoding="utf-8"))
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
        )
        shoot(page, f"axe-{role}-{lang}")
        found = serious(result)
        assert not found, "\n".join(found)
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_staff_navigation_folds_to_one_line_on_a_phone(
    browser: Browser, server: str, lang: str
) -> None:
    context = browser.new_context(
        base_url=server,
        locale=lang,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, "staff_hulan")
        page.goto(f"/staff?lang={lang}")
        header = page.locator("header.site")
        folded = header.bounding_box()
        assert folded is not None and folded["height"] <= 60, folded
        links = page.locator("header.site nav a")
        assert not links.first.is_visible(), "the links wait behind the menu button"
        shoot(page, f"phone-nav-folded-{lang}")
        page.locator("[data-nav-menu] > summary").click()
        assert links.first.is_visible() and links.count() > 5
        shoot(page, f"phone-nav-open-{lang}")
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_couriers_heating_safety_check_has_no_serious_accessibility_violation(
    browser: Browser, server: str, lang: str
) -> None:
    """A visit bringing coal asks the checklist: radio groups in fieldsets, on a 360 px phone."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make install fetches it)")
    context = browser.new_context(
        base_url=server, locale=lang, viewport={"width": 360, "height": 800}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, "courier_warmth")
        page.goto(f"/courier?lang={lang}")
        coal = page.locator(
            "a[href^='/courier/visits/']", has_text="取暖煤" if lang == "zh-CN" else "Heating coal"
        )
        if not coal.count():
            pytest.skip("the demo courier has no visit bringing coal")
        coal.first.click()
        page.wait_for_load_state("networkidle")
        assert page.get_by_test_id("safety-checklist").count() == 1
        page.evaluate(AXE.read_text(encoding="utf-8"))
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
        )
        shoot(page, f"axe-courier-safety-{lang}")
        found = serious(result)
        assert not found, "\n".join(found)
    finally:
        context.close()
