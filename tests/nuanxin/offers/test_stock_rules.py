"""The stock ledger's exact rules (issue 19): boundaries, guards, the audit entry of each move."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from matching.geo import EARTH_RADIUS_KM
from nuanxin.accounts.tables import Organization
from nuanxin.audit.tables import AuditEntry
from nuanxin.db import atomic
from nuanxin.errors import DomainError
from nuanxin.i18n import catalogue
from nuanxin.messages import describe
from nuanxin.offers import stock as services
from nuanxin.offers.tables import Offer
from tests.nuanxin.authz.world import build_world
from tests.nuanxin.loop_world import add_offer, build_loop
from tests.nuanxin.offers.helpers import TODAY, staff_of, stock, stored_offer

EN = catalogue("en").gettext
ZH = catalogue("zh-CN").gettext


async def _moves(offer_id: int) -> list[dict[str, object]]:
    return list(
        await AuditEntry.select(
            AuditEntry.action, AuditEntry.actor, AuditEntry.before, AuditEntry.after
        )
        .where((AuditEntry.entity == "offer") & (AuditEntry.entity_id == str(offer_id)))
        .where(AuditEntry.action.like("offer.%"))
        .order_by(AuditEntry.id)
        .output(load_json=True)
        .run()
    )


async def test_every_unit_can_be_reserved_delivered_or_released_down_to_the_last_one(
    db: None,
) -> None:
    world = await build_world()
    offer_id, staff = await stored_offer(world, quantity=3), staff_of(world)
    await services.reserve(offer_id=offer_id, quantity=3, actor=staff)
    released = await services.release(offer_id=offer_id, quantity=1, actor=staff, reason="改期")
    assert (released.available, released.reserved) == (1, 2)
    await services.release(offer_id=offer_id, quantity=2, actor=staff, reason="改期")
    await services.reserve(offer_id=offer_id, quantity=1, actor=staff)
    assert await stock(offer_id) == {
        "quantity": 3,
        "available": 2,
        "reserved": 1,
        "delivered": 0,
        "withdrawn": 0,
        "status": "open",
    }


async def test_a_move_records_who_moved_what_before_and_after(db: None) -> None:
    world = await build_world()
    offer_id, staff = await stored_offer(world, quantity=5), staff_of(world)
    await services.reserve(offer_id=offer_id, quantity=2, actor=staff)
    await services.deliver(offer_id=offer_id, quantity=1, actor=staff)
    await services.release(offer_id=offer_id, quantity=1, actor=staff, reason="户主外出")
    moves = await _moves(offer_id)
    assert [m["action"] for m in moves[-3:]] == ["offer.reserve", "offer.deliver", "offer.release"]
    assert all(m["actor"] == staff.id for m in moves[-3:])
    reserve, deliver, release = moves[-3:]
    assert reserve["before"] == {"available": 5, "reserved": 0, "delivered": 0, "withdrawn": 0}
    assert reserve["after"] == {
        "available": 3,
        "reserved": 2,
        "delivered": 0,
        "withdrawn": 0,
        "status": "open",
        "quantity": 2,
        "reason": "",
    }
    assert deliver["after"]["delivered"] == 1  # type: ignore[index]
    assert release["after"]["reason"] == "户主外出"  # type: ignore[index]
    assert release["after"]["available"] == 4  # type: ignore[index]
    region = await AuditEntry.select(AuditEntry.region_code).where(
        (AuditEntry.entity == "offer") & (AuditEntry.action == "offer.deliver")
    )
    assert region[-1]["region_code"] == "230111"


async def test_an_offer_stays_open_while_units_are_still_reserved(
    db: None,
) -> None:
    world = await build_world()
    offer_id, staff = await stored_offer(world, quantity=4), staff_of(world)
    await services.reserve(offer_id=offer_id, quantity=4, actor=staff)
    partly = await services.deliver(offer_id=offer_id, quantity=3, actor=staff)
    assert partly.status.value == "open"
    assert (partly.available, partly.reserved, partly.delivered) == (0, 1, 3)
    last = await services.deliver(offer_id=offer_id, quantity=1, actor=staff)
    assert last.status.value == "closed"


async def test_an_offer_with_units_left_to_give_stays_open_after_a_delivery(
    db: None,
) -> None:
    world = await build_world()
    offer_id, staff = await stored_offer(world, quantity=4), staff_of(world)
    await services.reserve(offer_id=offer_id, quantity=2, actor=staff)
    after = await services.deliver(offer_id=offer_id, quantity=2, actor=staff)
    assert (after.status.value, after.available) == ("open", 2)


async def test_an_offer_emptied_by_releases_and_withdrawals_is_not_closed_as_delivered(
    db: None,
) -> None:
    world = await build_world()
    offer_id, staff = await stored_offer(world, quantity=2), staff_of(world)
    await services.reserve(offer_id=offer_id, quantity=2, actor=staff)
    await services.withdraw(offer_id=offer_id, quantity=None)
    after = await services.release(offer_id=offer_id, quantity=2, actor=staff, reason="撤回")
    assert (after.status.value, after.withdrawn, after.available) == ("withdrawn", 2, 0)


async def test_moves_of_a_missing_offer_are_not_found(db: None) -> None:
    world = await build_world()
    staff = staff_of(world)
    for move in (services.reserve, services.deliver):
        with pytest.raises(DomainError) as missing:
            await move(offer_id=999_999, quantity=1, actor=staff)
        assert type(missing.value).__name__ == "NotFound"
        assert missing.value.detail == "No such offer"
    with pytest.raises(DomainError) as missing:
        await services.release(offer_id=999_999, quantity=1, actor=staff, reason="无")
    assert type(missing.value).__name__ == "NotFound"
    with pytest.raises(DomainError) as gone:
        await services.withdraw(offer_id=999_999, quantity=1)
    assert type(gone.value).__name__ == "NotFound"
    assert (missing.value.detail, gone.value.detail) == ("No such offer", "No such offer")


async def test_a_closed_offer_refuses_a_reservation_as_not_open(db: None) -> None:
    world = await build_world()
    offer_id, staff = await stored_offer(world, quantity=1), staff_of(world)
    await services.reserve(offer_id=offer_id, quantity=1, actor=staff)
    await services.deliver(offer_id=offer_id, quantity=1, actor=staff)
    with pytest.raises(DomainError) as closed:
        await services.reserve(offer_id=offer_id, quantity=1, actor=staff)
    assert (closed.value.error, closed.value.field) == ("offer_not_open", "status")
    assert "closed" in closed.value.detail
    with pytest.raises(DomainError) as nothing:
        await services.release(offer_id=offer_id, quantity=1, actor=staff, reason="无")
    assert (nothing.value.error, nothing.value.field) == ("insufficient_reserved", "quantity")


async def test_a_short_reservation_says_how_many_units_are_left(db: None) -> None:
    world = await build_world()
    offer_id, staff = await stored_offer(world, quantity=2), staff_of(world)
    with pytest.raises(DomainError) as short:
        await services.reserve(offer_id=offer_id, quantity=3, actor=staff)
    assert (short.value.error, short.value.field) == ("insufficient_stock", "quantity")
    assert short.value.detail == "Only 2 units are available, not 3"


async def test_withdrawing_some_units_keeps_the_offer_open_and_all_of_them_withdraws_it(
    db: None,
) -> None:
    world = await build_world()
    offer_id = await stored_offer(world, quantity=5)
    with pytest.raises(DomainError) as nothing:
        await services.withdraw(offer_id=offer_id, quantity=0)
    assert nothing.value.field == "quantity"
    await services.withdraw(offer_id=offer_id, quantity=1)
    assert await stock(offer_id) == {
        "quantity": 5,
        "available": 4,
        "reserved": 0,
        "delivered": 0,
        "withdrawn": 1,
        "status": "open",
    }
    await services.withdraw(offer_id=offer_id, quantity=4)
    assert (await stock(offer_id))["status"] == "open"
    with pytest.raises(DomainError) as short:
        await services.withdraw(offer_id=offer_id, quantity=1)
    assert short.value.error == "insufficient_stock"
    await services.withdraw(offer_id=offer_id, quantity=None)
    assert (await stock(offer_id))["status"] == "withdrawn"
    with pytest.raises(DomainError) as gone:
        await services.withdraw(offer_id=offer_id, quantity=None)
    assert gone.value.error == "offer_not_open"


async def test_open_stock_reads_each_offer_as_stored_on_the_first_and_last_day(
    db: None,
) -> None:
    world = await build_world()
    offer_id = await stored_offer(world, quantity=7)
    row = await Offer.select(Offer.available_from, Offer.available_until).where(
        Offer.id == offer_id
    )
    first, last = row[0]["available_from"], row[0]["available_until"]
    for day in (first, last):
        ids = {s.offer_id for s in await services.open_stock(on=day)}
        assert offer_id in ids
    assert offer_id not in {s.offer_id for s in await services.open_stock(on=first - timedelta(1))}
    assert offer_id not in {s.offer_id for s in await services.open_stock(on=last + timedelta(1))}
    [record] = [s for s in await services.open_stock(on=TODAY) if s.offer_id == offer_id]
    assert record.organization_id == world.charity_x_id
    assert (record.item_code, record.item_kind, record.available) == ("quilt", "quilt", 7)
    assert record.requires == ()
    assert record.radius_km == 25.5
    assert (round(record.lat, 2), round(record.lon, 2)) == (45.88, 126.58)
    assert record.available_until == last
    await services.withdraw(offer_id=offer_id, quantity=7)
    assert offer_id not in {s.offer_id for s in await services.open_stock()}


async def test_open_stock_of_a_region_covers_its_subtree_and_an_unknown_region_nothing(
    db: None,
) -> None:
    world = await build_world()
    city = {s.offer_id for s in await services.open_stock(region_code="230100")}
    assert city == {world.offer_x_id, world.offer_y_id}
    assert await services.open_stock(region_code="999999") == []


async def test_a_refused_move_says_what_is_left_for_api_clients_and_in_the_readers_language(
    db: None,
) -> None:
    world = await build_world()
    offer_id, staff = await stored_offer(world, quantity=5), staff_of(world)
    await services.reserve(offer_id=offer_id, quantity=2, actor=staff)
    moves: list[Callable[[], Awaitable[object]]] = [
        lambda: services.reserve(offer_id=offer_id, quantity=4, actor=staff),
        lambda: services.deliver(offer_id=offer_id, quantity=3, actor=staff),
        lambda: services.withdraw(offer_id=offer_id, quantity=4),
        lambda: services.release(offer_id=offer_id, quantity=0, actor=staff, reason="无"),
        lambda: services.withdraw(offer_id=offer_id, quantity=0),
    ]
    refusals = []
    for move in moves:
        with pytest.raises(DomainError) as refused:
            await move()
        refusals.append(refused.value)
    assert [r.detail for r in refusals] == [
        "Only 3 units are available, not 4",
        "Only 2 units are reserved, not 3",
        "Only 3 units are available, not 4",
        "The quantity must be at least 1",
        "The quantity must be at least 1",
    ]
    assert [describe(r, EN) for r in refusals[:4]] == [
        "Only 3 units are available, not 4: ask for fewer.",
        "Only 2 units are reserved, not 3.",
        "Only 3 units are available, not 4: ask for fewer.",
        "The quantity must be at least 1.",
    ]
    assert describe(refusals[1], ZH) == "只预留了 2 件，不足 3 件。"
    assert await stock(offer_id) == {
        "quantity": 5,
        "available": 3,
        "reserved": 2,
        "delivered": 0,
        "withdrawn": 0,
        "status": "open",
    }


async def test_open_stock_carries_the_household_tags_an_item_requires(
    db: None,
) -> None:
    world = await build_world()
    offer_id = await stored_offer(world, quantity=3, item_code="electric_blanket")
    [record] = [s for s in await services.open_stock() if s.offer_id == offer_id]
    assert (record.item_code, record.requires) == ("electric_blanket", ("electricity",))


@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])
async def test_open_stock_is_judged_by_the_utc_day_whatever_the_servers_time_zone(
    db: None, zone: str
) -> None:
    """An offer open for today alone (the UTC day) is open stock today on a server set to a
    zone a day ahead or behind (between them, one differs from UTC at any hour)."""
    world = await build_world()
    offer_id = await stored_offer(world, quantity=2)
    today = datetime.now(UTC).date()
    await Offer.update({Offer.available_from: today, Offer.available_until: today}).where(
        Offer.id == offer_id
    )
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        ids = {s.offer_id for s in await services.open_stock()}
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()
    if datetime.now(UTC).date() == today:  # not across midnight while it ran
        assert offer_id in ids


async def test_open_stock_within_reach_keeps_offers_across_the_pole_and_the_date_line(
    db: None,
) -> None:
    """The longitude bound never drops an offer that reaches the box: near a pole a circle may
    span every longitude, and a box by the date line takes offers on its other side."""
    loop = await build_loop()

    async def offer_at(lat: float, lon: float, radius_km: float) -> int:
        offer = await add_offer(loop, quantity=2, radius_km=radius_km)
        await Offer.update({Offer.lat: lat, Offer.lon: lon}).where(Offer.id == offer)
        return offer

    # 43 km apart across the date line (0.6 degrees of longitude at 50 degrees north)
    west_of_the_line = await offer_at(50.0, 179.9, 50)
    east_of_the_line = await offer_at(50.0, -179.9, 50)
    sides = (((50.0, 179.5), east_of_the_line), ((50.0, -179.5), west_of_the_line))
    for household, across in sides:
        box = services.Reach.around([household])
        assert box is not None
        assert across in {s.offer_id for s in await services.open_stock(reach=box)}

    over_the_pole = await offer_at(89.5, 10.0, 200)  # 111 km from the box, over the pole
    polar = services.Reach.around([(89.5, -170.0)])
    assert polar is not None
    assert {s.offer_id for s in await services.open_stock(reach=polar)} == {over_the_pole}
    assert services.Reach.around([]) is None
    assert await services.open_stock(item_codes=[]) == []


async def test_an_offer_whose_radius_just_reaches_the_household_is_kept(db: None) -> None:
    """Due north, due south, and where its circle spans the most longitude: an offer exactly
    its radius away is within reach, and the bounds' rounding never drops it."""
    loop = await build_loop()
    lat, lon, radius = 52.0, 122.0, 80.0
    angle = radius / EARTH_RADIUS_KM
    along_meridian = math.degrees(angle)  # degrees of latitude the radius spans
    widest_lat = math.degrees(math.asin(math.sin(math.radians(lat)) / math.cos(angle)))
    widest_lon = math.degrees(math.asin(math.sin(angle) / math.cos(math.radians(lat))))
    edges = []
    for point in ((lat + along_meridian, lon), (lat - along_meridian, lon)):
        offer = await add_offer(loop, quantity=2, radius_km=radius)
        await Offer.update({Offer.lat: point[0], Offer.lon: point[1]}).where(Offer.id == offer)
        edges.append(offer)
    offer = await add_offer(loop, quantity=2, radius_km=radius)
    await Offer.update({Offer.lat: widest_lat, Offer.lon: lon + widest_lon}).where(
        Offer.id == offer
    )
    edges.append(offer)
    box = services.Reach.around([(lat, lon)])
    assert box is not None
    assert {s.offer_id for s in await services.open_stock(reach=box)} == set(edges)


