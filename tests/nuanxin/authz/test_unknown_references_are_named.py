"""Every write endpoint that refers to records by id names the field when an id is wrong.

The endpoints come from the OpenAPI document: every JSON body field that refers to another
record (``*_id``, ``*_ids``, ``region_code``, ``jurisdiction_code``, ``item_code``, also inside
lists of objects such as ``edits``). Each one is sent, in the otherwise valid body of the
authorisation matrix's rule, with a value that names no record, and, where the world has one,
with the id of a record that exists but is not the caller's to use (another charity's
warehouse, another county's household, a proposal of another round). The answer is a 400 or
404 whose ``field`` names the field: never a 409 without a field, a 200 that did nothing, or a
result that says "stale".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar

from nuanxin.rounds.tables import MatchingRound, Proposal
from tests.nuanxin.authz.matrix import call, load_policy
from tests.nuanxin.authz.model import ADMIN, ANON, CHARITY, COURIER, STAFF, Caller, Rule
from tests.nuanxin.authz.world import World, build_world

UNKNOWN_ID = 2_000_000_000
UNKNOWN_CODE = {"item_code": "no_such_item"}
UNKNOWN_REGION = "999999"
REFERENCE = re.compile(r"(_ids?|^region_code|^jurisdiction_code|^item_code)$")
PREFERRED_CALLERS = (STAFF, CHARITY, COURIER, ADMIN, ANON)


def _properties(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    for option in schema.get("oneOf", schema.get("anyOf", [])):
        if "$ref" in option or "properties" in option:
            return _properties(option, components)
    return dict(schema.get("properties", {}))


def _references(schema: dict[str, Any], components: dict[str, Any]) -> Iterator[str]:
    for name, prop in _properties(schema, components).items():
        if REFERENCE.search(name):
            yield name
        items = prop.get("items")
        if prop.get("type") == "array" and isinstance(items, dict) and "$ref" in items:
            for inner in _references(items, components):
                yield f"{name}.{inner}"


def referencing_operations(openapi: dict[str, Any]) -> dict[str, list[str]]:
    """Operation id -> the reference fields of its JSON body."""
    components = openapi.get("components", {}).get("schemas", {})
    found: dict[str, list[str]] = {}
    for item in openapi["paths"].values():
        for method, operation in item.items():
            if method not in ("post", "put", "patch"):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                continue
            fields = sorted(set(_references(schema, components)))
            if fields:
                found[operation["operationId"]] = fields
    return found


async def _proposal_of_another_round(world: World) -> int:
    now = datetime.now(UTC)
    rounds = (
        await MatchingRound.insert(
            MatchingRound(
                region=world.county_a_id,
                kinds=["quilt"],
                status="proposed",
                progress=100,
                phase="done",
                created_by=world.user_ids[STAFF],
                created_at=now,
                finished_at=now,
            )
        )
        .returning(MatchingRound.id)
        .run()
    )
    rows = (
        await Proposal.insert(
            Proposal(
                round=int(rounds[0]["id"]),
                offer=world.offer_x_id,
                household=world.household_id,
                need=world.need_id,
                quantity=1,
                distance_km=2.0,
                reason="距离 2.0 km",
            )
        )
        .returning(Proposal.id)
        .run()
    )
    return int(rows[0]["id"])


# (operation, field) -> the id of a record that exists but is not the caller's to use
# (given the world and a proposal of another round).
FOREIGN: dict[tuple[str, str], Callable[[World, int], object]] = {
    ("CreateOffer", "warehouse_id"): lambda w, _: w.warehouse_y_id,
    ("UpdateOffer", "warehouse_id"): lambda w, _: w.warehouse_y_id,
    ("AcceptGoodsDonation", "warehouse_id"): lambda w, _: w.warehouse_y_id,
    ("AcceptGoodsDonation", "offer_id"): lambda w, _: w.offer_y_id,
    ("CreatePurchase", "warehouse_id"): lambda w, _: w.warehouse_y_id,
    ("RequestEscalation", "household_id"): lambda w, _: w.household_b_id,
    ("AssistFirst", "household_id"): lambda w, _: w.household_b_id,
    ("CreateHousehold", "region_code"): lambda w, _: "230112",
    ("ApproveProposals", "proposal_ids"): lambda _, other: [other],
    ("ApproveProposals", "edits.proposal_id"): lambda _, other: other,
    ("RejectProposals", "proposal_ids"): lambda _, other: [other],
}


def _unknown(field: str, current: object) -> object:
    leaf = field.rsplit(".", 1)[-1]
    if leaf in UNKNOWN_CODE:
        return UNKNOWN_CODE[leaf]
    if leaf.endswith("_code"):
        return UNKNOWN_REGION
    if isinstance(current, list):
        return [UNKNOWN_ID]
    return UNKNOWN_ID


def _with(body: dict[str, Any], field: str, value: object) -> dict[str, Any]:
    changed = dict(body)
    if "." in field:
        outer, inner = field.split(".", 1)
        entries = changed.get(outer) or [{inner: 0, "quantity": 1}]
        changed[outer] = [{**entries[0], inner: value}]
        changed.pop("all", None)
        return changed
    changed[field] = value
    return changed


def _constant(body: dict[str, Any]) -> Callable[[Any], Any]:
    return lambda _: body


def _caller(rule: Rule) -> Caller:
    return next(caller for caller in PREFERRED_CALLERS if caller in rule.allowed)


def _named(answer: httpx.Response, field: str) -> str | None:
    """None when the answer names the field; else what is wrong with it."""
    if answer.status_code not in (400, 404):
        return f"{answer.status_code} {answer.text[:200]}"
    named = re.sub(r"\[\d+\]", "", str(answer.json().get("field")))
    return None if named == field else f"{answer.status_code} names {named!r}: {answer.text[:200]}"


async def test_the_walk_covers_the_endpoints_that_take_ids(client: httpx.AsyncClient) -> None:
    operations = referencing_operations((await client.get("/schema/openapi.json")).json())
    assert {"CreateGoodsDonation", "ApproveProposals", "RejectProposals", "CreateOffer"} <= set(
        operations
    )
    assert "edits.proposal_id" in operations["ApproveProposals"]
    assert set(FOREIGN) <= {(op, field) for op, fields in operations.items() for field in fields}


@pytest.mark.parametrize("kind", ["unknown", "foreign"])
async def test_an_unknown_or_foreign_id_is_refused_naming_its_field(
    app: Litestar, client: httpx.AsyncClient, kind: str
) -> None:
    world = await build_world()
    other_round = await _proposal_of_another_round(world)
    operations = referencing_operations((await client.get("/schema/openapi.json")).json())
    routes = {
        operation["operationId"]: (method.upper(), path)
        for path, item in (await client.get("/schema/openapi.json")).json()["paths"].items()
        for method, operation in item.items()
    }
    policy = load_policy()
    await client.get("/health")
    wrong: list[str] = []
    tried = 0
    for operation, fields in sorted(operations.items()):
        rule = policy[operation]
        for field in fields:
            if kind == "foreign" and (operation, field) not in FOREIGN:
                continue
            base = rule.body(world) if rule.body else {}
            value = (
                FOREIGN[(operation, field)](world, other_round)
                if kind == "foreign"
                else _unknown(field, base.get(field))
            )
            body = _with(base, field, value)
            sent = Rule(allowed=rule.allowed, path=rule.path, body=_constant(body))
            method, path = routes[operation]
            answer = await call(client, method, path, sent, world, _caller(rule))
            tried += 1
            problem = _named(answer, field)
            if problem:
                wrong.append(f"{operation} {field}={value!r}: {problem}")
            client.cookies.delete("nuanxin_session")
    assert tried >= (len(FOREIGN) if kind == "foreign" else 25)
    assert not wrong, "\n".join(wrong)
