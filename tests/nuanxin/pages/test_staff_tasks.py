"""Staff tasks in pages: retry a failed round, confirm a visit they witnessed, resolve a "not
received" case. Each as staff of the record's county; other roles and counties are kept out;
a refused form keeps what was typed and says what is wrong beside the field."""

from __future__ import annotations

import httpx

from nuanxin.deliveries.tables import DeliveryCase, Visit
from nuanxin.households.tables import Need
from nuanxin.rounds.tables import MatchingRound
from tests.nuanxin.authz.model import ADMIN, CHARITY, NEIGHBOUR, STAFF
from tests.nuanxin.authz.world import World
from tests.nuanxin.pages.conftest import get_page


async def _fail_round(round_id: int) -> None:
    await (
        MatchingRound.update({MatchingRound.status: "failed", MatchingRound.error: "求解超时"})
        .where(MatchingRound.id == round_id)
        .run()
    )


async def test_staff_run_a_failed_round_again_from_its_page(
    client: httpx.AsyncClient, world: World
) -> None:
    await _fail_round(world.round_id)
    shown = await get_page(client, world, STAFF, f"/staff/rounds/{world.round_id}")
    assert f'id="retry-round-{world.round_id}"' in shown.text
    assert "重新运行本轮匹配" in shown.text
    listed = await get_page(client, world, STAFF, "/staff/rounds", "en")
    assert "Run the round again" in listed.text
    path = f"/staff/rounds/{world.round_id}/retry"
    assert (await client.post(path, headers=world.headers(CHARITY))).status_code == 403
    assert (await client.post(path, headers=world.headers(NEIGHBOUR))).status_code == 404
    answer = await client.post(path, headers=world.headers(STAFF))
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/staff/rounds/{world.round_id}"
    row = await MatchingRound.select().where(MatchingRound.id == world.round_id).first().run()
    assert row is not None
    assert row["status"] == "running"


async def test_a_round_that_did_not_fail_is_not_run_again(
    client: httpx.AsyncClient, world: World
) -> None:
    answer = await client.post(
        f"/staff/rounds/{world.round_id}/retry?lang=zh-CN",
        headers={"accept": "text/html", **world.headers(STAFF)},
    )
    assert answer.status_code == 409
    assert "只有失败的匹配轮次才能重新运行" in answer.text


async def test_staff_resolve_a_not_received_case_and_writing_it_off_reopens_the_need(
    client: httpx.AsyncClient, world: World
) -> None:
    listing = await get_page(client, world, STAFF, "/staff/cases")
    assert f'href="/staff/cases/{world.case_id}"' in listing.text
    path = f"/staff/cases/{world.case_id}"
    shown = await get_page(client, world, STAFF, path)
    assert shown.status_code == 200
    assert 'id="resolve-case"' in shown.text
    blank = await client.post(
        f"{path}/resolve?lang=zh-CN",
        data={"outcome": "", "note": "回访"},
        headers=world.headers(STAFF),
    )
    assert blank.status_code == 400
    assert 'href="#outcome"' in blank.text
    assert "回访" in blank.text  # the note is kept
    need_before = await _need_quantity_open(world.need_id)
    answer = await client.post(
        f"{path}/resolve",
        data={"outcome": "written_off", "note": "电话回访：未收到，物资遗失"},
        headers=world.headers(STAFF),
    )
    assert answer.status_code == 303, answer.text
    row = await DeliveryCase.select().where(DeliveryCase.id == world.case_id).first().run()
    assert row is not None
    assert row["status"] == "resolved"
    assert row["outcome"] == "written_off"
    assert await _need_quantity_open(world.need_id) > need_before
    again = await client.post(
        f"{path}/resolve?lang=en",
        data={"outcome": "received", "note": "again"},
        headers=world.headers(STAFF),
    )
    assert again.status_code == 400
    assert "resolved already" in again.text
    resolved = await get_page(client, world, STAFF, path, "en")
    assert "Written off" in resolved.text
    assert 'id="resolve-case"' not in resolved.text


async def test_only_staff_of_the_county_resolve_a_case(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/staff/cases/{world.case_id}"
    data = {"outcome": "received", "note": "x"}
    assert (await get_page(client, world, NEIGHBOUR, path)).status_code == 404
    assert (
        await client.post(f"{path}/resolve", data=data, headers=world.headers(NEIGHBOUR))
    ).status_code == 404
    assert (await get_page(client, world, CHARITY, path)).status_code == 403
    assert (
        await client.post(f"{path}/resolve", data=data, headers=world.headers(ADMIN))
    ).status_code == 403  # an admin reads the case; staff of its county resolve it
    admin_view = await get_page(client, world, ADMIN, path, "en")
    assert 'id="resolve-case"' not in admin_view.text


async def test_staff_confirm_a_visit_they_witnessed_with_what_they_saw(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/staff/visits/{world.visit_id}"
    shown = await get_page(client, world, STAFF, path)
    assert shown.status_code == 200
    assert 'id="witness_reason"' in shown.text
    empty = await client.post(
        f"{path}/confirm?lang=zh-CN", data={"witness_reason": "  "}, headers=world.headers(STAFF)
    )
    assert empty.status_code == 400
    assert 'href="#witness_reason"' in empty.text
    assert 'id="witness_reason-error"' in empty.text
    answer = await client.post(
        f"{path}/confirm",
        data={"witness_reason": "12月3日在村委会亲见交给户主"},
        headers=world.headers(STAFF),
    )
    assert answer.status_code == 303, answer.text
    visit = await Visit.select().where(Visit.id == world.visit_id).first().run()
    assert visit is not None
    assert visit["status"] == "delivered"
    failed_late = await client.post(
        f"{path}/fail?lang=en", data={"fail_reason": "moved"}, headers=world.headers(STAFF)
    )
    assert failed_late.status_code == 400
    assert 'href="#fail_reason"' in failed_late.text


async def test_staff_record_a_failed_visit_and_others_cannot(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/staff/visits/{world.visit_id}"
    assert (await get_page(client, world, NEIGHBOUR, path)).status_code == 404
    assert (
        await client.post(
            f"{path}/confirm", data={"witness_reason": "x"}, headers=world.headers(NEIGHBOUR)
        )
    ).status_code == 404
    assert (await get_page(client, world, CHARITY, path)).status_code == 403
    answer = await client.post(
        f"{path}/fail", data={"fail_reason": "户主已搬走"}, headers=world.headers(STAFF)
    )
    assert answer.status_code == 303, answer.text
    visit = await Visit.select().where(Visit.id == world.visit_id).first().run()
    assert visit is not None
    assert visit["status"] == "failed"


async def _need_quantity_open(need_id: int) -> int:
    row = await Need.select().where(Need.id == need_id).first().run()
    assert row is not None
    return int(row["quantity"]) - int(row["allocated"])
