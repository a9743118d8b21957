"""The hand-over of a visit, service by service (issue 19): the slip, the courier's code, staff's
word, a failure and "not received"; what each leaves behind, and who may reach which visit.

The services are called as the faces call them, on a real database; visits are made by the one
allocation path, without a matching round, so that the mutation run of ``confirmation`` stays
short. The server's clock is set to Beijing time, as a deployment in China may well be: every
time written must still be the true instant.
"""

from __future__ import annotations

import asyncio
import json
import linecache
import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from nuanxin.accounts.tables import Organization, User
from nuanxin.audit.tables import AuditEntry
from nuanxin.db import engine, is_postgres
from nuanxin.deliveries import allocations, confirmation
from nuanxin.deliveries.tables import Delivery, DeliveryCase, Visit
from nuanxin.deliveries.visits import load_visit
from nuanxin.errors import Conflict, Forbidden, Invalid, Locked, NotFound
from nuanxin.households.tables import Need
from nuanxin.identity import CurrentUser, Role
from nuanxin.jobs.tables import EmbeddedJob
from nuanxin.offers.tables import Item, Offer
from nuanxin.safety.schemas import SafetyChecklistIn
from nuanxin.safety.services import SafetyPolicy
from nuanxin.safety.tables import FollowUp, SafetyCheck
from nuanxin.safety.vocabulary import CoAlarm
from tests.nuanxin.conftest import make_region, make_user
from tests.nuanxin.loop_world import COUNTY, Loop, add_household, add_offer, allocated, build_loop
from tests.nuanxin.loop_world import stock as offer_stock

KEY = os.environ["SECRET_KEY"]


# The process's local time zone is Beijing's (UTC+8) for every test here.
pytestmark = pytest.mark.usefixtures("clock_in_china")


@dataclass(kw_only=True)
class World:
    loop: Loop
    staff: CurrentUser
    courier: CurrentUser
    charity: CurrentUser


def _actor(user_id: int, role: Role, **more: Any) -> CurrentUser:
    return CurrentUser(
        id=user_id,
        username=f"user{user_id}",
        role=role,
        jurisdiction_id=more.pop("jurisdiction_id", None),
        organization_id=more.pop("organization_id", None),
        **more,
    )


async def _user(username: str) -> int:
    row = await User.select(User.id).where(User.username == username).first().run()
    assert row is not None
    return int(row["id"])


async def _world() -> World:
    loop = await build_loop()
    return World(
        loop=loop,
        staff=_actor(
            await _user("loop_staff"),
            Role.staff,
            jurisdiction_id=loop.county_id,
            jurisdiction_code="230111",
            jurisdiction_level="county",
        ),
        courier=_actor(await _user("loop_courier"), Role.courier, organization_id=loop.charity_id),
        charity=_actor(await _user("loop_charity"), Role.charity, organization_id=loop.charity_id),
    )


async def _admin() -> CurrentUser:
    return _actor(await make_user("confirm_admin", Role.admin), Role.admin)


async def _other_charitys_courier(world: World) -> CurrentUser:
    now = datetime.now(UTC)
    org = (
        await Organization.insert(
            Organization(
                name="别的基金会",
                credit_code="91230100OTHER0001X",
                status="verified",
                region=world.loop.county_id,
                contact_name="联系人",
                contact_phone="13800000001",
                created_at=now,
            )
        )
        .returning(Organization.id)
        .run()
    )
    organization = int(org[0]["id"])
    user = await make_user("other_courier", Role.courier, organization=organization)
    return _actor(user, Role.courier, organization_id=organization)


async def _other_county_staff() -> CurrentUser:
    county = await make_region("230112", "county")
    user = await make_user("acheng_staff", Role.staff, jurisdiction=county)
    return _actor(
        user,
        Role.staff,
        jurisdiction_id=county,
        jurisdiction_code="230112",
        jurisdiction_level="county",
    )


async def _item(code: str) -> int:
    row = await Item.select(Item.id).where(Item.code == code).first().run()
    assert row is not None, code
    return int(row["id"])


async def _offer_of(world: World, item_code: str, quantity: int) -> int:
    """An open offer of ``quantity`` units of the item by the loop's charity."""
    offer = await add_offer(world.loop, quantity=quantity)
    await Offer.update({Offer.item: await _item(item_code)}).where(Offer.id == offer).run()
    return offer


async def _visit(
    world: World, reference: str = "HC1", *, items: tuple[str, ...] = ("quilt",)
) -> tuple[int, list[int]]:
    """A household's visit by the loop's charity bringing one unit of each item, each from an
    offer of its own, as an approval leaves it (stock reserved, need allocated): (visit,
    delivery ids in order)."""
    quilts = items.count("quilt")
    household = await add_household(
        world.loop, reference, (COUNTY[0] + 0.01, COUNTY[1]), quilts=max(quilts, 1)
    )
    requests = []
    for code in items:
        offer = await _offer_of(world, code, 1)
        if code == "quilt":
            need = world.loop.needs[household]
        else:
            rows = (
                await Need.insert(
                    Need(
                        household=household,
                        item=await _item(code),
                        quantity=1,
                        rule="test",
                        updated_at=datetime.now(UTC),
                    )
                )
                .returning(Need.id)
                .run()
            )
            need = int(rows[0]["id"])
        requests.append(
            allocations.AllocationRequest(
                offer_id=offer,
                organization_id=world.loop.charity_id,
                household_id=household,
                need_id=need,
                quantity=1,
                distance_km=1.0,
            )
        )
    outcome = await allocations.allocate_many(actor=world.staff, requests=requests)
    assert not outcome.refused, outcome.refused
    deliveries = [made.delivery_id for _, made in outcome.made]
    return await confirmation.visit_of(deliveries[0]), deliveries


async def _slip(world: World, visit_id: int) -> str:
    return (
        await confirmation.issue_slip(actor=world.staff, secret_key=KEY, visit_id=visit_id)
    ).code


