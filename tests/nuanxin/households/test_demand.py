"""Household demand as the matching loop sees it (issue 19): which households and units a round
solves for, and how units of a need move between unmet and allocated."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from nuanxin.errors import Conflict
from nuanxin.households.demand import (
    UNIT_DECAY,
    allocate,
    allocate_each,
    ensure_unmet,
    household_place,
    raise_quantity,
    release,
    unit_weights,
    unmet_demand,
)
from nuanxin.households.tables import Household, Need
from nuanxin.offers.tables import Item
from nuanxin.regions.tables import Region
from tests.nuanxin.helpers import rows_dropped_on_write
from tests.nuanxin.loop_world import COUNTY, NEIGHBOUR, Loop, add_household, build_loop, region


async def _need(need_id: int) -> dict[str, object]:
    row = await Need.select().where(Need.id == need_id).first().run()
    assert row is not None
    return row


async def _coal_id() -> int:
    row = await Item.select(Item.id).where(Item.code == "coal").first().run()
    assert row is not None
    return int(row["id"])


async def _world() -> tuple[Loop, int]:
    """The loop's county, and its neighbour county in the same city."""
    loop = await build_loop()
    county = await Region.select(Region.parent).where(Region.id == loop.county_id).first().run()
    assert county is not None
    neighbour = await region("230112", "阿城区", "county", int(county["parent"]), NEIGHBOUR)
    return loop, neighbour


async def test_a_round_solves_for_the_unmet_units_of_current_verified_households_only(
    db: None,
) -> None:
    loop, neighbour = await _world()
    wanting = await add_household(loop, "wanting", COUNTY, quilts=3, weight=2.0)
    await Need.update({Need.allocated: 1}).where(Need.id == loop.needs[wanting]).run()
    met = await add_household(loop, "met", COUNTY, quilts=2)
    await Need.update({Need.allocated: 2}).where(Need.id == loop.needs[met]).run()
    await add_household(loop, "expired", COUNTY, expired=True)
    pending = await add_household(loop, "pending", COUNTY)
    await Household.update({Household.status: "unverified"}).where(Household.id == pending).run()
    beside = await add_household(loop, "beside", NEIGHBOUR, region_id=neighbour)

    county = await unmet_demand(region_prefix="230111")
    assert [h.household_id for h in county] == [wanting]
    (need,) = county[0].needs
    assert need.need_id == loop.needs[wanting]
    assert need.item_code == "quilt"
    assert need.quantity == 2
    # The first unmet unit is the need's second: it weighs less than a first unit would.
    assert need.weights[0] == pytest.approx(2.0 * UNIT_DECAY)
    assert need.weights[1] == pytest.approx(need.weights[0] * UNIT_DECAY)
    assert county[0].region_code == "230111"
    assert (county[0].reference, county[0].category) == ("wanting", "dibao")
    assert county[0].location_source == "county"
    assert (county[0].lat, county[0].lon) == COUNTY
    assert county[0].tags == frozenset({"electricity"})

    await Household.update({Household.location_source: "pin"}).where(Household.id == wanting)
    (pinned,) = await unmet_demand(region_prefix="230111")
    assert pinned.location_source == "pin", "the round knows which point it measures from"

    city = await unmet_demand(region_prefix="2301")
    assert [h.household_id for h in city] == [wanting, beside]
    assert [h.household_id for h in await unmet_demand(region_prefix=None)] == [wanting, beside]
    assert await unmet_demand(region_prefix="230199") == []


async def test_a_verification_that_ends_now_no_longer_counts(db: None) -> None:
    loop = await build_loop()
    household = await add_household(loop, "h", COUNTY)
    row = await Household.select(Household.verification_expires_at).first().run()
    assert row is not None
    ends = row["verification_expires_at"]
    assert [h.household_id for h in await unmet_demand(region_prefix="23", now=ends)] == []
    before = ends - timedelta(seconds=1)
    found = await unmet_demand(region_prefix="23", now=before)
    assert [h.household_id for h in found] == [household]


async def test_a_verification_still_current_counts_when_the_servers_clock_is_in_china(
    db: None, clock_in_china: None
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "h", COUNTY)
    in_two_hours = datetime.now(UTC) + timedelta(hours=2)
    await Household.update({Household.verification_expires_at: in_two_hours}).where(
        Household.id == household
    )
    found = await unmet_demand(region_prefix="230111")
    assert [h.household_id for h in found] == [household]


