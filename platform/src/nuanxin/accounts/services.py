"""Accounts: authentication, API tokens and account creation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nuanxin.accounts.security import (
    USER_COLUMNS,
    CurrentUser,
    digest,
    hash_password,
    new_token,
    verify_password,
)
from nuanxin.accounts.tables import ApiToken, Role, User
from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import DomainError

__all__ = ("authenticate", "create_user", "issue_token")

TOKEN_LIFETIME = timedelta(days=30)
# Verifying against a fixed hash when the user is unknown keeps the timing the same.
_DUMMY_HASH = hash_password("not a real password")


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
        raise DomainError("Wrong username or password", status_code=401)
    if not verify_password(str(row["password_hash"]), password) or not row["is_active"]:
        raise DomainError("Wrong username or password", status_code=401)
    user = CurrentUser.from_row(row)
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
) -> int:
    """Create an account; a staff account needs a jurisdiction, members a charity."""
    if role is Role.staff and jurisdiction_id is None:
        raise DomainError(
            "A staff account needs a jurisdiction", status_code=400, field="jurisdiction_id"
        )
    if role in (Role.charity, Role.courier) and organization_id is None:
        raise DomainError(
            "A charity account needs its charity", status_code=400, field="organization_id"
        )
    if len(password) < 8:
        raise DomainError(
            "The password needs at least 8 characters", status_code=400, field="password"
        )
    async with atomic():
        if await User.exists().where(User.username == username).run():
            raise DomainError(f"The username {username!r} is taken", field="username")
        rows = (
            await User.insert(
                User(
                    username=username,
                    display_name=display_name or username,
                    password_hash=hash_password(password),
                    role=role.value,
                    jurisdiction=jurisdiction_id,
                    organization=organization_id,
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
