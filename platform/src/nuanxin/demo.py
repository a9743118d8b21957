"""Demo data for ``make demo``: two provinces in use, charities, staff, households, offers.

Loading is idempotent: a second run finds the demo admin and adds nothing. Passwords are
printed by ``make demo``; they are for a local demo only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from nuanxin.accounts import members, organizations
from nuanxin.accounts.schemas import MemberCreate, OrganizationSignUp
from nuanxin.accounts.services import create_admin, create_user, user_named
from nuanxin.accounts.vocabulary import MemberRole
from nuanxin.deliveries import confirmation as handover
from nuanxin.households import registry, verification
from nuanxin.households.identity import check_character, identity_of
from nuanxin.households.schemas import HouseholdFields, MemberIn
from nuanxin.households.vocabulary import Category, Tag
from nuanxin.identity import CurrentUser, Role
from nuanxin.offers import services as offers
from nuanxin.offers.schemas import OfferCreate
from nuanxin.regions.services import RegionRecord, get_region
from nuanxin.rounds import proposals as approval
from nuanxin.rounds import services as rounds
from nuanxin.rounds.schemas import ApproveIn
from nuanxin.settings import Settings
from nuanxin.warehouses import services as warehouses
from nuanxin.warehouses.schemas import WarehouseCreate

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
#: Each charity signs up, is verified by its province (unless pending), adds a courier, a
#: warehouse at its county's point and an offer of each kind in :data:`OFFERED`.
CHARITIES = (
    ("哈尔滨暖冬公益基金会（演示）", "230111", "verified", "warmth"),
    ("长春爱心互助协会（演示）", "220183", "verified", "caring"),
    ("新成立的社区公益社（演示）", "230112", "pending", "newcomer"),
)
PROVINCE_STAFF = {"23": "staff_heilongjiang", "22": "staff_jilin"}
OFFERED = ("coal", "coat_adult_l", "coat_child_130", "quilt", "electric_blanket", "stove")
HOUSEHOLD_COUNTIES = ("230111", "230112", "230124", "220183", "220182")
CATEGORIES = ("dibao", "extremely_poor", "near_dibao", "temporary")
CATEGORY_SHARES = (0.70, 0.09, 0.19, 0.02)


def logins() -> list[DemoLogin]:
    people = [DemoLogin(username="admin", password=PASSWORD, role="admin", note="系统管理员 admin")]
    people += [DemoLogin(username=u, password=PASSWORD, role="staff", note=n) for u, _, n in STAFF]
    for name, _, status, slug in CHARITIES:
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


async def _regions(codes: set[str]) -> dict[str, RegionRecord]:
    found = {code: await get_region(code) for code in sorted(codes)}
    missing = sorted(code for code, region in found.items() if region is None)
    if missing:
        raise RuntimeError(f"regions {missing} are not loaded: run load-regions first")
    return {code: region for code, region in found.items() if region is not None}


def credit_code(prefix: str) -> str:
    """A unified social credit code for the demo: ``prefix`` (17 characters) and its check."""
    for check in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        if organizations.credit_code_is_valid(prefix + check):
            return prefix + check
    raise ValueError(prefix)  # pragma: no cover - one of the 31 characters always checks


def id_number(county_code: str, born: date, serial: int) -> str:
    """An ID number for a demo person: the county, the birth date, a serial and the check."""
    first17 = f"{county_code}{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_character(first17)


async def _actor(username: str) -> CurrentUser:
    user = await user_named(username)
    if user is None:  # pragma: no cover - the demo made it a moment ago
        raise RuntimeError(f"the demo account {username} is missing")
    return user


async def load_demo(*, settings: Settings) -> list[DemoLogin]:
    """Load the demo once, through the areas' services; return the logins to print."""
    if await user_named("admin") is not None:
        return logins()
    rng = np.random.default_rng(SEED)
    regions = await _regions(
        {code for _, code, _ in STAFF} | {c[1] for c in CHARITIES} | set(HOUSEHOLD_COUNTIES)
    )
    await create_admin(username="admin", password=PASSWORD)
    for username, code, note in STAFF:
        await create_user(
            username=username,
            password=PASSWORD,
            role=Role.staff,
            display_name=note,
            jurisdiction_id=regions[code].id,
        )
    today = datetime.now(UTC).date()
    for serial, (name, county, status, slug) in enumerate(CHARITIES, start=1):
        region = regions[county]
        signed = await organizations.sign_up(
            data=OrganizationSignUp(
                name=name,
                credit_code=credit_code(f"51{county}MJ{serial:07d}"),
                region_code=county,
                contact_name="演示联系人",
                contact_phone="13800000000",
                username=f"charity_{slug}",
                password=PASSWORD,
                display_name=f"charity_{slug}",
            )
        )
        if status != "verified":
            continue
        organization_id = signed.organization.id
        province = await _actor(PROVINCE_STAFF[county[:2]])
        await organizations.verify_organization(user=province, organization_id=organization_id)
        member = await _actor(f"charity_{slug}")
        await members.add_member(
            user=member,
            organization_id=organization_id,
            data=MemberCreate(
                username=f"courier_{slug}",
                password=PASSWORD,
                role=MemberRole.courier,
                display_name=f"courier_{slug}",
            ),
        )
        warehouse = await warehouses.create_warehouse(
            user=member,
            organization_id=organization_id,
            data=WarehouseCreate(
                name=f"{region.name}仓库",
                address=f"{region.full_name}演示路1号",
                region_code=county,
                lat=region.lat,
                lon=region.lon,
            ),
        )
        for code in OFFERED:
            await offers.create_offer(
                user=member,
                data=OfferCreate(
                    warehouse_id=warehouse.id,
                    item_code=code,
                    quantity=int(rng.integers(20, 80)),
                    radius_km=60.0,
                    available_from=today,
                    available_until=today + timedelta(days=90),
                ),
            )
    await _households(rng, regions, settings=settings)
    await _matching_loop(secret_key=settings.secret_key)
    return logins()


