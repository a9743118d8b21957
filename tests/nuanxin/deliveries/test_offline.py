"""Confirmations from the courier's phone: once per Idempotency-Key, offline codes held for staff.

The concurrent replays commit real rows (each request in its own transaction, on its own
connection), so they use the ``committed`` fixture; with ``NUANXIN_TEST_DATABASE=postgres``
they truly run at once.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from nuanxin.accounts.tables import ApiToken
from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries.tables import ConfirmationKey, Delivery, OfflineReview, Visit
from nuanxin.households.tables import LocationSuggestion
from nuanxin.identity import Role, digest
from tests.nuanxin.conftest import make_region, make_user, run_jobs
from tests.nuanxin.loop_world import COUNTY, Loop, add_household, add_offer, build_loop, stock


async def _visit_with_slip(
    client: httpx.AsyncClient, loop: Loop, reference: str = "HO1"
) -> tuple[int, str]:
    """One household, one quilt, one visit whose slip staff printed: (visit id, its code)."""
    await add_household(loop, reference, (COUNTY[0] + 0.01, COUNTY[1]), quilts=1)
    await add_offer(loop, quantity=1)
    started = await client.post("/api/rounds", json={}, headers=loop.auth("staff"))
    await run_jobs()
    approved = await client.post(
        f"/api/rounds/{started.json()['id']}/approve",
        json={"all": True},
        headers=loop.auth("staff"),
    )
    assert approved.status_code == 200, approved.text
    [delivery_id] = approved.json()["delivery_ids"]
    row = await Delivery.select(Delivery.visit).where(Delivery.id == delivery_id).first().run()
    assert row is not None
    visit_id = int(row["visit"])
    slip = await client.post(f"/api/visits/{visit_id}/slip", headers=loop.auth("staff"))
    assert slip.status_code == 201, slip.text
    # made yesterday: a time at the door is never taken as earlier than its visit
    await Visit.update({Visit.created_at: datetime.now(UTC) - timedelta(days=1)}).where(
        Visit.id == visit_id
    )
    return visit_id, str(slip.json()["code"])


def _wrong(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


async def _confirm(
    client: httpx.AsyncClient,
    loop: Loop,
    visit_id: int,
    code: str,
    key: str | None,
    **body: Any,
) -> httpx.Response:
    headers = dict(loop.auth("courier"))
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post(
        f"/api/visits/{visit_id}/confirm", json={"code": code, **body}, headers=headers
    )


async def _visit(visit_id: int) -> dict[str, Any]:
    row = await Visit.select().where(Visit.id == visit_id).first().run()
    assert row is not None
    return dict(row)


async def _actions(visit_id: int) -> list[str]:
    rows = (
        await AuditEntry.select(AuditEntry.action)
        .where((AuditEntry.entity == "visit") & (AuditEntry.entity_id == str(visit_id)))
        .order_by(AuditEntry.id)
        .run()
    )
    return [str(r["action"]) for r in rows]


async def _neighbour_staff() -> dict[str, str]:
    county = await make_region("230112", "county")
    user = await make_user("offline_neighbour", Role.staff, jurisdiction=county)
    now = datetime.now(UTC)
    token = f"offline-neighbour-{user}"
    await ApiToken.insert(
        ApiToken(
            user=user,
            token_hash=digest(token),
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
    ).run()
    return {"authorization": f"Bearer {token}"}


async def test_the_same_key_twice_confirms_once_and_answers_the_same(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code = await _visit_with_slip(client, loop)
    key = str(uuid.uuid4())
    first = await _confirm(client, loop, visit_id, code, key)
    again = await _confirm(client, loop, visit_id, code, key)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.json() == again.json()
    assert first.json()["status"] == "delivered"
    assert first.json()["already_confirmed"] is False  # the replay says what the first said
    assert (await _actions(visit_id)).count("visit.confirm") == 1
    assert await ConfirmationKey.count().where(ConfirmationKey.key == key) == 1
    assert await stock(loop.offers[0]) == {"available": 0, "reserved": 0, "delivered": 1}


async def test_an_online_wrong_code_sent_twice_with_its_key_counts_once(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code = await _visit_with_slip(client, loop)
    key = str(uuid.uuid4())
    first = await _confirm(client, loop, visit_id, _wrong(code), key)
    again = await _confirm(client, loop, visit_id, _wrong(code), key)
    assert first.status_code == again.status_code == 400
    assert first.json() == again.json()
    assert first.json()["error"] == "wrong_code"
    assert (await _visit(visit_id))["failed_attempts"] == 1


async def test_a_key_used_again_for_another_code_visit_or_account_is_refused(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code = await _visit_with_slip(client, loop)
    other_visit, _ = await _visit_with_slip(client, loop, "HO2")
    key = str(uuid.uuid4())
    assert (await _confirm(client, loop, visit_id, _wrong(code), key)).status_code == 400
    reused = await _confirm(client, loop, visit_id, code, key)
    assert reused.status_code == 409
    assert reused.json()["error"] == "idempotency_key_reused"
    elsewhere = await _confirm(client, loop, other_visit, code, key)
    assert elsewhere.status_code == 409
    member = await client.post(
        f"/api/visits/{visit_id}/confirm",
        json={"code": _wrong(code)},
        headers={**loop.auth("charity"), "Idempotency-Key": key},
    )
    assert member.status_code == 409
    assert (await _visit(visit_id))["status"] == "pending"


async def test_a_malformed_key_and_an_offline_confirmation_without_a_key_are_refused(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code = await _visit_with_slip(client, loop)
    malformed = await _confirm(client, loop, visit_id, code, "not-a-uuid")
    assert malformed.status_code == 400
    assert malformed.json()["field"] == "Idempotency-Key"
    keyless = await _confirm(client, loop, visit_id, code, None, offline=True)
    assert keyless.status_code == 400
    assert keyless.json()["field"] == "Idempotency-Key"
    naive = await _confirm(
        client, loop, visit_id, code, str(uuid.uuid4()), offline=True, at_door="2026-11-30T10:00"
    )
    assert naive.status_code == 400  # a time at the door says its time zone
    far = await _confirm(
        client,
        loop,
        visit_id,
        code,
        str(uuid.uuid4()),
        offline=True,
        position={"lat": 91, "lon": 0},
    )
    assert far.status_code == 400
    assert (await _visit(visit_id))["status"] == "pending"
    assert await ConfirmationKey.count() == 0


async def test_a_right_offline_code_closes_the_visit_at_the_time_at_the_door(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code = await _visit_with_slip(client, loop)
    at_door = (datetime.now(UTC) - timedelta(minutes=40)).replace(microsecond=0)
    key = str(uuid.uuid4())
    answer = await _confirm(
        client,
        loop,
        visit_id,
        code,
        key,
        offline=True,
        at_door=at_door.isoformat(),
        position={"lat": 45.9, "lon": 126.6, "accuracy_m": 25},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "delivered"
    assert answer.json()["held_for_review"] is False
    visit = await _visit(visit_id)
    assert visit["status"] == "delivered"
    assert visit["confirmed_at"] == at_door
    stored = await ConfirmationKey.select().where(ConfirmationKey.key == key).first().run()
    assert stored is not None
    assert (stored["offline"], stored["lat"], stored["lon"], stored["accuracy_m"]) == (
        True,
        45.9,
        126.6,
        25,
    )
    suggested = await LocationSuggestion.select(LocationSuggestion.visit_id).run()
    assert suggested == [{"visit_id": visit_id}]  # the first visit's position, for staff
    future = await _confirm(
        client,
        loop,
        visit_id,
        code,
        str(uuid.uuid4()),
        offline=True,
        at_door=(datetime.now(UTC) + timedelta(days=2)).isoformat(),
    )
    assert future.json()["already_confirmed"] is True  # a phone's clock ahead: never later


async def test_wrong_offline_codes_wait_for_staff_and_never_count_toward_the_lock(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code = await _visit_with_slip(client, loop)
    for _ in range(7):
        held = await _confirm(client, loop, visit_id, _wrong(code), str(uuid.uuid4()), offline=True)
        assert held.status_code == 200, held.text
        assert held.json()["held_for_review"] is True
        assert held.json()["status"] == "pending"
    visit = await _visit(visit_id)
    assert (visit["status"], visit["failed_attempts"]) == ("pending", 0)
    reasons = [r["reason"] for r in await OfflineReview.select(OfflineReview.reason).run()]
    assert reasons == ["wrong_code"] * 7
    # the right code typed offline after a wrong one waits too: no guessing past a wrong code
    right = await _confirm(client, loop, visit_id, code, str(uuid.uuid4()), offline=True)
    assert right.json()["held_for_review"] is True
    assert await OfflineReview.count().where(OfflineReview.reason == "held") == 1
    # online codes still lock after five wrong ones
    for attempt in range(5):
        wrong = await _confirm(client, loop, visit_id, _wrong(code), None)
        assert wrong.status_code == (423 if attempt == 4 else 400), wrong.text
    assert (await _visit(visit_id))["status"] == "locked"


async def test_an_offline_code_for_a_locked_visit_waits_for_staff(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code = await _visit_with_slip(client, loop)
    for _ in range(5):
        await _confirm(client, loop, visit_id, _wrong(code), None)
    assert (await _visit(visit_id))["status"] == "locked"
    held = await _confirm(client, loop, visit_id, code, str(uuid.uuid4()), offline=True)
    assert held.status_code == 200
    assert held.json()["held_for_review"] is True
    assert held.json()["status"] == "locked"
    [review] = await OfflineReview.select(OfflineReview.reason).run()
    assert review["reason"] == "locked"


async def test_staff_of_the_county_settle_a_held_confirmation_and_no_one_else_sees_it(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code = await _visit_with_slip(client, loop)
    at_door = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    first = await _confirm(
        client,
        loop,
        visit_id,
        _wrong(code),
        str(uuid.uuid4()),
        offline=True,
        at_door=at_door.isoformat(),
    )
    await _confirm(client, loop, visit_id, code, str(uuid.uuid4()), offline=True)
    neighbour = await _neighbour_staff()
    listed = await client.get("/api/offline-reviews", headers=loop.auth("staff"))
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 2
    assert [r["reason"] for r in body["items"]] == ["wrong_code", "held"]
    assert body["items"][0]["courier"] == "loop_courier"
    assert (await client.get("/api/offline-reviews", headers=neighbour)).json()["total"] == 0
    assert (
        await client.get("/api/offline-reviews", headers=loop.auth("courier"))
    ).status_code == 403
    review_id = first.json()["review_id"]
    outsider = await client.post(
        f"/api/offline-reviews/{review_id}/resolve",
        json={"outcome": "delivered", "note": "电话核实"},
        headers=neighbour,
    )
    assert outsider.status_code == 404
    settled = await client.post(
        f"/api/offline-reviews/{review_id}/resolve",
        json={"outcome": "delivered", "note": "电话回访，已收到"},
        headers=loop.auth("staff"),
    )
    assert settled.status_code == 200, settled.text
    assert settled.json()["status"] == "delivered"
    visit = await _visit(visit_id)
    assert visit["status"] == "delivered"
    assert visit["confirmed_at"] == at_door
    assert await OfflineReview.count().where(OfflineReview.status == "open") == 0  # both settled
    again = await client.post(
        f"/api/offline-reviews/{review_id}/resolve",
        json={"outcome": "dismissed", "note": "再看"},
        headers=loop.auth("staff"),
    )
    assert again.status_code == 409
    assert "visit.offline_review_resolved" in await _actions(visit_id)


async def test_a_dismissed_offline_confirmation_leaves_the_visit_open(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code = await _visit_with_slip(client, loop)
    held = await _confirm(client, loop, visit_id, _wrong(code), str(uuid.uuid4()), offline=True)
    dismissed = await client.post(
        f"/api/offline-reviews/{held.json()['review_id']}/resolve",
        json={"outcome": "dismissed", "note": "户主说没收到"},
        headers=loop.auth("staff"),
    )
    assert dismissed.status_code == 200, dismissed.text
    assert (await _visit(visit_id))["status"] == "pending"
    unknown = await client.post(
        "/api/offline-reviews/999999/resolve",
        json={"outcome": "delivered", "note": "x"},
        headers=loop.auth("staff"),
    )
    assert unknown.status_code == 404
    bad = await client.post(
        f"/api/offline-reviews/{held.json()['review_id']}/resolve",
        json={"outcome": "maybe", "note": "x"},
        headers=loop.auth("staff"),
    )
    assert bad.status_code == 400
    # dismissed: a later right offline code closes the visit
    right = await _confirm(client, loop, visit_id, code, str(uuid.uuid4()), offline=True)
    assert right.json()["status"] == "delivered"


async def test_concurrent_replays_of_one_key_confirm_once_and_answer_alike(
    committed: httpx.AsyncClient,
) -> None:
    client = committed
    loop = await build_loop(prefix="k")
    visit_id, code = await _visit_with_slip(client, loop)
    key = str(uuid.uuid4())
    answers = await asyncio.gather(
        *(
            _confirm(
                client,
                loop,
                visit_id,
                code,
                key,
                offline=True,
                at_door=datetime.now(UTC).isoformat(),
            )
            for _ in range(6)
        )
    )
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    bodies = [a.json() for a in answers]
    assert all(b == bodies[0] for b in bodies), bodies
    assert bodies[0]["already_confirmed"] is False
    assert await ConfirmationKey.count() == 1
    confirms = await AuditEntry.count().where(AuditEntry.action == "visit.confirm")
    assert confirms == 1
    assert await stock(loop.offers[0]) == {"available": 0, "reserved": 0, "delivered": 1}


async def test_concurrent_replays_of_one_wrong_offline_code_hold_it_once(
    committed: httpx.AsyncClient,
) -> None:
    client = committed
    loop = await build_loop(prefix="w")
    visit_id, code = await _visit_with_slip(client, loop)
    key = str(uuid.uuid4())
    answers = await asyncio.gather(
        *(_confirm(client, loop, visit_id, _wrong(code), key, offline=True) for _ in range(2))
    )
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["held_for_review"] is True
    assert await OfflineReview.count() == 1
    assert (await _visit(visit_id))["failed_attempts"] == 0


async def test_a_safety_checklist_typed_offline_for_a_visit_without_coal_or_a_stove_is_refused(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visit_id, code = await _visit_with_slip(client, loop)
    checklist = {
        "chimney_sealed": True,
        "vent": True,
        "stove_not_in_bedroom": True,
        "co_alarm": "present",
        "leaflet": True,
    }
    key = str(uuid.uuid4())
    refused = await _confirm(client, loop, visit_id, code, key, offline=True, safety=checklist)
    assert refused.status_code == 400
    assert refused.json()["field"] == "safety"
    again = await _confirm(client, loop, visit_id, code, key, offline=True, safety=checklist)
    assert again.json() == refused.json()  # the stored refusal, answered again
    assert (await _visit(visit_id))["status"] == "pending"
