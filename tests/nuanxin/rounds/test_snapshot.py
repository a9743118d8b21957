"""A round's snapshot selects, in SQL, only the stock that can serve its households; a round's
time limit bounds its solve and its stats say how far from the best the answer may be."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import numpy as np
import pytest

import matching
from matching.geo import EARTH_RADIUS_KM
from nuanxin import db as db_module
from nuanxin.households.tables import Need
from nuanxin.households.vocabulary import VerificationStatus
from nuanxin.identity import Role
from nuanxin.offers import stock as ledger
from nuanxin.offers.tables import Item, Offer
from nuanxin.regions.tables import Region
from nuanxin.rounds import columns as columns_module
from nuanxin.rounds import services
from nuanxin.rounds.columns import take_columns
from nuanxin.rounds.snapshot import take_snapshot, to_arrays, to_problem
from nuanxin.rounds.tables import MatchingRound, Proposal
from nuanxin.rounds.vocabulary import ProposalStatus, RoundStatus
from nuanxin.synthetic import generate
from nuanxin.synthetic.load import load_dataset
from tests.nuanxin.conftest import make_region, make_user, run_jobs
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


def _same(mine: matching.ArrayProblem, theirs: matching.ArrayProblem) -> bool:
    for name in (f.name for f in dataclasses.fields(matching.ArrayProblem)):
        got, want = getattr(mine, name), getattr(theirs, name)
        if isinstance(want, np.ndarray):
            assert np.array_equal(got, want), name
        else:
            assert got == want, name
    return True


def _csr_sets(starts: np.ndarray, values: np.ndarray) -> list[set[int]]:
    return [set(values[a:b].tolist()) for a, b in itertools.pairwise(starts.tolist())]


async def _rejected(households: int) -> list[tuple[int, int]]:
    """Proposals of the first households' first needs, rejected: the pairs the exclusions see."""
    snapshot = await take_snapshot(region_prefix="23", item_codes=None, in_reach=True)
    solved = matching.solve(to_problem(snapshot.households, snapshot.stock), reports=False)
    region = await Region.select(Region.id).first().run()
    assert region is not None
    staff = await make_user("columns_staff", Role.staff, jurisdiction=region["id"])
    rows = await MatchingRound.insert(
        MatchingRound(region=region["id"], created_by=staff, created_at=datetime.now(UTC))
    ).returning(MatchingRound.id)
    need_of = {
        (h.household_id, n.item_code): n.need_id for h in snapshot.households for n in h.needs
    }
    pairs = [(int(a.household), int(a.offer), a.kind) for a in solved.assignments][:households]
    await Proposal.insert(
        *(
            Proposal(
                round=rows[0]["id"],
                offer=offer,
                household=household,
                need=need_of[(household, kind)],
                quantity=1,
                distance_km=1.0,
                reason="-",
                status=ProposalStatus.rejected,
            )
            for household, offer, kind in pairs
        )
    )
    return [(household, offer) for household, offer, _ in pairs]


@pytest.mark.parametrize("item_codes", [None, ["coal", "quilt"]])
async def test_a_rounds_columns_from_the_database_are_its_snapshots_columns(
    db: None, item_codes: list[str] | None
) -> None:
    dataset = generate(households=300, offers=20, seed=5, provinces=("230000",))
    for county in dataset.counties:
        await make_region(county.code)
    await load_dataset(dataset)
    # units already allocated (the weights start further down) and a rejected pair or three
    some = [int(row["id"]) for row in await Need.select(Need.id).order_by(Need.id).limit(40)]
    await Need.update({Need.allocated: 1}).where(Need.id.is_in(some) & (Need.quantity > 1)).run()
    assert len(await _rejected(3)) == 3

    columns = await take_columns(region_prefix="23", item_codes=item_codes)
    snapshot = await take_snapshot(region_prefix="23", item_codes=item_codes, in_reach=True)
    expected = to_arrays(snapshot.households, snapshot.stock)

    mine = columns.problem
    assert any(tag.startswith("unrejected:") for tag in expected.tags)
    nobody = await take_columns(region_prefix="99", item_codes=item_codes)
    assert _same(nobody.problem, to_arrays([], []))
    for name in (f.name for f in dataclasses.fields(matching.ArrayProblem)):
        if name == "household_tags":  # a household's tags in any order: compared as sets
            assert _csr_sets(mine.household_tags_start, mine.household_tags) == _csr_sets(
                expected.household_tags_start, expected.household_tags
            )
            continue
        got, want = getattr(mine, name), getattr(expected, name)
        if isinstance(want, np.ndarray):
            assert np.array_equal(got, want), name
        else:
            assert got == want, name
    households = {h.household_id: h for h in snapshot.households}
    needs = [n.need_id for h in snapshot.households for n in h.needs]
    assert columns.household_key.tolist() == list(households)
    assert columns.need_key.tolist() == needs
    assert columns.offer_key.tolist() == [int(i) for i in expected.offer_id]
    assert [columns.sources[s] for s in columns.household_source.tolist()] == [
        h.location_source for h in snapshot.households
    ]
    assert columns.offers == len(snapshot.stock)
    engines = matching.solve_arrays(expected, reports=False)
    answer = matching.solve_arrays(mine, reports=False)
    assert np.array_equal(answer.assignment_offer, engines.assignment_offer)
    assert np.array_equal(answer.assignment_household, engines.assignment_household)
    assert np.array_equal(answer.assignment_quantity, engines.assignment_quantity)


