"""The one allocation path (issue 19): what is honoured, what is refused and what it leaves."""

from __future__ import annotations

import pytest

from nuanxin.accounts.tables import User
from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries import allocations
from nuanxin.deliveries.tables import Allocation, Delivery
from nuanxin.errors import DomainError
from nuanxin.households.tables import Need
from nuanxin.identity import CurrentUser, Role
from tests.nuanxin.loop_world import COUNTY, Loop, add_household, add_offer, allocated, build_loop
from tests.nuanxin.loop_world import stock as offer_stock


async def _staff(loop: Loop) -> CurrentUser:
    row = await User.select(User.id).where(User.username == "loop_staff").first().run()
    assert row is not None
    return CurrentUser(
        id=int(row["id"]),
        username="loop_staff",
        role=Role.staff,
        jurisdiction_id=loop.county_id,
        organization_id=None,
        jurisdiction_code="230111",
        jurisdiction_level="county",
    )


def _request(loop: Loop, offer: int, household: int, quantity: int, **more: object):  # type: ignore[no-untyped-def]
    return allocations.AllocationRequest(
        offer_id=offer,
        organization_id=loop.charity_id,
        household_id=household,
        need_id=loop.needs[household],
        quantity=quantity,
        distance_km=1.5,
        **more,  # type: ignore[arg-type]
    )


async def test_a_need_already_met_gives_its_reservation_back(db: None) -> None:
    loop = await build_loop()
    staff = await _staff(loop)
    met = await add_household(loop, "HHMET", COUNTY, quilts=1)
    open_need = await add_household(loop, "HHOPEN", COUNTY, quilts=2)
    await Need.update({Need.allocated: 1}).where(Need.id == loop.needs[met])
    offer = await add_offer(loop, quantity=5)
    outcome = await allocations.allocate_many(
        actor=staff,
        requests=[_request(loop, offer, met, 1), _request(loop, offer, open_need, 2)],
    )
    assert [r.household_id for r, _ in outcome.made] == [open_need]
    assert [(r.household_id, why) for r, why in outcome.refused] == [
        (met, "The household's need is already met by other allocations")
    ]
    assert await offer_stock(offer) == {"available": 3, "reserved": 2, "delivered": 0}
    assert (await allocated(loop.needs[met]), await allocated(loop.needs[open_need])) == (1, 2)
    release = (
        await AuditEntry.select(AuditEntry.after)
        .where(AuditEntry.action == "offer.release")
        .output(load_json=True)
    )
    assert release[-1]["after"]["reason"].startswith("allocation not made: ")


async def test_a_short_offer_honours_the_requests_it_can_one_at_a_time(db: None) -> None:
    loop = await build_loop()
    staff = await _staff(loop)
    first = await add_household(loop, "HHA", COUNTY, quilts=2)
    second = await add_household(loop, "HHB", COUNTY, quilts=2)
    third = await add_household(loop, "HHC", COUNTY, quilts=1)
    offer = await add_offer(loop, quantity=3)
    outcome = await allocations.allocate_many(
        actor=staff,
        requests=[
            _request(loop, offer, first, 2, proposal_id=None),
            _request(loop, offer, second, 2),
            _request(loop, offer, third, 1),
        ],
    )
    assert [r.household_id for r, _ in outcome.made] == [first, third]
    assert [r.household_id for r, _ in outcome.refused] == [second]
    assert outcome.refused[0][1] == "Only 1 units are available, not 2"
    assert await offer_stock(offer) == {"available": 0, "reserved": 3, "delivered": 0}


async def test_each_allocation_made_carries_its_delivery_and_its_facts(db: None) -> None:
    loop = await build_loop()
    staff = await _staff(loop)
    household = await add_household(loop, "HHF", COUNTY, quilts=2)
    offer = await add_offer(loop, quantity=2)
    assert (await allocations.allocate_many(actor=staff, requests=[])).made == []
    outcome = await allocations.allocate_many(
        actor=staff, requests=[_request(loop, offer, household, 2)]
    )
    [(_, made)] = outcome.made
    row = await Allocation.select().where(Allocation.id == made.allocation_id).first().run()
    assert row is not None
    assert (row["offer"], row["household"], row["need"], row["quantity"]) == (
        offer,
        household,
        loop.needs[household],
        2,
    )
    assert (row["approved_by"], row["emergency"], row["distance_km"]) == (staff.id, False, 1.5)
    delivery = await Delivery.select().where(Delivery.id == made.delivery_id).first().run()
    assert delivery is not None
    assert (delivery["allocation"], delivery["organization"]) == (
        made.allocation_id,
        loop.charity_id,
    )
    assert delivery["status"] == "pending"


async def test_one_allocation_is_audited_and_a_refusal_leaves_nothing_behind(db: None) -> None:
    loop = await build_loop()
    staff = await _staff(loop)
    household = await add_household(loop, "HHO", COUNTY, quilts=1)
    offer = await add_offer(loop, quantity=3)
    made = await allocations.allocate(
        actor=staff,
        offer_id=offer,
        organization_id=loop.charity_id,
        household_id=household,
        need_id=loop.needs[household],
        quantity=1,
        distance_km=2.0,
        emergency=True,
    )
    entry = (
        await AuditEntry.select(AuditEntry.after, AuditEntry.actor)
        .where(
            (AuditEntry.action == "allocation.create")
            & (AuditEntry.entity_id == str(made.allocation_id))
        )
        .output(load_json=True)
        .first()
        .run()
    )
    assert entry is not None and entry["actor"] == staff.id
    assert entry["after"] == {
        "offer": offer,
        "household": household,
        "need": loop.needs[household],
        "quantity": 1,
        "proposal": None,
        "emergency": True,
        "delivery": made.delivery_id,
    }
    with pytest.raises(DomainError) as met:
        await allocations.allocate(
            actor=staff,
            offer_id=offer,
            organization_id=loop.charity_id,
            household_id=household,
            need_id=loop.needs[household],
            quantity=1,
            distance_km=2.0,
        )
    assert met.value.error == "need_already_met"
    assert await offer_stock(offer) == {"available": 2, "reserved": 1, "delivered": 0}
    assert await Allocation.count().where(Allocation.household == household) == 1
