"""The reader's language everywhere: refusals said from their message ids, codes named by
labels, times in the platform's zone, error pages of the site, the user known on public pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from nuanxin.errors import Conflict, Invalid, Locked, NotFound
from nuanxin.i18n import Formatter, catalogue
from nuanxin.labels import category_label, item_label, status_label
from nuanxin.messages import describe
from tests.nuanxin.authz.model import ANON, COURIER, STAFF
from tests.nuanxin.authz.world import World
from tests.nuanxin.conftest import PASSWORD
from tests.nuanxin.pages.conftest import get_page

ZH = catalogue("zh-CN").gettext
EN = catalogue("en").gettext


def test_a_refusal_is_said_from_its_message_id_and_params_in_each_language() -> None:
    wrong = Invalid(
        "Wrong code: 4 attempts left",
        error="wrong_code",
        field="code",
        message_id="wrong_code",
        params={"left": 4},
    )
    assert describe(wrong, ZH) == "确认码不对，还可试 4 次"
    assert describe(wrong, EN) == "The code is not right: 4 attempts left"
    locked = Locked("Too many wrong codes", error="delivery_locked")  # the id is its word
    assert "民政工作人员" in describe(locked, ZH) and "补打" in describe(locked, ZH)


def test_a_duplicate_household_says_where_to_turn() -> None:
    here = Conflict(
        "dup",
        error="duplicate_household",
        message_id="duplicate_household",
        params={"reference": "HH000005"},
    )
    assert describe(here, ZH) == "持此身份证号的家庭已经登记：HH000005。"
    elsewhere = Conflict(
        "dup",
        error="duplicate_household",
        message_id="duplicate_household_elsewhere",
        params={"county": "德惠市"},
    )
    assert describe(elsewhere, ZH) == "持此身份证号的家庭已在其他辖区登记，请联系德惠市民政部门。"


def test_a_refusal_without_a_message_id_falls_back_to_its_kind_never_the_english_detail() -> None:
    bare = Conflict("The offer moved meanwhile")
    assert describe(bare, ZH) == "这条记录的当前状态不允许此操作，请刷新页面。"
    named = Invalid("quantity: must be >= 1", field="quantity")
    assert describe(named, ZH) == "“数量”填写不符合要求，请检查。"
    assert describe(Invalid("secret_key: bad", field="secret_key"), ZH) == (
        "有一项填写不符合要求，请检查表单。"  # an unknown key is never shown
    )
    assert "household" not in describe(NotFound("No such household"), ZH)


def test_codes_are_named_in_the_vocabulary_they_belong_to() -> None:
    assert item_label("coat_adult_l", "zh-CN", ZH) == "成人棉衣（L码）"
    assert item_label("coat_adult_l", "en", EN) == "Adult cotton coat, size L"
    assert item_label("coal", "zh-CN", ZH) == "取暖煤"
    assert item_label("coat_child_130", "zh-CN", ZH) == "儿童棉衣（130码）"
    assert item_label("no_such_thing", "en", EN) == "—"
    assert category_label("dibao", ZH) == "低保"
    assert status_label("pending", "delivery", ZH) == "待配送"
    assert status_label("pending", "escalation", ZH) == "待决定"
    assert status_label("created", "donation", ZH) == "待支付"


def test_times_are_shown_in_shanghai_in_each_languages_form() -> None:
    moment = datetime(2026, 11, 30, 2, 52, tzinfo=UTC)
    assert Formatter("zh-CN").datetime(moment) == "2026年11月30日 10:52"
    assert Formatter("en").datetime(moment) == "30 Nov 2026, 10:52"
    assert Formatter("zh-CN").stamp(moment) == "2026-11-30 10:52"
    assert Formatter("en", "UTC").stamp(moment) == "2026-11-30 02:52"


async def test_a_wrong_code_on_a_chinese_page_reads_as_a_next_step(
    client: httpx.AsyncClient, world: World
) -> None:
    answer = await client.post(
        f"/courier/deliveries/{world.delivery_id}/confirm",
        headers=world.headers(COURIER),
        data={"code": "1234-5678"},
    )
    assert answer.status_code == 400
    message = re.search(r'role="alert">([^<]+)<', answer.text)[1]  # type: ignore[index]
    assert message == "未完成：确认码不对，还可试 4 次"
    assert "<title>错误：" in answer.text


async def test_proposal_reasons_are_built_in_the_readers_language(
    client: httpx.AsyncClient, world: World
) -> None:
    chinese = await get_page(client, world, STAFF, f"/staff/rounds/{world.round_id}")
    english = await get_page(client, world, STAFF, f"/staff/rounds/{world.round_id}", "en")
    assert re.search(
        r"距慈善组织仓库 [\d.]+ 公里（配送半径 [\d.]+ 公里）；优先级 [\d.]+", chinese.text
    )
    assert re.search(
        r"[\d.]+ km from the charity's warehouse \(delivery radius",
        english.text.replace("&#39;", "'"),
    )
    for page in (chinese, english):
        assert "km away (within" not in page.text and "服务半径" not in page.text


async def test_the_escalation_status_is_a_decision_not_a_delivery(
    client: httpx.AsyncClient, world: World
) -> None:
    page = await get_page(client, world, STAFF, "/staff/escalations")
    assert "待决定" in page.text and "待配送" not in page.text


async def test_browsers_get_error_pages_of_the_site_and_the_api_keeps_json(
    client: httpx.AsyncClient, world: World
) -> None:
    html = {"accept": "text/html,application/xhtml+xml"}
    missing = await client.get("/no-such-page?lang=en", headers=html)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in missing.text and 'class="site"' in missing.text
    refused = await client.get("/charity?lang=zh-CN", headers={**html, **world.headers(STAFF)})
    assert refused.status_code == 403 and "您无权打开此页面" in refused.text
    api = await client.get("/api/no-such-thing", headers=html)
    assert api.status_code == 404 and api.json()["error"] == "not_found"
    plain = await client.get("/no-such-page")
    assert plain.status_code == 404 and plain.json()["error"] == "not_found"
    other = await client.get(f"/staff/households/{world.household_id}", headers=html)
    assert other.status_code == 303  # not logged in: the login page, as before


async def test_public_pages_know_who_is_logged_in(client: httpx.AsyncClient, world: World) -> None:
    anonymous = await get_page(client, world, ANON, "/dashboard")
    assert 'href="/login"' in anonymous.text
    page = await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    username = "w_staff"  # the world's staff of county A
    logged_in = await client.post(
        "/login", data={"_csrf_token": token, "username": username, "password": PASSWORD}
    )
    assert logged_in.status_code == 303
    for path in ("/", "/dashboard", "/give", "/no-such-page"):
        shown = await client.get(path, headers={"accept": "text/html"})
        if path != "/no-such-page":  # an unknown address runs no middleware: no session there
            assert f'<span class="who">{username}</span>' in shown.text, path
