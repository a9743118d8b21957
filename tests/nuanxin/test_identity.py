"""The identity core's one visibility rule (issue 19): who sees what, and nothing by default."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from nuanxin.errors import NotFound
from nuanxin.identity import (
    CurrentUser,
    Role,
    digest,
    ensure_visible,
    jurisdiction_where,
    keyed_hash,
    subtree_prefix,
    visible_to,
)
from nuanxin.regions.tables import Region
from tests.nuanxin.loop_world import region


def _user(
    role: Role,
    code: str | None = None,
    level: str | None = None,
    organization_id: int | None = None,
) -> CurrentUser:
    return CurrentUser(
        id=1,
        username="someone",
        role=role,
        jurisdiction_id=None if code is None else 7,
        organization_id=organization_id,
        jurisdiction_code=code,
        jurisdiction_level=level,
    )


COUNTY_STAFF = _user(Role.staff, "230111", "county")
CITY_STAFF = _user(Role.staff, "230100", "city")
NOWHERE_STAFF = _user(Role.staff)
ADMIN = _user(Role.admin)
COURIER = _user(Role.courier, organization_id=5)
MEMBER = _user(Role.charity, organization_id=5)


def test_each_level_shares_its_official_prefix_with_everything_under_it() -> None:
    assert subtree_prefix("230111005", "township") == "230111005"
    assert subtree_prefix("230111000", "county") == "230111"
    assert subtree_prefix("230100", "city") == "2301"
    assert subtree_prefix("230000", "province") == "23"
    assert COUNTY_STAFF.jurisdiction_prefix == "230111"
    assert CITY_STAFF.jurisdiction_prefix == "2301"


def test_staff_cover_their_region_and_below_it_and_nothing_beside_it() -> None:
    assert COUNTY_STAFF.covers("230111")
    assert COUNTY_STAFF.covers("230111005")
    assert not COUNTY_STAFF.covers("230112")
    assert CITY_STAFF.covers("230112")
    assert not CITY_STAFF.covers("230200")


def test_an_account_without_a_jurisdiction_covers_and_sees_nothing() -> None:
    assert NOWHERE_STAFF.jurisdiction_prefix is None
    assert not NOWHERE_STAFF.covers("230111")
    assert not NOWHERE_STAFF.covers("")
    assert not visible_to(NOWHERE_STAFF, region_codes=("230111", "23"))
    half = _user(Role.staff, "230111", None)
    assert half.jurisdiction_prefix is None and not half.covers("230111")
    half = _user(Role.staff, None, "county")
    assert half.jurisdiction_prefix is None and not half.covers("230111")


def test_admins_see_everything_even_without_a_region_or_charity() -> None:
    assert ADMIN.is_admin and not COUNTY_STAFF.is_admin
    assert ADMIN.covers("990000")
    assert visible_to(ADMIN)
    ensure_visible(ADMIN, what="household")


def test_staff_see_a_record_when_any_of_its_regions_is_theirs() -> None:
    assert visible_to(COUNTY_STAFF, region_codes=("120000", "230111005"))
    assert not visible_to(COUNTY_STAFF, region_codes=("230112",))
    assert not visible_to(COUNTY_STAFF, region_codes=())
    assert not visible_to(COUNTY_STAFF, region_codes=("230112",), organization_id=5)


def test_couriers_and_members_see_their_own_charitys_records_only() -> None:
    assert visible_to(COURIER, organization_id=5) and visible_to(MEMBER, organization_id=5)
    assert not visible_to(COURIER, organization_id=6)
    assert not visible_to(MEMBER, organization_id=None)
    assert not visible_to(COURIER, region_codes=("230111",))
    assert COURIER.belongs_to(5) and not COURIER.belongs_to(6)
    assert not COURIER.belongs_to(None)
    assert not _user(Role.courier).belongs_to(None)
    assert not _user(Role.staff, "230111", "county", organization_id=5).belongs_to(5)
    assert not _user(Role.admin, organization_id=5).belongs_to(5)


def test_a_record_out_of_sight_is_answered_as_not_found() -> None:
    with pytest.raises(NotFound) as hidden:
        ensure_visible(COURIER, what="delivery", organization_id=6)
    assert hidden.value.detail == "No such delivery"
    assert hidden.value.message_id == "not_found"
    assert hidden.value.params == {"what": "delivery"}
    ensure_visible(COURIER, what="delivery", organization_id=5)
    ensure_visible(COUNTY_STAFF, what="household", region_codes=("230111",))
    with pytest.raises(NotFound):
        ensure_visible(NOWHERE_STAFF, what="household", region_codes=("230111",))


def test_tokens_are_stored_as_their_sha256_and_id_numbers_under_a_keyed_hash() -> None:
    assert digest("token") == hashlib.sha256(b"token").hexdigest()
    expected = hmac.new(b"key", b"110101199003070033", hashlib.sha256).hexdigest()
    assert keyed_hash("key", "110101199003070033") == expected
    assert keyed_hash("other", "110101199003070033") != expected
    assert digest("密") == hashlib.sha256("密".encode()).hexdigest()
    assert (
        keyed_hash("钥", "号") == hmac.new("钥".encode(), "号".encode(), hashlib.sha256).hexdigest()
    )


async def test_a_query_keeps_the_jurisdictions_rows_and_nothing_for_no_jurisdiction(
    db: None,
) -> None:
    province = await region("230000", "黑龙江省", "province", None, (45.7, 126.6))
    city = await region("230100", "哈尔滨市", "city", province, (45.8, 126.5))
    await region("230111", "呼兰区", "county", city, (45.9, 126.6))
    await region("230112", "阿城区", "county", city, (45.5, 126.9))

    async def codes(actor: CurrentUser) -> set[str]:
        query = Region.select(Region.code)
        where = jurisdiction_where(actor, Region.code)
        if where is not None:
            query = query.where(where)
        return {row["code"] for row in await query.run()}

    assert jurisdiction_where(ADMIN, Region.code) is None
    assert {"230000", "230100", "230111", "230112"} <= await codes(ADMIN)
    assert await codes(COUNTY_STAFF) == {"230111"}
    assert await codes(CITY_STAFF) == {"230100", "230111", "230112"}
    assert await codes(NOWHERE_STAFF) == set()
    assert await codes(COURIER) == set()
