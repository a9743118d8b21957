"""A household visit bringing chosen items (coal, a stove, a blanket ...), its slip printed."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import httpx

from nuanxin.accounts.tables import ApiToken, User
from nuanxin.deliveries.tables import Allocation, Delivery, Visit
from nuanxin.households.tables import Need
from nuanxin.identity import Role, digest
from nuanxin.offers.tables import Item, Offer
from tests.nuanxin.conftest import make_region, make_user
from tests.nuanxin.loop_world import COUNTY, Loop, add_household

CHECKLIST_YES = {
    "chimney_sealed": True,
    "vent": True,
    "stove_not_in_bedroom": True,
    "co_alarm": "present",
    "leaflet": True,
}


async def token_for(username: str, role: Role, *, jurisdiction: int | None = None) -> str:
    """A bearer token for a new account."""
    user_id = await make_user(username, role, jurisdiction=jurisdiction)
    token = f"safety-{username}"
    now = datetime.now(UTC)
    await ApiToken.insert(
        ApiToken(
            user=user_id, token_hash=digest(token), created_at=now, expires_at=now + timedelta(1)
        )
    ).run()
    return token


async def other_county_staff() -> dict[str, str]:
    """Staff of Acheng (阿城区), a county next to the loop's."""
    county = await make_region("230112", "county")
    token = await token_for("acheng_staff", Role.staff, jurisdiction=county)
    return {"authorization": f"Bearer {token}"}


async def visit_with(
    client: httpx.AsyncClient,
    loop: Loop,
    items: tuple[str, ...],
    *,
    reference: str = "HS1",
) -> tuple[int, str, int]:
    """A visit of the loop's charity to a new household with one of each item: (visit, code,
    household). Written as approval leaves them (stock reserved), then the slip printed."""
    household = await add_household(loop, reference, (COUNTY[0] + 0.01, COUNTY[1]))
    staff = await User.select(User.id).where(User.username == "loop_staff").first().run()
    assert staff is not None
    now = datetime.now(UTC)
    visit = (
        await Visit.insert(Visit(household=household, organization=loop.charity_id, created_at=now))
        .returning(Visit.id)
        .run()
    )
    visit_id = int(visit[0]["id"])
    for code in items:
        item = await Item.select(Item.id).where(Item.code == code).first().run()
        assert item is not None, code
        if code == "quilt":  # the household's quilt need is there already
            await Need.update({Need.allocated: 1}).where(Need.id == loop.needs[household]).run()
            need = [{"id": loop.needs[household]}]
        else:
            need = (
                await Need.insert(
                    Need(
                        household=household,
                        item=item["id"],
                        quantity=1,
                        allocated=1,
                        rule="test",
                        updated_at=now,
                    )
                )
                .returning(Need.id)
                .run()
            )
        offer = (
            await Offer.insert(
                Offer(
                    organization=loop.charity_id,
                    warehouse=loop.warehouse_id,
                    item=item["id"],
                    quantity=1,
                    available=0,
                    reserved=1,
                    lat=COUNTY[0],
                    lon=COUNTY[1],
                    radius_km=30.0,
                    available_from=now.date(),
                    available_until=(now + timedelta(days=30)).date(),
                    created_at=now,
                    updated_at=now,
                )
            )
            .returning(Offer.id)
            .run()
        )
        allocation = (
            await Allocation.insert(
                Allocation(
                    offer=offer[0]["id"],
                    household=household,
                    need=need[0]["id"],
                    quantity=1,
                    distance_km=1.0,
                    approved_by=staff["id"],
                    created_at=now,
                )
            )
            .returning(Allocation.id)
            .run()
        )
        await Delivery.insert(
            Delivery(
                visit=visit_id,
                allocation=allocation[0]["id"],
                organization=loop.charity_id,
                code_hash=secrets.token_hex(32),
                created_at=now,
            )
        ).run()
    slip = await client.post(f"/api/visits/{visit_id}/slip", headers=loop.auth("staff"))
    assert slip.status_code == 201, slip.text
    return visit_id, str(slip.json()["code"]), household
