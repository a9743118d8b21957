"""The pages: each renders for its role in both languages, forms refuse bad input with a message
(never a 500), records of another jurisdiction or charity stay out of reach, no inline scripts."""

from __future__ import annotations

import re

import httpx
import pytest

from nuanxin.households.tables import Household
from nuanxin.i18n import catalogue
from nuanxin.rounds.tables import Proposal
from tests.nuanxin.authz.model import (
    ANON,
    CHARITY,
    COURIER,
    NEIGHBOUR,
    OTHER_CHARITY,
    STAFF,
    Caller,
)
from tests.nuanxin.authz.world import World
from tests.nuanxin.pages.conftest import get_page

PAGES: list[tuple[Caller, str, str, str]] = [
    # caller, path (world attributes in braces), a Chinese and an English phrase on the page
    (STAFF, "/staff", "辖区救助进展", "Progress of my jurisdiction"),
    (STAFF, "/staff/households", "辖区内的家庭", "Households in my jurisdiction"),
    (STAFF, "/staff/households/{household_id}", "今冬需求", "Needs this winter"),
    (STAFF, "/staff/help-requests", "待处理的求助", "Help requests to triage"),
    (STAFF, "/staff/help-requests/{help_request_id}", "登记家庭", "Register the household"),
    (STAFF, "/staff/rounds", "开始一轮匹配", "Start a matching round"),
    (STAFF, "/staff/rounds/{round_id}", "匹配建议", "Proposals"),
    (STAFF, "/staff/deliveries", "辖区内的配送", "Deliveries in my jurisdiction"),
    (STAFF, "/staff/emergencies", "手续逾期", "Paperwork overdue"),
    (STAFF, "/staff/escalations", "向上一级申请", "Ask the level above"),
    (CHARITY, "/charity", "本组织库存", "My charity's stock"),
    (CHARITY, "/charity/offers/new", "发布捐赠", "Post an offer"),
    (CHARITY, "/charity/offers/{offer_x_id}", "编辑捐赠", "Edit offer"),
    (CHARITY, "/charity/deliveries", "待配送", "Deliveries to make"),
    (COURIER, "/courier", "待配送", "Deliveries to make"),
    (
        COURIER,
        "/courier/deliveries/{delivery_id}",
        "凭家庭确认码签收",
        "Confirm with the household",
    ),
    (ANON, "/", "把冬天的温暖送到最需要的家庭", "Winter warmth"),
    (ANON, "/give", "捐款或捐物", "Give money or goods"),
    (ANON, "/track", "追踪捐赠", "Track a gift"),
    (ANON, "/dashboard", "物资送到了哪里", "What was delivered where"),
    (ANON, "/donations/{tracking_code_x}", "捐赠去向", "Where your gift went"),
    (ANON, "/campaigns/{campaign_x_id}", "捐赠物资", "Give goods"),
]


def fill(path: str, world: World) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(getattr(world, m.group(1))), path)


@pytest.mark.parametrize(("caller", "path", "zh", "en"), PAGES, ids=[p[1] for p in PAGES])
async def test_each_page_renders_for_its_role_in_chinese_and_in_english(
    client: httpx.AsyncClient, world: World, caller: Caller, path: str, zh: str, en: str
) -> None:
    chinese = await get_page(client, world, caller, fill(path, world))
    assert chinese.status_code == 200, chinese.text[:500]
    assert '<html lang="zh-CN">' in chinese.text and zh in chinese.text
    english = await get_page(client, world, caller, fill(path, world), lang="en")
    assert english.status_code == 200
    assert '<html lang="en">' in english.text and en.replace("'", "&#39;") in english.text
    for page in (chinese, english):  # a strict CSP: no inline code or styles anywhere
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text), "inline <script>"
        assert not re.search(r"\son[a-z]+=", page.text), "inline event handler"
        assert "style=" not in page.text and "<style" not in page.text


async def test_the_language_is_chinese_first_and_remembered_after_a_switch(
    client: httpx.AsyncClient,
) -> None:
    home = await client.get("/")
    assert '<html lang="zh-CN">' in home.text and 'href="/?lang=en"' in home.text
    switched = await client.get("/?lang=en")
    assert switched.cookies.get("nuanxin_lang") == "en"
    assert '<html lang="en">' in (await client.get("/track")).text  # the cookie remembers
    assert '<html lang="zh-CN">' in (await client.get("/track?lang=zh-CN")).text


def test_every_string_of_the_pages_has_a_chinese_translation() -> None:
    from babel.messages.extract import extract_from_dir

    from nuanxin.settings import ROOT

    chinese = catalogue("zh-CN")
    untranslated = sorted(
        {
            message
            for _, _, message, _, _ in extract_from_dir(
                str(ROOT),
                method_map=[
                    ("platform/src/nuanxin/**.py", "python"),
                    ("frontend/templates/**.j2", "jinja2"),
                ],
                keywords={"_": None, "N_": None},
            )
            if isinstance(message, str) and chinese.gettext(message) == message
        }
    )
    assert not untranslated, f"run `make messages` and translate: {untranslated}"


