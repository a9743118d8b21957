"""Concurrent approvals over the same stock never allocate a unit twice.

This test commits real rows (each request runs in its own transaction, on its own
connection), so it does not use the rolled-back ``db`` fixture; it wipes what it wrote.
With ``NUANXIN_TEST_DATABASE=postgres`` (CI runs it) the approvals truly run at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import pytest

from nuanxin.errors import DomainError
from tests.nuanxin.conftest import run_jobs
from tests.nuanxin.helpers import until_one_waits_for_a_lock
from tests.nuanxin.loop_world import COUNTY, add_household, add_offer, build_loop

APPROVALS = 24
STOCK = 5


async def test_concurrent_approvals_never_allocate_a_unit_twice(
    committed: httpx.AsyncClient,
) -> None:
    client = committed
    loop = await build_loop(prefix="c")
    for index in range(8):
        await add_household(loop, f"HC{index}", (COUNTY[0] + 0.01 * index, COUNTY[1]))
    offer = await add_offer(loop, quantity=STOCK)
    county_round = (await client.post("/api/rounds", json={}, headers=loop.auth("staff"))).json()
    province_round = (
        await client.post("/api/rounds", json={}, headers=loop.auth("province"))
    ).json()
    rounds = [county_round["id"], province_round["id"]]
    assert await run_jobs() == 2
    for who, round_id in zip(("staff", "province"), rounds, strict=True):
        body = (await client.get(f"/api/rounds/{round_id}", headers=loop.auth(who))).json()
        assert body["status"] == "proposed" and body["stats"]["totals"]["units"] == STOCK

    async def approve(index: int) -> dict[str, Any]:
        who, round_id = (("staff", rounds[0]), ("province", rounds[1]))[index % 2]
        answer = await client.post(
            f"/api/rounds/{round_id}/approve", json={"all": True}, headers=loop.auth(who)
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    answers = await asyncio.gather(*(approve(i) for i in range(APPROVALS)))
    approved = sum(len(a["approved"]) for a in answers)
    stale = sum(len(a["stale"]) for a in answers)
    from nuanxin.offers.tables import Offer

    row = await Offer.select(Offer.available, Offer.reserved).where(Offer.id == offer).first().run()
    assert row == {"available": 0, "reserved": STOCK}, row
    assert approved == STOCK, f"{approved} approved, {stale} stale"
    from nuanxin.households.tables import Need

    assert sum(r["allocated"] for r in await Need.select(Need.allocated).run()) == STOCK
    print(f"\n{APPROVALS} concurrent approvals: {approved} approved, {stale} stale, stock {row}")  # noqa: T201


async def _two_needs_of_one_household(loop: Any) -> tuple[int, list[tuple[int, int]]]:
    """A household needing quilts and coal, and an offer of each by the loop's charity:
    (household, [(quilt offer, quilt need), (coal offer, coal need)])."""
    from datetime import UTC, datetime

    from nuanxin.households.tables import Need
    from nuanxin.offers.tables import Item, Offer

    household = await add_household(loop, "HV1", COUNTY, quilts=1)
    quilts = await add_offer(loop, quantity=3)
    coal = await Item.select(Item.id).where(Item.code == "coal").first().run()
    assert coal is not None
    row = await Offer.select().where(Offer.id == quilts).first().run()
    assert row is not None
    made = (
        await Offer.insert(
            Offer(**{**{k: v for k, v in row.items() if k != "id"}, "item": coal["id"]})
        )
        .returning(Offer.id)
        .run()
    )
    coal_need = (
        await Need.insert(
            Need(
                household=household,
                item=coal["id"],
                quantity=1,
                weight=1.0,
                rule="test",
                updated_at=datetime.now(UTC),
            )
        )
        .returning(Need.id)
        .run()
    )
    return household, [
        (quilts, loop.needs[household]),
        (int(made[0]["id"]), int(coal_need[0]["id"])),
    ]


async def _one_visit_with_both(household: int) -> None:
    from nuanxin.deliveries.tables import Delivery, Visit

    visits = await Visit.select(Visit.id).where(Visit.household == household).run()
    assert len(visits) == 1, f"one trip, one slip: {visits}"
    lines = await Delivery.select(Delivery.visit).where(Delivery.visit == visits[0]["id"]).run()
    assert len(lines) == 2, "both items are on that one visit"


async def test_two_approvals_at_once_for_one_household_and_charity_share_one_visit(
    committed: httpx.AsyncClient,
) -> None:
    """Two needs of one household (quilts and coal), approved at the same moment from two offers
    of one charity: one visit, one slip, one code for the trip, however the two interleave."""
    from nuanxin.deliveries import allocations

    loop = await build_loop(prefix="v")
    household, wanted = await _two_needs_of_one_household(loop)
    staff = await _staff(loop)

    async def approve(offer_id: int, need_id: int) -> None:
        await allocations.allocate(
            actor=staff,
            offer_id=offer_id,
            organization_id=loop.charity_id,
            household_id=household,
            need_id=need_id,
            quantity=1,
            distance_km=0.0,
        )

    await asyncio.gather(*(approve(offer_id, need_id) for offer_id, need_id in wanted))
    await _one_visit_with_both(household)


async def test_an_approval_joins_the_visit_another_started_for_its_household_meanwhile(
    committed: httpx.AsyncClient,
) -> None:
    """The interleaving the test above may or may not meet, made certain: the second approval
    looks for an open visit before the first commits its new one, waits on the first's insert
    (the partial unique index), inserts nothing, and must find that visit and join it.
    PostgreSQL only: SQLite never runs two transactions at once."""
    import os

    import asyncpg

    from nuanxin.db import atomic
    from nuanxin.deliveries import allocations
    from nuanxin.deliveries.tables import Visit

    if Visit._meta.db.engine_type != "postgres":
        pytest.skip("two transactions at once are PostgreSQL's; SQLite runs one at a time")
    loop = await build_loop(prefix="v")
    (
        household,
        [(first_offer, first_need), (second_offer, second_need)],
    ) = await _two_needs_of_one_household(loop)
    staff = await _staff(loop)
    started = asyncio.Event()

    async def approve(offer_id: int, need_id: int) -> None:
        await allocations.allocate(
            actor=staff,
            offer_id=offer_id,
            organization_id=loop.charity_id,
            household_id=household,
            need_id=need_id,
            quantity=1,
            distance_km=0.0,
        )

    async def first_holding_its_new_visit() -> None:
        prober = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            async with atomic():
                await approve(first_offer, first_need)
                started.set()
                waiting = await until_one_waits_for_a_lock(prober)
                assert waiting, "the second approval waits on the first's new visit"
        finally:
            await prober.close()

    async def second_meanwhile() -> None:
        await started.wait()
        await approve(second_offer, second_need)

    await asyncio.gather(first_holding_its_new_visit(), second_meanwhile())
    await _one_visit_with_both(household)


async def _staff(loop: Any, username: str = "vloop_staff") -> Any:
    from nuanxin.accounts.tables import User
    from nuanxin.identity import CurrentUser, Role

    row = await User.select(User.id).where(User.username == username).first().run()
    assert row is not None
    return CurrentUser(
        id=int(row["id"]),
        username=username,
        role=Role.staff,
        jurisdiction_id=loop.county_id,
        organization_id=None,
    )


async def test_allocations_naming_the_same_offers_and_needs_in_any_order_never_deadlock(
    committed: httpx.AsyncClient,
) -> None:
    """Bulk allocations at once, naming the same offers and needs in their own orders (or one
    offer each, the same needs in opposite orders), beside single allocations: locks are taken
    offers first, then needs, each by id, so none waits for another in a circle (PostgreSQL
    would abort one as a deadlock), and together they never give a unit twice nor more than a
    need asks."""
    from nuanxin.deliveries import allocations
    from nuanxin.deliveries.tables import Allocation
    from nuanxin.households.tables import Need
    from nuanxin.offers.tables import Offer

    loop = await build_loop(prefix="d")
    households = [await add_household(loop, f"HD{i}", COUNTY, quilts=6) for i in range(3)]
    offers = [await add_offer(loop, quantity=4) for _ in range(3)]
    staff = await _staff(loop, "dloop_staff")
    pairs = [(offer, household) for offer in offers for household in households]

    def requests(order: list[tuple[int, int]]) -> list[allocations.AllocationRequest]:
        return [
            allocations.AllocationRequest(
                offer_id=offer,
                organization_id=loop.charity_id,
                household_id=household,
                need_id=loop.needs[household],
                quantity=1,
                distance_km=1.0,
            )
            for offer, household in order
        ]

    async def one(offer: int, household: int) -> None:
        # short stock or a met need is a refusal, not a deadlock
        with contextlib.suppress(DomainError):
            await allocations.allocate(
                actor=staff,
                offer_id=offer,
                organization_id=loop.charity_id,
                household_id=household,
                need_id=loop.needs[household],
                quantity=1,
                distance_km=1.0,
            )

    orders = [pairs, pairs[::-1], pairs[1::2] + pairs[::2], pairs[::-2] + pairs[-2::-2]]
    own = [await add_offer(loop, quantity=3) for _ in range(4)]
    for n, offer in enumerate(own):
        orders.append([(offer, h) for h in (households if n % 2 else households[::-1])])
    offers += own
    await asyncio.gather(
        *(allocations.allocate_many(actor=staff, requests=requests(o)) for o in orders),
        one(offers[2], households[0]),
        one(offers[0], households[2]),
    )
    made = await Allocation.select(Allocation.offer, Allocation.need, Allocation.quantity).run()
    for offer in offers:
        row = await Offer.select(Offer.available, Offer.reserved).where(Offer.id == offer).first()
        assert row is not None
        given = sum(a["quantity"] for a in made if a["offer"] == offer)
        assert row["reserved"] == given, (offer, row, made)
        assert row["available"] == (3 if offer in own else 4) - given
    for household in households:
        need = loop.needs[household]
        counted = await Need.select(Need.allocated).where(Need.id == need).first()
        assert counted is not None
        assert counted["allocated"] == sum(a["quantity"] for a in made if a["need"] == need)
        assert counted["allocated"] <= 6
    assert len(made) >= 3
