"""Offers: posted from one's own warehouses, seen within reach, and stock that adds up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from nuanxin.accounts.tables import Organization
from nuanxin.audit.tables import AuditEntry
from nuanxin.errors import DomainError
from nuanxin.identity import CurrentUser, Role
from nuanxin.offers import services
from nuanxin.offers.tables import Offer
from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.world import World, build_world
from tests.nuanxin.test_app import assert_error

TODAY = datetime.now(UTC).date()


def offer_body(warehouse_id: int, **changes: Any) -> dict[str, Any]:
    return {
        "warehouse_id": warehouse_id,
        "item_code": "electric_blanket",
        "quantity": 10,
        "radius_km": 25.5,
        "available_from": TODAY.isoformat(),
        "available_until": (TODAY + timedelta(days=30)).isoformat(),
        **changes,
    }


async def stock(offer_id: int) -> dict[str, Any]:
    row = (
        await Offer.select(
            Offer.quantity,
            Offer.available,
            Offer.reserved,
            Offer.delivered,
            Offer.withdrawn,
            Offer.status,
        )
        .where(Offer.id == offer_id)
        .first()
        .run()
    )
    assert row is not None
    parts = row["available"] + row["reserved"] + row["delivered"] + row["withdrawn"]
    assert parts == row["quantity"], row
    return dict(row)


async def fresh_offer(client: httpx.AsyncClient, world: World, quantity: int = 20) -> int:
    """A new offer of charity X: 20 quilts, none reserved (the world's may be, by other areas)."""
    posted = await client.post(
        "/api/offers",
        json=offer_body(world.warehouse_x_id, item_code="quilt", quantity=quantity),
        headers=world.headers(Caller.CHARITY),
    )
    assert posted.status_code == 201, posted.text
    return int(posted.json()["id"])


def staff_of(world: World) -> CurrentUser:
    return CurrentUser(
        id=world.user_ids[Caller.STAFF],
        username="w_staff",
        role=Role.staff,
        jurisdiction_id=world.county_a_id,
        organization_id=None,
        jurisdiction_code="230111",
        jurisdiction_level="county",
    )


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


async def test_stock_never_goes_negative_and_always_adds_up(client: httpx.AsyncClient) -> None:
    world = await build_world()
    offer_id, staff = await fresh_offer(client, world), staff_of(world)
    await services.reserve(offer_id=offer_id, quantity=15, actor=staff)
    with pytest.raises(DomainError) as short:
        await services.reserve(offer_id=offer_id, quantity=6, actor=staff)
    assert short.value.error == "insufficient_stock"
    assert await stock(offer_id) == {
        "quantity": 20,
        "available": 5,
        "reserved": 15,
        "delivered": 0,
        "withdrawn": 0,
        "status": "open",
    }

    member = world.headers(Caller.CHARITY)
    url = f"/api/offers/{offer_id}"
    below = await client.patch(url, json={"quantity": 14, "note": "改少"}, headers=member)
    assert assert_error(below, 409, "below_reserved")["field"] == "quantity"
    assert (await stock(offer_id))["quantity"] == 20
    note = await Offer.select(Offer.note).where(Offer.id == offer_id).first()
    assert note == {"note": ""}  # the refused edit wrote nothing
    down = await client.patch(url, json={"quantity": 15}, headers=member)
    assert (down.json()["available"], down.json()["reserved"]) == (0, 15)
    up = await client.patch(url, json={"quantity": 30}, headers=member)
    assert up.json()["available"] == 15

    too_much = await client.post(
        f"{url}/withdraw", json={"reason": "调拨", "quantity": 16}, headers=member
    )
    assert_error(too_much, 409, "insufficient_stock")
    await client.post(f"{url}/withdraw", json={"reason": "调拨", "quantity": 5}, headers=member)
    await services.deliver(offer_id=offer_id, quantity=10, actor=staff)
    with pytest.raises(DomainError) as over:
        await services.deliver(offer_id=offer_id, quantity=6, actor=staff)
    assert over.value.error == "insufficient_reserved"
    await services.release(offer_id=offer_id, quantity=2, actor=staff, reason="户主外出")
    assert await stock(offer_id) == {
        "quantity": 30,
        "available": 12,
        "reserved": 3,
        "delivered": 10,
        "withdrawn": 5,
        "status": "open",
    }

    withdrawn = await client.post(f"{url}/withdraw", json={"reason": "停止"}, headers=member)
    assert withdrawn.json()["status"] == "withdrawn"
    assert (withdrawn.json()["available"], withdrawn.json()["reserved"]) == (0, 3)
    with pytest.raises(DomainError):
        await services.reserve(offer_id=offer_id, quantity=1, actor=staff)
    await services.release(offer_id=offer_id, quantity=1, actor=staff, reason="送达失败")
    await services.deliver(offer_id=offer_id, quantity=2, actor=staff)
    assert await stock(offer_id) == {
        "quantity": 30,
        "available": 0,
        "reserved": 0,
        "delivered": 12,
        "withdrawn": 18,
        "status": "withdrawn",
    }
    edit = await client.patch(url, json={"note": "晚了"}, headers=member)
    assert_error(edit, 409, "offer_not_open")
    moves = await AuditEntry.count().where(
        (AuditEntry.entity == "offer") & (AuditEntry.entity_id == str(offer_id))
    )
    assert moves == 10  # every change that happened, none that was refused


async def test_an_offer_whose_units_are_all_delivered_closes(client: httpx.AsyncClient) -> None:
    world = await build_world()
    staff, offer_id = staff_of(world), await fresh_offer(client, world)
    await services.reserve(offer_id=offer_id, quantity=20, actor=staff)
    closed = await services.deliver(offer_id=offer_id, quantity=20, actor=staff)
    assert closed.status.value == "closed"
    assert (await stock(offer_id))["delivered"] == 20


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
    await services.reserve(offer_id=offer_id, quantity=1, actor=staff_of(world))
    back = await client.patch(url, json={"warehouse_id": world.warehouse_x_id}, headers=member)
    assert assert_error(back, 409, "conflict")["field"] == "warehouse_id"


async def test_open_stock_is_what_verified_charities_can_give_now(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    everything = await services.open_stock()
    assert {s.offer_id for s in everything} == {world.offer_x_id, world.offer_y_id}
    county_a = await services.open_stock(region_code="230111")
    available = (await stock(world.offer_x_id))["available"]
    assert [(s.offer_id, s.item_code, s.available) for s in county_a] == [
        (world.offer_x_id, "quilt", available)
    ]
    await Organization.update({Organization.status: "suspended"}).where(
        Organization.id == world.charity_y_id
    )
    assert {s.offer_id for s in await services.open_stock()} == {world.offer_x_id}
    later = await services.open_stock(on=TODAY + timedelta(days=365))
    assert later == []