def _wrong(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


async def _row(visit_id: int) -> dict[str, Any]:
    row = await Visit.select().where(Visit.id == visit_id).first().run()
    assert row is not None
    return dict(row)


async def _statuses(deliveries: list[int]) -> list[str]:
    rows = (
        await Delivery.select(Delivery.status)
        .where(Delivery.id.is_in(deliveries))
        .order_by(Delivery.id)
        .run()
    )
    return [str(r["status"]) for r in rows]


async def _allocation_statuses(deliveries: list[int]) -> list[str]:
    rows = (
        await Delivery.select(Delivery.allocation._.status)
        .where(Delivery.id.is_in(deliveries))
        .order_by(Delivery.id)
        .run()
    )
    return [str(r["allocation.status"]) for r in rows]


async def _offers(deliveries: list[int]) -> list[int]:
    rows = (
        await Delivery.select(Delivery.allocation._.offer)
        .where(Delivery.id.is_in(deliveries))
        .order_by(Delivery.id)
        .run()
    )
    return [int(r["allocation.offer"]) for r in rows]


async def _audit(action: str, entity_id: int) -> list[dict[str, Any]]:
    return list(
        await AuditEntry.select()
        .where((AuditEntry.action == action) & (AuditEntry.entity_id == str(entity_id)))
        .order_by(AuditEntry.id)
        .output(load_json=True)
        .run()
    )


async def _deferred(task: str) -> list[dict[str, Any]]:
    """The arguments of the jobs of ``task`` deferred so far."""
    if EmbeddedJob._meta.db.engine_type == "postgres":
        rows = await EmbeddedJob.raw(
            "SELECT args FROM procrastinate_jobs WHERE task_name = {}", task
        ).run()
    else:
        rows = (
            await EmbeddedJob.select(EmbeddedJob.args)
            .where(EmbeddedJob.task == task)
            .output(load_json=True)
            .run()
        )
    # asyncpg hands PostgreSQL's jsonb over as its text.
    return [json.loads(r["args"]) if isinstance(r["args"], str) else dict(r["args"]) for r in rows]


def _just_now(moment: datetime | None) -> bool:
    assert moment is not None
    return abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


# The slip -------------------------------------------------------------------------------------


async def test_a_slip_gives_an_eight_digit_code_of_which_only_the_keyed_hash_is_kept(
    db: None,
) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world, items=("quilt", "quilt"))
    slip = await confirmation.issue_slip(actor=world.staff, secret_key=KEY, visit_id=visit_id)
    assert len(slip.code) == confirmation.CODE_DIGITS == 8 and slip.code.isdigit()
    assert (slip.visit_id, slip.household_reference) == (visit_id, "HC1")
    assert (slip.reprint, slip.printed_count) == (False, 1)
    assert [i.delivery_id for i in slip.items] == deliveries
    # Asked by visit, the slip names the visit's first item.
    assert (slip.delivery_id, slip.item_code, slip.quantity) == (deliveries[0], "quilt", 1)
    row = await _row(visit_id)
    assert row["code_hash"] == confirmation.code_hash(KEY, slip.code) != slip.code
    assert (row["status"], row["failed_attempts"], row["printed_count"]) == ("pending", 0, 1)
    assert _just_now(row["printed_at"])
    [printed] = await _audit("visit.slip", visit_id)
    assert printed["entity"] == "visit"
    assert printed["actor"] == world.staff.id
    assert printed["before"] == {"status": "pending", "failed_attempts": 0}
    assert printed["after"] == {"printed_count": 1, "reprint": False, "old_code": "void"}
    # Asked for one item (the per-delivery route), the slip names that item.
    again = await confirmation.issue_slip(
        actor=world.staff, secret_key=KEY, visit_id=visit_id, delivery_id=deliveries[1]
    )
    assert again.delivery_id == deliveries[1]
    assert len(again.code) == 8 and again.code.isdigit()
    assert (again.reprint, again.printed_count) == (True, 2)


def test_the_code_is_read_without_spaces_dashes_or_letters_and_its_stored_form_is_fixed() -> None:
    """Codes printed before an upgrade keep working: the keyed hash of a code never changes."""
    assert confirmation.code_hash("k" * 40, "1234 5678") == confirmation.code_hash(
        "k" * 40, "12-34-56-78"
    )
    assert confirmation.code_hash("k" * 40, "X12345678x") == confirmation.code_hash(
        "k" * 40, "12345678"
    )
    assert confirmation.code_hash("k" * 40, "12345678") == (
        "765afcda973bda4331af848d8f761d5d4b3dd2088d519f79f6fa3dfe41ecb6bb"
    )


async def test_only_staff_and_admins_print_slips(db: None) -> None:
    world = await _world()
    visit_id, _ = await _visit(world)
    for actor in (world.courier, world.charity):
        with pytest.raises(Forbidden) as refused:
            await confirmation.issue_slip(actor=actor, secret_key=KEY, visit_id=visit_id)
        assert refused.value.detail == "Only civil affairs staff print slips"
        with pytest.raises(Forbidden):
            await confirmation.issue_slips(actor=actor, secret_key=KEY, visit_ids=[visit_id])
    assert (await _row(visit_id))["printed_count"] == 0
    slip = await confirmation.issue_slip(actor=await _admin(), secret_key=KEY, visit_id=visit_id)
    assert slip.printed_count == 1


async def test_a_closed_visit_has_no_slip_to_print(db: None) -> None:
    world = await _world()
    visit_id, _ = await _visit(world)
    await confirmation.fail(actor=world.courier, visit_id=visit_id, reason="家中无人")
    with pytest.raises(Conflict) as refused:
        await confirmation.issue_slip(actor=world.staff, secret_key=KEY, visit_id=visit_id)
    assert refused.value.detail == "The visit is failed: no slip to print"
    assert (refused.value.error, refused.value.message_id) == ("visit_closed", "no_slip_to_print")
    assert (await _row(visit_id))["code_hash"] is None


