"""Every endpoint of the route table, called as every caller, answers as its rule says.

The routes come from the app itself, so a new endpoint without a rule fails
``test_every_endpoint_has_a_rule``; the rules live in ``tests/nuanxin/authz/<area>.py``.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

import tests.nuanxin.authz as authz_package
from nuanxin.app import CSRF_COOKIE, CSRF_HEADER
from tests.nuanxin.authz.model import ANON, Caller, Rule
from tests.nuanxin.authz.world import World, build_world

# Not part of the API: the docs, static files, and the admin (its guard has its own test).
UNRULED_PREFIXES = ("/schema", "/static", "/admin")


def load_policy() -> dict[str, Rule]:
    policy: dict[str, Rule] = {}
    for module_info in pkgutil.iter_modules(authz_package.__path__):
        module = importlib.import_module(f"tests.nuanxin.authz.{module_info.name}")
        area_policy = getattr(module, "POLICY", None)
        if area_policy is None:
            continue
        clash = set(policy) & set(area_policy)
        assert not clash, f"operation ids ruled twice: {clash}"
        policy.update(area_policy)
    return policy


def endpoints(app: Litestar) -> list[tuple[str, str, str]]:
    """(operation key, method, path) for every HTTP handler of the app."""
    found: list[tuple[str, str, str]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(UNRULED_PREFIXES):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method in ("HEAD", "OPTIONS"):
                    continue
                operation = handler.operation_id
                key = operation if isinstance(operation, str) else f"{method} {route.path}"
                found.append((key, method, route.path))
    return found


def test_every_endpoint_has_a_rule(app: Litestar) -> None:
    policy = load_policy()
    missing = sorted({key for key, _, _ in endpoints(app)} - set(policy))
    assert not missing, f"endpoints without an authorisation rule: {missing}"
    stale = sorted(set(policy) - {key for key, _, _ in endpoints(app)})
    assert not stale, f"rules for endpoints that do not exist: {stale}"


def fill_path(path: str, rule: Rule, world: World) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in rule.path, f"{path}: the rule does not say what {name} is"
        return str(getattr(world, rule.path[name]))

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


async def call(
    client: httpx.AsyncClient, method: str, path: str, rule: Rule, world: World, caller: Caller
) -> httpx.Response:
    headers = world.headers(caller)
    token = client.cookies.get(CSRF_COOKIE)
    if token:
        headers[CSRF_HEADER] = token
    url = fill_path(path, rule, world)
    params = {name: str(getattr(world, attr, attr)) for name, attr in rule.query.items()}
    body: Any = rule.body(world) if rule.body else None
    if method in ("GET", "DELETE"):
        return await client.request(method, url, headers=headers, params=params)
    if rule.form:
        return await client.request(method, url, headers=headers, params=params, data=body or {})
    return await client.request(method, url, headers=headers, params=params, json=body or {})


REFUSALS = {401, 403, 404}


@pytest.mark.parametrize("caller", list(Caller), ids=lambda c: c.value)
async def test_every_endpoint_answers_each_caller_as_its_rule_says(
    app: Litestar, client: httpx.AsyncClient, caller: Caller
) -> None:
    world = await build_world()
    policy = load_policy()
    await client.get("/health")  # the CSRF cookie, as a browser would have it
    wrong: list[str] = []
    for key, method, path in endpoints(app):
        rule = policy.get(key)
        if rule is None:
            continue  # reported by test_every_endpoint_has_a_rule
        response = await call(client, method, path, rule, world, caller)
        status = response.status_code
        if status >= 500:
            wrong.append(f"{key} as {caller.value}: {status} {response.text[:200]}")
        elif caller in rule.allowed and status in REFUSALS:
            wrong.append(f"{key} as {caller.value}: refused {status} {response.text[:200]}")
        elif caller not in rule.allowed:
            expected = {401} if caller is ANON else {403, 404}
            if status not in expected:
                wrong.append(f"{key} as {caller.value}: got {status}, expected {expected}")
        client.cookies.delete("nuanxin_session")
    assert not wrong, "\n".join(wrong)