async def test_a_round_for_some_items_sees_only_needs_of_those_items(db: None) -> None:
    loop = await build_loop()
    household = await add_household(loop, "h", COUNTY, quilts=1)
    coal = await ensure_unmet(
        household_id=household, item_id=await _coal_id(), quantity=4, rule="coal rule"
    )
    both = await unmet_demand(region_prefix="230111")
    assert {n.item_code for n in both[0].needs} == {"quilt", "coal"}
    (only,) = await unmet_demand(region_prefix="230111", item_codes=["coal"])
    assert [(n.need_id, n.quantity) for n in only.needs] == [(coal, 4)]
    assert await unmet_demand(region_prefix="230111", item_codes=["stove"]) == []


async def test_a_need_takes_allocations_up_to_its_quantity_and_not_one_more(db: None) -> None:
    loop = await build_loop()
    need = loop.needs[await add_household(loop, "h", COUNTY, quilts=3)]
    await allocate(need_id=need, quantity=2)
    await allocate(need_id=need, quantity=1)
    assert (await _need(need))["allocated"] == 3
    with pytest.raises(Conflict) as refused:
        await allocate(need_id=need, quantity=1)
    assert refused.value.error == "need_already_met"
    # staff read it as the reason a proposal went stale
    assert refused.value.detail == "The household's need is already met by other allocations"
    assert (await _need(need))["allocated"] == 3


async def test_a_release_gives_back_allocated_units_down_to_none_and_not_below(db: None) -> None:
    loop = await build_loop()
    need = loop.needs[await add_household(loop, "h", COUNTY, quilts=3)]
    await allocate(need_id=need, quantity=2)
    with pytest.raises(Conflict) as refused:
        await release(need_id=need, quantity=3)
    assert refused.value.error == "need_release"
    assert refused.value.detail == "Cannot release more units than were allocated"
    assert (await _need(need))["allocated"] == 2
    await release(need_id=need, quantity=1)
    await release(need_id=need, quantity=1)
    assert (await _need(need))["allocated"] == 0


async def test_help_first_raises_a_need_to_the_unmet_units_asked_and_never_lowers_it(
    db: None,
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "h", COUNTY, quilts=2)
    need = loop.needs[household]
    await allocate(need_id=need, quantity=1)
    same = await ensure_unmet(household_id=household, item_id=loop.quilt_id, quantity=3, rule="r")
    assert same == need
    row = await _need(need)
    assert (row["quantity"], row["allocated"]) == (4, 1)
    assert row["override_reason"] == "r"
    await ensure_unmet(household_id=household, item_id=loop.quilt_id, quantity=1, rule="less")
    row = await _need(need)
    assert (row["quantity"], row["override_reason"]) == (4, "r")
    long = "先行救助 " + "y" * 400
    await ensure_unmet(household_id=household, item_id=loop.quilt_id, quantity=4, rule=long)
    row = await _need(need)
    assert (row["quantity"], row["override_reason"]) == (5, long[:300])
    # Exactly enough unmet already: nothing to raise, nothing rewritten.
    await ensure_unmet(household_id=household, item_id=loop.quilt_id, quantity=4, rule="same")
    row = await _need(need)
    assert (row["quantity"], row["override_reason"]) == (5, long[:300])


async def test_help_first_creates_the_need_of_an_item_the_household_had_none_of(db: None) -> None:
    loop = await build_loop()
    household = await add_household(loop, "h", COUNTY)
    rule = "先行救助 " + "x" * 400
    need = await ensure_unmet(
        household_id=household, item_id=await _coal_id(), quantity=2, rule=rule, weight=3.5
    )
    row = await _need(need)
    assert row["household"] == household
    assert (row["quantity"], row["allocated"], row["weight"]) == (2, 0, 3.5)
    assert row["rule"] == rule[:200]
    assert row["override_reason"] == rule[:300]


