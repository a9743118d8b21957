"""Every endpoint of the route table, called as every caller, answers as its rule says.

The routes come from the app itself, so a new endpoint without a rule fails
``test_every_endpoint_has_a_rule``; the rules live in ``tests/nuanxin/authz/<area>.py``.
"""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from tests.nuanxin.authz.matrix import call, endpoints, load_policy
from tests.nuanxin.authz.model import ANON, Caller
from tests.nuanxin.authz.world import build_world


def test_every_endpoint_has_a_rule(app: Litestar) -> None:
    policy = load_policy()
    missing = sorted({key for key, _, _ in endpoints(app)} - set(policy))
    assert not missing, f"endpoints without an authorisation rule: {missing}"
    stale = sorted(set(policy) - {key for key, _, _ in endpoints(app)})
    assert not stale, f"rules for endpoints that do not exist: {stale}"


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