async def test_the_longitude_bound_is_the_widest_radius_of_stock_that_can_still_be_given(
    db: None,
) -> None:
    """An offer of one unit left, the widest in stock, is kept where only its radius reaches;
    an offer with nothing left to give does not widen the bound for the others."""
    loop = await build_loop()
    household = (52.0, 122.0)

    async def offer_at(lon: float, radius_km: float, available: int) -> int:
        offer = await add_offer(loop, quantity=5, radius_km=radius_km)
        await Offer.update(
            {
                Offer.lat: household[0],
                Offer.lon: lon,
                Offer.available: available,
                Offer.reserved: 5 - available,
            }
        ).where(Offer.id == offer)
        return offer

    km_per_degree_here = math.pi * EARTH_RADIUS_KM / 180 * math.cos(math.radians(52.0))
    one_left = await offer_at(household[1] + 290 / km_per_degree_here, 300, 1)  # 290 km east
    near = await offer_at(household[1] + 0.5, 80, 5)
    box = services.Reach.around([household])
    assert box is not None
    assert {s.offer_id for s in await services.open_stock(reach=box)} == {one_left, near}

    await Offer.update({Offer.available: 0, Offer.reserved: 5}).where(Offer.id == one_left)
    beyond = await offer_at(household[1] + 120 / km_per_degree_here, 80, 5)  # 120 km east
    assert beyond not in {s.offer_id for s in await services.open_stock(reach=box)}


