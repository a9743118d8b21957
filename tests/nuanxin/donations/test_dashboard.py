"""The public dashboard: every figure under a county, and its rows add up to what was delivered."""

from __future__ import annotations

import httpx

from nuanxin.deliveries.tables import Allocation
from nuanxin.deliveries.vocabulary import AllocationStatus
from nuanxin.regions.tables import Region
from nuanxin.warehouses.tables import Warehouse
from tests.nuanxin.conftest import csrf_headers, run_jobs
from tests.nuanxin.loop_world import COUNTY, NEIGHBOUR, add_household, build_loop, region


async def test_goods_count_under_the_county_and_the_rows_sum_to_the_delivered_total(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    city = await Region.select(Region.id).where(Region.code == "230100").first().run()
    assert city is not None
    township = await region("230111100", "康金街道", "township", loop.county_id, COUNTY)
    neighbour = await region("230112", "阿城区", "county", int(city["id"]), NEIGHBOUR)
    stored = (
        await Warehouse.insert(
            Warehouse(
                organization=loop.charity_id,
                name="康金仓库",
                address="康金街道仓库路",
                region=township,
                lat=COUNTY[0],
                lon=COUNTY[1],
            )
        )
        .returning(Warehouse.id)
        .run()
    )
    await add_household(loop, "HHT", (COUNTY[0] + 0.01, COUNTY[1]), quilts=2, region_id=township)
    await add_household(loop, "HHN", (NEIGHBOUR[0], NEIGHBOUR[1]), quilts=1, region_id=neighbour)

    given = await client.post(
        "/api/goods-donations",
        json={"organization_id": loop.charity_id, "item_code": "quilt", "quantity": 3},
        headers=await csrf_headers(client),
    )
    assert given.status_code == 201, given.text
    accepted = await client.post(
        f"/api/donations/{given.json()['donation_id']}/accept",
        json={"warehouse_id": int(stored[0]["id"]), "radius_km": 80},
        headers=loop.auth("charity"),
    )
    assert accepted.status_code == 200, accepted.text

    started = await client.post(
        "/api/rounds", json={"item_codes": ["quilt"]}, headers=loop.auth("province")
    )
    assert started.status_code == 202, started.text
    assert await run_jobs() == 1  # the round runs as a job
    approval = await client.post(
        f"/api/rounds/{started.json()['id']}/approve",
        json={"all": True},
        headers=loop.auth("province"),
    )
    assert len(approval.json()["delivery_ids"]) == 2, approval.text
    for delivery_id in approval.json()["delivery_ids"]:
        slip = await client.post(
            f"/api/deliveries/{delivery_id}/slip", headers=loop.auth("province")
        )
        confirmed = await client.post(
            f"/api/deliveries/{delivery_id}/confirm",
            json={"code": slip.json()["code"]},
            headers=loop.auth("courier"),
        )
        assert confirmed.status_code == 200, confirmed.text

    rows = (await client.get("/api/donation-dashboard")).json()
    assert all(len(row["county_code"]) == 6 for row in rows), "every row is a county"
    by_key = {(row["county_code"], row["kind"]): row for row in rows}
    assert by_key[("230111", "quilt")]["donated_units"] == 3, "the township's county"
    assert by_key[("230111", "quilt")]["delivered_units"] == 2
    assert by_key[("230112", "quilt")]["delivered_units"] == 1, "delivered next door"
    assert by_key[("230112", "quilt")]["county_name"] == "阿城区"
    delivered = await Allocation.select(Allocation.quantity).where(
        Allocation.status == AllocationStatus.delivered
    )
    assert sum(row["delivered_units"] for row in rows) == sum(row["quantity"] for row in delivered)