async def test_numbers_dates_and_money_follow_the_language(
    client: httpx.AsyncClient, world: World
) -> None:
    chinese = await get_page(client, world, ANON, f"/campaigns/{world.campaign_x_id}")
    english = await get_page(client, world, ANON, f"/campaigns/{world.campaign_x_id}", "en")
    assert "年" in re.search(r"截止 ([^<]+)", chinese.text)[1]  # type: ignore[index]
    assert re.search(r"until [A-Z][a-z]{2} \d{1,2}, \d{4}", english.text)


async def test_staff_of_another_county_cannot_open_its_records(
    client: httpx.AsyncClient, world: World
) -> None:
    for path in (
        f"/staff/households/{world.household_id}",
        f"/staff/rounds/{world.round_id}",
        f"/staff/rounds/{world.round_id}/progress",
        f"/staff/help-requests/{world.help_request_id}",
    ):
        assert (await get_page(client, world, NEIGHBOUR, path)).status_code == 404, path
    refused = await client.post(
        f"/staff/households/{world.household_id}/verify", headers=world.headers(NEIGHBOUR)
    )
    assert refused.status_code == 404
    listed = await get_page(client, world, NEIGHBOUR, "/staff/households")
    assert "HHWORLD2" in listed.text and "HHWORLD1" not in listed.text


async def test_other_roles_are_kept_out_of_the_consoles(
    client: httpx.AsyncClient, world: World
) -> None:
    assert (await get_page(client, world, CHARITY, "/staff")).status_code == 403
    assert (await get_page(client, world, STAFF, "/charity")).status_code == 403
    assert (await get_page(client, world, COURIER, "/charity")).status_code == 403
    other = await get_page(client, world, OTHER_CHARITY, f"/courier/deliveries/{world.delivery_id}")
    assert other.status_code == 404
    anonymous = await client.get("/staff", headers={"accept": "text/html"})
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/staff"


async def test_forms_refuse_bad_input_with_a_message_and_write_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    staff, charity = world.headers(STAFF), world.headers(CHARITY)
    offer = await client.post(
        "/charity/offers/new?lang=en",
        headers=charity,
        data={
            "warehouse_id": str(world.warehouse_x_id),
            "item_code": "quilt",
            "quantity": "0",
            "radius_km": "30",
            "available_from": "2026-12-01",
            "available_until": "2027-01-01",
        },
    )
    assert offer.status_code == 400 and "The quantity must be from 1 to 1,000,000" in offer.text
    assert 'value="0"' in offer.text  # the form comes back filled in
    client.cookies.delete("nuanxin_lang")
    window = await client.post(
        "/charity/offers/new",
        headers=charity,
        data={
            "warehouse_id": str(world.warehouse_x_id),
            "item_code": "quilt",
            "quantity": "5",
            "radius_km": "30",
            "available_from": "2027-02-01",
            "available_until": "2027-01-01",
        },
    )
    assert window.status_code == 400 and "未完成" in window.text  # the service's rule, as a message
    reject = await client.post(
        f"/staff/rounds/{world.round_id}/reject",
        headers=staff,
        data={"proposal_id": str(world.proposal_id), "reason": ""},
    )
    assert reject.status_code == 400 and "请填写理由" in reject.text
    emergency = await client.post(
        "/staff/emergencies",
        headers=staff,
        data={"household_id": "abc", "item_code": "quilt", "quantity": "1", "reason": "x"},
    )
    assert emergency.status_code == 400 and 'role="alert"' in emergency.text
    code = await client.post(
        f"/courier/deliveries/{world.delivery_id}/confirm",
        headers=world.headers(COURIER),
        data={"code": "WRONG-CODE"},
    )
    assert code.status_code == 400 and 'role="alert"' in code.text
    convert = await client.post(
        f"/staff/help-requests/{world.help_request_id}/convert",
        headers=staff,
        data={
            "category": "dibao",
            "head_name": "某",
            "id_number": "123",
            "current_address": "某村",
            "region_code": "230111",
            "birth_years": "1950",
        },
    )
    assert convert.status_code == 400 and 'role="alert"' in convert.text
    assert await Household.count().where(Household.head_name == "某").run() == 0


async def test_a_csv_import_shows_each_row_error(client: httpx.AsyncClient, world: World) -> None:
    content = "姓名,区划代码,类别\n张三,230111,低保\n,230111,低保\n李四,999999,低保\n"
    answer = await client.post(
        "/staff/help-requests/import?lang=en",
        headers=world.headers(STAFF),
        files={"file": ("candidates.csv", content.encode(), "text/csv")},
    )
    assert answer.status_code == 200
    assert "1 of 3 rows imported." in answer.text
    rows = re.findall(r'data-label="Row" class="num">(\d+)<', answer.text)
    assert rows == ["3", "4"]