class _UndoError(Exception):
    """Raised to roll a savepoint back."""


def _said(refusal: DomainError | None) -> tuple[object, ...] | None:
    if refusal is None:
        return None
    return (
        type(refusal).__name__,
        refusal.detail,
        refusal.error,
        refusal.field,
        refusal.message_id,
        dict(refusal.params),
    )


async def _one_by_one(move: Callable[[], Awaitable[object]]) -> DomainError | None:
    try:
        await move()
    except DomainError as refused:
        return refused
    return None


async def test_many_moves_at_once_answer_each_request_as_moving_it_alone_would(
    db: None,
) -> None:
    """reserve_each, release_each and deliver_each (the allocation path's and a visit's
    set-based moves) refuse what reserve, release and deliver would refuse, with the same
    words, and move the same units."""
    world = await build_world()
    staff = staff_of(world)
    offer = await stored_offer(world, quantity=3)
    closed = await stored_offer(world, quantity=1)
    await services.reserve(offer_id=closed, quantity=1, actor=staff)
    await services.deliver(offer_id=closed, quantity=1, actor=staff)
    await Organization.update({Organization.status: "suspended"}).where(
        Organization.id == world.charity_y_id
    )
    wanted = [(offer, 0), (999_999, 1), (closed, 1), (world.offer_y_id, 1)]
    wanted += [(offer, 2), (offer, 2), (offer, 1)]
    alone: list[DomainError | None] = []
    try:
        async with atomic():
            for offer_id, quantity in wanted:
                alone.append(
                    await _one_by_one(
                        partial(services.reserve, offer_id=offer_id, quantity=quantity, actor=staff)
                    )
                )
            raise _UndoError
    except _UndoError:
        pass
    answers = await services.reserve_each(wanted=wanted, actor=staff)
    assert [_said(a) for a in answers] == [_said(a) for a in alone]
    assert (await stock(offer))["reserved"] == 3

    for offer_id, quantity in ((999_999, 1), (offer, 0), (offer, 4)):
        single = await _one_by_one(
            partial(
                services.release, offer_id=offer_id, quantity=quantity, actor=staff, reason="无"
            )
        )
        many = await _one_by_one(
            partial(services.release_each, given=[(offer_id, quantity, "无")], actor=staff)
        )
        assert _said(many) == _said(single) is not None
        single = await _one_by_one(
            partial(services.deliver, offer_id=offer_id, quantity=quantity, actor=staff)
        )
        many = await _one_by_one(
            partial(services.deliver_each, given=[(offer_id, quantity)], actor=staff)
        )
        assert _said(many) == _said(single) is not None
    assert (await stock(offer))["reserved"] == 3


