"""Demo data for ``make demo``: two provinces in use, charities, staff, households, offers.

Loading is idempotent: a second run finds the demo admin and adds nothing. Passwords are
printed by ``make demo``; they are for a local demo only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from nuanxin.accounts.security import hash_password, user_by_id
from nuanxin.accounts.services import create_admin, create_user
from nuanxin.accounts.tables import Organization, User
from nuanxin.db import atomic
from nuanxin.deliveries import confirmation as handover
from nuanxin.households.tables import Household, Member, Need
from nuanxin.identity import CurrentUser, Role, keyed_hash
from nuanxin.offers.tables import Item, Offer
from nuanxin.regions.tables import Region
from nuanxin.rounds import proposals as approval
from nuanxin.rounds import services as rounds
from nuanxin.rounds.schemas import ApproveIn
from nuanxin.settings import Settings
from nuanxin.warehouses.tables import Warehouse

__all__ = ("DemoLogin", "load_demo")

SEED = 20261129
PASSWORD = "nuanxin-demo"


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoLogin:
    username: str
    password: str
    role: str
    note: str


STAFF = (
    ("staff_heilongjiang", "230000", "黑龙江省民政厅 province"),
    ("staff_hulan", "230111", "哈尔滨市呼兰区民政局 county"),
    ("staff_kangjin", "230111005", "呼兰区康金街道 township"),
    ("staff_jilin", "220000", "吉林省民政厅 province"),
    ("staff_dehui", "220183", "长春市德惠市民政局 county"),
)
CHARITIES = (
    ("哈尔滨暖冬公益基金会（演示）", "91230100DEMO00001X", "230111", "verified", "warmth"),
    ("长春爱心互助协会（演示）", "91220100DEMO00002X", "220183", "verified", "caring"),
    ("新成立的社区公益社（演示）", "91230100DEMO00003X", "230112", "pending", "newcomer"),
)
HOUSEHOLD_COUNTIES = ("230111", "230112", "230124", "220183", "220182")
CATEGORIES = ("dibao", "extremely_poor", "near_dibao", "temporary")
CATEGORY_SHARES = (0.70, 0.09, 0.19, 0.02)


def logins() -> list[DemoLogin]:
    people = [DemoLogin(username="admin", password=PASSWORD, role="admin", note="系统管理员 admin")]
    people += [DemoLogin(username=u, password=PASSWORD, role="staff", note=n) for u, _, n in STAFF]
    for name, _, _, status, slug in CHARITIES:
        people.append(
            DemoLogin(
                username=f"charity_{slug}",
                password=PASSWORD,
                role="charity",
                note=f"{name} {status}",
            )
        )
        if status == "verified":
            people.append(
                DemoLogin(
                    username=f"courier_{slug}",
                    password=PASSWORD,
                    role="courier",
                    note="配送员 courier",
                )
            )
    return people


async def _region_ids(codes: set[str]) -> dict[str, dict[str, object]]:
    rows = await Region.select().where(Region.code.is_in(list(codes))).run()
    found = {str(row["code"]): row for row in rows}
    missing = codes - set(found)
    if missing:
        raise RuntimeError(f"regions {sorted(missing)} are not loaded: run load-regions first")
    return found


async def load_demo(*, settings: Settings) -> list[DemoLogin]:
    """Load the demo once; return the logins to print."""
    if await User.exists().where(User.username == "admin").run():
        return logins()
    rng = np.random.default_rng(SEED)
    regions = await _region_ids(
        {code for _, code, _ in STAFF} | {c[2] for c in CHARITIES} | set(HOUSEHOLD_COUNTIES)
    )
    now = datetime.now(UTC)
    await create_admin(username="admin", password=PASSWORD)
    for username, code, note in STAFF:
        await create_user(
            username=username,
            password=PASSWORD,
            role=Role.staff,
            display_name=note,
            jurisdiction_id=int(str(regions[code]["id"])),
        )
    items = {str(row["code"]): row for row in await Item.select().run()}
    async with atomic():
        for name, credit_code, county, status, slug in CHARITIES:
            region = regions[county]
            org = (
                await Organization.insert(
                    Organization(
                        name=name,
                        credit_code=credit_code,
                        status=status,
                        region=region["id"],
                        contact_name="演示联系人",
                        contact_phone="13800000000",
                        created_at=now,
                        verified_at=now if status == "verified" else None,
                    )
                )
                .returning(Organization.id)
                .run()
            )[0]["id"]
            lat, lon = float(str(region["lat"])), float(str(region["lon"]))
            warehouse = (
                await Warehouse.insert(
                    Warehouse(
                        organization=org,
                        name=f"{region['name']}仓库",
                        address=f"{region['full_name']}演示路1号",
                        region=region["id"],
                        lat=lat,
                        lon=lon,
                    )
                )
                .returning(Warehouse.id)
                .run()
            )[0]["id"]
            await _member(f"charity_{slug}", Role.charity, org)
            if status == "verified":
                await _member(f"courier_{slug}", Role.courier, org)
                for code in (
                    "coal",
                    "coat_adult_l",
                    "coat_child_130",
                    "quilt",
                    "electric_blanket",
                    "stove",
                ):
                    quantity = int(rng.integers(20, 80))
                    await Offer.insert(
                        Offer(
                            organization=org,
                            warehouse=warehouse,
                            item=items[code]["id"],
                            quantity=quantity,
                            available=quantity,
                            lat=lat,
                            lon=lon,
                            radius_km=60.0,
                            available_from=datetime.now(UTC).date(),
                            available_until=datetime.now(UTC).date() + timedelta(days=90),
                            created_at=now,
                            updated_at=now,
                        )
                    ).run()
        await _households(rng, regions, items, settings=settings, now=now)
    await _matching_loop()
    return logins()


async def _user(username: str) -> CurrentUser:
    row = await User.select(User.id).where(User.username == username).first().run()
    assert row is not None
    user = await user_by_id(int(row["id"]))
    assert user is not None
    return user


async def _matching_loop() -> None:
    """A closed loop in 呼兰区 (approved, one delivery confirmed) and a round awaiting approval."""
    hulan = await _user("staff_hulan")
    round_id = await rounds.start_round(actor=hulan, item_codes=[])
    await rounds.run_round(round_id)
    decided = await approval.approve(actor=hulan, round_id=round_id, data=ApproveIn(all=True))
    if decided.delivery_ids:
        delivery_id = decided.delivery_ids[0]
        slip = await handover.issue_slip(actor=hulan, delivery_id=delivery_id)
        courier = await _user("courier_warmth")
        await handover.confirm(actor=courier, delivery_id=delivery_id, code=slip.code)
    dehui = await _user("staff_dehui")
    await rounds.run_round(await rounds.start_round(actor=dehui, item_codes=[]))


async def _member(username: str, role: Role, org: object) -> None:
    await User.insert(
        User(
            username=username,
            display_name=username,
            password_hash=hash_password(PASSWORD),
            role=role.value,
            organization=org,
            created_at=datetime.now(UTC),
        )
    ).run()


async def _households(
    rng: np.random.Generator,
    regions: dict[str, dict[str, object]],
    items: dict[str, dict[str, object]],
    *,
    settings: Settings,
    now: datetime,
) -> None:
    verifier = await User.select(User.id).where(User.username == "staff_hulan").first().run()
    serial = 0
    for county_code in HOUSEHOLD_COUNTIES:
        county = regions[county_code]
        clat, clon = float(str(county["lat"])), float(str(county["lon"]))
        villages = clat + rng.normal(0, 0.12, 12), clon + rng.normal(0, 0.16, 12)
        for _ in range(60):
            serial += 1
            village = int(rng.integers(0, 12))
            category = str(rng.choice(CATEGORIES, p=CATEGORY_SHARES))
            state = rng.choice(("verified", "unverified", "expired"), p=(0.7, 0.2, 0.1))
            size = int(rng.integers(1, 6))
            tags = [t for t, p in (("electricity", 0.85), ("coal_stove", 0.6)) if rng.random() < p]
            verified_at = now - timedelta(
                days=400 if state == "expired" else int(rng.integers(1, 200))
            )
            fake_id = f"DEMO{serial:014d}"
            row = (
                await Household.insert(
                    Household(
                        reference=f"HH{serial:06d}",
                        category=category,
                        head_name=f"测试户主{serial:04d}",
                        id_hash=keyed_hash(settings.secret_key, fake_id),
                        id_last4=fake_id[-4:],
                        phone=f"1990000{serial:04d}",
                        registered_address=f"{county['full_name']}演示村{village}组",
                        current_address=f"{county['full_name']}演示村{village}组{serial}号",
                        region=county["id"],
                        lat=float(villages[0][village]),
                        lon=float(villages[1][village]),
                        tags=tags,
                        lives_alone=size == 1,
                        status="unverified" if state == "unverified" else "verified",
                        verified_by=None
                        if state == "unverified"
                        else verifier["id"]
                        if verifier
                        else None,
                        verified_at=None if state == "unverified" else verified_at,
                        verification_expires_at=None
                        if state == "unverified"
                        else verified_at + timedelta(days=365),
                        created_at=now,
                        updated_at=now,
                    )
                )
                .returning(Household.id)
                .run()
            )[0]["id"]
            for index in range(size):
                await Member.insert(
                    Member(
                        household=row,
                        relation="self" if index == 0 else "family",
                        birth_year=int(rng.integers(1935, 2022)),
                        disability_level=int(rng.random() < 0.08),
                    )
                ).run()
            needs = [("quilt", size), ("coat_adult_l", max(1, size - 1))]
            if "coal_stove" in tags:
                needs.append(("coal", 4 + 2 * size))
            elif "electricity" in tags:
                needs.append(("electric_blanket", min(2, size)))
            weight = {"extremely_poor": 3.0, "dibao": 2.0, "near_dibao": 1.5, "temporary": 2.5}[
                category
            ]
            for code, quantity in needs:
                await Need.insert(
                    Need(
                        household=row,
                        item=items[code]["id"],
                        quantity=quantity,
                        weight=weight,
                        rule="演示规则 demo rule: household size",
                        updated_at=now,
                    )
                ).run()
