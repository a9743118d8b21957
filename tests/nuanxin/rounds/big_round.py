"""A county round of a thousand proposals, built with the areas' bulk helpers.

Five townships of 100 households each, every household needing a quilt and an electric
blanket; one charity offers the quilts, another the blankets: 500 households, 1,000 proposals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from nuanxin.accounts.tables import Organization
from nuanxin.households.bulk import insert_households, insert_needs
from nuanxin.identity import digest
from nuanxin.offers.bulk import insert_offers
from nuanxin.offers.tables import Item
from nuanxin.warehouses.bulk import insert_warehouses
from tests.nuanxin.conftest import run_jobs
from tests.nuanxin.loop_world import COUNTY, Loop, build_loop, region

TOWNSHIPS = 5
PER_TOWNSHIP = 100
LABEL = "review test"


@dataclass(kw_only=True)
class BigRound:
    loop: Loop
    round_id: int
    township_codes: list[str]
    quilt_charity: int
    blanket_charity: int


async def _item(code: str) -> int:
    row = await Item.select(Item.id).where(Item.code == code).first().run()
    assert row is not None
    return int(row["id"])


async def build_big_round(
    client: httpx.AsyncClient,
    *,
    townships: int = TOWNSHIPS,
    per_township: int = PER_TOWNSHIP,
    prefix: str = "",
) -> BigRound:
    loop = await build_loop(prefix=prefix)
    now = datetime.now(UTC)
    codes = []
    households = []
    for t in range(townships):
        code = f"230111{100 + t:03d}"
        codes.append(code)
        point = (COUNTY[0] + 0.02 * t, COUNTY[1] + 0.02 * t)
        township = await region(code, f"测试{t + 1}镇", "township", loop.county_id, point)
        for h in range(per_township):
            n = t * per_township + h
            households.append(
                {
                    "reference": f"{prefix}HB{n:05d}",
                    "category": ("dibao", "extremely_poor", "near_dibao")[n % 3],
                    "head_name": f"测试{n}",
                    "id_hash": digest(f"{prefix}big-{n}"),
                    "id_last4": f"{n % 10000:04d}",
                    "phone": f"139{n:08d}",
                    "registered_address": f"测试{t + 1}镇{h}号",
                    "current_address": f"测试{t + 1}镇{h}号",
                    "region": township,
                    "lat": point[0] + 0.0005 * (h % 10),
                    "lon": point[1] + 0.0005 * (h // 10),
                    "tags": ["electricity"],
                    "status": "verified",
                    "verified_at": now,
                    "verification_expires_at": now + timedelta(days=365),
                    "created_at": now,
                    "updated_at": now,
                }
            )
    ids = await insert_households(households, label=LABEL)
    quilt, blanket = await _item("quilt"), await _item("electric_blanket")
    await insert_needs(
        [
            {
                "household": household,
                "item": item,
                "quantity": 1,
                "weight": 1.0 + (index % 4) / 4,
                "rule": "test",
                "updated_at": now,
            }
            for index, household in enumerate(ids)
            for item in (quilt, blanket)
        ],
        label=LABEL,
    )
    other = (
        await Organization.insert(
            Organization(
                name=f"{prefix}电热毯互助会",
                credit_code=f"{prefix}91230100LOOP0002X"[-18:],
                status="verified",
                region=loop.county_id,
                contact_name="联系人",
                contact_phone="13800000001",
                created_at=now,
            )
        )
        .returning(Organization.id)
        .run()
    )
    blanket_charity = int(other[0]["id"])
    [other_warehouse] = await insert_warehouses(
        [
            {
                "organization": blanket_charity,
                "name": "互助会仓库",
                "address": "呼兰区仓库路 2 号",
                "region": loop.county_id,
                "lat": COUNTY[0],
                "lon": COUNTY[1],
            }
        ],
        label=LABEL,
    )
    total = townships * per_township
    await insert_offers(
        [
            {
                "organization": charity,
                "warehouse": warehouse,
                "item": item,
                "quantity": total,
                "lat": COUNTY[0],
                "lon": COUNTY[1],
                "radius_km": 60.0,
                "available_from": now.date(),
                "available_until": (now + timedelta(days=30)).date(),
                "created_at": now,
                "updated_at": now,
            }
            for charity, warehouse, item in (
                (loop.charity_id, loop.warehouse_id, quilt),
                (blanket_charity, other_warehouse, blanket),
            )
        ],
        label=LABEL,
    )
    started = await client.post("/api/rounds", json={}, headers=loop.auth("staff"))
    assert started.status_code == 202, started.text
    assert await run_jobs() == 1
    body = (
        await client.get(f"/api/rounds/{started.json()['id']}", headers=loop.auth("staff"))
    ).json()
    assert body["status"] == "proposed" and body["proposals"] == 2 * total, body
    return BigRound(
        loop=loop,
        round_id=int(body["id"]),
        township_codes=codes,
        quilt_charity=loop.charity_id,
        blanket_charity=blanket_charity,
    )
