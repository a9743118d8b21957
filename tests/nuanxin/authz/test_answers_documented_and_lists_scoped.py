"""Two more walks of the route table, as every caller of the matrix.

* Every answer's status is one the OpenAPI schema documents for that operation (pages are
  outside the schema and skipped).
* List endpoints never return another jurisdiction's or another charity's records: staff of
  the neighbouring county see none of county A's households, requests, rounds, deliveries or
  audit entries; the other charity sees none of charity X's deliveries or donations.
"""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar

from tests.nuanxin.authz.matrix import call, endpoints, load_policy
from tests.nuanxin.authz.model import ANON, NEIGHBOUR, OTHER_CHARITY, Caller
from tests.nuanxin.authz.world import World, build_world

COUNTY_A = "230111"


def documented(schema: dict[str, Any]) -> dict[str, set[str]]:
    return {
        op["operationId"]: set(op.get("responses", {}))
        for item in schema["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }


async def test_every_answer_of_the_matrix_is_documented_in_the_schema(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    world = await build_world()
    statuses = documented((await client.get("/schema/openapi.json")).json())
    policy = load_policy()
    await client.get("/health")
    undocumented: set[str] = set()
    pairs = 0
    for caller in Caller:
        for key, method, path in endpoints(app):
            if key not in statuses or key not in policy:
                continue  # pages: not part of the API schema
            response = await call(client, method, path, policy[key], world, caller)
            pairs += 1
            if str(response.status_code) not in statuses[key]:
                undocumented.add(f"{key}: {response.status_code} (as {caller.value})")
            client.cookies.delete("nuanxin_session")
    assert pairs >= 8 * 80
    assert not undocumented, "\n".join(sorted(undocumented))


def offending(item: dict[str, Any], caller: Caller, world: World) -> list[str]:
    """What in one listed record belongs to county A (for the neighbour) or charity X."""
    found = []
    if caller is NEIGHBOUR:
        for name in ("region_code", "code", "jurisdiction_code"):
            value = item.get(name)
            if isinstance(value, str) and value.startswith(COUNTY_A) and "household" in str(item):
                found.append(f"{name}={value}")
        if item.get("household_id") == world.household_id:
            found.append("household_id of county A")
        if item.get("household_reference") == "HHWORLD1" or item.get("reference") == "HHWORLD1":
            found.append("county A's household")
        if item.get("region_id") == world.county_a_id and "entity" in item:
            found.append("county A's audit entry")
    theirs = caller is OTHER_CHARITY and item.get("organization_id") == world.charity_x_id
    if theirs and ("amount" in item or "household_reference" in item):
        found.append("charity X's delivery or donation")
    return found


async def test_lists_return_no_record_of_another_jurisdiction_or_charity(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    world = await build_world()
    policy = load_policy()
    leaks: list[str] = []
    lists = 0
    for caller in (NEIGHBOUR, OTHER_CHARITY):
        for key, method, path in endpoints(app):
            rule = policy.get(key)
            if method != "GET" or rule is None or "{" in path:
                continue
            response = await call(client, method, path, rule, world, caller)
            if response.status_code != 200 or "json" not in response.headers["content-type"]:
                continue
            body = response.json()
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                continue
            lists += 1
            for item in body["items"]:
                found = offending(item, caller, world)
                leaks.extend(f"{key} as {caller.value}: {what}" for what in found)
    assert lists >= 10
    assert not leaks, "\n".join(leaks)


async def test_the_neighbour_lists_see_their_own_county(
    client: httpx.AsyncClient,
) -> None:
    """The check above is not blind: county B's household is listed for its own staff."""
    world = await build_world()
    mine = await client.get("/api/households", headers=world.headers(NEIGHBOUR))
    references = [item["reference"] for item in mine.json()["items"]]
    assert references == ["HHWORLD2"]
    anon = await client.get("/api/households", headers=world.headers(ANON))
    assert anon.status_code == 401
