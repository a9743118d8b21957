"""The offline courier screen's pieces on the server: its service worker, its bar, and the
staff queue of codes typed offline, in both languages."""

from __future__ import annotations

import httpx

from nuanxin.deliveries.tables import OfflineReview, Visit
from tests.nuanxin.authz.model import COURIER, NEIGHBOUR, STAFF
from tests.nuanxin.authz.world import World
from tests.nuanxin.pages.conftest import get_page


async def test_the_service_worker_is_served_from_the_site_with_workbox_from_the_site(
    client: httpx.AsyncClient, world: World
) -> None:
    answer = await client.get("/courier-sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["service-worker-allowed"] == "/courier"
    assert answer.headers["cache-control"] == "no-cache"
    assert 'importScripts("/static/vendor/workbox-sw/workbox-sw.js")' in answer.text
    assert "googleapis" not in answer.text  # workbox-sw's default CDN is never named


async def test_the_courier_pages_carry_the_waiting_bar_in_the_pages_language(
    client: httpx.AsyncClient, world: World
) -> None:
    for path in ("/courier", f"/courier/visits/{world.visit_id}"):
        chinese = await get_page(client, world, COURIER, path)
        assert chinese.status_code == 200
        assert 'data-waiting="%(n)s 条待上传"' in chinese.text
        assert 'data-queued="已送达（待上传）"' in chinese.text
        assert '<script src="/static/courier-offline.js" defer></script>' in chinese.text
        english = await get_page(client, world, COURIER, path, lang="en")
        assert 'data-waiting="%(n)s waiting to send"' in english.text
    visit = await get_page(client, world, COURIER, f"/courier/visits/{world.visit_id}")
    assert f'data-visit-id="{world.visit_id}"' in visit.text
    assert 'id="share-position"' in visit.text  # the position only with the courier's consent


async def test_staff_see_the_codes_typed_offline_and_settle_one_in_either_language(
    client: httpx.AsyncClient, world: World
) -> None:
    listed = await get_page(client, world, STAFF, "/staff/offline-reviews")
    assert listed.status_code == 200
    assert "待核实的离线确认" in listed.text
    assert f'data-testid="offline-review-{world.review_id}"' in listed.text
    assert "到户输入的确认码与签收单不符" in listed.text
    english = await get_page(client, world, STAFF, "/staff/offline-reviews", lang="en")
    assert "Codes typed offline, waiting for staff" in english.text
    elsewhere = await get_page(client, world, NEIGHBOUR, "/staff/offline-reviews")
    assert f"offline-review-{world.review_id}" not in elsewhere.text
    one = await get_page(client, world, STAFF, f"/staff/offline-reviews/{world.review_id}")
    assert one.status_code == 200 and "受助家庭怎么说？" in one.text
    one_en = await get_page(
        client, world, STAFF, f"/staff/offline-reviews/{world.review_id}", lang="en"
    )
    assert "What did the household say?" in one_en.text
    assert (
        await get_page(client, world, NEIGHBOUR, f"/staff/offline-reviews/{world.review_id}")
    ).status_code == 404


async def test_settling_without_a_note_keeps_the_choice_and_names_the_field(
    client: httpx.AsyncClient, world: World
) -> None:
    refused = await client.post(
        f"/staff/offline-reviews/{world.review_id}/resolve",
        headers=world.headers(STAFF),
        data={"outcome": "delivered", "note": " "},
    )
    assert refused.status_code == 400
    assert "<title>错误：" in refused.text
    assert 'href="#note"' in refused.text
    assert 'value="delivered" id="outcome-delivered" checked' in refused.text
    row = (
        await OfflineReview.select(OfflineReview.status)
        .where(OfflineReview.id == world.review_id)
        .first()
    )
    assert row is not None and row["status"] == "open"
    settled = await client.post(
        f"/staff/offline-reviews/{world.review_id}/resolve",
        headers=world.headers(STAFF),
        data={"outcome": "delivered", "note": "电话回访，户主确认已收到"},
    )
    assert settled.status_code == 303, settled.text[:500]
    assert settled.headers["location"] == "/staff/offline-reviews"
    visit = await Visit.select(Visit.status).where(Visit.id == world.visit_id).first()
    assert visit is not None and visit["status"] == "delivered"
    again = await client.post(
        f"/staff/offline-reviews/{world.review_id}/resolve",
        headers=world.headers(STAFF),
        data={"outcome": "dismissed", "note": "再看"},
    )
    assert again.status_code == 400
    assert "这条离线确认已经处理过了" in again.text