async def test_a_new_slip_voids_the_old_code_and_resets_the_wrong_code_count(db: None) -> None:
    world = await _world()
    visit_id, _ = await _visit(world)
    old = await _slip(world, visit_id)
    for _ in range(2):
        with pytest.raises(Invalid):
            await confirmation.confirm(
                actor=world.courier, secret_key=KEY, visit_id=visit_id, code=_wrong(old)
            )
    new = await _slip(world, visit_id)
    assert new != old
    assert (await _row(visit_id))["failed_attempts"] == 0
    [_, reprint] = await _audit("visit.slip", visit_id)
    assert reprint["before"] == {"status": "pending", "failed_attempts": 2}
    assert reprint["after"] == {"printed_count": 2, "reprint": True, "old_code": "void"}
    with pytest.raises(Invalid) as dead:
        await confirmation.confirm(actor=world.courier, secret_key=KEY, visit_id=visit_id, code=old)
    assert dead.value.params == {"left": 4}, "the old code is dead, and counting starts over"


async def test_a_new_slip_opens_a_locked_visit_and_all_its_items(db: None) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world, items=("quilt", "quilt"))
    old = await _slip(world, visit_id)
    for _ in range(confirmation.MAX_ATTEMPTS):
        with pytest.raises((Invalid, Locked)):
            await confirmation.confirm(
                actor=world.courier, secret_key=KEY, visit_id=visit_id, code=_wrong(old)
            )
    assert await _statuses(deliveries) == ["locked", "locked"]
    reprint = await confirmation.issue_slip(actor=world.staff, secret_key=KEY, visit_id=visit_id)
    row = await _row(visit_id)
    assert (row["status"], row["failed_attempts"]) == ("pending", 0)
    assert await _statuses(deliveries) == ["pending", "pending"]
    assert (await _audit("visit.slip", visit_id))[-1]["before"] == {
        "status": "locked",
        "failed_attempts": 5,
    }
    done = await confirmation.confirm(
        actor=world.courier, secret_key=KEY, visit_id=visit_id, code=reprint.code
    )
    assert (done.status, done.already_confirmed) == ("delivered", False)


async def test_a_batch_of_slips_comes_in_the_order_asked_one_per_visit(db: None) -> None:
    world = await _world()
    first, _ = await _visit(world, "HC1")
    second, second_items = await _visit(world, "HC2")
    slips = await confirmation.issue_slips(
        actor=world.staff, secret_key=KEY, visit_ids=[second, first, second]
    )
    assert [s.visit_id for s in slips] == [second, first]
    assert [s.household_reference for s in slips] == ["HC2", "HC1"]
    assert slips[0].delivery_id == second_items[0]
    assert [s.printed_count for s in slips] == [1, 1]
    assert [s.reprint for s in slips] == [False, False]
    for slip in slips:
        assert (await _row(slip.visit_id))["code_hash"] == confirmation.code_hash(KEY, slip.code)


async def test_a_batch_with_a_visit_out_of_reach_prints_none_of_its_slips(db: None) -> None:
    world = await _world()
    visit_id, _ = await _visit(world)
    outsider = await _other_county_staff()
    with pytest.raises(NotFound):
        await confirmation.issue_slips(actor=outsider, secret_key=KEY, visit_ids=[visit_id])
    with pytest.raises(NotFound):
        await confirmation.issue_slip(actor=outsider, secret_key=KEY, visit_id=visit_id)
    with pytest.raises(NotFound):
        await confirmation.issue_slips(
            actor=world.staff, secret_key=KEY, visit_ids=[visit_id, visit_id + 1000]
        )
    assert (await _row(visit_id))["printed_count"] == 0


# The courier's code ---------------------------------------------------------------------------


async def test_the_right_code_closes_the_visit_its_items_allocations_and_stock_once(
    db: None,
) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world, items=("quilt", "quilt"))
    code = await _slip(world, visit_id)
    done = await confirmation.confirm(
        actor=world.courier,
        secret_key=KEY,
        visit_id=visit_id,
        code=f"{code[:4]} {code[4:]}",
        delivery_id=deliveries[1],
    )
    assert (done.visit_id, done.delivery_id) == (visit_id, deliveries[1])
    assert (done.status, done.already_confirmed) == ("delivered", False)
    row = await _row(visit_id)
    assert (row["status"], row["confirmed_by"]) == ("delivered", world.courier.id)
    assert _just_now(row["confirmed_at"])
    assert await _statuses(deliveries) == ["delivered", "delivered"]
    assert await _allocation_statuses(deliveries) == ["delivered", "delivered"]
    for line in await Delivery.select().where(Delivery.id.is_in(deliveries)).run():
        assert line["confirmed_by"] == world.courier.id
        assert line["confirmed_at"] == row["confirmed_at"]
    for offer in await _offers(deliveries):
        assert await offer_stock(offer) == {"available": 0, "reserved": 0, "delivered": 1}
    [entry] = await _audit("visit.confirm", visit_id)
    assert (entry["entity"], entry["actor"]) == ("visit", world.courier.id)
    assert entry["before"] == {"status": "pending"}
    assert entry["after"] == {"status": "delivered", "by": "code", "deliveries": deliveries}
    delivered = await AuditEntry.select(AuditEntry.actor).where(
        AuditEntry.action == "offer.deliver"
    )
    assert delivered == [{"actor": world.courier.id}] * 2
    assert await _deferred("notifications.visit_delivered") == [{"visit_id": visit_id}]

    again = await confirmation.confirm(
        actor=world.charity, secret_key=KEY, visit_id=visit_id, code=code
    )
    assert (again.status, again.already_confirmed, again.delivery_id) == ("delivered", True, 0)
    with pytest.raises(Conflict) as wrong:
        await confirmation.confirm(
            actor=world.courier, secret_key=KEY, visit_id=visit_id, code=_wrong(code)
        )
    assert (wrong.value.detail, wrong.value.error) == (
        "The delivery is already confirmed",
        "already_delivered",
    )
    assert len(await _audit("visit.confirm", visit_id)) == 1
    assert await _audit("visit.wrong_code", visit_id) == []
    assert (await _row(visit_id))["confirmed_by"] == world.courier.id
    for offer in await _offers(deliveries):
        assert await offer_stock(offer) == {"available": 0, "reserved": 0, "delivered": 1}


