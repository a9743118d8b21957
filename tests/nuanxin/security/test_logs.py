"""Logs hold no passwords, codes, tokens or ID numbers: the app's logging is captured while
people log in, take tokens, register households, print slips and confirm codes."""

from __future__ import annotations

import logging

import httpx
import pytest

from nuanxin.security import install_log_redaction, redact
from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.world import DELIVERY_CODE, build_world
from tests.nuanxin.conftest import PASSWORD, csrf_headers
from tests.nuanxin.households.helpers import household_body, id_number


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in caplog.records:
        if record.name.startswith("httpx"):
            continue  # the test's own HTTP client, not the app
        lines.append(record.getMessage())
        if record.exc_text:
            lines.append(record.exc_text)
    return "\n".join(lines)


async def test_no_secret_reaches_the_logs_of_the_loop(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world = await build_world()
    wrong_password = "Wrong-Secret-Pa55word"
    csrf = await csrf_headers(client)
    secrets: list[str] = [PASSWORD, wrong_password, DELIVERY_CODE]

    for body in (
        {"username": "w_staff", "password": PASSWORD},
        {"username": "w_staff", "password": wrong_password},
    ):
        await client.post("/api/auth/login", json=body, headers=csrf)
        await client.post("/login", data=body, headers=await csrf_headers(client))
    credentials = {"username": "w_staff", "password": PASSWORD}
    issued = await client.post("/api/auth/token", json=credentials)
    assert issued.status_code == 201
    token = issued.json()["token"]
    secrets.append(token)
    staff = {"authorization": f"Bearer {token}"}

    full_id = id_number(sequence=321)
    secrets.append(full_id)
    created = await client.post(
        "/api/households", json=household_body(id_number=full_id), headers=staff
    )
    assert created.status_code == 201, created.text
    duplicate = await client.post(
        "/api/households", json=household_body(id_number=full_id), headers=staff
    )
    assert duplicate.status_code == 409  # a refusal that names the ID number would log it

    slip = await client.post(f"/api/deliveries/{world.delivery_id}/slip", headers=staff)
    assert slip.status_code == 201, slip.text
    code = slip.json()["code"]
    secrets.append(code)
    courier = world.headers(Caller.COURIER)
    secrets.append(world.tokens[Caller.COURIER])
    url = f"/api/deliveries/{world.delivery_id}/confirm"
    assert (await client.post(url, json={"code": "99999999"}, headers=courier)).status_code == 400
    assert (await client.post(url, json={"code": code}, headers=courier)).status_code == 200
    await client.post("/api/delivery-reports", json={"code": code}, headers=csrf)
    await client.post("/api/auth/revoke", json={"token": token}, headers=staff)

    logged = everything_logged(caplog)
    found = [secret for secret in secrets if secret in logged]
    assert not found, f"secrets in the logs: {found}"


def test_the_redaction_masks_what_slips_into_a_log_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_redaction()
    caplog.set_level(logging.INFO)
    full_id = id_number(sequence=5)
    logging.getLogger("nuanxin.anything").info("household %s phone %s", full_id, "13912345678")
    # uvicorn's access log unpacks its arguments: they stay a 5-tuple
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", "/api/track/NX7K2P9Q", "1.1", 200
    )
    logging.getLogger("litestar").warning("Authorization: Bearer abc.def-123")
    logged = everything_logged(caplog)
    assert full_id not in logged and full_id[:6] in logged
    assert "13912345678" not in logged and "139****5678" in logged
    assert "NX7K2P9Q" not in logged and "/api/track/***" in logged
    assert "abc.def-123" not in logged
    access = next(r for r in caplog.records if r.name == "uvicorn.access")
    assert isinstance(access.args, tuple) and len(access.args) == 5


def test_redact_leaves_ordinary_numbers_alone() -> None:
    assert redact("round 12 of 2026: 10000 households, 3.5 km") == (
        "round 12 of 2026: 10000 households, 3.5 km"
    )