async def test_every_move_stamps_the_offer_with_the_true_instant_on_a_server_in_beijing(
    db: None, clock_in_china: None
) -> None:
    """A move, the set-based moves and a withdrawal write ``updated_at`` as the UTC instant: a
    time taken without a zone would be eight hours off on a server set to China's time."""
    loop = await build_loop()
    offer = await add_offer(loop, quantity=6)
    moves: list[Callable[[], Awaitable[object]]] = [
        lambda: services.reserve(offer_id=offer, quantity=1, actor=None),
        lambda: services.reserve_each(wanted=[(offer, 2)], actor=None),
        lambda: services.release_each(given=[(offer, 1, "改期")], actor=None),
        lambda: services.deliver_each(given=[(offer, 1)], actor=None),
        lambda: services.withdraw(offer_id=offer, quantity=1),
    ]
    for move in moves:
        before = datetime.now(UTC)
        await move()
        row = await Offer.select(Offer.updated_at).where(Offer.id == offer).first().run()
        assert row is not None
        stamped = row["updated_at"]
        if stamped.tzinfo is None:
            stamped = stamped.replace(tzinfo=UTC)
        assert before - timedelta(seconds=5) <= stamped <= datetime.now(UTC), (move, stamped)


async def test_units_released_at_once_from_a_withdrawn_offer_add_to_what_it_withdrew(
    db: None,
) -> None:
    """release_each on an offer no longer open counts the units as withdrawn on top of the
    units withdrawn before, in the totals and in the audit entry, as release does."""
    loop = await build_loop()
    offer = await add_offer(loop, quantity=5)
    await services.reserve_each(wanted=[(offer, 2)], actor=None)
    await services.withdraw(offer_id=offer, quantity=None)  # the 3 available
    await services.release_each(given=[(offer, 1, "撤回")], actor=None)
    [entry] = [m for m in await _moves(offer) if m["action"] == "offer.release"]
    assert entry["before"] == {"available": 0, "reserved": 2, "delivered": 0, "withdrawn": 3}
    assert entry["after"] == {
        "available": 0,
        "reserved": 1,
        "delivered": 0,
        "withdrawn": 4,
        "status": "withdrawn",
        "quantity": 1,
        "reason": "撤回",
    }
    assert await stock(offer) == {
        "quantity": 5,
        "available": 0,
        "reserved": 1,
        "delivered": 0,
        "withdrawn": 4,
        "status": "withdrawn",
    }


