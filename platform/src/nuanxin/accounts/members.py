"""A charity's members: its accounts (role ``charity``) and couriers.

Members manage the charity's accounts; couriers and staff over the charity's region read them
(couriers do not). A suspended charity adds no members until it is verified again. Removing a
member deactivates the account and revokes its tokens; its history stays.
"""

from __future__ import annotations

from typing import Any

from nuanxin.accounts.organizations import (
    ensure_not_suspended,
    get_organization,
    managed_organization,
)
from nuanxin.accounts.schemas import Member, MemberCreate
from nuanxin.accounts.services import (
    MEMBER_COLUMNS,
    create_user,
    load_member,
    member_of,
    revoke_tokens,
)
from nuanxin.accounts.tables import User
from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict, Forbidden, NotFound
from nuanxin.identity import CurrentUser, Role
from nuanxin.pagination import Page, Pagination

__all__ = ("add_member", "list_members", "remove_member")


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
    query = User.select(*MEMBER_COLUMNS)
    count = User.count()
    for condition in where:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(User.id).limit(page.limit).offset(page.offset).run()
    return Page(
        items=[member_of(row) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


async def add_member(*, user: CurrentUser, organization_id: int, data: MemberCreate) -> Member:
    """A member adds a colleague or a courier to their charity."""
    async with atomic():
        organization = await managed_organization(user=user, organization_id=organization_id)
        ensure_not_suspended(organization)
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
    return await load_member(account_id)


async def remove_member(*, user: CurrentUser, organization_id: int, account_id: int) -> Member:
    """Deactivate a member's account (its tokens die with it); the history stays."""
    async with atomic():
        organization = await managed_organization(user=user, organization_id=organization_id)
        row = (
            await User.select(*MEMBER_COLUMNS)
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
    return await load_member(account_id)
