"""Helpers shared by the offers tests: a fresh offer, its stock as stored, a staff caller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from nuanxin.identity import CurrentUser, Role
from nuanxin.offers.tables import Item, Offer
from nuanxin.warehouses.tables import Warehouse
from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.world import World

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


async def stored_offer(world: World, quantity: int = 20, item_code: str = "quilt") -> int:
    """The offer :func:`fresh_offer` makes, written straight to the table (no app to build):
    charity X's, at its warehouse's place, within 25.5 km, for the next 30 days."""
    warehouse = (
        await Warehouse.select(Warehouse.lat, Warehouse.lon)
        .where(Warehouse.id == world.warehouse_x_id)
        .first()
        .run()
    )
    item = await Item.select(Item.id).where(Item.code == item_code).first().run()
    assert warehouse is not None and item is not None
    now = datetime.now(UTC)
    rows = (
        await Offer.insert(
            Offer(
                organization=world.charity_x_id,
                warehouse=world.warehouse_x_id,
                item=item["id"],
                quantity=quantity,
                available=quantity,
                lat=warehouse["lat"],
                lon=warehouse["lon"],
                radius_km=25.5,
                available_from=TODAY,
                available_until=TODAY + timedelta(days=30),
                created_at=now,
                updated_at=now,
            )
        )
        .returning(Offer.id)
        .run()
    )
    return int(rows[0]["id"])


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
