"""The one allocation path (issue 19): what is honoured, what is refused and what it leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nuanxin.accounts.tables import User
from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries import allocations
from nuanxin.deliveries.tables import Allocation, Delivery, Visit
from nuanxin.errors import DomainError
from nuanxin.households.tables import Household, Need
from nuanxin.identity import CurrentUser, Role
from nuanxin.offers.tables import Item, Offer
from nuanxin.regions.tables import Region
from nuanxin.rounds.tables import MatchingRound, Proposal
from tests.nuanxin.helpers import rows_dropped_on_write
from tests.nuanxin.loop_world import (
    COUNTY,
    NEIGHBOUR,
    Loop,
    add_household,
    add_offer,
    allocated,
    build_loop,
    region,
)
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
        await AuditEntry.select(
            AuditEntry.entity, AuditEntry.entity_id, AuditEntry.actor, AuditEntry.after
        )
        .where(AuditEntry.action == "offer.release")
        .output(load_json=True)
    )
    assert release[-1]["actor"] == staff.id
    assert release[-1]["after"]["reason"].startswith("allocation not made: ")
    assert (release[-1]["entity"], release[-1]["entity_id"]) == ("offer", str(offer))
    counters = {k: v for k, v in release[-1]["after"].items() if k != "reason"}
    assert counters == {
        "available": 3,
        "reserved": 2,
        "delivered": 0,
        "withdrawn": 0,
        "status": "open",
        "quantity": 1,
    }  # given back from the 3 reserved at first
    again = await allocations.allocate_many(
        actor=staff, requests=[_request(loop, offer, met, 1, proposal_id=4242)]
    )
    assert again.made == [] and len(again.refused) == 1
    release = (
        await AuditEntry.select(AuditEntry.after)
        .where(AuditEntry.action == "offer.release")
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )
    assert release[-1]["after"]["reason"] == (
        "proposal 4242 not approved: The household's need is already met by other allocations"
    )
    assert await offer_stock(offer) == {"available": 3, "reserved": 2, "delivered": 0}


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
        paperwork_due_at=datetime(2026, 12, 8, 12, 0, tzinfo=UTC),
    )
    row = await Allocation.select().where(Allocation.id == made.allocation_id).first().run()
    assert row is not None
    assert (row["emergency"], row["paperwork_due_at"], row["distance_km"]) == (
        True,
        datetime(2026, 12, 8, 12, 0, tzinfo=UTC),
        2.0,
    )
    entry = (
        await AuditEntry.select(AuditEntry.after, AuditEntry.actor)
        .where(
            (AuditEntry.action == "allocation.create")
            & (AuditEntry.entity == "allocation")
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
    reserved_by = await AuditEntry.select(AuditEntry.actor).where(
        (AuditEntry.action == "offer.reserve") & (AuditEntry.entity_id == str(offer))
    )
    assert reserved_by == [{"actor": staff.id}]  # the refused one's reservation rolled back

    other = await add_household(loop, "HHP", COUNTY, quilts=1)
    proposal = await _proposal(loop, staff, offer, other)
    plain = await allocations.allocate(
        actor=staff,
        offer_id=offer,
        organization_id=loop.charity_id,
        household_id=other,
        need_id=loop.needs[other],
        quantity=1,
        distance_km=3.0,
        proposal_id=proposal,
    )
    row = await Allocation.select().where(Allocation.id == plain.allocation_id).first().run()
    assert row is not None
    assert (row["proposal"], row["emergency"], row["paperwork_due_at"]) == (proposal, False, None)


async def _proposal(loop: Loop, staff: CurrentUser, offer: int, household: int) -> int:
    """A round's proposal of one unit of the offer for the household's need."""
    now = datetime.now(UTC)
    rounds = (
        await MatchingRound.insert(
            MatchingRound(region=loop.county_id, created_by=staff.id, created_at=now)
        )
        .returning(MatchingRound.id)
        .run()
    )
    rows = (
        await Proposal.insert(
            Proposal(
                round=rounds[0]["id"],
                offer=offer,
                household=household,
                need=loop.needs[household],
                quantity=1,
                distance_km=3.0,
                reason="test",
            )
        )
        .returning(Proposal.id)
        .run()
    )
    return int(rows[0]["id"])


async def test_each_offer_is_reserved_once_for_all_its_requests_by_the_approver(
    db: None,
) -> None:
    loop = await build_loop()
    staff = await _staff(loop)
    first = await add_household(loop, "HH1", COUNTY, quilts=2)
    second = await add_household(loop, "HH2", COUNTY, quilts=1)
    offer = await add_offer(loop, quantity=5)
    outcome = await allocations.allocate_many(
        actor=staff,
        requests=[_request(loop, offer, first, 2), _request(loop, offer, second, 1)],
    )
    assert len(outcome.made) == 2 and outcome.refused == []
    entries = (
        await AuditEntry.select(
            AuditEntry.actor, AuditEntry.before, AuditEntry.after, AuditEntry.region_code
        )
        .where((AuditEntry.action == "offer.reserve") & (AuditEntry.entity_id == str(offer)))
        .output(load_json=True)
    )
    assert entries == [
        {
            "actor": staff.id,
            "before": {"available": 5, "reserved": 0, "delivered": 0, "withdrawn": 0},
            "after": {
                "available": 2,
                "reserved": 3,
                "delivered": 0,
                "withdrawn": 0,
                "status": "open",
                "quantity": 3,
                "reason": "",
            },
            "region_code": "230111",
        }
    ]


async def test_needs_are_counted_in_id_order_whatever_order_the_requests_name_them(
    db: None,
) -> None:
    """The lock order (offers, then needs, each by id) seen from SQLite: the needs already met
    are found, and their reservations given back, lowest need first."""
    loop = await build_loop()
    staff = await _staff(loop)
    low = await add_household(loop, "HHL", COUNTY, quilts=1)
    high = await add_household(loop, "HHH", COUNTY, quilts=1)
    assert loop.needs[low] < loop.needs[high]
    await Need.update({Need.allocated: 1}).where(Need.id.is_in([loop.needs[low], loop.needs[high]]))
    offer = await add_offer(loop, quantity=4)
    outcome = await allocations.allocate_many(
        actor=staff,
        requests=[_request(loop, offer, high, 1), _request(loop, offer, low, 1)],
    )
    assert outcome.made == []
    assert [r.need_id for r, _ in outcome.refused] == [loop.needs[low], loop.needs[high]]
    assert await offer_stock(offer) == {"available": 4, "reserved": 0, "delivered": 0}


async def _deliver(made: allocations.Allocated, at: datetime) -> None:
    """What the hand-over writes when the household confirms (the stock is not this test's)."""
    await Delivery.update({Delivery.status: "delivered", Delivery.confirmed_at: at}).where(
        Delivery.id == made.delivery_id
    )
    await Allocation.update({Allocation.status: "delivered"}).where(
        Allocation.id == made.allocation_id
    )


async def _places(loop: Loop) -> tuple[int, int]:
    """A township under the loop's county (呼兰区) and a neighbouring county (阿城区)."""
    city = await Region.select(Region.id).where(Region.code == "230100").first().run()
    assert city is not None
    township = await region("230111100", "康金街道", "township", loop.county_id, COUNTY)
    neighbour = await region("230112", "阿城区", "county", int(city["id"]), NEIGHBOUR)
    return township, neighbour


async def test_a_donor_learns_when_and_how_many_and_the_county_and_category_never_who(
    db: None,
) -> None:
    loop = await build_loop()
    staff = await _staff(loop)
    township, neighbour = await _places(loop)
    in_township = await add_household(loop, "HHT", COUNTY, quilts=2, region_id=township)
    next_door = await add_household(loop, "HHN", NEIGHBOUR, quilts=1, region_id=neighbour)
    failed = await add_household(loop, "HHX", COUNTY, quilts=1)
    await Household.update({Household.category: "extremely_poor"}).where(Household.id == next_door)
    offer, other = await add_offer(loop, quantity=6), await add_offer(loop, quantity=1)
    outcome = await allocations.allocate_many(
        actor=staff,
        requests=[
            _request(loop, offer, in_township, 2),
            _request(loop, offer, next_door, 1),
            _request(loop, offer, failed, 1),
        ],
    )
    (_, first), (_, second), (_, third) = outcome.made
    confirmed = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    await _deliver(second, confirmed)
    await Allocation.update({Allocation.status: "failed"}).where(
        Allocation.id == third.allocation_id
    )
    assert await allocations.allocation_events(offer_ids=[]) == []
    events = await allocations.allocation_events(offer_ids=[offer, offer, other])
    approved = {
        int(row["id"]): row["created_at"]
        for row in await Allocation.select(Allocation.id, Allocation.created_at).run()
    }
    assert events == [
        allocations.AllocationEvent(
            offer_id=offer,
            offer_quantity=6,
            item_code="quilt",
            item_kind="quilt",
            quantity=2,
            approved_at=approved[first.allocation_id],
            delivered_at=None,
            county_code="230111",
            county_name="呼兰区",
            household_category="dibao",
        ),
        allocations.AllocationEvent(
            offer_id=offer,
            offer_quantity=6,
            item_code="quilt",
            item_kind="quilt",
            quantity=1,
            approved_at=approved[second.allocation_id],
            delivered_at=confirmed,
            county_code="230112",
            county_name="阿城区",
            household_category="extremely_poor",
        ),
    ]


async def test_the_dashboard_counts_every_confirmed_delivery_under_its_county_and_kind(
    db: None,
) -> None:
    loop = await build_loop()
    staff = await _staff(loop)
    township, neighbour = await _places(loop)
    households = [
        await add_household(loop, "HHT", COUNTY, quilts=3, region_id=township),
        await add_household(loop, "HHC", COUNTY, quilts=2),
        await add_household(loop, "HHN", NEIGHBOUR, quilts=1, region_id=neighbour),
        await add_household(loop, "HHP", COUNTY, quilts=4),  # approved, not yet delivered
    ]
    warm = await add_household(loop, "HHK", COUNTY, quilts=1)  # coal, in the same county
    offer = await add_offer(loop, quantity=10)
    coal_offer = await add_offer(loop, quantity=1)
    coal = await Item.select(Item.id, Item.kind).where(Item.code == "coal").first().run()
    assert coal is not None
    await Offer.update({Offer.item: coal["id"]}).where(Offer.id == coal_offer).run()
    outcome = await allocations.allocate_many(
        actor=staff,
        requests=[
            _request(loop, offer, h, q) for h, q in zip(households, (3, 2, 1, 4), strict=True)
        ]
        + [_request(loop, coal_offer, warm, 1)],
    )
    now = datetime.now(UTC)
    for _, made in [*outcome.made[:3], outcome.made[4]]:
        await _deliver(made, now)
    assert await allocations.delivered_by_county_kind() == {
        ("230111", str(coal["kind"])): allocations.DeliveredTotal(
            county_name="呼兰区", units=1, deliveries=1
        ),
        ("230111", "quilt"): allocations.DeliveredTotal(
            county_name="呼兰区", units=5, deliveries=2
        ),
        ("230112", "quilt"): allocations.DeliveredTotal(
            county_name="阿城区", units=1, deliveries=1
        ),
    }


async def test_new_items_join_the_households_open_unprinted_visit_of_that_charity_only(
    db: None,
) -> None:
    """One slip, one code per trip: items join the open visit whose slip is not printed yet;
    a printed slip or a finished visit is never added to, another household has its own."""
    loop = await build_loop()
    staff = await _staff(loop)
    household = await add_household(loop, "HHV", COUNTY, quilts=5)
    neighbour = await add_household(loop, "HHW", COUNTY, quilts=2)
    offer = await add_offer(loop, quantity=10)

    async def visit_of(requests: list[allocations.AllocationRequest]) -> list[int]:
        outcome = await allocations.allocate_many(actor=staff, requests=requests)
        ids = [made.delivery_id for _, made in outcome.made]
        rows = await Delivery.select(Delivery.id, Delivery.visit).where(Delivery.id.is_in(ids))
        by_id = {int(row["id"]): int(row["visit"]) for row in rows}
        return [by_id[i] for i in ids]

    first, other = await visit_of(
        [_request(loop, offer, household, 1), _request(loop, offer, neighbour, 1)]
    )
    assert first != other
    assert await visit_of([_request(loop, offer, household, 1)]) == [first]
    started = await Visit.select().where(Visit.id == first).first().run()
    assert started is not None
    assert (started["household"], started["organization"]) == (household, loop.charity_id)
    assert (started["status"], started["printed_count"]) == ("pending", 0)

    await Visit.update({Visit.printed_count: 1}).where(Visit.id == first)
    [after_print] = await visit_of([_request(loop, offer, household, 1)])
    assert after_print not in (first, other)
    await Visit.update({Visit.status: "delivered"}).where(Visit.id == after_print)
    after_delivery, beside = await visit_of(
        [_request(loop, offer, household, 1), _request(loop, offer, neighbour, 1)]
    )
    assert after_delivery not in (first, other, after_print)
    assert beside == other  # found open while the household's new visit was started
    assert await Visit.count().where(Visit.household == household) == 3


async def test_refusals_at_an_offer_are_listed_before_refusals_at_a_need_whatever_their_ids(
    db: None,
) -> None:
    """The refused come in the order the ledgers met them: the stock ledger's (offers by id)
    first, then the need ledger's (needs by id), even when a need's id is the lower number."""
    loop = await build_loop()
    staff = await _staff(loop)
    met = await add_household(loop, "HHM", COUNTY, quilts=1)
    await Need.update({Need.allocated: 1}).where(Need.id == loop.needs[met])
    other = await add_household(loop, "HHO", COUNTY, quilts=1)
    plenty = await add_offer(loop, quantity=4)
    short = await add_offer(loop, quantity=1)
    while short <= loop.needs[met]:
        short = await add_offer(loop, quantity=1)
    outcome = await allocations.allocate_many(
        actor=staff,
        requests=[_request(loop, plenty, met, 1), _request(loop, short, other, 2)],
    )
    assert outcome.made == []
    assert [(r.offer_id, why) for r, why in outcome.refused] == [
        (short, "Only 1 units are available, not 2"),
        (plenty, "The household's need is already met by other allocations"),
    ]


async def test_what_an_allocation_writes_is_stamped_with_the_true_instant_on_a_server_in_beijing(
    db: None, clock_in_china: None
) -> None:
    """The allocation, its delivery and the new visit are created at the UTC instant: a time
    taken without a zone would be eight hours off on a server set to China's time."""
    loop = await build_loop()
    staff = await _staff(loop)
    household = await add_household(loop, "HHT", COUNTY, quilts=1)
    offer = await add_offer(loop, quantity=2)
    before = datetime.now(UTC)
    outcome = await allocations.allocate_many(
        actor=staff, requests=[_request(loop, offer, household, 1)]
    )
    [(_, made)] = outcome.made
    delivery = await Delivery.select(Delivery.created_at, Delivery.visit).where(
        Delivery.id == made.delivery_id
    )
    allocation = await Allocation.select(Allocation.created_at).where(
        Allocation.id == made.allocation_id
    )
    visit = await Visit.select(Visit.created_at).where(Visit.id == delivery[0]["visit"])
    for stamped in (allocation[0]["created_at"], delivery[0]["created_at"], visit[0]["created_at"]):
        if stamped.tzinfo is None:
            stamped = stamped.replace(tzinfo=UTC)
        assert before - timedelta(seconds=5) <= stamped <= datetime.now(UTC), stamped


async def test_allocations_that_do_not_come_back_as_inserted_stop_the_approval_whole(
    db: None,
) -> None:
    loop = await build_loop()
    staff = await _staff(loop)
    household = await add_household(loop, "HHX", COUNTY, quilts=2)
    offer = await add_offer(loop, quantity=2)
    before = await offer_stock(offer)
    await rows_dropped_on_write("allocation", "INSERT")  # the rows never come back
    with pytest.raises(RuntimeError) as stopped:
        await allocations.allocate_many(actor=staff, requests=[_request(loop, offer, household, 2)])
    assert str(stopped.value) == "allocations came back in another order than inserted"
    assert await offer_stock(offer) == before  # the reservation went with it
    assert await Delivery.count().run() == 0
