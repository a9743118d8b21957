"""Fuzzing: every operation of the schema, as staff and as a charity member, answers in its
documented statuses and shapes, and never with a 5xx."""

from __future__ import annotations

import logging

import httpx
from litestar import Litestar
from schemathesis import GenerationMode

from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.world import build_world
from tests.nuanxin.fuzz.harness import EXAMPLES, Outcome, cases, operations, run


async def test_every_operation_answers_as_documented_and_never_with_a_5xx(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    world = await build_world()
    raw = (await client.get("/schema/openapi.json")).json()
    staff = world.headers(Caller.STAFF)
    charity = world.headers(Caller.CHARITY)
    plan = []
    for operation in operations(raw):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for index, case in enumerate(cases(operation, mode, EXAMPLES)):
                plan.append((case, staff if index % 2 == 0 else charity))
    outcome = Outcome()
    await run(client, plan, outcome)
    logging.getLogger("nuanxin.fuzz").warning(
        "fuzz: %d calls, statuses %s", outcome.calls, sorted(outcome.statuses.items())
    )
    assert outcome.calls >= len(operations(raw))
    assert not outcome.failures, "\n".join(outcome.failures)