async def _running_round(province: int, staff: int) -> int:
    """A round of the province's staff, running: what the round's job finds when it starts."""
    rows = await MatchingRound.insert(
        MatchingRound(
            region=province,
            status=RoundStatus.running,
            created_by=staff,
            created_at=datetime.now(UTC),
        )
    ).returning(MatchingRound.id)
    return int(rows[0]["id"])


async def test_a_rounds_proposals_stored_a_few_at_a_time_are_the_engines_answer(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = generate(households=300, offers=20, seed=5, provinces=("230000",))
    for county in dataset.counties:
        await make_region(county.code)
    await load_dataset(dataset)
    await _rejected(2)
    province = await make_region("230000", level="province")
    staff = await make_user("round_staff", Role.staff, jurisdiction=province)
    round_id = await _running_round(province, staff)
    snapshot = await take_snapshot(region_prefix="23", item_codes=None, in_reach=True)
    households = {h.household_id: h for h in snapshot.households}
    monkeypatch.setattr(services, "STORE_CHUNK", 7)  # many chunks, one thread making the next

    await services.run_round(round_id)

    answer = matching.solve(to_problem(snapshot.households, snapshot.stock), reports=False)
    assert len(answer.assignments) > 7 * 3
    stored = await Proposal.select().where(Proposal.round == round_id).order_by(Proposal.id)
    need_of = {(h, n.item_code): n.need_id for h, one in households.items() for n in one.needs}
    assert [
        (p["offer"], p["household"], p["need"], p["quantity"], p["distance_km"], p["reason"])
        for p in stored
    ] == [
        (
            int(a.offer),
            int(a.household),
            need_of[(int(a.household), a.kind)],
            a.quantity,
            a.distance_km,
            a.reason,
        )
        for a in answer.assignments
    ]
    assert [p["location_source"] for p in stored] == [
        households[p["household"]].location_source for p in stored
    ]
    assert {p["status"] for p in stored} == {ProposalStatus.proposed}
    row = await MatchingRound.select(MatchingRound.stats).where(MatchingRound.id == round_id)
    stats = json.loads(row[0]["stats"]) if isinstance(row[0]["stats"], str) else row[0]["stats"]
    by_kind: dict[str, int] = {}
    for unmet in answer.unmet:
        by_kind[unmet.kind] = by_kind.get(unmet.kind, 0) + unmet.quantity
    assert list(stats["unmet_by_kind"].items()) == list(by_kind.items())
    assert stats["unmet_units"] == sum(by_kind.values()) > 0
    assert stats["households"] == len(households) and stats["offers"] == len(snapshot.stock)
    assert stats["totals"] == msgspec.to_builtins(answer.totals)


async def test_a_round_storing_many_proposals_leaves_their_table_analyzed(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Approval plans its joins on the proposal table's statistics: a round that stored a bulk
    of proposals refreshes them, one that stored a few leaves them."""
    if not db_module.is_postgres():
        pytest.skip("SQLite keeps no planner statistics to refresh")
    dataset = generate(households=120, offers=10, seed=7, provinces=("230000",))
    for county in dataset.counties:
        await make_region(county.code)
    await load_dataset(dataset)
    province = await make_region("230000", level="province")
    staff = await make_user("round_staff", Role.staff, jurisdiction=province)

    async def stored_by_a_round() -> int:
        round_id = await _running_round(province, staff)
        await services.run_round(round_id)
        return int(await Proposal.count().where(Proposal.round == round_id))

    async def estimate() -> float:
        found = await Proposal.raw("SELECT reltuples FROM pg_class WHERE relname = 'proposal'")
        return float(found[0]["reltuples"])

    before = await estimate()
    monkeypatch.setattr(db_module, "ANALYZE_AFTER", 10**6)
    few = await stored_by_a_round()
    assert few > 0 and await estimate() == before
    await Proposal.delete().where(Proposal.id > 0)  # counted as gone by an ANALYZE after
    monkeypatch.setattr(db_module, "ANALYZE_AFTER", few)
    again = await stored_by_a_round()
    assert again == few and await estimate() == again


async def test_households_whose_tags_appear_between_the_two_reads_get_theirs_by_id(
    db: None,
) -> None:
    dataset = generate(households=60, offers=4, seed=3, provinces=("230000",))
    for county in dataset.counties:
        await make_region(county.code)
    await load_dataset(dataset)
    where = (VerificationStatus.verified.value, datetime.now(UTC), "23%")
    everything = await columns_module._households(
        await columns_module._kinds_of_household(where), where
    )
    kinds = await columns_module._kinds_of_household(where)
    assert len(kinds) > 2
    read_before = kinds[:1]  # as if the others had appeared after the first read

    households = await columns_module._households(read_before, where)

    assert (households[4] < 0).any()
    households = await columns_module._late_kinds(read_before, households)
    assert sorted(read_before) == sorted(kinds)
    assert [read_before[k] for k in households[4].tolist()] == [
        kinds[k] for k in everything[4].tolist()
    ]
