"""The authorisation matrix's machinery: the rules of every area, the app's endpoints, a call.

Shared by the matrix (``test_authorisation_matrix``), the documented-answers test and the
security tests; the rules themselves live in ``tests/nuanxin/authz/<area>.py``.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

import httpx
from litestar import Litestar
from litestar.routes import HTTPRoute

import tests.nuanxin.authz as authz_package
from nuanxin.app import CSRF_COOKIE, CSRF_HEADER
from tests.nuanxin.authz.model import Caller, Rule
from tests.nuanxin.authz.world import World

__all__ = ("UNRULED_PREFIXES", "call", "endpoints", "fill_path", "load_policy")

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