async def _matching_loop(*, secret_key: str) -> None:
    """A closed loop in 呼兰区 (approved, one visit confirmed) and a round awaiting approval."""
    hulan = await _actor("staff_hulan")
    round_id = await rounds.start_round(actor=hulan, item_codes=[])
    await rounds.run_round(round_id)
    decided = await approval.approve(actor=hulan, round_id=round_id, data=ApproveIn(all=True))
    if decided.delivery_ids:
        delivery_id = decided.delivery_ids[0]
        visit_id = await handover.visit_of(delivery_id)
        slip = await handover.issue_slip(actor=hulan, secret_key=secret_key, visit_id=visit_id)
        courier = await _actor("courier_warmth")
        await handover.confirm(
            actor=courier, secret_key=secret_key, visit_id=visit_id, code=slip.code
        )
    dehui = await _actor("staff_dehui")
    await rounds.run_round(await rounds.start_round(actor=dehui, item_codes=[]))


async def _households(
    rng: np.random.Generator, regions: dict[str, RegionRecord], *, settings: Settings
) -> None:
    """Households registered by their province's staff, most of them verified (some long ago,
    so that their verification has expired); their needs follow from the rules."""
    now = datetime.now(UTC)
    serial = 0
    for county_code in HOUSEHOLD_COUNTIES:
        county = regions[county_code]
        staff = await _actor(PROVINCE_STAFF[county_code[:2]])
        villages = (
            county.lat + rng.normal(0, 0.12, 12),
            county.lon + rng.normal(0, 0.16, 12),
        )
        for _ in range(60):
            serial += 1
            village = int(rng.integers(0, 12))
            category = Category(str(rng.choice(CATEGORIES, p=CATEGORY_SHARES)))
            state = rng.choice(("verified", "unverified", "expired"), p=(0.7, 0.2, 0.1))
            size = int(rng.integers(1, 6))
            tags = [
                tag
                for tag, p in ((Tag.electricity, 0.85), (Tag.coal_stove, 0.6))
                if rng.random() < p
            ]
            births = [int(rng.integers(1935, 2022)) for _ in range(size)]
            head_born = date(min(births), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
            created = await registry.create_household(
                user=staff,
                data=HouseholdFields(
                    category=category,
                    head_name=f"测试户主{serial:04d}",
                    phone=f"1990000{serial:04d}",
                    registered_address=f"{county.full_name}演示村{village}组",
                    current_address=f"{county.full_name}演示村{village}组{serial}号",
                    region_code=county_code,
                    lat=float(villages[0][village]),
                    lon=float(villages[1][village]),
                    tags=tags,
                    lives_alone=size == 1,
                    members=[
                        MemberIn(
                            birth_year=year,
                            relation="self" if index == 0 else "child",
                            disability_level=int(rng.random() < 0.08),
                        )
                        for index, year in enumerate(sorted(births))
                    ],
                ),
                identity=identity_of(
                    id_number(county_code, head_born, serial), secret_key=settings.secret_key
                ),
            )
            if state == "unverified":
                continue
            visited = now - timedelta(days=400 if state == "expired" else int(rng.integers(1, 200)))
            await verification.verify_household(
                user=staff,
                household_id=created.id,
                verification_months=settings.verification_months,
                at=visited,
            )
