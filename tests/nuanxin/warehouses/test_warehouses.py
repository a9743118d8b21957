"""Warehouses: where they may stand, who changes them, and the offers that rest on them."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx

import nuanxin.warehouses
from nuanxin.offers.tables import Offer
from nuanxin.warehouses.tables import Warehouse
from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.world import build_world
from tests.nuanxin.helpers import assert_error


def imported_modules(package: Path) -> set[str]:
    """Every module a package's sources import, at the top or inside functions."""
    found: set[str] = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return found


def test_the_warehouse_area_knows_nothing_of_offers() -> None:
    package = Path(nuanxin.warehouses.__file__).parent
    offers = {m for m in imported_modules(package) if m.startswith("nuanxin.offers")}
    assert offers == set()


async def test_a_warehouse_stands_in_a_county_or_township_and_its_offers_move_with_it(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    member = world.headers(Caller.CHARITY)
    url = f"/api/organizations/{world.charity_x_id}/warehouses"
    city = await client.post(
        url, json={"name": "市仓", "address": "某路", "region_code": "230100"}, headers=member
    )
    assert assert_error(city, 400, "bad_request")["field"] == "region_code"
    half = await client.post(
        url,
        json={"name": "半点", "address": "某路", "region_code": "230111", "lat": 45.9},
        headers=member,
    )
    assert assert_error(half, 400, "bad_request")["field"] == "lon"
    out_of_range = await client.post(
        url,
        json={"name": "远", "address": "某路", "region_code": "230111", "lat": 91, "lon": 0},
        headers=member,
    )
    assert assert_error(out_of_range, 400, "validation_error")["field"] == "lat"
    assert await Warehouse.count() == 2

    moved = await client.patch(
        f"/api/warehouses/{world.warehouse_x_id}",
        json={"lat": 45.95, "lon": 126.65},
        headers=member,
    )
    assert moved.status_code == 200, moved.text
    offer = await Offer.select(Offer.lat, Offer.lon).where(Offer.id == world.offer_x_id).first()
    assert offer == {"lat": 45.95, "lon": 126.65}
    in_use = await client.delete(f"/api/warehouses/{world.warehouse_x_id}", headers=member)
    assert_error(in_use, 409, "warehouse_in_use")
    spare = await client.post(
        url, json={"name": "备用仓", "address": "某路", "region_code": "230111"}, headers=member
    )
    assert (
        await client.delete(f"/api/warehouses/{spare.json()['id']}", headers=member)
    ).status_code == 204
    other = await client.patch(
        f"/api/warehouses/{world.warehouse_y_id}", json={"name": "抢"}, headers=member
    )
    assert_error(other, 404, "not_found")
    assert_error(
        await client.get(
            f"/api/warehouses/{world.warehouse_x_id}", headers=world.headers(Caller.NEIGHBOUR)
        ),
        404,
        "not_found",
    )
