"""Accounts: authentication, API tokens, and the accounts an admin manages.

An admin creates staff accounts, each with a jurisdiction (a region at province, city, county
or township level: the region and everything under it), and may change the jurisdiction or
deactivate an account. A deactivated account cannot log in, and its tokens are revoked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.columns import Varchar
from piccolo.columns.combination import Where

from nuanxin.accounts.schemas import Account, AccountCreate, AccountUpdate, Member
from nuanxin.accounts.security import (
    USER_COLUMNS,
    hash_password,
    new_token,
    user_from_row,
    verify_password,
)
from nuanxin.accounts.tables import ApiToken, User
from nuanxin.accounts.vocabulary import StaffRole
from nuanxin.audit.services import record
from nuanxin.db import atomic, engine
from nuanxin.errors import Conflict, Invalid, NotAuthenticated, NotFound
from nuanxin.identity import CurrentUser, Role, digest
from nuanxin.pagination import Page, Pagination
from nuanxin.regions.services import get_region, subtree_prefix

__all__ = (
    "authenticate",
    "create_account",
    "create_user",
    "get_account",
    "issue_token",
    "list_accounts",
    "load_member",
    "member_of",
    "revoke_token",
    "revoke_tokens",
    "text_matches",
    "update_account",
    "user_named",
)

TOKEN_LIFETIME = timedelta(days=30)
# Verifying against a fixed hash when the user is unknown keeps the timing the same.
_DUMMY_HASH = hash_password("not a real password")


async def user_named(username: str) -> CurrentUser | None:
    """The active account with this username, as guards and services see it (or ``None``)."""
    row = (
        await User.select(*USER_COLUMNS)
        .where((User.username == username) & (User.is_active.eq(True)))
        .first()
        .run()
    )
    return None if row is None else user_from_row(row)


async def authenticate(*, username: str, password: str) -> CurrentUser:
    """The active account with these credentials, or a 401 that does not say which was wrong."""
    row = (
        await User.select(*USER_COLUMNS, User.password_hash, User.is_active)
        .where(User.username == username)
        .first()
        .run()
    )
    if row is None:
        verify_password(_DUMMY_HASH, password)
        raise NotAuthenticated("Wrong username or password")
    if not verify_password(str(row["password_hash"]), password) or not row["is_active"]:
        raise NotAuthenticated("Wrong username or password")
    user = user_from_row(row)
    async with atomic():
        await User.update({User.last_login_at: datetime.now(UTC)}).where(User.id == user.id).run()
        await record(actor=user, action="account.login", entity="account", entity_id=user.id)
    return user


async def issue_token(*, user: CurrentUser, label: str = "") -> tuple[str, datetime]:
    """A new bearer token for ``user``: returned once, stored only as a digest."""
    token = new_token()
    expires_at = datetime.now(UTC) + TOKEN_LIFETIME
    async with atomic():
        await ApiToken.insert(
            ApiToken(
                user=user.id,
                token_hash=digest(token),
                label=label,
                created_at=datetime.now(UTC),
                expires_at=expires_at,
            )
        ).run()
        await record(actor=user, action="token.issue", entity="account", entity_id=user.id)
    return token, expires_at


async def create_user(
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    jurisdiction_id: int | None = None,
    organization_id: int | None = None,
    actor: CurrentUser | None = None,
    phone: str = "",
    actor_label: str | None = None,
    region_code: str | None = None,
) -> int:
    """Create an account; a staff account needs a jurisdiction, members a charity."""
    if role is Role.staff and jurisdiction_id is None:
        raise Invalid("A staff account needs a jurisdiction", field="jurisdiction_id")
    if role in (Role.charity, Role.courier) and organization_id is None:
        raise Invalid("A charity account needs its charity", field="organization_id")
    if len(password) < 8:
        raise Invalid("The password needs at least 8 characters", field="password")
    async with atomic():
        if await User.exists().where(User.username == username).run():
            raise Conflict(f"The username {username!r} is taken", field="username")
        rows = (
            await User.insert(
                User(
                    username=username,
                    display_name=display_name or username,
                    password_hash=hash_password(password),
                    role=role.value,
                    jurisdiction=jurisdiction_id,
                    organization=organization_id,
                    phone=phone,
                    created_at=datetime.now(UTC),
                )
            )
            .returning(User.id)
            .run()
        )
        user_id = int(rows[0]["id"])
        await record(
            actor=actor,
            action="account.create",
            entity="account",
            entity_id=user_id,
            actor_label=actor_label,
            region_code=region_code,
            after={
                "username": username,
                "role": role.value,
                "jurisdiction": jurisdiction_id,
                "organization": organization_id,
            },
        )
    return user_id


async def create_admin(*, username: str, password: str) -> int:
    """An admin account, plus the same login for piccolo-admin (``/admin``)."""
    from piccolo.apps.user.tables import BaseUser

    user_id = await create_user(username=username, password=password, role=Role.admin)
    if not await BaseUser.exists().where(BaseUser.username == username).run():
        await BaseUser.create_user(
            username=username, password=password, admin=True, superuser=True, active=True
        )
    return user_id


async def revoke_token(*, user: CurrentUser, token: str) -> None:
    """Revoke one bearer token of ``user`` (logging an API client out)."""
    async with atomic():
        await (
            ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)})
            .where(
                (ApiToken.token_hash == digest(token))
                & (ApiToken.user == user.id)
                & ApiToken.revoked_at.is_null()
            )
            .run()
        )
        await record(actor=user, action="token.revoke", entity="account", entity_id=user.id)


async def revoke_tokens(*, account_id: int) -> None:
    """Revoke every live token of an account (call it inside the caller's transaction)."""
    await (
        ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)})
        .where((ApiToken.user == account_id) & ApiToken.revoked_at.is_null())
        .run()
    )