async def test_a_binding_decision_sets_the_total_and_leaves_at_least_one_unit_to_give(
    db: None,
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "h", COUNTY, quilts=2)
    need = loop.needs[household]
    await allocate(need_id=need, quantity=2)
    assert (
        await raise_quantity(
            household_id=household, item_id=loop.quilt_id, total=5, reason="一事一议"
        )
        == need
    )
    row = await _need(need)
    assert (row["quantity"], row["allocated"]) == (5, 2)
    await raise_quantity(household_id=household, item_id=loop.quilt_id, total=1, reason="less")
    row = await _need(need)
    assert (row["quantity"], row["allocated"]) == (5, 2)
    # A need of an item the household had none of: the total, at the base weight.
    fresh = await raise_quantity(
        household_id=household, item_id=await _coal_id(), total=3, reason="coal"
    )
    row = await _need(fresh)
    assert (row["quantity"], row["allocated"], row["weight"]) == (3, 0, 1.0)
    other = await add_household(loop, "other", COUNTY)
    none = await raise_quantity(
        household_id=other, item_id=await _coal_id(), total=0, reason="none"
    )
    assert (await _need(none))["quantity"] == 1


async def test_a_households_place_is_known_whatever_its_status(db: None) -> None:
    loop = await build_loop()
    household = await add_household(loop, "h", COUNTY)
    await Household.update({Household.status: "unverified"}).where(Household.id == household).run()
    place = await household_place(household_id=household)
    assert place is not None
    assert (place.household_id, place.reference, place.region_code) == (household, "h", "230111")
    assert (place.lat, place.lon) == COUNTY
    assert place.tags == frozenset({"electricity"})
    assert await household_place(household_id=household + 1000) is None


async def test_a_raised_need_records_the_true_instant_when_the_servers_clock_is_in_china(
    db: None, clock_in_china: None
) -> None:
    loop = await build_loop()
    household = await add_household(loop, "h", COUNTY, quilts=1)
    before = datetime.now(UTC)
    need = await ensure_unmet(household_id=household, item_id=loop.quilt_id, quantity=3, rule="r")
    raised = (await _need(need))["updated_at"]
    created = await ensure_unmet(
        household_id=household, item_id=await _coal_id(), quantity=1, rule="r"
    )
    made = (await _need(created))["updated_at"]
    after = datetime.now(UTC)
    assert isinstance(raised, datetime) and isinstance(made, datetime)
    assert before <= raised <= after and before <= made <= after


def test_each_further_unit_of_a_need_weighs_half_the_one_before_however_many_units() -> None:
    first = unit_weights(2.0, allocated=0, unmet=256)
    assert first[:3] == (2.0, 1.0, 0.5)
    # A need already far along starts where its allocated units left off, past 256 units too.
    far = unit_weights(2.0, allocated=250, unmet=10)
    assert len(far) == 10  # one weight per unmet unit, across the table's end
    assert far[:6] == first[250:]
    for weights in (first, far):
        assert all(b == a * UNIT_DECAY for a, b in itertools.pairwise(weights))
    assert unit_weights(2.0, allocated=3, unmet=2) == first[3:5]
    assert unit_weights(2.0, allocated=5, unmet=0) == ()


async def test_many_requests_are_counted_in_order_each_all_or_nothing(db: None) -> None:
    loop = await build_loop()
    wide = loop.needs[await add_household(loop, "wide", COUNTY, quilts=3)]
    met = loop.needs[await add_household(loop, "met", COUNTY, quilts=1)]
    await allocate(need_id=met, quantity=1)
    counted = await allocate_each(
        wanted=[(wide, 2), (met, 1), (wide, 2), (wide, 1), (wide, 0), (wide + met + 1000, 1)]
    )
    # the second request for ``wide`` no longer fits once the first took two of three units
    assert counted == [True, False, False, True, False, False]
    assert ((await _need(wide))["allocated"], (await _need(met))["allocated"]) == (3, 1)
    assert await allocate_each(wanted=[(wide, 1)]) == [False]
    assert await allocate_each(wanted=[]) == []


async def test_a_need_changed_between_its_read_and_its_guarded_update_is_refused_as_met(
    db: None,
) -> None:
    loop = await build_loop()
    need = loop.needs[await add_household(loop, "changed", COUNTY, quilts=2)]
    await rows_dropped_on_write("need", "UPDATE")  # the guard's update finds no fitting row
    with pytest.raises(Conflict) as refused:
        await allocate_each(wanted=[(need, 1)])
    assert (refused.value.error, refused.value.message_id) == ("need_already_met",) * 2
    assert refused.value.detail == "The household's need is already met by other allocations"
