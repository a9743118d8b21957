"""Anyone reports a person in difficulty; staff triage the queue where the person is now."""

from __future__ import annotations

import httpx

from nuanxin.audit.tables import AuditEntry
from nuanxin.help_requests.tables import HelpRequest
from nuanxin.households.tables import Household
from tests.nuanxin.conftest import csrf_headers
from tests.nuanxin.helpers import assert_error
from tests.nuanxin.households.helpers import build_place, household_body, id_number

REPORT = "/api/help-requests/report"


async def test_a_public_report_lands_in_the_queue_of_the_county_where_the_person_is(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    csrf = await csrf_headers(client)
    report = {
        "address": "黑龙江省哈尔滨市呼兰区康金街道幸福村",
        "description": "独居老人，家里没有煤了",
        "person_name": "张大爷",
        "person_phone": "13811112222",
        "reporter_contact": "邻居 13900000000",
    }
    received = await client.post(REPORT, json=report, headers=csrf)
    assert received.status_code == 201, received.text
    assert set(received.json()) == {"id", "status", "region_name"}
    queue = (await client.get("/api/help-requests", headers=place.staff)).json()
    assert [item["id"] for item in queue["items"]] == [received.json()["id"]]
    item = queue["items"][0]
    assert item["source"] == "public"
    assert item["region_code"] == "230111005"  # the township the address named
    assert item["phone"] == "13811112222"
    neighbour = (await client.get("/api/help-requests", headers=place.neighbour)).json()
    assert neighbour["total"] == 0
    gone = await client.get(f"/api/help-requests/{item['id']}", headers=place.neighbour)
    assert_error(gone, 404, "not_found")
    assert (await client.get("/api/help-requests", headers=place.charity)).status_code == 403
    assert (await client.get("/api/help-requests")).status_code == 401
    trail = await AuditEntry.select().where(AuditEntry.action == "help_request.create").run()
    assert trail[0]["actor_label"] == "public" and "13811112222" not in str(trail)


async def test_an_unclear_address_is_a_400_naming_the_field_with_the_candidates(
    client: httpx.AsyncClient,
) -> None:
    await build_place()
    csrf = await csrf_headers(client)
    ambiguous = await client.post(
        REPORT,
        json={"address": "朝阳区某小区", "description": "x"},
        headers=csrf,
    )
    body = assert_error(ambiguous, 400, "validation_error")
    assert body["field"] == "address"
    assert "110105" in str(body["detail"]) and "220104" in str(body["detail"])
    city = await client.post(
        REPORT,
        json={"address": "哈尔滨市某街", "description": "x"},
        headers=csrf,
    )
    body = assert_error(city, 400, "validation_error")
    assert body["field"] == "address" and "230111" in str(body["detail"])
    nowhere = await client.post(REPORT, json={"description": "x"}, headers=csrf)
    assert assert_error(nowhere, 400, "validation_error")["field"] == "region_code"
    city_code = await client.post(
        REPORT,
        json={"region_code": "230100", "description": "x"},
        headers=csrf,
    )
    assert assert_error(city_code, 400, "validation_error")["field"] == "region_code"
    empty = await client.post(
        REPORT,
        json={"region_code": "230111", "description": ""},
        headers=csrf,
    )
    assert assert_error(empty, 400, "validation_error")["field"] == "description"
    unknown = await client.post(
        REPORT,
        json={"region_code": "230111", "description": "x", "y": 1},
        headers=csrf,
    )
    assert_error(unknown, 400, "validation_error")
    assert await HelpRequest.count().run() == 0


async def test_staff_convert_one_request_and_close_another(client: httpx.AsyncClient) -> None:
    place = await build_place()
    csrf = await csrf_headers(client)
    # A hotline call taken by the neighbour county's staff, about a person now in county A.
    call = await client.post(
        "/api/help-requests/hotline",
        json={"region_code": "230111", "description": "热线来电：无取暖", "person_name": "王秀英"},
        headers=place.neighbour,
    )
    assert call.status_code == 201, call.text
    other = await client.post(
        REPORT,
        json={"region_code": "230111", "description": "重复上报"},
        headers=csrf,
    )
    first, second = call.json()["id"], other.json()["id"]
    row = await HelpRequest.select(HelpRequest.source).where(HelpRequest.id == first).first().run()
    assert row == {"source": "hotline"}

    refused = await client.post(
        f"/api/help-requests/{first}/convert", json=household_body(), headers=place.neighbour
    )
    assert_error(refused, 404, "not_found")
    converted = await client.post(
        f"/api/help-requests/{first}/convert", json=household_body(), headers=place.staff
    )
    assert converted.status_code == 201, converted.text
    body = converted.json()
    assert body["help_request"]["status"] == "converted"
    assert body["household"]["status"] == "unverified"
    assert body["help_request"]["household_id"] == body["household"]["id"]
    again = await client.post(
        f"/api/help-requests/{first}/convert", json=household_body(), headers=place.staff
    )
    assert_error(again, 409, "not_open")

    closed = await client.post(
        f"/api/help-requests/{second}/close", json={"reason": "同一人重复上报"}, headers=place.staff
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["close_reason"] == "同一人重复上报"
    no_reason = await client.post(
        f"/api/help-requests/{second}/close", json={"reason": ""}, headers=place.staff
    )
    assert assert_error(no_reason, 400, "validation_error")["field"] == "reason"

    open_queue = await client.get(
        "/api/help-requests", params={"status": "open"}, headers=place.staff
    )
    assert open_queue.json()["total"] == 0
    actions = {row["action"] for row in await AuditEntry.select(AuditEntry.action).run()}
    assert {"help_request.create", "help_request.convert", "help_request.close"} <= actions
    assert "household.create" in actions


async def test_a_refused_conversion_leaves_the_request_open_and_no_household(
    client: httpx.AsyncClient,
) -> None:
    place = await build_place()
    csrf = await csrf_headers(client)
    await client.post("/api/households", json=household_body(), headers=place.staff)
    report = await client.post(
        REPORT,
        json={"region_code": "230111", "description": "x"},
        headers=csrf,
    )
    request_id = report.json()["id"]
    duplicate = await client.post(
        f"/api/help-requests/{request_id}/convert",
        json=household_body(head_name="别名", current_address="别处"),
        headers=place.staff,
    )
    assert_error(duplicate, 409, "duplicate_household")
    no_id = household_body(head_name="新户", id_number=None, current_address="新址")
    del no_id["id_number"]
    missing = await client.post(
        f"/api/help-requests/{request_id}/convert", json=no_id, headers=place.staff
    )
    assert assert_error(missing, 400, "validation_error")["field"] == "id_number"
    row = (
        await HelpRequest.select(HelpRequest.status)
        .where(HelpRequest.id == request_id)
        .first()
        .run()
    )
    assert row == {"status": "open"}
    assert await Household.count().run() == 1
    assert await AuditEntry.count().where(AuditEntry.action == "help_request.convert").run() == 0
    assert id_number() not in str(await AuditEntry.select().run())