def text_matches(column: Varchar, text: str) -> Where:
    """``column`` contains ``text``, ignoring case (SQLite's LIKE ignores ASCII case already)."""
    pattern = f"%{text}%"
    return column.ilike(pattern) if engine().engine_type == "postgres" else column.like(pattern)


ACCOUNT_COLUMNS = (
    User.id,
    User.username,
    User.display_name,
    User.role,
    User.jurisdiction,
    User.jurisdiction.code.as_alias("jurisdiction_code"),
    User.jurisdiction.name.as_alias("jurisdiction_name"),
    User.organization,
    User.phone,
    User.is_active,
    User.created_at,
    User.last_login_at,
)


def account_of(row: dict[str, Any]) -> Account:
    return Account(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        jurisdiction_id=row["jurisdiction"],
        jurisdiction_code=row["jurisdiction_code"],
        jurisdiction_name=row["jurisdiction_name"],
        organization_id=row["organization"],
        phone=row["phone"],
        is_active=bool(row["is_active"]),
        created_at=row["created_at"],
        last_login_at=row["last_login_at"],
    )


async def _jurisdiction_id(code: str) -> int:
    region = await get_region(code)
    if region is None:
        raise Invalid(f"No region has the code {code}", field="jurisdiction_code")
    return region.id


async def create_account(*, actor: CurrentUser, data: AccountCreate) -> Account:
    """An admin creates a staff account (with its jurisdiction) or another admin."""
    if data.role is StaffRole.admin and data.jurisdiction_code is not None:
        raise Invalid(
            "An admin has no jurisdiction: leave jurisdiction_code out",
            field="jurisdiction_code",
        )
    async with atomic():
        jurisdiction = (
            None
            if data.jurisdiction_code is None
            else await _jurisdiction_id(data.jurisdiction_code)
        )
        account_id = await create_user(
            username=data.username,
            password=data.password,
            role=Role(data.role.value),
            display_name=data.display_name,
            jurisdiction_id=jurisdiction,
            actor=actor,
            phone=data.phone,
            region_code=data.jurisdiction_code,
        )
    return await get_account(account_id=account_id)


async def get_account(*, account_id: int) -> Account:
    row = await User.select(*ACCOUNT_COLUMNS).where(User.id == account_id).first().run()
    if row is None:
        raise NotFound("No such account")
    return account_of(row)


async def list_accounts(
    *,
    page: Pagination,
    role: Role | None = None,
    jurisdiction_code: str | None = None,
    organization_id: int | None = None,
    is_active: bool | None = None,
    q: str | None = None,
) -> Page[Account]:
    """Accounts, filtered; ``jurisdiction_code`` keeps staff of that region and below it."""
    where: list[Any] = []
    if role is not None:
        where.append(User.role == role.value)
    if jurisdiction_code is not None:
        region = await get_region(jurisdiction_code)
        prefix = "-" if region is None else subtree_prefix(region.code, region.level)
        where.append(User.jurisdiction.code.like(prefix + "%"))
    if organization_id is not None:
        where.append(User.organization == organization_id)
    if is_active is not None:
        where.append(User.is_active == is_active)
    if q:
        where.append(text_matches(User.username, q) | text_matches(User.display_name, q))
    query = User.select(*ACCOUNT_COLUMNS)
    count = User.count()
    for condition in where:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(User.id).limit(page.limit).offset(page.offset).run()
    return Page(
        items=[account_of(row) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


def _snapshot(account: Account) -> dict[str, Any]:
    return {
        "display_name": account.display_name,
        "jurisdiction": account.jurisdiction_code,
        "is_active": account.is_active,
    }


async def update_account(*, actor: CurrentUser, account_id: int, data: AccountUpdate) -> Account:
    """An admin renames an account, moves a staff member's jurisdiction, or (de)activates it."""
    async with atomic():
        before = await get_account(account_id=account_id)
        changes: dict[Any, Any] = {}
        if data.display_name is not None:
            changes[User.display_name] = data.display_name or before.username
        if data.phone is not None:
            changes[User.phone] = data.phone
        if data.jurisdiction_code is not None:
            if before.role is not Role.staff:
                raise Invalid(
                    "Only staff accounts have a jurisdiction",
                    field="jurisdiction_code",
                )
            changes[User.jurisdiction] = await _jurisdiction_id(data.jurisdiction_code)
        if data.is_active is not None and data.is_active != before.is_active:
            if account_id == actor.id:
                raise Conflict("You cannot deactivate your own account", field="is_active")
            changes[User.is_active] = data.is_active
            if not data.is_active:
                await revoke_tokens(account_id=account_id)
        if changes:
            await User.update(changes).where(User.id == account_id).run()
        after = await get_account(account_id=account_id)
        await record(
            actor=actor,
            action="account.update",
            entity="account",
            entity_id=account_id,
            before=_snapshot(before),
            after=_snapshot(after),
            region_code=after.jurisdiction_code,
        )
    return after


# -- a charity's members, as they are read --------------------------------------------------

MEMBER_COLUMNS = (
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


def member_of(row: dict[str, Any]) -> Member:
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


async def load_member(account_id: int) -> Member:
    """A charity's member or courier, by account id."""
    row = await User.select(*MEMBER_COLUMNS).where(User.id == account_id).first().run()
    assert row is not None
    return member_of(row)
