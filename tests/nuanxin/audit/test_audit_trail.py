"""Staff read their jurisdiction's audit trail; admins read all of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from nuanxin.audit.services import record
from tests.nuanxin.households.helpers import build_place, household_body, id_number


async def test_staff_read_the_trail_of_their_jurisdiction_newest_first(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    mine = (await client.post("/api/households", json=household_body(), headers=place.staff)).json()
    await client.post(f"/api/households/{mine['id']}/verify", headers=place.staff)
    theirs = household_body(
        head_name="李四", id_number=id_number(sequence=7), region_code="230112", current_address="x"
    )
    assert (
        await client.post("/api/households", json=theirs, headers=place.neighbour)
    ).status_code == 201
    await record(actor=None, action="account.create", entity="account", entity_id=1)

    staff = (await client.get("/api/audit", headers=place.staff)).json()
    assert [e["action"] for e in staff["items"]] == ["household.verify", "household.create"]
    assert all(e["region_code"].startswith("230111") for e in staff["items"])
    assert staff["items"][0]["before"]["status"] == "unverified"
    assert staff["items"][0]["after"]["status"] == "verified"
    assert staff["items"][0]["actor_label"] == "t_staff"
    neighbour = (await client.get("/api/audit", headers=place.neighbour)).json()
    assert [e["action"] for e in neighbour["items"]] == ["household.create"]
    province = (await client.get("/api/audit", headers=place.province)).json()
    assert province["total"] == 3
    admin = (await client.get("/api/audit", headers=place.admin)).json()
    assert admin["total"] == 4 and admin["items"][0]["action"] == "account.create"
    assert (await client.get("/api/audit", headers=place.charity)).status_code == 403
    assert (await client.get("/api/audit")).status_code == 401


async def test_the_trail_filters_by_entity_action_and_dates(client: httpx.AsyncClient) -> None:
    place = await build_place()
    mine = (await client.post("/api/households", json=household_body(), headers=place.staff)).json()
    await client.post(f"/api/households/{mine['id']}/verify", headers=place.staff)

    async def actions(**params: str) -> list[str]:
        page = (await client.get("/api/audit", params=params, headers=place.staff)).json()
        return [entry["action"] for entry in page["items"]]

    assert await actions(action="household.verify") == ["household.verify"]
    assert await actions(entity="need") == []
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert await actions(since=future) == []
    assert len(await actions(since=past, until=future)) == 2
    assert await actions(until=past) == []
    paged = (await client.get("/api/audit", params={"limit": 1}, headers=place.staff)).json()
    assert paged["total"] == 2 and len(paged["items"]) == 1
    bad = await client.get("/api/audit", params={"since": "yesterday"}, headers=place.staff)
    assert bad.status_code == 400
