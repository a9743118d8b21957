"""Offers: posted from one's own warehouses, seen within reach, and stock that adds up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import msgspec

from nuanxin.offers import stock as ledger
from nuanxin.offers.reading import OFFER_COLUMNS, offer_from_row
from nuanxin.offers.tables import Offer
from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.world import build_world
from tests.nuanxin.helpers import assert_error
from tests.nuanxin.offers.helpers import TODAY, fresh_offer, offer_body, staff_of, stock


async def test_the_catalogue_is_public(client: httpx.AsyncClient) -> None:
    await build_world()
    items = (await client.get("/api/items")).json()
    codes = {item["code"] for item in items}
    assert {"coal", "quilt", "electric_blanket", "coat_child_130", "stove"} <= codes
    blanket = next(item for item in items if item["code"] == "electric_blanket")
    assert blanket["requires"] == ["electricity"]
    coats = (await client.get("/api/items", params={"kind": "coat_adult"})).json()
    assert len(coats) == 5


async def test_an_offer_is_posted_from_ones_own_warehouse_with_a_catalogue_item(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    member = world.headers(Caller.CHARITY)
    cases: list[tuple[dict[str, Any], int, str]] = [
        (offer_body(world.warehouse_y_id), 404, "warehouse_id"),
        (offer_body(999_999), 404, "warehouse_id"),
        (offer_body(world.warehouse_x_id, item_code="caviar"), 400, "item_code"),
        (offer_body(world.warehouse_x_id, quantity=0), 400, "quantity"),
        (offer_body(world.warehouse_x_id, radius_km=501), 400, "radius_km"),
        (
            offer_body(
                world.warehouse_x_id, available_until=(TODAY - timedelta(days=1)).isoformat()
            ),
            400,
            "available_until",
        ),
        (
            offer_body(
                world.warehouse_x_id,
                available_from=(TODAY + timedelta(days=9)).isoformat(),
                available_until=(TODAY + timedelta(days=8)).isoformat(),
            ),
            400,
            "available_until",
        ),
        ({**offer_body(world.warehouse_x_id), "reserved": 5}, 400, "reserved"),
    ]
    for body, status, field in cases:
        response = await client.post("/api/offers", json=body, headers=member)
        assert response.status_code == status, (body, response.text)
        assert response.json()["field"] == field, response.text
    assert await Offer.count() == 2
    courier = await client.post(
        "/api/offers", json=offer_body(world.warehouse_x_id), headers=world.headers(Caller.COURIER)
    )
    assert_error(courier, 403, "forbidden")
    staff = await client.post(
        "/api/offers", json=offer_body(world.warehouse_x_id), headers=world.headers(Caller.STAFF)
    )
    assert_error(staff, 403, "forbidden")
    posted = await client.post("/api/offers", json=offer_body(world.warehouse_x_id), headers=member)
    assert posted.status_code == 201
    assert posted.json()["item_kind"] == "electric_blanket"


async def test_each_caller_sees_only_the_offers_within_reach(client: httpx.AsyncClient) -> None:
    world = await build_world()
    x, y = world.offer_x_id, world.offer_y_id
    expected = {
        Caller.ADMIN: {x, y},
        Caller.PROVINCE: {x, y},
        Caller.STAFF: {x},
        Caller.NEIGHBOUR: {y},
        Caller.CHARITY: {x},
        Caller.COURIER: {x},
        Caller.OTHER_CHARITY: {y},
    }
    for caller, offers in expected.items():
        listed = await client.get("/api/offers", headers=world.headers(caller))
        assert {o["id"] for o in listed.json()["items"]} == offers, caller
        assert listed.json()["total"] == len(offers)
    assert_error(
        await client.get(f"/api/offers/{y}", headers=world.headers(Caller.STAFF)), 404, "not_found"
    )
    assert_error(
        await client.get(f"/api/offers/{x}", headers=world.headers(Caller.OTHER_CHARITY)),
        404,
        "not_found",
    )
    filtered = await client.get(
        "/api/offers",
        params={"region_code": "230112", "item_code": "quilt", "status": "open"},
        headers=world.headers(Caller.ADMIN),
    )
    assert [o["id"] for o in filtered.json()["items"]] == [y]
    none = await client.get(
        "/api/offers", params={"kind": "coal"}, headers=world.headers(Caller.ADMIN)
    )
    assert none.json()["total"] == 0


async def test_a_page_of_offers_counts_every_offer_within_reach_even_past_the_end(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    x, y = sorted((world.offer_x_id, world.offer_y_id))
    admin = world.headers(Caller.ADMIN)
    pages = [
        (await client.get("/api/offers", params=params, headers=admin)).json()
        for params in ({"limit": 1}, {"limit": 1, "offset": 1}, {"limit": 1, "offset": 5})
    ]
    assert [[o["id"] for o in page["items"]] for page in pages] == [[x], [y], []]
    assert [page["total"] for page in pages] == [2, 2, 2]
    assert [(page["limit"], page["offset"]) for page in pages] == [(1, 0), (1, 1), (1, 5)]
    by_warehouse = await client.get(
        "/api/offers", params={"warehouse_id": world.warehouse_y_id}, headers=admin
    )
    assert [o["id"] for o in by_warehouse.json()["items"]] == [world.offer_y_id]
    by_charity = await client.get(
        "/api/offers", params={"organization_id": world.charity_x_id}, headers=admin
    )
    assert [o["id"] for o in by_charity.json()["items"]] == [world.offer_x_id]
    listed = (await client.get("/api/offers", headers=admin)).json()["items"]
    through_piccolo = await Offer.select(*OFFER_COLUMNS).order_by(Offer.id).run()
    assert listed == [msgspec.to_builtins(offer_from_row(row)) for row in through_piccolo]
    available = await client.get("/api/offers", params={"available_only": True}, headers=admin)
    assert available.json()["total"] == 2
    neighbour = await client.get(
        "/api/offers", params={"limit": 1, "offset": 1}, headers=world.headers(Caller.NEIGHBOUR)
    )
    assert neighbour.json() == {"items": [], "total": 1, "limit": 1, "offset": 1}


async def test_only_the_charitys_own_members_change_its_offers(client: httpx.AsyncClient) -> None:
    world = await build_world()
    url = f"/api/offers/{world.offer_x_id}"
    before = await stock(world.offer_x_id)
    other = await client.patch(
        url, json={"quantity": 1}, headers=world.headers(Caller.OTHER_CHARITY)
    )
    assert_error(other, 404, "not_found")
    courier = await client.post(
        f"{url}/withdraw", json={"reason": "x"}, headers=world.headers(Caller.COURIER)
    )
    assert_error(courier, 403, "forbidden")
    assert await stock(world.offer_x_id) == before


async def test_an_offer_moves_to_another_own_warehouse_only_while_nothing_is_reserved(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    member = world.headers(Caller.CHARITY)
    second = await client.post(
        f"/api/organizations/{world.charity_x_id}/warehouses",
        json={
            "name": "二仓",
            "address": "某路",
            "region_code": "230111",
            "lat": 45.7,
            "lon": 126.4,
        },
        headers=member,
    )
    offer_id = await fresh_offer(client, world)
    url = f"/api/offers/{offer_id}"
    moved = await client.patch(url, json={"warehouse_id": second.json()["id"]}, headers=member)
    assert (moved.json()["lat"], moved.json()["lon"]) == (45.7, 126.4)
    foreign = await client.patch(url, json={"warehouse_id": world.warehouse_y_id}, headers=member)
    assert_error(foreign, 404, "not_found")
    await ledger.reserve(offer_id=offer_id, quantity=1, actor=staff_of(world))
    back = await client.patch(url, json={"warehouse_id": world.warehouse_x_id}, headers=member)
    assert assert_error(back, 409, "conflict")["field"] == "warehouse_id"
