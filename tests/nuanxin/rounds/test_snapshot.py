"""A round's snapshot selects, in SQL, only the stock that can serve its households; a round's
time limit bounds its solve and its stats say how far from the best the answer may be."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np

import matching
from matching.geo import EARTH_RADIUS_KM
from nuanxin.offers import stock as ledger
from nuanxin.offers.tables import Item, Offer
from nuanxin.rounds.snapshot import take_snapshot, to_arrays, to_problem
from nuanxin.synthetic import generate
from nuanxin.synthetic.load import load_dataset
from tests.nuanxin.conftest import make_region, run_jobs
from tests.nuanxin.loop_world import COUNTY, Loop, add_household, add_offer, build_loop

GUANGZHOU = (23.13, 113.26)


def _point(start: tuple[float, float], km: float, bearing: float) -> tuple[float, float]:
    """The point ``km`` away from ``start`` along the great circle at ``bearing`` degrees."""
    lat, lon, angle, theta = (
        math.radians(start[0]),
        math.radians(start[1]),
        km / EARTH_RADIUS_KM,
        math.radians(bearing),
    )
    lat2 = math.asin(
        math.sin(lat) * math.cos(angle) + math.cos(lat) * math.sin(angle) * math.cos(theta)
    )
    lon2 = lon + math.atan2(
        math.sin(theta) * math.sin(angle) * math.cos(lat),
        math.cos(angle) - math.sin(lat) * math.sin(lat2),
    )
    return math.degrees(lat2), math.degrees(lon2)


async def _offer(
    loop: Loop, point: tuple[float, float], radius_km: float, item: str = "quilt"
) -> int:
    now = datetime.now(UTC)
    found = await Item.select(Item.id).where(Item.code == item).first().run()
    assert found is not None
    rows = await Offer.insert(
        Offer(
            organization=loop.charity_id,
            warehouse=loop.warehouse_id,
            item=found["id"],
            quantity=5,
            available=5,
            lat=point[0],
            lon=point[1],
            radius_km=radius_km,
            available_from=now.date(),
            available_until=(now + timedelta(days=30)).date(),
            created_at=now,
            updated_at=now,
        )
    ).returning(Offer.id)
    return int(rows[0]["id"])


async def test_a_rounds_snapshot_leaves_out_another_provinces_stock_and_items_nobody_needs(
    db: None,
) -> None:
    loop = await build_loop()
    await add_household(loop, "H1", COUNTY, quilts=3)
    near = await _offer(loop, COUNTY, 30)
    far = await _offer(loop, GUANGZHOU, 200)  # another province, out of anyone's reach
    coal = await _offer(loop, COUNTY, 30, item="coal")  # nobody here needs coal
    across = _point(COUNTY, 55, 180)  # 55 km south: the next county, or the next province
    reaching = await _offer(loop, across, 60)
    short = await _offer(loop, across, 50)

    snapshot = await take_snapshot(region_prefix="230111", item_codes=None, in_reach=True)

    assert {s.offer_id for s in snapshot.stock} == {near, reaching}
    everything = await ledger.open_stock()
    assert {s.offer_id for s in everything} == {near, far, coal, reaching, short}
    whole = matching.solve(to_problem(snapshot.households, everything), reports=False)
    narrowed = matching.solve(to_problem(snapshot.households, snapshot.stock), reports=False)
    assert whole.assignments == narrowed.assignments and whole.totals == narrowed.totals


async def test_an_offer_that_reaches_a_household_in_any_direction_is_selected(db: None) -> None:
    # near the northern border, where a degree of longitude is shortest
    loop = await build_loop()
    south_west, north_east = (52.0, 122.0), (53.3, 124.5)
    await add_household(loop, "SW", south_west)
    await add_household(loop, "NE", north_east)
    reaching = {
        await _offer(loop, _point(corner, 79.9, bearing), 80)
        for corner in (south_west, north_east)
        for bearing in range(0, 360, 15)
    }
    # beyond the box by more than any radius: north and east of its north-east corner, ...
    beyond = {
        await _offer(loop, _point(corner, 120, bearing), 80)
        for corner, bearings in ((north_east, (0, 90)), (south_west, (180, 270)))
        for bearing in bearings
    }
    reach = ledger.Reach.around([south_west, north_east])
    assert reach is not None

    selected = {s.offer_id for s in await ledger.open_stock(item_codes=["quilt"], reach=reach)}

    assert reaching <= selected
    assert not beyond & selected


async def test_a_round_with_a_time_limit_keeps_it_and_shows_how_far_from_the_best_it_may_be(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    for n in range(30):
        await add_household(loop, f"T{n}", _point(COUNTY, n, 7 * n), weight=1 + n % 4)
    await add_offer(loop, quantity=20)
    started = await client.post(
        "/api/rounds",
        json={"item_codes": ["quilt"], "time_limit_s": 1e-9},
        headers=loop.auth("staff"),
    )
    assert started.status_code == 202, started.text
    assert started.json()["stats"] == {"time_limit_s": 1e-9}
    await run_jobs()

    body = (
        await client.get(f"/api/rounds/{started.json()['id']}", headers=loop.auth("staff"))
    ).json()

    stats = body["stats"]
    assert body["status"] == "proposed" and body["proposals"] > 0
    assert stats["time_limit_s"] == 1e-9
    assert stats["optimal"] is False and stats["status"] == "feasible"
    assert stats["gap"] >= 0 and stats["weighted_units_bound"] >= stats["totals"]["weighted_units"]
    assert set(stats["steps"]) == {"snapshot", "problem", "solve", "store"}
    refused = await client.post("/api/rounds", json={"time_limit_s": 0}, headers=loop.auth("staff"))
    assert refused.status_code == 400


async def test_the_snapshots_columns_are_the_engines_own_conversion_of_its_problem(
    db: None,
) -> None:
    dataset = generate(households=150, offers=12, seed=11, provinces=("230000",))
    for county in dataset.counties:
        await make_region(county.code)
    await load_dataset(dataset)
    snapshot = await take_snapshot(region_prefix="23", item_codes=None, in_reach=True)
    households = list(snapshot.households)
    # a tag of the kind the exclusions add
    households[0] = dataclasses.replace(households[0], tags=households[0].tags | {"unrejected:1"})
    assert len({n.item_code for h in households for n in h.needs}) > 1

    direct = to_arrays(households, snapshot.stock)
    through = matching.problem_to_arrays(to_problem(households, snapshot.stock))

    for name in (f.name for f in dataclasses.fields(matching.ArrayProblem)):
        mine, engines = getattr(direct, name), getattr(through, name)
        if isinstance(engines, np.ndarray):
            assert np.array_equal(mine, engines), name
        else:
            assert mine == engines, name
    solved = matching.solution_from_arrays(direct, matching.solve_arrays(direct, reports=False))
    assert (
        solved.assignments
        == matching.solve(to_problem(households, snapshot.stock), reports=False).assignments
    )