async def test_a_set_based_move_that_finds_a_row_changed_is_refused_and_moves_nothing(
    db: None,
) -> None:
    """The totals are decided under the offers' locks, so every row of the conditional UPDATE
    must match; one that does not (the rule would break) refuses the whole move."""
    loop = await build_loop()
    enough, short = await add_offer(loop, quantity=4), await add_offer(loop, quantity=2)
    with pytest.raises(DomainError) as moved:
        async with atomic():
            await services._move_totals(
                {enough: 3, short: 3},
                assignments="available = offer.available - t.quantity,"
                " withdrawn = offer.withdrawn + t.quantity",
                condition="offer.available >= t.quantity",
            )
    refusal = moved.value
    assert (type(refusal).__name__, refusal.error) == ("Conflict", "stock_moved")
    assert refusal.detail == "The stock moved while it was being counted: try again."
    assert ((await stock(enough))["available"], (await stock(short))["available"]) == (4, 2)


async def test_offers_exactly_at_the_longitude_bounds_are_kept_and_the_bounds_hold_at_the_date_line(
    db: None,
) -> None:
    """The longitude bound is the margin of the widest radius in stock at the box's latitude
    farthest from the equator (plus the slack), both ways: an offer exactly on it is kept. A
    bound that ends exactly on the date line still bounds: only one beyond it keeps all."""
    loop = await build_loop()
    lat, radius = 52.0, 80.0

    def margin() -> float:
        angle = radius / EARTH_RADIUS_KM
        farthest = math.radians(lat + services.SLACK)
        return math.degrees(math.asin(math.sin(angle) / math.cos(farthest))) + services.SLACK

    async def offer_at(lon: float, radius_km: float = radius) -> int:
        offer = await add_offer(loop, quantity=2, radius_km=radius_km)
        await Offer.update({Offer.lat: lat, Offer.lon: lon}).where(Offer.id == offer)
        return offer

    async def kept(household_lon: float) -> set[int]:
        box = services.Reach.around([(lat, household_lon)])
        assert box is not None
        return {s.offer_id for s in await services.open_stock(reach=box)}

    m = margin()
    west, east = await offer_at(122.0 - m), await offer_at(122.0 + m)
    assert {west, east} <= await kept(122.0)

    at_the_line = -180.0 + m  # a household whose bound westward ends on the date line
    assert at_the_line - m == -180.0
    far_east = await offer_at(at_the_line + m + 1.0, radius_km=10)
    assert far_east not in await kept(at_the_line)
    at_the_line = 180.0 - m
    assert at_the_line + m == 180.0
    far_west = await offer_at(at_the_line - m - 1.0, radius_km=10)
    assert far_west not in await kept(at_the_line)


