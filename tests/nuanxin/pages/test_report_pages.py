"""Reports in pages: anyone reports a person in difficulty, staff log a hotline call, a
household reports aid not received with its code, staff read those cases."""

from __future__ import annotations

import httpx

from nuanxin.deliveries.tables import DeliveryCase
from nuanxin.help_requests.tables import HelpRequest
from tests.nuanxin.authz.model import ANON, CHARITY, NEIGHBOUR, STAFF
from tests.nuanxin.authz.world import DELIVERY_CODE, World
from tests.nuanxin.conftest import csrf_headers
from tests.nuanxin.pages.conftest import get_page


async def test_anyone_reports_a_person_in_difficulty_in_a_page(
    client: httpx.AsyncClient, world: World
) -> None:
    form = await get_page(client, world, ANON, "/help")
    assert form.status_code == 200
    assert form.headers["content-type"].startswith("text/html")
    assert "反映困难群众" in form.text
    before = await HelpRequest.count().run()
    answer = await client.post(
        "/help?lang=zh-CN",
        data={"region": "呼兰", "description": "老人独居，没有煤", "address": "新华村"},
        headers=await csrf_headers(client),
    )
    assert answer.status_code == 303, answer.text
    assert await HelpRequest.count().run() == before + 1


async def test_a_report_without_a_description_keeps_the_values_and_names_the_field(
    client: httpx.AsyncClient, world: World
) -> None:
    answer = await client.post(
        "/help?lang=zh-CN",
        data={"region": "呼兰区", "description": "", "person_name": "王大爷"},
        headers=await csrf_headers(client),
    )
    assert answer.status_code == 400
    assert 'href="#description"' in answer.text
    assert 'value="王大爷"' in answer.text
    assert "<title>错误：" in answer.text


async def test_staff_log_a_hotline_call_and_other_roles_cannot(
    client: httpx.AsyncClient, world: World
) -> None:
    assert (await get_page(client, world, STAFF, "/staff/hotline", "en")).status_code == 200
    answer = await client.post(
        "/staff/hotline",
        data={"region": "230111", "description": "来电：无煤", "reporter_contact": "邻居"},
        headers=world.headers(STAFF),
    )
    assert answer.status_code == 303
    row = (
        await HelpRequest.select(HelpRequest.source)
        .order_by(HelpRequest.id, ascending=False)
        .first()
        .run()
    )
    assert row == {"source": "hotline"}
    assert (await get_page(client, world, CHARITY, "/staff/hotline")).status_code == 403


async def test_a_household_reports_aid_not_received_with_its_code(
    client: httpx.AsyncClient, world: World
) -> None:
    before = await DeliveryCase.count().run()  # the world's own case
    headers = await csrf_headers(client)
    wrong = await client.post(
        "/not-received?lang=zh-CN", data={"code": "0000 0000"}, headers=headers
    )
    assert wrong.status_code == 400
    assert 'href="#code"' in wrong.text
    assert "0000 0000" in wrong.text
    answer = await client.post(
        "/not-received", data={"code": DELIVERY_CODE, "description": "没有人来"}, headers=headers
    )
    assert answer.status_code == 303, answer.text
    assert await DeliveryCase.count().run() == before + 1
    cases = await get_page(client, world, STAFF, "/staff/cases")
    assert "没有人来" in cases.text
    elsewhere = await get_page(client, world, NEIGHBOUR, "/staff/cases")
    assert elsewhere.status_code == 200
    assert "没有人来" not in elsewhere.text
    assert (await get_page(client, world, CHARITY, "/staff/cases")).status_code == 403
