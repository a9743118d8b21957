"""The slips and the courier's pages: batches per township and per charity, one card per
household, the camera offered only beside the typed code, a locked delivery names whom to call."""

from __future__ import annotations

import re

import httpx

from nuanxin.accounts.tables import Organization
from nuanxin.deliveries.tables import Visit
from tests.nuanxin.authz.model import COURIER, STAFF
from tests.nuanxin.authz.world import World
from tests.nuanxin.conftest import run_jobs
from tests.nuanxin.loop_world import COUNTY, Loop, add_household, add_offer, build_loop


async def _approve_all(client: httpx.AsyncClient, loop: Loop) -> None:
    started = await client.post("/api/rounds", json={}, headers=loop.auth("staff"))
    assert started.status_code == 202, started.text
    await run_jobs()
    approved = await client.post(
        f"/api/rounds/{started.json()['id']}/approve",
        json={"all": True},
        headers=loop.auth("staff"),
    )
    assert approved.status_code == 200, approved.text


async def test_the_courier_sees_one_card_per_household_holding_its_visits(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    await add_household(loop, "HC1", (COUNTY[0] + 0.01, COUNTY[1]), quilts=2)
    await add_household(loop, "HC2", (COUNTY[0] + 0.02, COUNTY[1]), quilts=1)
    await add_offer(loop, quantity=2)
    await _approve_all(client, loop)
    first = await Visit.select(Visit.id).where(Visit.household == loop.households[0]).run()
    printed = await client.post(f"/api/visits/{first[0]['id']}/slip", headers=loop.auth("staff"))
    assert printed.status_code == 201, printed.text
    await add_offer(loop, quantity=1)  # a second visit for HC1: its first slip is printed
    await _approve_all(client, loop)

    listed = await client.get("/courier", params={"lang": "zh-CN"}, headers=loop.auth("courier"))
    assert listed.status_code == 200, listed.text
    cards = re.findall(r'data-testid="household-(\w+)"', listed.text)
    assert cards == ["HC1", "HC2"], "one card per household, in reference order"
    after = listed.text.split('data-testid="household-HC1"')[1]
    hc1 = after.split('data-testid="household-HC2"')[0]
    assert len(re.findall(r'data-testid="deliver-visit-\d+"', hc1)) == 2
    assert "第 1 次" in hc1 and "第 2 次" in hc1
    assert "共 2 户" in listed.text and "3 次" in listed.text

    english = await client.get("/courier", params={"lang": "en"}, headers=loop.auth("courier"))
    assert "2 households · 3 visits" in english.text

    searched = await client.get(
        "/courier",
        params={"q": "HC2"},
        headers={**loop.auth("courier"), "HX-Request": "true", "HX-Target": "visit-list"},
    )
    assert re.findall(r'data-testid="household-(\w+)"', searched.text) == ["HC2"]
    assert "<html" not in searched.text, "an htmx search answers the list alone"


async def test_the_code_form_offers_the_camera_only_beside_the_typed_code(
    client: httpx.AsyncClient, world: World
) -> None:
    shown = await client.get(f"/courier/visits/{world.visit_id}", headers=world.headers(COURIER))
    assert shown.status_code == 200
    form = shown.text.split('data-testid="confirm-form"')[1].split("</form>")[0]
    assert 'inputmode="numeric"' in form and 'name="code"' in form and "required" in form
    assert re.search(r'<button type="button" class="secondary" id="scan" hidden', form), (
        "the scan button stays hidden until the script finds a camera and a QR reader"
    )
    assert 'id="scan-help" hidden' in form
    assert '<script src="/static/courier.js" defer></script>' in shown.text


async def test_a_locked_delivery_page_tells_the_courier_whom_to_call(
    client: httpx.AsyncClient, world: World
) -> None:
    for _ in range(5):
        await client.post(
            f"/courier/deliveries/{world.delivery_id}/confirm",
            headers=world.headers(COURIER),
            data={"code": "00000000"},
        )
    locked = await client.get(
        f"/courier/deliveries/{world.delivery_id}", headers=world.headers(COURIER)
    )
    assert locked.status_code == 200
    assert 'data-testid="locked"' in locked.text and 'href="tel:12345"' in locked.text
    assert "补打签收单" in locked.text, "the next step, in the page's language"
    assert 'data-testid="confirm-form"' not in locked.text, "no code form on a locked delivery"


async def test_staff_narrow_the_batch_to_one_charity_and_tick_a_township_at_once(
    client: httpx.AsyncClient, world: World
) -> None:
    mine = await client.get(
        "/staff/deliveries",
        params={"charity": str(world.charity_x_id)},
        headers=world.headers(STAFF),
    )
    assert f'name="visit_id" value="{world.visit_id}"' in mine.text
    x_name = (
        await Organization.select(Organization.name)
        .where(Organization.id == world.charity_x_id)
        .first()
        .run()
    )
    assert x_name is not None and f"<td>{x_name['name']}</td>" in mine.text, "charity column"
    assert f'<option value="{world.charity_x_id}" selected>' in mine.text
    assert 'data-select-group="group-1"' in mine.text and 'data-group="group-1"' in mine.text
    assert f'href="/staff/households/{world.household_id}"' in mine.text

    other = await client.get(
        "/staff/deliveries",
        params={"charity": str(world.charity_y_id)},
        headers=world.headers(STAFF),
    )
    assert f'name="visit_id" value="{world.visit_id}"' not in other.text
    assert "清除筛选" in other.text


async def test_a_printed_batch_shows_what_the_household_and_courier_need_with_a_qr_code(
    client: httpx.AsyncClient, world: World
) -> None:
    printed = await client.post(
        "/staff/visits/slips",
        headers=world.headers(STAFF),
        data={"visit_id": [str(world.visit_id)], "paper": "roll"},
    )
    assert printed.status_code == 200, printed.text
    card = printed.text.split('class="slip-card')[1].split("</article>")[0]
    assert "暖心" in card, "the platform's name"
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", card), "the date"
    for field in ("address", "charity", "hotline", "code", "qr"):
        assert f'data-field="{field}"' in card, field
    assert "12345" in card and "<svg" in card and "<tr data-item>" in card
    assert 'data-paper="roll"' in printed.text


async def test_staff_print_one_couriers_day_in_the_order_of_their_route(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    for n in range(3):
        await add_household(loop, f"HR{n}", (COUNTY[0] + 0.02 * (n + 1), COUNTY[1]))
    await add_offer(loop, quantity=3)
    await _approve_all(client, loop)
    visit_ids = [
        int(row["id"])
        for row in await Visit.select(Visit.id)
        .where(Visit.household.is_in(loop.households))
        .order_by(Visit.household)
        .run()
    ]
    planned = await client.post(
        "/api/routes",
        json={"warehouse_id": loop.warehouse_id, "visit_ids": [visit_ids[2], visit_ids[0]]},
        headers=loop.auth("courier"),
    )
    assert planned.status_code == 201, planned.text
    route = planned.json()
    order = [stop["visit_id"] for stop in route["stops"]]

    listed = await client.get("/staff/deliveries", headers=loop.auth("staff"))
    assert f'<option value="{route["id"]}">loop_courier · 暖冬基金会 (2)</option>' in listed.text
    mine = await client.get(
        "/staff/deliveries", params={"courier": str(route["id"])}, headers=loop.auth("staff")
    )
    ticks = [int(v) for v in re.findall(r'name="visit_id" value="(\d+)"', mine.text)]
    assert ticks == order, "the courier's visits, in the order of the route, and no others"
    assert "loop_courier 的今日路线" in mine.text
    assert f'<option value="{route["id"]}" selected>' in mine.text

    printed = await client.post(
        "/staff/visits/slips",
        headers=loop.auth("staff"),
        data={"visit_id": [str(v) for v in ticks], "paper": "a4"},
    )
    assert printed.status_code == 200 and printed.text.count('class="slip-card') == 2
    references = re.findall(r'data-field="reference">(\w+)<', printed.text)
    by_visit = {visit_ids[n]: f"HR{n}" for n in range(3)}
    assert references == [by_visit[v] for v in order], "printed in the route's order"
