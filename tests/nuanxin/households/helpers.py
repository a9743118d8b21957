"""Helpers for the households, help requests and audit tests: places, staff and ID numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from nuanxin.accounts.tables import ApiToken, Organization
from nuanxin.households.identity import check_character
from nuanxin.identity import Role, digest
from nuanxin.regions.tables import Region
from tests.nuanxin.conftest import make_user


def id_number(birth: str = "19500101", sequence: int = 1, region: str = "230111") -> str:
    """A valid 18-character resident ID number (checksum computed)."""
    first17 = f"{region}{birth}{sequence:03d}"
    return first17 + check_character(first17)


async def _region(code: str, name: str, level: str, parent: int | None, lat: float) -> int:
    rows = (
        await Region.insert(
            Region(
                code=code,
                name=name,
                full_name=f"黑龙江省哈尔滨市{name}",
                level=level,
                parent=parent,
                lat=lat,
                lon=126.6,
            )
        )
        .returning(Region.id)
        .run()
    )
    return int(rows[0]["id"])


async def token_for(user_id: int) -> dict[str, str]:
    """Bearer headers for an account (a token inserted directly: no slow password hashing)."""
    token = f"test-token-{user_id}"
    now = datetime.now(UTC)
    await ApiToken.insert(
        ApiToken(
            user=user_id,
            token_hash=digest(token),
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
    ).run()
    return {"authorization": f"Bearer {token}"}


@dataclass(kw_only=True)
class Place:
    """Two neighbouring counties of Harbin, their staff, an admin and a charity member."""

    county_a: int
    county_b: int
    township_a: int
    staff: dict[str, str]  # county A (呼兰区 230111)
    neighbour: dict[str, str]  # county B (阿城区 230112)
    province: dict[str, str]
    admin: dict[str, str]
    charity: dict[str, str]


async def build_place() -> Place:
    province = await _region("230000", "黑龙江省", "province", None, 45.74)
    city = await _region("230100", "哈尔滨市", "city", province, 45.80)
    county_a = await _region("230111", "呼兰区", "county", city, 45.89)
    county_b = await _region("230112", "阿城区", "county", city, 45.55)
    township_a = await _region("230111005", "康金街道", "township", county_a, 45.89)
    now = datetime.now(UTC)
    charity = (
        await Organization.insert(
            Organization(
                name="测试慈善",
                credit_code="91230100TESTHH01X",
                status="verified",
                region=county_a,
                contact_name="联系人",
                contact_phone="13800000000",
                created_at=now,
                verified_at=now,
            )
        )
        .returning(Organization.id)
        .run()
    )
    return Place(
        county_a=county_a,
        county_b=county_b,
        township_a=township_a,
        staff=await token_for(await make_user("t_staff", Role.staff, jurisdiction=county_a)),
        neighbour=await token_for(
            await make_user("t_neighbour", Role.staff, jurisdiction=county_b)
        ),
        province=await token_for(await make_user("t_province", Role.staff, jurisdiction=province)),
        admin=await token_for(await make_user("t_admin", Role.admin)),
        charity=await token_for(
            await make_user("t_charity", Role.charity, organization=int(charity[0]["id"]))
        ),
    )


def household_body(**changes: Any) -> dict[str, Any]:
    """A valid CreateHousehold body in county A; keyword arguments replace fields."""
    body: dict[str, Any] = {
        "category": "dibao",
        "head_name": "王秀英",
        "id_number": id_number(),
        "phone": "13912345678",
        "registered_address": "山东省某县某村",
        "current_address": "呼兰区康金街道幸福村3组12号",
        "region_code": "230111",
        "members": [
            {"birth_year": 1950, "sex": "F", "relation": "self", "disability_level": 2},
            {"birth_year": datetime.now(UTC).year - 8, "sex": "M", "relation": "grandchild"},
        ],
        "tags": ["electricity", "coal_stove"],
    }
    body.update(changes)
    return body