async def test_many_moves_at_once_leave_the_counters_and_trail_that_moving_each_alone_would(
    db: None,
) -> None:
    """reserve_each (one request per offer) and release_each leave each offer's counters and
    audit entries (who, what, before and after) as reserve and release called in turn would:
    a second reservation counts on top of the first, two releases of one offer both count,
    and the last reserved unit can be released."""
    world = await build_world()
    staff = staff_of(world)

    async def trail(offer_ids: list[int]) -> list[tuple[object, ...]]:
        rows = (
            await AuditEntry.select(
                AuditEntry.entity_id,
                AuditEntry.entity,
                AuditEntry.action,
                AuditEntry.actor,
                AuditEntry.before,
                AuditEntry.after,
            )
            .where(AuditEntry.entity_id.is_in([str(i) for i in offer_ids]))
            .order_by(AuditEntry.id)
            .output(load_json=True)
            .run()
        )
        names = {str(offer_id): index for index, offer_id in enumerate(offer_ids)}
        return [
            (names[r["entity_id"]], r["entity"], r["action"], r["actor"], r["before"], r["after"])
            for r in rows
        ]

    outcomes = []
    for together in (False, True):
        first, second = await stored_offer(world, quantity=5), await stored_offer(world, quantity=5)
        reservations = [[(first, 1), (second, 2)], [(first, 2)]]
        releases = [(first, 1, "改期"), (first, 2, "改期"), (second, 2, "户主外出")]
        if together:
            for wanted in reservations:
                assert await services.reserve_each(wanted=wanted, actor=staff) == [None] * len(
                    wanted
                )
            await services.release_each(given=releases, actor=staff)
        else:
            for wanted in reservations:
                for offer_id, quantity in wanted:
                    await services.reserve(offer_id=offer_id, quantity=quantity, actor=staff)
            for offer_id, quantity, reason in releases:
                await services.release(
                    offer_id=offer_id, quantity=quantity, actor=staff, reason=reason
                )
        outcomes.append(([await stock(first), await stock(second)], await trail([first, second])))
    (one_by_one, its_trail), (at_once, trail_at_once) = outcomes
    assert at_once == one_by_one
    assert [s["available"] for s in at_once] == [5, 5]
    assert trail_at_once == its_trail and len(its_trail) == 6


async def test_a_circle_whose_edge_just_reaches_the_pole_keeps_every_longitude(db: None) -> None:
    """Where the widest circle's edge reaches exactly the pole (the sine of its angle equals the
    cosine of the box's farthest latitude, plus the slack), the circle may hold the pole: no
    longitude is left out, not even the far side of the world."""
    loop = await build_loop()
    lat = 86.0
    edge = math.cos(math.radians(lat + services.SLACK))
    start = math.asin(edge) * EARTH_RADIUS_KM
    radius = next(
        r
        for r in _floats_around(start)
        if math.sin(r / EARTH_RADIUS_KM) == edge  # exactly, as the bound compares them
    )
    offer = await add_offer(loop, quantity=2, radius_km=radius)
    await Offer.update({Offer.lat: lat, Offer.lon: 120.0}).where(Offer.id == offer)
    box = services.Reach.around([(lat, 0.0)])
    assert box is not None
    assert offer in {s.offer_id for s in await services.open_stock(reach=box)}


def _floats_around(value: float, steps: int = 400) -> list[float]:
    """``value`` and its neighbouring floats, nearest first."""
    up, down, found = value, value, [value]
    for _ in range(steps):
        up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
        found += [up, down]
    return found
