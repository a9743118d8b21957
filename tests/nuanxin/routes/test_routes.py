"""A courier's day: the charity's open visits ordered from its warehouse and back."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from geopy.distance import great_circle

from nuanxin.accounts.tables import Organization
from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries.tables import Visit
from nuanxin.identity import Role
from nuanxin.settings import Settings, SettingsError
from nuanxin.warehouses.tables import Warehouse
from tests.nuanxin.conftest import make_user
from tests.nuanxin.helpers import assert_error
from tests.nuanxin.loop_world import COUNTY, Loop, _token, add_household, build_loop

# Villages around 呼兰区, a few kilometres to some tens of kilometres from the warehouse.
VILLAGES = [
    (COUNTY[0] + 0.10, COUNTY[1] + 0.02),
    (COUNTY[0] - 0.05, COUNTY[1] + 0.15),
    (COUNTY[0] + 0.02, COUNTY[1] - 0.12),
    (COUNTY[0] + 0.12, COUNTY[1] + 0.10),
    (COUNTY[0] - 0.08, COUNTY[1] - 0.03),
    (COUNTY[0] + 0.04, COUNTY[1] + 0.05),
]


async def add_visit(loop: Loop, household: int, *, status: str = "pending", org: int = 0) -> int:
    rows = (
        await Visit.insert(
            Visit(
                household=household,
                organization=org or loop.charity_id,
                status=status,
                created_at=datetime.now(UTC),
            )
        )
        .returning(Visit.id)
        .run()
    )
    return int(rows[0]["id"])


async def second_charity(loop: Loop, name: str = "B") -> Loop:
    """Another charity in the same county, with its warehouse, a member and a courier."""
    now = datetime.now(UTC)
    org = (
        await Organization.insert(
            Organization(
                name=f"{name}公益",
                credit_code=f"91230100OTHER{name}01X"[-18:],
                status="verified",
                region=loop.county_id,
                contact_name="联系人",
                contact_phone="13800000000",
                created_at=now,
            )
        )
        .returning(Organization.id)
        .run()
    )
    charity = int(org[0]["id"])
    warehouse = (
        await Warehouse.insert(
            Warehouse(
                organization=charity,
                name=f"{name}仓库",
                address="呼兰区另一条路",
                region=loop.county_id,
                lat=COUNTY[0] - 0.2,
                lon=COUNTY[1],
            )
        )
        .returning(Warehouse.id)
        .run()
    )
    other = Loop(
        county_id=loop.county_id,
        charity_id=charity,
        warehouse_id=int(warehouse[0]["id"]),
        quilt_id=loop.quilt_id,
    )
    for who, role in (("courier", Role.courier), ("charity", Role.charity)):
        user = await make_user(f"{name}_{who}", role, organization=charity)
        other.tokens[who] = await _token(user, f"{name}{who}")
    return other


async def day_of_visits(loop: Loop) -> dict[int, tuple[float, float]]:
    """Six open visits of the loop's charity: visit id -> the household's point."""
    visits = {}
    for n, point in enumerate(VILLAGES):
        household = await add_household(loop, f"RT{n}", point)
        visits[await add_visit(loop, household)] = point
    return visits


async def test_a_courier_orders_every_open_visit_of_the_day_from_the_warehouse_and_back(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visits = await day_of_visits(loop)
    planned = await client.post(
        "/api/routes", json={"warehouse_id": loop.warehouse_id}, headers=loop.auth("courier")
    )
    assert planned.status_code == 201, planned.text
    route = planned.json()
    assert sorted(s["visit_id"] for s in route["stops"]) == sorted(visits)
    assert [s["position"] for s in route["stops"]] == [1, 2, 3, 4, 5, 6]
    path = [COUNTY, *(visits[s["visit_id"]] for s in route["stops"]), COUNTY]
    legs = [great_circle(a, b).km * 1.3 for a, b in itertools.pairwise(path)]
    assert [s["leg_km"] for s in route["stops"]] == pytest.approx(legs[:-1], rel=1e-9)
    assert route["return_km"] == pytest.approx(legs[-1], rel=1e-9)
    assert route["total_km"] == pytest.approx(math.fsum(legs), rel=1e-9)
    assert route["total_km"] <= route["baseline_km"]
    assert route["detour_factor"] == 1.3
    assert {s["location_source"] for s in route["stops"]} == {"county"}
    entries = await AuditEntry.select().where(AuditEntry.action == "route.plan").run()
    assert len(entries) == 1 and entries[0]["entity_id"] == str(route["id"])
    again = await client.get(f"/api/routes/{route['id']}", headers=loop.auth("charity"))
    assert again.status_code == 200
    assert again.json() == route


async def test_visits_closed_or_of_another_charity_are_never_on_the_route(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visits = await day_of_visits(loop)
    done = await add_visit(loop, await add_household(loop, "RTD", VILLAGES[0]), status="delivered")
    other = await second_charity(loop)
    theirs = await add_visit(other, await add_household(other, "RTB", VILLAGES[1]))
    planned = await client.post(
        "/api/routes", json={"warehouse_id": loop.warehouse_id}, headers=loop.auth("courier")
    )
    assert sorted(s["visit_id"] for s in planned.json()["stops"]) == sorted(visits)
    for stranger in (done, theirs):
        refused = await client.post(
            "/api/routes",
            json={"warehouse_id": loop.warehouse_id, "visit_ids": [*visits, stranger]},
            headers=loop.auth("courier"),
        )
        body = assert_error(refused, 400, "bad_request")
        assert body["field"] == "visit_ids"


async def test_the_visits_asked_for_are_the_only_stops(client: httpx.AsyncClient, db: None) -> None:
    loop = await build_loop()
    visits = list(await day_of_visits(loop))
    planned = await client.post(
        "/api/routes",
        json={"warehouse_id": loop.warehouse_id, "visit_ids": visits[:1]},
        headers=loop.auth("charity"),
    )
    assert planned.status_code == 201, planned.text
    route = planned.json()
    assert [s["visit_id"] for s in route["stops"]] == visits[:1]
    assert route["method"] == "trivial"
    assert route["total_km"] == pytest.approx(2 * route["return_km"])


async def test_another_charitys_warehouse_is_not_found(client: httpx.AsyncClient, db: None) -> None:
    loop = await build_loop()
    await day_of_visits(loop)
    other = await second_charity(loop)
    refused = await client.post(
        "/api/routes", json={"warehouse_id": other.warehouse_id}, headers=loop.auth("courier")
    )
    assert assert_error(refused, 404, "not_found")["field"] == "warehouse_id"


async def test_staff_plan_no_route_and_a_route_is_read_only_by_its_charity(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    await day_of_visits(loop)
    staff = await client.post(
        "/api/routes", json={"warehouse_id": loop.warehouse_id}, headers=loop.auth("staff")
    )
    assert staff.status_code == 403
    route = (
        await client.post(
            "/api/routes", json={"warehouse_id": loop.warehouse_id}, headers=loop.auth("courier")
        )
    ).json()
    other = await second_charity(loop)
    for outsider in (other.auth("courier"), other.auth("charity"), loop.auth("staff")):
        assert (await client.get(f"/api/routes/{route['id']}", headers=outsider)).status_code == 404
        listed = await client.get("/api/routes", headers=outsider)
        assert listed.status_code == 200 and listed.json()["total"] == 0
    mine = await client.get("/api/routes", headers=loop.auth("charity"))
    assert [r["id"] for r in mine.json()["items"]] == [route["id"]]


async def test_a_day_gone_by_no_open_visit_and_a_malformed_body_are_refused(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    empty = await client.post(
        "/api/routes", json={"warehouse_id": loop.warehouse_id}, headers=loop.auth("courier")
    )
    assert assert_error(empty, 400, "bad_request")["field"] == "visit_ids"
    await day_of_visits(loop)
    yesterday = (datetime.now(UTC).date() - timedelta(days=2)).isoformat()
    past = await client.post(
        "/api/routes",
        json={"warehouse_id": loop.warehouse_id, "day": yesterday},
        headers=loop.auth("courier"),
    )
    assert assert_error(past, 400, "bad_request")["field"] == "day"
    for body in (
        {},
        {"warehouse_id": "x"},
        {"warehouse_id": loop.warehouse_id, "visit_ids": []},
        {"warehouse_id": loop.warehouse_id, "visit_ids": list(range(1, 200))},
        {"warehouse_id": loop.warehouse_id, "extra": 1},
    ):
        bad = await client.post("/api/routes", json=body, headers=loop.auth("courier"))
        assert bad.status_code == 400, body


async def test_the_courier_list_follows_todays_route_and_the_sheet_prints_it_in_both_languages(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    visits = await day_of_visits(loop)
    before = await client.get("/courier?lang=en", headers=loop.auth("courier"))
    assert "Plan today&#39;s route" in before.text or "Plan today's route" in before.text
    planned = await client.post(
        "/courier/routes?lang=en",
        data={"warehouse_id": str(loop.warehouse_id), "day": ""},
        headers=loop.auth("courier"),
    )
    assert planned.status_code == 303, planned.text
    target = planned.headers["location"]
    route_id = int(target.rsplit("/", 1)[1])
    route = (await client.get(f"/api/routes/{route_id}", headers=loop.auth("courier"))).json()
    order = [s["visit_id"] for s in route["stops"]]
    assert sorted(order) == sorted(visits)

    listing = (await client.get("/courier?lang=zh-CN", headers=loop.auth("courier"))).text
    assert "今日路线" in listing
    places = [listing.index(f'data-testid="deliver-visit-{v}"') for v in order]
    assert places == sorted(places), "the cards follow the route's order"

    for lang, words in (
        ("zh-CN", ("路线单", "返回仓库", "公里")),
        ("en", ("Route sheet", "Back to")),
    ):
        sheet = await client.get(f"{target}?lang={lang}", headers=loop.auth("courier"))
        assert sheet.status_code == 200
        for word in words:
            assert word in sheet.text
        rows = [sheet.text.index(f'data-testid="route-stop-{n}"') for n in range(1, 7)]
        assert rows == sorted(rows)
        first = sheet.text[rows[0] : rows[1]]
        assert "呼兰区测试村RT" in first  # the address, for the charity's open visit
    charity_sheet = await client.get(target, headers=loop.auth("charity"))
    assert charity_sheet.status_code == 200
    other = await second_charity(loop)
    assert (await client.get(target, headers=other.auth("courier"))).status_code == 404


async def test_the_plan_form_keeps_what_was_typed_and_names_the_field(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    await day_of_visits(loop)
    bad = await client.post(
        "/courier/routes",
        data={"warehouse_id": str(loop.warehouse_id), "day": "2026/13/40"},
        headers=loop.auth("courier"),
    )
    assert bad.status_code == 400
    assert "错误：" in bad.text
    assert 'value="2026/13/40"' in bad.text
    assert 'id="day-error"' in bad.text
    gone = await client.post(
        "/courier/routes",
        data={"warehouse_id": str(loop.warehouse_id), "day": "2020-01-01"},
        headers=loop.auth("courier"),
    )
    assert gone.status_code == 400 and "今天或以后" in gone.text


async def test_a_member_of_a_charity_without_a_warehouse_is_told_to_add_one(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    other = await second_charity(loop)
    await Warehouse.delete().where(Warehouse.id == other.warehouse_id).run()
    shown = await client.get("/courier/routes?lang=en", headers=other.auth("charity"))
    assert shown.status_code == 200
    assert "(no warehouse yet)" in shown.text


def test_the_detour_factor_and_time_limit_are_settings_checked_at_start(tmp_path: Path) -> None:
    base = {"NUANXIN_ENV": "test", "NUANXIN_VAR_DIR": str(tmp_path)}
    settings = Settings.from_env(
        {"ROUTE_DETOUR_FACTOR": "1.5", "ROUTE_TIME_LIMIT_SECONDS": "2", **base}
    )
    assert (settings.route_detour_factor, settings.route_time_limit_seconds) == (1.5, 2.0)
    for variable, value in (
        ("ROUTE_DETOUR_FACTOR", "0.8"),
        ("ROUTE_DETOUR_FACTOR", "many"),
        ("ROUTE_TIME_LIMIT_SECONDS", "0"),
        ("ROUTE_TIME_LIMIT_SECONDS", "120"),
    ):
        with pytest.raises(SettingsError, match=variable):
            Settings.from_env({variable: value, **base})
