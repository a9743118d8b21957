"""Charities: sign-up, verification and suspension, their members and their warehouses.

* A charity signs up with its first member's account and stays ``pending`` until staff whose
  jurisdiction covers the charity's region (or an admin) verify it; staff may suspend it and
  verify it again. Only a verified charity posts offers (see :func:`ensure_verified`).
* Staff see charities registered in their jurisdiction; members see only their own charity.
  A charity outside one's reach is answered as not found.
* A charity's members (role ``charity``) manage its members and warehouses; couriers read them.
  A suspended charity adds no members or warehouses until it is verified again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nuanxin.accounts.schemas import (
    Member,
    MemberCreate,
    Organization,
    OrganizationSignUp,
    OrganizationUpdate,
    SignedUp,
    Warehouse,
    WarehouseCreate,
    WarehouseUpdate,
)
from nuanxin.accounts.services import create_user, revoke_tokens, text_matches
from nuanxin.accounts.tables import Organization as OrganizationTable
from nuanxin.accounts.tables import OrganizationStatus, User
from nuanxin.accounts.tables import Warehouse as WarehouseTable
from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict, Forbidden, Invalid, NotFound
from nuanxin.identity import CurrentUser, Role
from nuanxin.pagination import Page, Pagination
from nuanxin.regions.services import RegionRecord, get_region, subtree_prefix

__all__ = (
    "WarehouseRecord",
    "add_member",
    "create_warehouse",
    "credit_code_is_valid",
    "delete_warehouse",
    "ensure_verified",
    "get_organization",
    "get_warehouse",
    "list_members",
    "list_organizations",
    "list_warehouses",
    "own_warehouse",
    "remove_member",
    "sign_up",
    "suspend_organization",
    "update_organization",
    "update_warehouse",
    "verify_organization",
)

# 统一社会信用代码 (GB 32100-2015): 31 characters, weights of the 17 leading positions.
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_WAREHOUSE_LEVELS = ("county", "township")


def credit_code_is_valid(code: str) -> bool:
    """Whether a unified social credit code's last character is its check character."""
    if len(code) != 18 or any(c not in _CREDIT_CHARS for c in code):
        return False
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(code, _CREDIT_WEIGHTS, strict=False))
    return _CREDIT_CHARS[(31 - total % 31) % 31] == code[17]


# -- reading ----------------------------------------------------------------------------------

_ORG_COLUMNS = (
    OrganizationTable.id,
    OrganizationTable.name,
    OrganizationTable.credit_code,
    OrganizationTable.status,
    OrganizationTable.region,
    OrganizationTable.region.code.as_alias("region_code"),
    OrganizationTable.region.name.as_alias("region_name"),
    OrganizationTable.contact_name,
    OrganizationTable.contact_phone,
    OrganizationTable.created_at,
    OrganizationTable.verified_at,
)


def _organization(row: dict[str, Any]) -> Organization:
    return Organization(
        id=row["id"],
        name=row["name"],
        credit_code=row["credit_code"],
        status=OrganizationStatus(row["status"]),
        region_id=row["region"],
        region_code=row["region_code"],
        region_name=row["region_name"],
        contact_name=row["contact_name"],
        contact_phone=row["contact_phone"],
        created_at=row["created_at"],
        verified_at=row["verified_at"],
    )


def _may_see(user: CurrentUser, organization: Organization) -> bool:
    if user.role is Role.admin:
        return True
    if user.role is Role.staff:
        return user.covers(organization.region_code)
    return user.organization_id == organization.id


def _may_manage(user: CurrentUser, organization_id: int) -> bool:
    """Members (not couriers) of the charity, and admins."""
    return user.role is Role.admin or (
        user.role is Role.charity and user.organization_id == organization_id
    )


async def _load_organization(organization_id: int) -> Organization | None:
    row = (
        await OrganizationTable.select(*_ORG_COLUMNS)
        .where(OrganizationTable.id == organization_id)
        .first()
        .run()
    )
    return None if row is None else _organization(row)


async def get_organization(*, user: CurrentUser, organization_id: int) -> Organization:
    """The charity, if ``user`` may see it (else 404, whether or not it exists)."""
    organization = await _load_organization(organization_id)
    if organization is None or not _may_see(user, organization):
        raise NotFound("No such charity within your reach")
    return organization