async def test_a_confirmation_leaves_failed_items_failed_and_delivers_the_rest(
    db: None,
) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world, items=("quilt", "quilt"))
    code = await _slip(world, visit_id)
    await confirmation.fail_delivery(actor=world.courier, delivery_id=deliveries[0], reason="破损")
    await confirmation.confirm(actor=world.courier, secret_key=KEY, visit_id=visit_id, code=code)
    assert await _statuses(deliveries) == ["failed", "delivered"]
    assert await _allocation_statuses(deliveries) == ["failed", "delivered"]
    failed_offer, delivered_offer = await _offers(deliveries)
    assert await offer_stock(failed_offer) == {"available": 1, "reserved": 0, "delivered": 0}
    assert await offer_stock(delivered_offer) == {"available": 0, "reserved": 0, "delivered": 1}
    [entry] = await _audit("visit.confirm", visit_id)
    assert entry["after"]["deliveries"] == deliveries[1:]


async def test_an_offer_stays_open_while_any_of_its_units_are_still_reserved(db: None) -> None:
    world = await _world()
    offer = await add_offer(world.loop, quantity=2)
    visits = []
    for reference in ("HC1", "HC2"):
        household = await add_household(world.loop, reference, COUNTY)
        made = await allocations.allocate(
            actor=world.staff,
            offer_id=offer,
            organization_id=world.loop.charity_id,
            household_id=household,
            need_id=world.loop.needs[household],
            quantity=1,
            distance_km=1.0,
        )
        visits.append(await confirmation.visit_of(made.delivery_id))
    first = await _slip(world, visits[0])
    await confirmation.confirm(actor=world.courier, secret_key=KEY, visit_id=visits[0], code=first)
    row = await Offer.select(Offer.status, Offer.reserved).where(Offer.id == offer).first().run()
    assert row == {"status": "open", "reserved": 1}
    second = await _slip(world, visits[1])
    await confirmation.confirm(actor=world.courier, secret_key=KEY, visit_id=visits[1], code=second)
    row = await Offer.select(Offer.status, Offer.reserved).where(Offer.id == offer).first().run()
    assert row == {"status": "closed", "reserved": 0}


async def test_of_two_racing_confirmations_the_second_closes_nothing_again(db: None) -> None:
    """Both read the visit open; the first closes it. The second's conditional update finds
    it closed: it answers as a repeat, and the first confirmation's record stands."""
    world = await _world()
    visit_id, deliveries = await _visit(world)
    code = await _slip(world, visit_id)
    stale = await load_visit(visit_id)
    await confirmation.confirm(actor=world.courier, secret_key=KEY, visit_id=visit_id, code=code)
    closed = await confirmation.close_delivered(world.charity, stale, "code")
    assert closed is False
    row = await _row(visit_id)
    assert (row["status"], row["confirmed_by"]) == ("delivered", world.courier.id)
    assert len(await _audit("visit.confirm", visit_id)) == 1
    assert len(await _deferred("notifications.visit_delivered")) == 1
    [offer] = await _offers(deliveries)
    assert await offer_stock(offer) == {"available": 0, "reserved": 0, "delivered": 1}


def _suspended_at(task: asyncio.Task[Any], line: str) -> bool:
    """Whether ``task`` waits at a line that reads ``line`` in one of the coroutines it awaits
    through (the service's own, whatever calls it)."""
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None)
        at = linecache.getline(frame.f_code.co_filename, frame.f_lineno) if frame else ""
        if at.strip() == line:
            return True
        awaited = getattr(awaited, "cr_await", None)
    return False


@pytest.mark.skipif(is_postgres(), reason="SQLite's writer lock holds the window open")
async def test_a_retry_that_waited_while_the_first_confirmation_closed_the_visit_is_a_repeat(
    committed: object,
) -> None:
    """The retry read the visit open, then waited for the database while the first
    confirmation closed it: the read inside its transaction sees the close, and the retry is
    answered as a repeat (not refused as a closed delivery)."""
    world = await _world()
    visit_id, _ = await _visit(world)
    code = await _slip(world, visit_id)
    first = sqlite3.connect(engine().path, isolation_level=None, timeout=30)  # type: ignore[attr-defined]
    try:
        first.execute("BEGIN IMMEDIATE")  # the first confirmation holds the writer's lock
        retry = asyncio.create_task(
            confirmation.confirm(actor=world.courier, secret_key=KEY, visit_id=visit_id, code=code)
        )
        # the retry has read the visit open and waits to begin its transaction (the writer's
        # lock); a second at most, as the busiest machine may take
        for _ in range(100):
            if _suspended_at(retry, "async with atomic():"):
                break
            await asyncio.sleep(0.01)
        assert not retry.done()
        first.execute("UPDATE visit SET status = 'delivered' WHERE id = ?", (visit_id,))
        first.execute("COMMIT")
        answer = await asyncio.wait_for(retry, 30)
    finally:
        first.close()
    assert (answer.status, answer.already_confirmed) == ("delivered", True)


