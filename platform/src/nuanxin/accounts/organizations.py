"""Charities: sign-up, verification and suspension, and who may see or manage one.

* A charity signs up with its first member's account and stays ``pending`` until staff whose
  jurisdiction covers the charity's region (or an admin) verify it; staff may suspend it and
  verify it again. Only a verified charity posts offers (see :func:`ensure_verified`).
* Staff see charities registered in their jurisdiction; members see only their own charity.
  A charity outside one's reach is answered as not found.
* A charity's members (role ``charity``) manage it (:func:`managed_organization`); a suspended
  charity changes nothing until it is verified again (:func:`ensure_not_suspended`).

Its members are in :mod:`nuanxin.accounts.members`, its warehouses in :mod:`nuanxin.warehouses`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nuanxin.accounts.schemas import (
    CharityListing,
    Organization,
    OrganizationSignUp,
    OrganizationUpdate,
    SignedUp,
)
from nuanxin.accounts.services import create_user, load_member, text_matches
from nuanxin.accounts.tables import Organization as OrganizationTable
from nuanxin.accounts.vocabulary import OrganizationStatus
from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict, Forbidden, Invalid, NotFound
from nuanxin.identity import CurrentUser, Role, ensure_visible, jurisdiction_where
from nuanxin.pagination import Page, Pagination
from nuanxin.regions.services import region_named, subtree_where

__all__ = (
    "credit_code_is_valid",
    "ensure_not_suspended",
    "ensure_verified",
    "get_organization",
    "list_organizations",
    "list_verified_charities",
    "managed_organization",
    "sign_up",
    "suspend_organization",
    "update_organization",
    "verified_charity",
    "verify_organization",
)

# 统一社会信用代码 (GB 32100-2015): 31 characters, weights of the 17 leading positions.
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


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
    if organization is None:
        raise NotFound("No such charity within your reach")
    ensure_visible(
        user,
        what="charity",
        region_codes=(organization.region_code,),
        organization_id=organization.id,
    )
    return organization


async def managed_organization(*, user: CurrentUser, organization_id: int) -> Organization:
    """The charity, if ``user`` is one of its members (not a courier) or an admin."""
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
    reach = jurisdiction_where(user, OrganizationTable.region.code)
    if reach is not None:
        where.append(reach)
    if region_code is not None:
        where.append(await subtree_where(region_code, OrganizationTable.region.code))
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


async def list_verified_charities(
    *, page: Pagination, region_code: str | None = None, q: str | None = None
) -> Page[CharityListing]:
    """Verified charities, by name, for anyone: whom a donor may give goods to, with or
    without a campaign (their names and regions only)."""
    where: list[Any] = [OrganizationTable.status == OrganizationStatus.verified.value]
    if region_code is not None:
        where.append(await subtree_where(region_code, OrganizationTable.region.code))
    if q:
        where.append(text_matches(OrganizationTable.name, q))
    query = OrganizationTable.select(
        OrganizationTable.id,
        OrganizationTable.name,
        OrganizationTable.region.code.as_alias("region_code"),
        OrganizationTable.region.name.as_alias("region_name"),
    )
    count = OrganizationTable.count()
    for condition in where:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(OrganizationTable.id).limit(page.limit).offset(page.offset).run()
    return Page(
        items=[
            CharityListing(
                id=row["id"],
                name=row["name"],
                region_code=row["region_code"],
                region_name=row["region_name"],
            )
            for row in rows
        ],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


async def verified_charity(*, organization_id: int) -> CharityListing:
    """One verified charity as the public sees it (else 404, whether or not it exists)."""
    row = (
        await OrganizationTable.select(
            OrganizationTable.id,
            OrganizationTable.name,
            OrganizationTable.region.code.as_alias("region_code"),
            OrganizationTable.region.name.as_alias("region_name"),
        )
        .where(
            (OrganizationTable.id == organization_id)
            & (OrganizationTable.status == OrganizationStatus.verified.value)
        )
        .first()
        .run()
    )
    if row is None:
        raise NotFound("No verified charity has this id")
    return CharityListing(
        id=row["id"],
        name=row["name"],
        region_code=row["region_code"],
        region_name=row["region_name"],
    )


# -- sign-up, verification, suspension --------------------------------------------------------


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
        region = await region_named(data.region_code, field="region_code")
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
    member = await load_member(account_id)
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
        before = await managed_organization(user=user, organization_id=organization_id)
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


async def ensure_verified(*, organization_id: int, field: str | None = None) -> None:
    """Refuse work that needs a verified charity: posting and changing offers, taking gifts.

    An unknown charity is not found (404), one not verified (yet, or any more) a conflict
    (409); when the id came in a request body, ``field`` names it in both answers.
    """
    row = (
        await OrganizationTable.select(OrganizationTable.status)
        .where(OrganizationTable.id == organization_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFound(f"No charity has the id {organization_id}", field=field)
    status = OrganizationStatus(row["status"])
    if status is not OrganizationStatus.verified:
        raise Conflict(
            f"The charity is {status.value}: only a verified charity may do this",
            error="charity_not_verified",
            field=field,
        )


def ensure_not_suspended(organization: Organization) -> None:
    """Refuse (409) a change by a suspended charity."""
    if organization.status is OrganizationStatus.suspended:
        raise Conflict(
            "The charity is suspended: it changes nothing until verified again",
            error="charity_suspended",
        )
