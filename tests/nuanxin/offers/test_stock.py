"""The stock ledger: moves never overdraw, always add up, and are audited."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from nuanxin.accounts.tables import Organization
from nuanxin.audit.tables import AuditEntry
from nuanxin.errors import DomainError
from nuanxin.offers import stock as services
from nuanxin.offers.tables import Offer
from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.world import build_world
from tests.nuanxin.helpers import assert_error
from tests.nuanxin.offers.helpers import TODAY, fresh_offer, staff_of, stock, stored_offer


async def test_stock_never_goes_negative_and_always_adds_up(client: httpx.AsyncClient) -> None:
    world = await build_world()
    offer_id, staff = await fresh_offer(client, world), staff_of(world)
    await services.reserve(offer_id=offer_id, quantity=15, actor=staff)
    with pytest.raises(DomainError) as short:
        await services.reserve(offer_id=offer_id, quantity=6, actor=staff)
    assert short.value.error == "insufficient_stock"
    assert await stock(offer_id) == {
        "quantity": 20,
        "available": 5,
        "reserved": 15,
        "delivered": 0,
        "withdrawn": 0,
        "status": "open",
    }

    member = world.headers(Caller.CHARITY)
    url = f"/api/offers/{offer_id}"
    below = await client.patch(url, json={"quantity": 14, "note": "改少"}, headers=member)
    assert assert_error(below, 409, "below_reserved")["field"] == "quantity"
    assert (await stock(offer_id))["quantity"] == 20
    note = await Offer.select(Offer.note).where(Offer.id == offer_id).first()
    assert note == {"note": ""}  # the refused edit wrote nothing
    down = await client.patch(url, json={"quantity": 15}, headers=member)
    assert (down.json()["available"], down.json()["reserved"]) == (0, 15)
    up = await client.patch(url, json={"quantity": 30}, headers=member)
    assert up.json()["available"] == 15

    too_much = await client.post(
        f"{url}/withdraw", json={"reason": "调拨", "quantity": 16}, headers=member
    )
    assert_error(too_much, 409, "insufficient_stock")
    await client.post(f"{url}/withdraw", json={"reason": "调拨", "quantity": 5}, headers=member)
    await services.deliver(offer_id=offer_id, quantity=10, actor=staff)
    with pytest.raises(DomainError) as over:
        await services.deliver(offer_id=offer_id, quantity=6, actor=staff)
    assert over.value.error == "insufficient_reserved"
    await services.release(offer_id=offer_id, quantity=2, actor=staff, reason="户主外出")
    assert await stock(offer_id) == {
        "quantity": 30,
        "available": 12,
        "reserved": 3,
        "delivered": 10,
        "withdrawn": 5,
        "status": "open",
    }

    withdrawn = await client.post(f"{url}/withdraw", json={"reason": "停止"}, headers=member)
    assert withdrawn.json()["status"] == "withdrawn"
    assert (withdrawn.json()["available"], withdrawn.json()["reserved"]) == (0, 3)
    with pytest.raises(DomainError):
        await services.reserve(offer_id=offer_id, quantity=1, actor=staff)
    await services.release(offer_id=offer_id, quantity=1, actor=staff, reason="送达失败")
    await services.deliver(offer_id=offer_id, quantity=2, actor=staff)
    assert await stock(offer_id) == {
        "quantity": 30,
        "available": 0,
        "reserved": 0,
        "delivered": 12,
        "withdrawn": 18,
        "status": "withdrawn",
    }
    edit = await client.patch(url, json={"note": "晚了"}, headers=member)
    assert_error(edit, 409, "offer_not_open")
    moves = await AuditEntry.count().where(
        (AuditEntry.entity == "offer") & (AuditEntry.entity_id == str(offer_id))
    )
    assert moves == 10  # every change that happened, none that was refused


async def test_an_offer_whose_units_are_all_delivered_closes(db: None) -> None:
    world = await build_world()
    staff, offer_id = staff_of(world), await stored_offer(world)
    await services.reserve(offer_id=offer_id, quantity=20, actor=staff)
    closed = await services.deliver(offer_id=offer_id, quantity=20, actor=staff)
    assert closed.status.value == "closed"
    assert (await stock(offer_id))["delivered"] == 20


async def test_open_stock_is_what_verified_charities_can_give_now(
    db: None,
) -> None:
    world = await build_world()
    everything = await services.open_stock()
    assert {s.offer_id for s in everything} == {world.offer_x_id, world.offer_y_id}
    county_a = await services.open_stock(region_code="230111")
    available = (await stock(world.offer_x_id))["available"]
    assert [(s.offer_id, s.item_code, s.available) for s in county_a] == [
        (world.offer_x_id, "quilt", available)
    ]
    await Organization.update({Organization.status: "suspended"}).where(
        Organization.id == world.charity_y_id
    )
    assert {s.offer_id for s in await services.open_stock()} == {world.offer_x_id}
    later = await services.open_stock(on=TODAY + timedelta(days=365))
    assert later == []


async def test_a_move_of_no_units_is_refused(db: None) -> None:
    world = await build_world()
    offer_id, staff = await stored_offer(world), staff_of(world)
    for move in (services.reserve, services.deliver):
        with pytest.raises(DomainError) as nothing:
            await move(offer_id=offer_id, quantity=0, actor=staff)
        assert nothing.value.field == "quantity"
    with pytest.raises(DomainError):
        await services.release(offer_id=offer_id, quantity=0, actor=staff, reason="无")
    assert (await stock(offer_id))["available"] == 20


async def test_delivering_many_at_once_moves_closes_and_audits_as_one_by_one(
    db: None,
) -> None:
    """A visit's items delivered in one go (:func:`deliver_each`) leave the offers and the
    audit trail as :func:`deliver` called for each in turn: the same counters, the offer with
    nothing left closed, one entry per item with the counters before and after it."""
    world = await build_world()
    staff = staff_of(world)

    async def trail(offer_ids: list[int]) -> list[tuple[object, ...]]:
        rows = (
            await AuditEntry.select(
                AuditEntry.entity, AuditEntry.actor, AuditEntry.before, AuditEntry.after
            )
            .where(
                (AuditEntry.action == "offer.deliver")
                & AuditEntry.entity_id.is_in([str(i) for i in offer_ids])
            )
            .order_by(AuditEntry.id)
            .output(load_json=True)
            .run()
        )
        return [(row["entity"], row["actor"], row["before"], row["after"]) for row in rows]

    results: list[tuple[list[dict[str, object]], list[tuple[object, ...]]]] = []
    for together in (False, True):
        first = await stored_offer(world)
        second = await stored_offer(world)
        await services.reserve(offer_id=first, quantity=20, actor=staff)  # all of it
        await services.reserve(offer_id=second, quantity=5, actor=staff)
        given = [(first, 12), (first, 8), (second, 3)]
        if together:
            await services.deliver_each(given=given, actor=staff)
        else:
            for offer_id, quantity in given:
                await services.deliver(offer_id=offer_id, quantity=quantity, actor=staff)
        results.append(([await stock(first), await stock(second)], await trail([first, second])))
    (one_by_one, its_trail), (at_once, trail_at_once) = results
    assert at_once == one_by_one
    assert [s["status"] for s in at_once] == ["closed", "open"]
    assert trail_at_once == its_trail and len(its_trail) == 3
    assert {(entity, actor) for entity, actor, _, _ in its_trail} == {("offer", staff.id)}
    with pytest.raises(DomainError) as over:
        await services.deliver_each(given=[(first, 1)], actor=staff)
    assert over.value.error == "insufficient_reserved"