async def test_a_confirmation_racing_a_failure_is_refused_and_delivers_nothing(
    db: None,
) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world)
    await _slip(world, visit_id)
    stale = await load_visit(visit_id)
    await confirmation.fail(actor=world.charity, visit_id=visit_id, reason="家中无人")
    with pytest.raises(Conflict) as refused:
        await confirmation.close_delivered(world.courier, stale, "code")
    assert refused.value.detail == "The visit was failed just now"
    assert (refused.value.error, refused.value.message_id) == (
        "delivery_closed",
        "delivery_closed",
    )
    assert (await _row(visit_id))["status"] == "failed"
    [offer] = await _offers(deliveries)
    assert await offer_stock(offer) == {"available": 1, "reserved": 0, "delivered": 0}


async def test_a_time_at_the_door_dates_the_hand_over_but_never_later_than_now(
    db: None,
) -> None:
    world = await _world()
    earlier = datetime.now(UTC) - timedelta(hours=3)
    visit_id, deliveries = await _visit(world, "HC1")
    await confirmation.close_delivered(world.courier, await load_visit(visit_id), "x", at=earlier)
    assert (await _row(visit_id))["confirmed_at"] == earlier
    line = await Delivery.select(Delivery.confirmed_at).where(Delivery.id == deliveries[0]).run()
    assert line == [{"confirmed_at": earlier}]
    later, _ = await _visit(world, "HC2")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    await confirmation.close_delivered(world.courier, await load_visit(later), "x", at=tomorrow)
    assert _just_now((await _row(later))["confirmed_at"])


async def test_wrong_codes_are_counted_audited_and_lock_the_visit_at_the_fifth(
    db: None,
) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world, items=("quilt", "quilt"))
    code = await _slip(world, visit_id)
    for attempt in range(1, confirmation.MAX_ATTEMPTS):
        with pytest.raises(Invalid) as wrong:
            await confirmation.confirm(
                actor=world.courier, secret_key=KEY, visit_id=visit_id, code=_wrong(code)
            )
        left = confirmation.MAX_ATTEMPTS - attempt
        assert wrong.value.detail == f"Wrong code: {left} attempts left"
        assert (wrong.value.error, wrong.value.message_id) == ("wrong_code", "wrong_code")
        assert (wrong.value.field, wrong.value.params) == ("code", {"left": left})
        row = await _row(visit_id)
        assert (row["status"], row["failed_attempts"]) == ("pending", attempt)
        assert await _statuses(deliveries) == ["pending", "pending"]
    with pytest.raises(Locked) as fifth:
        await confirmation.confirm(
            actor=world.courier, secret_key=KEY, visit_id=visit_id, code=_wrong(code)
        )
    assert fifth.value.detail == (
        "Wrong code: the visit is now locked; call the civil affairs staff, "
        "who can print a new slip"
    )
    assert (fifth.value.error, fifth.value.message_id) == ("delivery_locked", "delivery_locked")
    assert fifth.value.field == "code"
    row = await _row(visit_id)
    assert (row["status"], row["failed_attempts"]) == ("locked", 5)
    assert await _statuses(deliveries) == ["locked", "locked"]
    audited = await _audit("visit.wrong_code", visit_id)
    assert [(e["entity"], e["actor"]) for e in audited] == [("visit", world.courier.id)] * 5
    assert [e["after"] for e in audited] == [
        {"failed_attempts": n, "locked": n == 5} for n in range(1, 6)
    ]
    with pytest.raises(Locked) as locked:
        await confirmation.confirm(
            actor=world.courier, secret_key=KEY, visit_id=visit_id, code=code
        )
    assert locked.value.detail == (
        "Too many wrong codes: the visit is locked; call the civil affairs staff, "
        "who can print a new slip or confirm the delivery themselves"
    )
    assert (locked.value.error, locked.value.message_id) == ("delivery_locked", "delivery_locked")
    assert locked.value.field == "code"
    assert (await _row(visit_id))["failed_attempts"] == 5, "a locked visit counts no more"
    assert len(await _audit("visit.wrong_code", visit_id)) == 5


async def test_a_visit_whose_slip_is_not_printed_takes_no_code(db: None) -> None:
    world = await _world()
    visit_id, _ = await _visit(world)
    with pytest.raises(Invalid):
        await confirmation.confirm(
            actor=world.courier, secret_key=KEY, visit_id=visit_id, code="12345678"
        )
    assert (await _row(visit_id))["status"] == "pending"


async def test_staff_and_admins_confirm_on_their_word_not_with_the_code(db: None) -> None:
    world = await _world()
    visit_id, _ = await _visit(world)
    code = await _slip(world, visit_id)
    for actor in (world.staff, await _admin()):
        with pytest.raises(Forbidden) as refused:
            await confirmation.confirm(actor=actor, secret_key=KEY, visit_id=visit_id, code=code)
        assert refused.value.detail == "Couriers confirm with the code; staff use staff-confirm"
    assert (await _row(visit_id))["status"] == "pending"


async def test_a_failed_visit_takes_no_code(db: None) -> None:
    world = await _world()
    visit_id, _ = await _visit(world)
    code = await _slip(world, visit_id)
    await confirmation.fail(actor=world.courier, visit_id=visit_id, reason="家中无人")
    with pytest.raises(Conflict) as refused:
        await confirmation.confirm(
            actor=world.courier, secret_key=KEY, visit_id=visit_id, code=code
        )
    assert (refused.value.detail, refused.value.error) == (
        "The delivery is failed",
        "delivery_closed",
    )


async def test_a_checklist_for_a_visit_without_coal_or_a_stove_is_refused_unchecked(
    db: None,
) -> None:
    world = await _world()
    visit_id, _ = await _visit(world)
    code = await _slip(world, visit_id)
    checklist = SafetyChecklistIn(
        chimney_sealed=True,
        vent=True,
        stove_not_in_bedroom=True,
        co_alarm=CoAlarm.present,
        leaflet=True,
    )
    with pytest.raises(Invalid) as refused:
        await confirmation.confirm(
            actor=world.courier,
            secret_key=KEY,
            visit_id=visit_id,
            code=_wrong(code),
            checklist=checklist,
        )
    assert refused.value.field == "safety"
    assert (await _row(visit_id))["failed_attempts"] == 0, "the code was not checked"


