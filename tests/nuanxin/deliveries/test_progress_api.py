"""The staff dashboard's figures as JSON, for the caller's jurisdiction only."""

from __future__ import annotations

import httpx

from nuanxin.identity import Role
from nuanxin.regions.tables import Region
from tests.nuanxin.conftest import make_user, run_jobs
from tests.nuanxin.helpers import bearer
from tests.nuanxin.loop_world import COUNTY, NEIGHBOUR, add_household, add_offer, build_loop, region


async def test_progress_answers_the_dashboards_figures_for_the_jurisdiction(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    served = await add_household(loop, "HH1", (COUNTY[0] + 0.01, COUNTY[1]), weight=3.0)
    await add_household(loop, "HH2", (COUNTY[0] + 0.02, COUNTY[1]), quilts=2, weight=1.0)
    await add_offer(loop, quantity=1)
    started = await client.post(
        "/api/rounds", json={"item_codes": ["quilt"]}, headers=loop.auth("staff")
    )
    assert started.status_code == 202, started.text
    assert await run_jobs() == 1  # the round runs as a job
    approval = await client.post(
        f"/api/rounds/{started.json()['id']}/approve",
        json={"all": True},
        headers=loop.auth("staff"),
    )
    [delivery_id] = approval.json()["delivery_ids"]
    code = (
        await client.post(f"/api/deliveries/{delivery_id}/slip", headers=loop.auth("staff"))
    ).json()["code"]
    await client.post(
        f"/api/deliveries/{delivery_id}/confirm", json={"code": code}, headers=loop.auth("courier")
    )

    answer = await client.get("/api/progress", headers=loop.auth("staff"))
    assert answer.status_code == 200, answer.text
    figures = answer.json()
    assert sum(row["units"] for row in figures["delivered"]) == 1
    assert [(p["region_code"], p["households"], p["units_by_kind"]) for p in figures["unmet"]] == [
        ("230111", 1, {"quilt": 2})
    ]
    assert figures["stale_deliveries"] == [] and figures["overdue_paperwork"] == 0
    assert served  # the served household is no longer unmet
    page = await client.get("/staff/", headers=loop.auth("staff"))
    assert page.status_code == 200

    city = await Region.select(Region.id).where(Region.code == "230100").first().run()
    assert city is not None
    neighbour = await region("230112", "阿城区", "county", int(city["id"]), NEIGHBOUR)
    await make_user("acheng_staff", Role.staff, jurisdiction=neighbour)
    elsewhere = await client.get("/api/progress", headers=await bearer(client, "acheng_staff"))
    assert elsewhere.json()["delivered"] == [] and elsewhere.json()["unmet"] == []
    assert (await client.get("/api/progress")).status_code == 401
    assert (await client.get("/api/progress", headers=loop.auth("courier"))).status_code == 403