async def _managed(user: CurrentUser, organization_id: int) -> Organization:
    organization = await get_organization(user=user, organization_id=organization_id)
    if not _may_manage(user, organization_id):
        raise Forbidden("Only the charity's own members may change this")
    return organization


async def list_organizations(
    *,
    user: CurrentUser,
    page: Pagination,
    status: OrganizationStatus | None = None,
    region_code: str | None = None,
    q: str | None = None,
) -> Page[Organization]:
    """Charities registered in the user's jurisdiction (every charity for an admin)."""
    where: list[Any] = []
    if user.role is not Role.admin:
        prefix = user.jurisdiction_prefix
        where.append(OrganizationTable.region.code.like(f"{prefix}%" if prefix else ""))
    if region_code is not None:
        region = await get_region(region_code)
        prefix = "-" if region is None else subtree_prefix(region.code, region.level)
        where.append(OrganizationTable.region.code.like(prefix + "%"))
    if status is not None:
        where.append(OrganizationTable.status == status.value)
    if q:
        where.append(
            text_matches(OrganizationTable.name, q) | text_matches(OrganizationTable.credit_code, q)
        )
    query = OrganizationTable.select(*_ORG_COLUMNS)
    count = OrganizationTable.count()
    for condition in where:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(OrganizationTable.id).limit(page.limit).offset(page.offset).run()
    return Page(
        items=[_organization(row) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


# -- sign-up, verification, suspension --------------------------------------------------------


async def _region(code: str, field: str, levels: tuple[str, ...] | None = None) -> RegionRecord:
    region = await get_region(code)
    if region is None:
        raise Invalid(f"No region has the code {code}", field=field)
    if levels is not None and region.level not in levels:
        raise Invalid(f"Pick a {' or '.join(levels)}, not a {region.level}", field=field)
    return region


def _public_view(organization: Organization) -> dict[str, Any]:
    return {
        "name": organization.name,
        "credit_code": organization.credit_code,
        "status": organization.status.value,
        "region": organization.region_code,
        "contact_name": organization.contact_name,
    }


async def sign_up(*, data: OrganizationSignUp) -> SignedUp:
    """A charity and its first member's account; the charity is pending until verified."""
    if not credit_code_is_valid(data.credit_code):
        raise Invalid(
            "The credit code's check character does not match",
            field="credit_code",
        )
    async with atomic():
        region = await _region(data.region_code, "region_code")
        if await OrganizationTable.exists().where(OrganizationTable.name == data.name).run():
            raise Conflict("A charity with this name is registered already", field="name")
        if (
            await OrganizationTable.exists()
            .where(OrganizationTable.credit_code == data.credit_code)
            .run()
        ):
            raise Conflict(
                "A charity with this credit code is registered already", field="credit_code"
            )
        rows = (
            await OrganizationTable.insert(
                OrganizationTable(
                    name=data.name,
                    credit_code=data.credit_code,
                    status=OrganizationStatus.pending,
                    region=region.id,
                    contact_name=data.contact_name,
                    contact_phone=data.contact_phone,
                    created_at=datetime.now(UTC),
                )
            )
            .returning(OrganizationTable.id)
            .run()
        )
        organization_id = int(rows[0]["id"])
        account_id = await create_user(
            username=data.username,
            password=data.password,
            role=Role.charity,
            display_name=data.display_name,
            organization_id=organization_id,
            actor_label="public",
        )
        organization = await _load_organization(organization_id)
        assert organization is not None
        await record(
            actor=None,
            actor_label="public",
            action="organization.sign_up",
            entity="organization",
            entity_id=organization_id,
            after=_public_view(organization),
            region_code=organization.region_code,
        )
    member = await _member(account_id)
    return SignedUp(organization=organization, account=member)


async def _change_status(
    *,
    user: CurrentUser,
    organization_id: int,
    to: OrganizationStatus,
    allowed_from: tuple[OrganizationStatus, ...],
    reason: str,
) -> Organization:
    async with atomic():
        before = await get_organization(user=user, organization_id=organization_id)
        if user.role not in (Role.staff, Role.admin):  # pragma: no cover - the guard says so
            raise Forbidden("Only staff verify or suspend charities")
        if before.status not in allowed_from:
            raise Conflict(
                f"The charity is {before.status.value}; it cannot become {to.value}",
                field="status",
            )
        changes: dict[Any, Any] = {OrganizationTable.status: to.value}
        if to is OrganizationStatus.verified:
            changes[OrganizationTable.verified_at] = datetime.now(UTC)
        await OrganizationTable.update(changes).where(OrganizationTable.id == organization_id).run()
        after = await get_organization(user=user, organization_id=organization_id)
        await record(
            actor=user,
            action=f"organization.{'verify' if to is OrganizationStatus.verified else 'suspend'}",
            entity="organization",
            entity_id=organization_id,
            before={"status": before.status.value},
            after={"status": after.status.value, "reason": reason},
            region_code=after.region_code,
        )
    return after


async def verify_organization(
    *, user: CurrentUser, organization_id: int, reason: str = ""
) -> Organization:
    """Staff verify a pending charity, or reinstate a suspended one."""
    return await _change_status(
        user=user,
        organization_id=organization_id,
        to=OrganizationStatus.verified,
        allowed_from=(OrganizationStatus.pending, OrganizationStatus.suspended),
        reason=reason,
    )


async def suspend_organization(
    *, user: CurrentUser, organization_id: int, reason: str
) -> Organization:
    """Staff suspend a charity: it posts and changes no offers until verified again."""
    if not reason.strip():
        raise Invalid("Say why the charity is suspended", field="reason")
    return await _change_status(
        user=user,
        organization_id=organization_id,
        to=OrganizationStatus.suspended,
        allowed_from=(OrganizationStatus.pending, OrganizationStatus.verified),
        reason=reason,
    )


async def update_organization(
    *, user: CurrentUser, organization_id: int, data: OrganizationUpdate
) -> Organization:
    """The charity's members change its contact."""
    async with atomic():
        before = await _managed(user, organization_id)
        changes: dict[Any, Any] = {}
        if data.contact_name is not None:
            changes[OrganizationTable.contact_name] = data.contact_name
        if data.contact_phone is not None:
            changes[OrganizationTable.contact_phone] = data.contact_phone
        if changes:
            await (
                OrganizationTable.update(changes)
                .where(OrganizationTable.id == organization_id)
                .run()
            )
        after = await get_organization(user=user, organization_id=organization_id)
        await record(
            actor=user,
            action="organization.update",
            entity="organization",
            entity_id=organization_id,
            before={"contact_name": before.contact_name},
            after={"contact_name": after.contact_name},
            region_code=after.region_code,
        )
    return after


async def ensure_verified(*, organization_id: int) -> None:
    """Refuse (409) work that needs a verified charity: posting and changing offers."""
    row = (
        await OrganizationTable.select(OrganizationTable.status)
        .where(OrganizationTable.id == organization_id)
        .first()
        .run()
    )
    status = None if row is None else row["status"]
    if status != OrganizationStatus.verified:
        raise Conflict(
            f"The charity is {status or 'unknown'}: only a verified charity may do this",
            error="charity_not_verified",
        )


def _not_suspended(organization: Organization) -> None:
    if organization.status is OrganizationStatus.suspended:
        raise Conflict(
            "The charity is suspended: it changes nothing until verified again",
            error="charity_suspended",
        )


# -- members ----------------------------------------------------------------------------------

_MEMBER_COLUMNS = (
    User.id,
    User.username,
    User.display_name,
    User.role,
    User.phone,
    User.is_active,
    User.created_at,
    User.last_login_at,
    User.organization,
)


def _member_of(row: dict[str, Any]) -> Member:
    return Member(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        phone=row["phone"],
        is_active=bool(row["is_active"]),
        created_at=row["created_at"],
        last_login_at=row["last_login_at"],
    )


async def _member(account_id: int) -> Member:
    row = await User.select(*_MEMBER_COLUMNS).where(User.id == account_id).first().run()
    assert row is not None
    return _member_of(row)


async def list_members(
    *,
    user: CurrentUser,
    organization_id: int,
    page: Pagination,
    role: Role | None = None,
    is_active: bool | None = None,
) -> Page[Member]:
    """The charity's accounts: for its members, admins and staff over its region."""
    await get_organization(user=user, organization_id=organization_id)
    if user.role is Role.courier:
        raise Forbidden("Couriers do not manage the charity's members")
    where: list[Any] = [User.organization == organization_id]
    if role is not None:
        where.append(User.role == role.value)
    if is_active is not None:
        where.append(User.is_active == is_active)
    query = User.select(*_MEMBER_COLUMNS)
    count = User.count()
    for condition in where:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(User.id).limit(page.limit).offset(page.offset).run()
    return Page(
        items=[_member_of(row) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


async def add_member(*, user: CurrentUser, organization_id: int, data: MemberCreate) -> Member:
    """A member adds a colleague or a courier to their charity."""
    async with atomic():
        organization = await _managed(user, organization_id)
        _not_suspended(organization)
        account_id = await create_user(
            username=data.username,
            password=data.password,
            role=Role(data.role.value),
            display_name=data.display_name,
            organization_id=organization_id,
            actor=user,
            phone=data.phone,
            region_code=organization.region_code,
        )
    return await _member(account_id)


async def remove_member(*, user: CurrentUser, organization_id: int, account_id: int) -> Member:
    """Deactivate a member's account (its tokens die with it); the history stays."""
    async with atomic():
        organization = await _managed(user, organization_id)
        row = (
            await User.select(*_MEMBER_COLUMNS)
            .where((User.id == account_id) & (User.organization == organization_id))
            .first()
            .run()
        )
        if row is None:
            raise NotFound("No such member of this charity")
        if account_id == user.id:
            raise Conflict("You cannot remove yourself", field="account_id")
        if not row["is_active"]:
            raise Conflict("The member was removed already", field="account_id")
        await User.update({User.is_active: False}).where(User.id == account_id).run()
        await revoke_tokens(account_id=account_id)
        await record(
            actor=user,
            action="organization.remove_member",
            entity="account",
            entity_id=account_id,
            before={"is_active": True},
            after={"is_active": False},
            region_code=organization.region_code,
        )
    return await _member(account_id)


# -- warehouses -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class WarehouseRecord:
    """What the offers area needs of a warehouse."""

    id: int
    organization_id: int
    region_code: str
    lat: float
    lon: float


_WAREHOUSE_COLUMNS = (
    WarehouseTable.id,
    WarehouseTable.organization,
    WarehouseTable.organization._.region._.code.as_alias("organization_region_code"),
    WarehouseTable.name,
    WarehouseTable.address,
    WarehouseTable.region,
    WarehouseTable.region.code.as_alias("region_code"),
    WarehouseTable.region.name.as_alias("region_name"),
    WarehouseTable.lat,
    WarehouseTable.lon,
)


def _warehouse(row: dict[str, Any]) -> Warehouse:
    return Warehouse(
        id=row["id"],
        organization_id=row["organization"],
        name=row["name"],
        address=row["address"],
        region_id=row["region"],
        region_code=row["region_code"],
        region_name=row["region_name"],
        lat=row["lat"],
        lon=row["lon"],
    )


def _may_see_warehouse(user: CurrentUser, row: dict[str, Any]) -> bool:
    if user.role is Role.admin:
        return True
    if user.role is Role.staff:
        return user.covers(row["region_code"]) or user.covers(row["organization_region_code"])
    return bool(user.organization_id == row["organization"])


async def _warehouse_row(user: CurrentUser, warehouse_id: int) -> dict[str, Any]:
    row = (
        await WarehouseTable.select(*_WAREHOUSE_COLUMNS)
        .where(WarehouseTable.id == warehouse_id)
        .first()
        .run()
    )
    if row is None or not _may_see_warehouse(user, row):
        raise NotFound("No such warehouse within your reach")
    return dict(row)


async def get_warehouse(*, user: CurrentUser, warehouse_id: int) -> Warehouse:
    return _warehouse(await _warehouse_row(user, warehouse_id))


async def own_warehouse(*, user: CurrentUser, warehouse_id: int) -> WarehouseRecord:
    """A warehouse of the user's own charity, for posting offers (else 404 on the field)."""
    row = (
        await WarehouseTable.select(*_WAREHOUSE_COLUMNS)
        .where(WarehouseTable.id == warehouse_id)
        .first()
        .run()
    )
    if row is None or row["organization"] != user.organization_id:
        raise NotFound("No such warehouse of your charity", field="warehouse_id")
    return WarehouseRecord(
        id=row["id"],
        organization_id=row["organization"],
        region_code=row["region_code"],
        lat=row["lat"],
        lon=row["lon"],
    )


async def list_warehouses(
    *, user: CurrentUser, organization_id: int, page: Pagination, region_code: str | None = None
) -> Page[Warehouse]:
    """The charity's warehouses, for its members and couriers, admins and staff over it."""
    await get_organization(user=user, organization_id=organization_id)
    where: list[Any] = [WarehouseTable.organization == organization_id]
    if region_code is not None:
        region = await get_region(region_code)
        prefix = "-" if region is None else subtree_prefix(region.code, region.level)
        where.append(WarehouseTable.region.code.like(prefix + "%"))
    query = WarehouseTable.select(*_WAREHOUSE_COLUMNS)
    count = WarehouseTable.count()
    for condition in where:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(WarehouseTable.id).limit(page.limit).offset(page.offset).run()
    return Page(
        items=[_warehouse(row) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


def _point(
    lat: float | None, lon: float | None, region: RegionRecord | None
) -> tuple[float, float] | None:
    """Both coordinates, neither (the region's point, if given), never one alone."""
    if (lat is None) != (lon is None):
        raise Invalid(
            "Give both lat and lon, or neither",
            field="lon" if lon is None else "lat",
        )
    if lat is not None and lon is not None:
        return lat, lon
    return None if region is None else (region.lat, region.lon)


def _warehouse_view(warehouse: Warehouse) -> dict[str, Any]:
    return {
        "name": warehouse.name,
        "address": warehouse.address,
        "region": warehouse.region_code,
        "lat": warehouse.lat,
        "lon": warehouse.lon,
    }


async def create_warehouse(
    *, user: CurrentUser, organization_id: int, data: WarehouseCreate
) -> Warehouse:
    """A member adds a warehouse (in a county or township) to the charity's list."""
    async with atomic():
        _not_suspended(await _managed(user, organization_id))
        region = await _region(data.region_code, "region_code", _WAREHOUSE_LEVELS)
        point = _point(data.lat, data.lon, region)
        assert point is not None
        rows = (
            await WarehouseTable.insert(
                WarehouseTable(
                    organization=organization_id,
                    name=data.name,
                    address=data.address,
                    region=region.id,
                    lat=point[0],
                    lon=point[1],
                )
            )
            .returning(WarehouseTable.id)
            .run()
        )
        warehouse = await get_warehouse(user=user, warehouse_id=int(rows[0]["id"]))
        await record(
            actor=user,
            action="warehouse.create",
            entity="warehouse",
            entity_id=warehouse.id,
            after=_warehouse_view(warehouse),
            region_code=warehouse.region_code,
        )
    return warehouse


async def update_warehouse(
    *, user: CurrentUser, warehouse_id: int, data: WarehouseUpdate
) -> Warehouse:
    """Rename or move a warehouse; its open offers move with it."""
    from nuanxin.offers import services as offers  # offers build on warehouses

    async with atomic():
        before = await get_warehouse(user=user, warehouse_id=warehouse_id)
        _not_suspended(await _managed(user, before.organization_id))
        changes: dict[Any, Any] = {}
        if data.name is not None:
            changes[WarehouseTable.name] = data.name
        if data.address is not None:
            changes[WarehouseTable.address] = data.address
        region = None
        if data.region_code is not None:
            region = await _region(data.region_code, "region_code", _WAREHOUSE_LEVELS)
            changes[WarehouseTable.region] = region.id
        point = _point(data.lat, data.lon, region)
        if point is not None:
            changes[WarehouseTable.lat], changes[WarehouseTable.lon] = point
        if changes:
            await WarehouseTable.update(changes).where(WarehouseTable.id == warehouse_id).run()
        after = await get_warehouse(user=user, warehouse_id=warehouse_id)
        if (after.lat, after.lon) != (before.lat, before.lon):
            await offers.move_offers(warehouse_id=warehouse_id, lat=after.lat, lon=after.lon)
        await record(
            actor=user,
            action="warehouse.update",
            entity="warehouse",
            entity_id=warehouse_id,
            before=_warehouse_view(before),
            after=_warehouse_view(after),
            region_code=after.region_code,
        )
    return after


async def delete_warehouse(*, user: CurrentUser, warehouse_id: int) -> None:
    """Remove a warehouse that no offer was ever posted from."""
    from nuanxin.offers import services as offers

    async with atomic():
        before = await get_warehouse(user=user, warehouse_id=warehouse_id)
        await _managed(user, before.organization_id)
        if await offers.warehouse_has_offers(warehouse_id=warehouse_id):
            raise Conflict(
                "Offers were posted from this warehouse: it stays on the list",
                error="warehouse_in_use",
            )
        await WarehouseTable.delete().where(WarehouseTable.id == warehouse_id).run()
        await record(
            actor=user,
            action="warehouse.delete",
            entity="warehouse",
            entity_id=warehouse_id,
            before=_warehouse_view(before),
            region_code=before.region_code,
        )