async def test_a_coal_visit_keeps_the_couriers_checklist_and_schedules_its_follow_ups(
    db: None,
) -> None:
    world = await _world()
    visit_id, _ = await _visit(world, items=("coal",))
    code = await _slip(world, visit_id)
    checklist = SafetyChecklistIn(
        chimney_sealed=False,
        vent=True,
        stove_not_in_bedroom=True,
        co_alarm=CoAlarm.present,
        leaflet=True,
    )
    await confirmation.confirm(
        actor=world.courier, secret_key=KEY, visit_id=visit_id, code=code, checklist=checklist
    )
    household = (await _row(visit_id))["household"]
    check = await SafetyCheck.select().where(SafetyCheck.visit == visit_id).first().run()
    assert check is not None
    assert (check["household"], check["recorded_by"]) == (household, world.courier.id)
    assert check["chimney_sealed"] is False
    assert _just_now(check["recorded_at"])
    follow_ups = await FollowUp.select().where(FollowUp.visit == visit_id).run()
    assert {f["household"] for f in follow_ups} == {household}
    assert "door_answer" in {f["kind"] for f in follow_ups}
    today = datetime.now(UTC).astimezone().date()  # Beijing's day: the platform's time zone
    assert {f["delivered_on"] for f in follow_ups} == {today}
    [scheduled] = await _audit("safety.schedule", visit_id)
    assert scheduled["region_code"] == "230111"


async def _delivered_on(visit_id: int) -> set[date]:
    rows = await FollowUp.select(FollowUp.delivered_on).where(FollowUp.visit == visit_id).run()
    return {r["delivered_on"] for r in rows}


async def test_the_follow_ups_count_days_in_the_time_zone_of_the_settings(db: None) -> None:
    """Two zones 26 hours apart never share a date: each visit's day is its policy's."""
    world = await _world()
    for reference, zone in (("HC1", "Etc/GMT+12"), ("HC2", "Pacific/Kiritimati")):
        policy = SafetyPolicy(timezone=zone)
        by_code, _ = await _visit(world, f"{reference}C", items=("coal",))
        await confirmation.confirm(
            actor=world.courier,
            secret_key=KEY,
            visit_id=by_code,
            code=await _slip(world, by_code),
            policy=policy,
        )
        by_staff, _ = await _visit(world, f"{reference}S", items=("coal",))
        await confirmation.staff_confirm(
            actor=world.staff, visit_id=by_staff, reason="到户核实", policy=policy
        )
        today = datetime.now(ZoneInfo(zone)).date()
        assert await _delivered_on(by_code) == await _delivered_on(by_staff) == {today}


async def test_the_follow_ups_of_a_hand_over_count_from_its_time_at_the_door(db: None) -> None:
    world = await _world()
    visit_id, _ = await _visit(world, items=("coal",))
    at = datetime.now(UTC) - timedelta(days=3)
    row = await load_visit(visit_id)
    await confirmation.close_delivered(world.courier, row, "offline code", at=at)
    checklist = SafetyChecklistIn(
        chimney_sealed=True,
        vent=True,
        stove_not_in_bedroom=True,
        co_alarm=CoAlarm.present,
        leaflet=True,
    )
    await confirmation.after_delivery(world.courier, row, ["coal"], checklist, None, at=at)
    check = await SafetyCheck.select(SafetyCheck.recorded_at).where(SafetyCheck.visit == visit_id)
    assert check == [{"recorded_at": at}]
    assert await _delivered_on(visit_id) == {at.astimezone(ZoneInfo("Asia/Shanghai")).date()}


# Staff's word ---------------------------------------------------------------------------------


async def test_staff_confirm_a_locked_visit_they_witnessed_once(db: None) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world, items=("coal",))
    code = await _slip(world, visit_id)
    for _ in range(confirmation.MAX_ATTEMPTS):
        with pytest.raises((Invalid, Locked)):
            await confirmation.confirm(
                actor=world.courier, secret_key=KEY, visit_id=visit_id, code=_wrong(code)
            )
    done = await confirmation.staff_confirm(
        actor=world.staff, visit_id=visit_id, reason="到户核实", delivery_id=deliveries[0]
    )
    assert (done.visit_id, done.delivery_id) == (visit_id, deliveries[0])
    assert (done.status, done.already_confirmed) == ("delivered", False)
    row = await _row(visit_id)
    assert (row["status"], row["confirmed_by"]) == ("delivered", world.staff.id)
    assert await _statuses(deliveries) == ["delivered"]
    [entry] = await _audit("visit.confirm", visit_id)
    assert entry["before"] == {"status": "locked"}
    assert entry["after"]["by"] == "staff: 到户核实"
    # Coal confirmed without the checklist: a door check is scheduled.
    kinds = {f["kind"] for f in await FollowUp.select().where(FollowUp.visit == visit_id).run()}
    assert "door_check" in kinds
    [scheduled] = await _audit("safety.schedule", visit_id)
    assert scheduled["actor"] == world.staff.id

    again = await confirmation.staff_confirm(actor=world.staff, visit_id=visit_id, reason="再次")
    assert (again.already_confirmed, again.delivery_id) == (True, 0)
    assert len(await _audit("visit.confirm", visit_id)) == 1


async def test_couriers_and_charities_cannot_confirm_on_staffs_word(db: None) -> None:
    """The faces guard the route; the service keeps the rule too, as for printing slips."""
    world = await _world()
    visit_id, deliveries = await _visit(world)
    for actor in (world.courier, world.charity):
        with pytest.raises(Forbidden) as refused:
            await confirmation.staff_confirm(actor=actor, visit_id=visit_id, reason="到户核实")
        assert refused.value.detail == "Only civil affairs staff confirm a hand-over on their word"
    assert await _statuses(deliveries) == ["pending"]
    done = await confirmation.staff_confirm(actor=await _admin(), visit_id=visit_id, reason="核实")
    assert done.already_confirmed is False