async def test_staff_verify_a_household_and_see_its_expiry(
    client: httpx.AsyncClient, world: World
) -> None:
    await (
        Household.update({Household.status: "unverified"})
        .where(Household.id == world.household_id)
        .run()
    )
    answer = await client.post(
        f"/staff/households/{world.household_id}/verify",
        headers=world.headers(STAFF),
        data={"next": "/staff/households?verification=current"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff/households?verification=current"
    listed = await get_page(client, world, STAFF, "/staff/households?verification=current")
    assert "有效期至" in listed.text


async def test_the_round_progress_partial_polls_until_the_round_ends(
    client: httpx.AsyncClient, world: World
) -> None:
    done = await get_page(client, world, STAFF, f"/staff/rounds/{world.round_id}/progress")
    assert 'data-status="proposed"' in done.text and "hx-trigger" not in done.text
    started = await client.post(
        "/staff/rounds", headers=world.headers(NEIGHBOUR), data={"item_codes": "quilt"}
    )
    assert started.status_code == 303
    round_page = await client.get(started.headers["location"], headers=world.headers(NEIGHBOUR))
    assert 'id="round-progress"' in round_page.text and "<progress" in round_page.text


async def test_a_courier_confirms_with_the_code_from_the_slip(
    client: httpx.AsyncClient, world: World
) -> None:
    slip = await client.post(
        f"/staff/deliveries/{world.delivery_id}/slip", headers=world.headers(STAFF)
    )
    code = re.search(r'data-field="code">([^<]+)<', slip.text)[1]  # type: ignore[index]
    assert "<svg" in slip.text, "the slip carries its QR code"
    confirmed = await client.post(
        f"/courier/deliveries/{world.delivery_id}/confirm",
        headers=world.headers(COURIER),
        data={"code": code},
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/courier"


async def test_the_public_pages_never_show_a_household(
    client: httpx.AsyncClient, world: World
) -> None:
    for path in ("/", "/dashboard", "/give", f"/donations/{world.tracking_code_x}"):
        for lang in ("zh-CN", "en"):
            text = (await get_page(client, world, ANON, path, lang)).text
            for secret in ("测试户主", "HHWORLD", "13912345678", "现住址", "123X"):
                assert secret not in text, (path, secret)


async def test_staff_approve_ticked_proposals_and_a_bad_quantity_edit_is_a_message(
    client: httpx.AsyncClient, world: World
) -> None:
    staff, pid = world.headers(STAFF), str(world.proposal_id)
    edited = await client.post(
        f"/staff/rounds/{world.round_id}/approve",
        headers=staff,
        data={"proposal_id": pid, f"quantity_{pid}": "0", f"original_{pid}": "1"},
    )
    assert edited.status_code == 400 and 'role="alert"' in edited.text
    assert 'class="flash"' not in edited.text and 'class="badge ok"' not in edited.text
    proposal = await Proposal.select(Proposal.status).where(Proposal.id == world.proposal_id).run()
    assert proposal == [{"status": "proposed"}], "nothing approved"
    approved = await client.post(
        f"/staff/rounds/{world.round_id}/approve",
        headers=staff,
        data={"proposal_id": pid, f"quantity_{pid}": "1", f"original_{pid}": "1"},
    )
    assert approved.status_code == 303
    shown = await client.get(approved.headers["location"], headers=staff)
    assert "已批准 1 条" in shown.text  # the flash message, then the row's status


async def test_staff_print_ticked_visits_as_one_page_and_a_second_print_says_reprint(
    client: httpx.AsyncClient, world: World
) -> None:
    listed = await client.get("/staff/deliveries", headers=world.headers(STAFF))
    assert f'name="visit_id" value="{world.visit_id}"' in listed.text
    printed = await client.post(
        "/staff/visits/slips",
        headers=world.headers(STAFF),
        data={"visit_id": [str(world.visit_id)], "paper": "a4"},
    )
    assert printed.status_code == 200, printed.text
    assert printed.text.count('class="slip-card') == 1 and "<svg" in printed.text
    assert 'data-testid="reprint"' in printed.text, "the world's slip was printed before: 补打"
    assert "补打" in printed.text and "12345" in printed.text


async def test_the_courier_searches_visits_and_a_locked_visit_names_whom_to_call(
    client: httpx.AsyncClient, world: World
) -> None:
    found = await client.get("/courier", params={"q": "HHWORLD"}, headers=world.headers(COURIER))
    assert f'href="/courier/visits/{world.visit_id}"' in found.text
    missing = await client.get("/courier", params={"q": "无此地址"}, headers=world.headers(COURIER))
    assert f'href="/courier/visits/{world.visit_id}"' not in missing.text
    for _ in range(5):
        await client.post(
            f"/courier/visits/{world.visit_id}/confirm",
            headers=world.headers(COURIER),
            data={"code": "00000000"},
        )
    locked = await client.get(f"/courier/visits/{world.visit_id}", headers=world.headers(COURIER))
    assert 'data-testid="locked"' in locked.text and 'href="tel:12345"' in locked.text
