"""Staff tasks in pages: retry a failed round, confirm a visit they witnessed, resolve a "not
received" case. Each as staff of the record's county; other roles and counties are kept out;
a refused form keeps what was typed and says what is wrong beside the field."""

from __future__ import annotations

import httpx

from nuanxin.rounds.tables import MatchingRound
from tests.nuanxin.authz.model import CHARITY, NEIGHBOUR, STAFF
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
