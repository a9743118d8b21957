"""A county with households, a charity with stock, and the staff and courier who close the loop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from nuanxin.accounts.tables import ApiToken, Organization
from nuanxin.households.tables import Household, Need
from nuanxin.identity import Role, digest
from nuanxin.offers.tables import Item, Offer
from nuanxin.regions.tables import Region
from nuanxin.rounds.tables import MatchingRound, Proposal
from nuanxin.rounds.vocabulary import RoundStatus
from nuanxin.warehouses.tables import Warehouse
from tests.nuanxin.conftest import make_user, run_jobs

# Hulan district (呼兰区) and its neighbour Acheng (阿城区), about 40 km apart.
COUNTY = (45.8876, 126.5820)
NEIGHBOUR = (45.5467, 126.9520)


@dataclass(kw_only=True)
class Loop:
    county_id: int
    charity_id: int
    warehouse_id: int
    quilt_id: int
    households: list[int] = field(default_factory=list)
    needs: dict[int, int] = field(default_factory=dict)  # household -> quilt need id
    offers: list[int] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)  # "staff", "courier"... -> user id

    def auth(self, who: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[who]}"}


async def _token(user_id: int, name: str) -> str:
    now = datetime.now(UTC)
    token = f"loop-{name}-{user_id}"
    await ApiToken.insert(
        ApiToken(
            user=user_id,
            token_hash=digest(token),
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
    ).run()
    return token


async def region(
    code: str, name: str, level: str, parent: int | None, point: tuple[float, float]
) -> int:
    rows = (
        await Region.insert(
            Region(
                code=code,
                name=name,
                full_name=name,
                level=level,
                parent=parent,
                lat=point[0],
                lon=point[1],
            )
        )
        .returning(Region.id)
        .run()
    )
    return int(rows[0]["id"])


async def add_household(
    loop: Loop,
    reference: str,
    point: tuple[float, float],
    *,
    quilts: int = 1,
    weight: float = 1.0,
    expired: bool = False,
    region_id: int | None = None,
) -> int:
    now = datetime.now(UTC)
    verified_at = now - timedelta(days=400 if expired else 10)
    rows = (
        await Household.insert(
            Household(
                reference=reference,
                category="dibao",
                head_name=f"测试{reference}",
                id_hash=digest(reference),
                id_last4="000X",
                phone="13900001111",
                current_address=f"呼兰区测试村{reference}号",
                region=region_id or loop.county_id,
                lat=point[0],
                lon=point[1],
                tags=["electricity"],
                status="verified",
                verified_at=verified_at,
                verification_expires_at=verified_at + timedelta(days=365),
                created_at=now,
                updated_at=now,
            )
        )
        .returning(Household.id)
        .run()
    )
    household = int(rows[0]["id"])
    need = (
        await Need.insert(
            Need(
                household=household,
                item=loop.quilt_id,
                quantity=quilts,
                weight=weight,
                rule="test",
                updated_at=now,
            )
        )
        .returning(Need.id)
        .run()
    )
    loop.households.append(household)
    loop.needs[household] = int(need[0]["id"])
    return household


async def add_offer(loop: Loop, quantity: int, radius_km: float = 30.0) -> int:
    now = datetime.now(UTC)
    rows = (
        await Offer.insert(
            Offer(
                organization=loop.charity_id,
                warehouse=loop.warehouse_id,
                item=loop.quilt_id,
                quantity=quantity,
                available=quantity,
                lat=COUNTY[0],
                lon=COUNTY[1],
                radius_km=radius_km,
                available_from=now.date(),
                available_until=(now + timedelta(days=30)).date(),
                created_at=now,
                updated_at=now,
            )
        )
        .returning(Offer.id)
        .run()
    )
    loop.offers.append(int(rows[0]["id"]))
    return int(rows[0]["id"])


async def build_loop(prefix: str = "") -> Loop:
    quilt = await Item.select(Item.id).where(Item.code == "quilt").first().run()
    assert quilt is not None
    province = await region("230000", "黑龙江省", "province", None, (45.74, 126.66))
    city = await region("230100", "哈尔滨市", "city", province, (45.80, 126.53))
    county = await region("230111", "呼兰区", "county", city, COUNTY)
    now = datetime.now(UTC)
    org = (
        await Organization.insert(
            Organization(
                name=f"{prefix}暖冬基金会",
                credit_code=f"{prefix}91230100LOOP0001X"[-18:],
                status="verified",
                region=county,
                contact_name="联系人",
                contact_phone="13800000000",
                created_at=now,
            )
        )
        .returning(Organization.id)
        .run()
    )
    charity = int(org[0]["id"])
    wh = (
        await Warehouse.insert(
            Warehouse(
                organization=charity,
                name="呼兰仓库",
                address="呼兰区仓库路",
                region=county,
                lat=COUNTY[0],
                lon=COUNTY[1],
            )
        )
        .returning(Warehouse.id)
        .run()
    )
    loop = Loop(
        county_id=county,
        charity_id=charity,
        warehouse_id=int(wh[0]["id"]),
        quilt_id=int(quilt["id"]),
    )
    people = {
        "staff": await make_user(f"{prefix}loop_staff", Role.staff, jurisdiction=county),
        "province": await make_user(f"{prefix}loop_province", Role.staff, jurisdiction=province),
        "courier": await make_user(f"{prefix}loop_courier", Role.courier, organization=charity),
        "charity": await make_user(f"{prefix}loop_charity", Role.charity, organization=charity),
    }
    loop.users = people
    for name, user_id in people.items():
        loop.tokens[name] = await _token(user_id, name)
    return loop


async def stock(offer_id: int) -> dict[str, Any]:
    row = (
        await Offer.select(Offer.available, Offer.reserved, Offer.delivered)
        .where(Offer.id == offer_id)
        .first()
        .run()
    )
    assert row is not None
    return row


async def allocated(need_id: int) -> int:
    row = await Need.select(Need.allocated).where(Need.id == need_id).first().run()
    assert row is not None
    return int(row["allocated"])


async def run_round(client: httpx.AsyncClient, loop: Loop, who: str = "staff") -> dict[str, Any]:
    started = await client.post(
        "/api/rounds", json={"item_codes": ["quilt"]}, headers=loop.auth(who)
    )
    assert started.status_code == 202, started.text
    round_id = started.json()["id"]
    assert await run_jobs() >= 1  # what a worker does (the round, and any job queued before)
    finished = await client.get(f"/api/rounds/{round_id}", headers=loop.auth(who))
    body = finished.json()
    assert body["status"] == "proposed", body
    assert body["progress"] == 100
    return dict(body)


async def proposed_round(loop: Loop, wanted: Sequence[tuple[int, int, int, float]]) -> int:
    """A county round of the loop's staff, proposed, with its proposals written straight to the
    table: ``wanted`` as (household, offer, quantity, km), one proposal each, ids in that order.

    For the tests of deciding on proposals: they start where the engine stops, without running
    it (``run_round`` and the tests of the rounds themselves run it).
    """
    now = datetime.now(UTC)
    rows = (
        await MatchingRound.insert(
            MatchingRound(
                region=loop.county_id,
                status=RoundStatus.proposed,
                progress=100,
                phase="done",
                created_by=loop.users["staff"],
                created_at=now,
                finished_at=now,
            )
        )
        .returning(MatchingRound.id)
        .run()
    )
    round_id = int(rows[0]["id"])
    for household, offer, quantity, km in wanted:
        await Proposal.insert(
            Proposal(
                round=round_id,
                offer=offer,
                household=household,
                need=loop.needs[household],
                quantity=quantity,
                distance_km=km,
                reason=f"{km:.1f} km from the offer",
                location_source="county",
            )
        ).run()
    return round_id


async def proposals(client: httpx.AsyncClient, loop: Loop, round_id: int) -> list[dict[str, Any]]:
    answer = await client.get(f"/api/rounds/{round_id}/proposals", headers=loop.auth("staff"))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])