async def test_staff_cannot_confirm_a_failed_visit(db: None) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world)
    await confirmation.fail(actor=world.courier, visit_id=visit_id, reason="家中无人")
    with pytest.raises(Conflict) as refused:
        await confirmation.staff_confirm(actor=world.staff, visit_id=visit_id, reason="到户核实")
    assert (refused.value.detail, refused.value.error) == (
        "The delivery is failed",
        "delivery_closed",
    )
    assert await _statuses(deliveries) == ["failed"]


# A failure ------------------------------------------------------------------------------------


async def test_a_failed_visit_returns_the_stock_and_need_of_its_open_items_only(
    db: None,
) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world, items=("quilt", "quilt"))
    household = (await _row(visit_id))["household"]
    await confirmation.fail_delivery(actor=world.courier, delivery_id=deliveries[0], reason="破损")
    failed = await confirmation.fail(actor=world.charity, visit_id=visit_id, reason="家中无人")
    assert failed == deliveries[1:]
    assert (await _row(visit_id))["status"] == "failed"
    assert await _statuses(deliveries) == ["failed", "failed"]
    assert await _allocation_statuses(deliveries) == ["failed", "failed"]
    reasons = (
        await Delivery.select(Delivery.failure_reason)
        .where(Delivery.id.is_in(deliveries))
        .order_by(Delivery.id)
        .run()
    )
    assert [r["failure_reason"] for r in reasons] == ["破损", "家中无人"]
    for offer in await _offers(deliveries):
        assert await offer_stock(offer) == {"available": 1, "reserved": 0, "delivered": 0}
    assert await allocated(world.loop.needs[household]) == 0
    [entry] = await _audit("visit.fail", visit_id)
    assert (entry["entity"], entry["actor"]) == ("visit", world.charity.id)
    assert entry["before"] == {"status": "pending"}
    assert entry["after"] == {"status": "failed", "reason": "家中无人", "deliveries": failed}
    released = (
        await AuditEntry.select(AuditEntry.actor, AuditEntry.after)
        .where(AuditEntry.action == "offer.release")
        .output(load_json=True)
        .order_by(AuditEntry.id)
    )
    assert [(r["actor"], r["after"]["reason"]) for r in released] == [
        (world.courier.id, "破损"),
        (world.charity.id, "家中无人"),
    ]
    with pytest.raises(Conflict) as again:
        await confirmation.fail(actor=world.charity, visit_id=visit_id, reason="家中无人")
    assert (again.value.detail, again.value.error) == ("The visit is failed", "delivery_closed")


async def test_a_failed_item_leaves_the_rest_of_its_visit_open(db: None) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world, items=("quilt", "quilt"))
    household = (await _row(visit_id))["household"]
    await confirmation.fail_delivery(actor=world.courier, delivery_id=deliveries[1], reason="破损")
    assert (await _row(visit_id))["status"] == "pending"
    assert await _statuses(deliveries) == ["pending", "failed"]
    assert await _allocation_statuses(deliveries) == ["reserved", "failed"]
    kept, returned = await _offers(deliveries)
    assert await offer_stock(kept) == {"available": 0, "reserved": 1, "delivered": 0}
    assert await offer_stock(returned) == {"available": 1, "reserved": 0, "delivered": 0}
    assert await allocated(world.loop.needs[household]) == 1
    [entry] = await _audit("delivery.fail", deliveries[1])
    assert (entry["entity"], entry["actor"]) == ("delivery", world.courier.id)
    assert entry["before"] == {"status": "pending"}
    assert entry["after"] == {"status": "failed", "reason": "破损", "visit": visit_id}
    with pytest.raises(Conflict) as again:
        await confirmation.fail_delivery(
            actor=world.courier, delivery_id=deliveries[1], reason="破损"
        )
    assert (again.value.detail, again.value.error) == ("The delivery is failed", "delivery_closed")
    await confirmation.fail_delivery(actor=world.courier, delivery_id=deliveries[0], reason="无人")
    assert (await _row(visit_id))["status"] == "failed", "its last open item closes the visit"


async def test_a_locked_visit_may_still_fail_and_taking_its_lock_counts_no_wrong_code(
    db: None,
) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world)
    code = await _slip(world, visit_id)
    with pytest.raises(Invalid):
        await confirmation.confirm(
            actor=world.courier, secret_key=KEY, visit_id=visit_id, code=_wrong(code)
        )
    await Visit.update({Visit.status: "locked"}).where(Visit.id == visit_id).run()
    await Delivery.update({Delivery.status: "locked"}).where(Delivery.visit == visit_id).run()
    assert await confirmation.fail(actor=world.courier, visit_id=visit_id, reason="无人") == (
        deliveries
    )
    row = await _row(visit_id)
    assert (row["status"], row["failed_attempts"]) == ("failed", 1)
    assert await _allocation_statuses(deliveries) == ["failed"]


# Who may reach a visit ------------------------------------------------------------------------


async def test_a_courier_of_another_charity_reaches_none_of_a_visits_records(db: None) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world)
    code = await _slip(world, visit_id)
    outsider = await _other_charitys_courier(world)
    with pytest.raises(NotFound):
        await confirmation.confirm(actor=outsider, secret_key=KEY, visit_id=visit_id, code=code)
    with pytest.raises(NotFound):
        await confirmation.fail(actor=outsider, visit_id=visit_id, reason="无人")
    with pytest.raises(NotFound):
        await confirmation.fail_delivery(actor=outsider, delivery_id=deliveries[0], reason="无人")
    with pytest.raises(NotFound):
        await confirmation.staff_confirm(actor=outsider, visit_id=visit_id, reason="到户")
    row = await _row(visit_id)
    assert (row["status"], row["failed_attempts"]) == ("pending", 0)
    assert await _statuses(deliveries) == ["pending"]


async def test_staff_of_another_county_reach_none_of_a_visits_records(db: None) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world)
    outsider = await _other_county_staff()
    with pytest.raises(NotFound):
        await confirmation.staff_confirm(actor=outsider, visit_id=visit_id, reason="到户")
    with pytest.raises(NotFound):
        await confirmation.fail(actor=outsider, visit_id=visit_id, reason="无人")
    with pytest.raises(NotFound):
        await confirmation.fail_delivery(actor=outsider, delivery_id=deliveries[0], reason="无人")
    assert (await _row(visit_id))["status"] == "pending"


async def test_a_delivery_leads_to_its_visit_and_an_unknown_one_to_not_found(db: None) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world)
    assert await confirmation.visit_of(deliveries[0]) == visit_id
    with pytest.raises(NotFound) as unknown:
        await confirmation.visit_of(deliveries[0] + 1000)
    assert unknown.value.detail == "No such delivery"
    await Delivery.update({Delivery.visit: None}).where(Delivery.id == deliveries[0]).run()
    with pytest.raises(NotFound):
        await confirmation.visit_of(deliveries[0])


# "Not received" -------------------------------------------------------------------------------


async def test_the_household_reports_not_received_with_its_code(db: None) -> None:
    world = await _world()
    visit_id, deliveries = await _visit(world, items=("quilt", "quilt"))
    code = await _slip(world, visit_id)
    case = await confirmation.report_not_received(
        secret_key=KEY, code=f"{code[:4]}-{code[4:]}", description="没收到"
    )
    assert (case.visit_id, case.delivery_id) == (visit_id, deliveries[0])
    assert (case.household_reference, case.description, case.status) == ("HC1", "没收到", "open")
    assert _just_now(case.created_at)
    row = await DeliveryCase.select().where(DeliveryCase.id == case.id).first().run()
    assert row is not None
    assert (row["delivery"], row["household"]) == (
        deliveries[0],
        (await _row(visit_id))["household"],
    )
    assert (row["description"], row["created_at"]) == ("没收到", case.created_at)
    [entry] = await _audit("visit.not_received", visit_id)
    assert (entry["actor"], entry["actor_label"], entry["entity"]) == (None, "household", "visit")
    assert entry["after"] == {"case": case.id}


async def test_a_report_with_a_malformed_or_unknown_code_is_refused(db: None) -> None:
    world = await _world()
    visit_id, _ = await _visit(world)
    code = await _slip(world, visit_id)
    for malformed in (code[:-1], code + "1"):
        with pytest.raises(Invalid) as refused:
            await confirmation.report_not_received(secret_key=KEY, code=malformed, description="")
        assert (refused.value.field, refused.value.message_id) == ("code", "code_format")
        assert refused.value.detail == "The code has 8 digits"
    with pytest.raises(NotFound) as unknown:
        await confirmation.report_not_received(secret_key=KEY, code=_wrong(code), description="")
    assert (unknown.value.field, unknown.value.message_id) == ("code", "no_such_code")
    assert unknown.value.detail == "No delivery has this code"
    assert await DeliveryCase.count() == 0


# A visit's changes touch its own records only ---------------------------------------------------


async def test_locking_and_reopening_a_visit_changes_only_its_own_items(db: None) -> None:
    world = await _world()
    first, first_items = await _visit(world, "HC1")
    second, second_items = await _visit(world, "HC2")
    codes = {visit: await _slip(world, visit) for visit in (first, second)}

    async def lock(visit_id: int) -> None:
        for _ in range(confirmation.MAX_ATTEMPTS):
            with pytest.raises((Invalid, Locked)):
                await confirmation.confirm(
                    actor=world.courier,
                    secret_key=KEY,
                    visit_id=visit_id,
                    code=_wrong(codes[visit_id]),
                )

    await lock(first)
    assert (await _statuses(first_items), await _statuses(second_items)) == (
        ["locked"],
        ["pending"],
    )
    await lock(second)
    await _slip(world, first)  # a new slip opens the first visit again
    assert (await _statuses(first_items), await _statuses(second_items)) == (
        ["pending"],
        ["locked"],
    )


async def test_a_visit_failed_in_full_leaves_another_households_visit_open(db: None) -> None:
    world = await _world()
    failing, _ = await _visit(world, "HC1")
    other, other_items = await _visit(world, "HC2")
    await confirmation.fail(actor=world.courier, visit_id=failing, reason="家中无人")
    assert ((await _row(failing))["status"], (await _row(other))["status"]) == (
        "failed",
        "pending",
    )
    assert await _statuses(other_items) == ["pending"]


async def test_a_report_not_received_names_the_first_item_of_the_visit_its_code_opens(
    db: None,
) -> None:
    world = await _world()
    await _visit(world, "HC1")
    visit_id, deliveries = await _visit(world, "HC2", items=("quilt", "quilt"))
    code = await _slip(world, visit_id)
    case = await confirmation.report_not_received(secret_key=KEY, code=code, description="没收到")
    assert (case.visit_id, case.delivery_id, case.household_reference) == (
        visit_id,
        deliveries[0],
        "HC2",
    )


async def test_a_new_code_already_held_by_another_visit_is_drawn_again(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two visits never share a code: a code drawn that another visit holds is drawn again (the
    random digits are replayed here, so that the second draw repeats the first visit's code)."""
    world = await _world()
    first, _ = await _visit(world, "HC1")
    second, _ = await _visit(world, "HC2")
    digits = iter("12345678" + "12345678" + "87654321")
    monkeypatch.setattr(secrets, "choice", lambda _: next(digits))
    assert await _slip(world, first) == "12345678"
    assert await _slip(world, second) == "87654321"
