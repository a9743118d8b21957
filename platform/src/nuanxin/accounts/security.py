"""Passwords, tokens, sessions and the authentication middleware.

* Passwords are hashed with Argon2id (argon2-cffi's defaults, the OWASP recommendation).
* API tokens are stored as SHA-256 digests (:func:`nuanxin.identity.digest`), never in clear.
* Sessions live server-side; login issues a new session id (no fixation).
* Every route needs a user unless its handler says ``exclude_from_auth=True``; guards
  (:mod:`nuanxin.guards`) then check the role (``scope["user"]``).
* A request that sends an ``Authorization`` header is authenticated by it on every route,
  public ones included: an invalid, revoked or expired token answers 401, never passes as
  anonymous.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.session.server_side import ServerSideSessionBackend
from litestar.types import Empty, Message, Receive, Scope, ScopeSession, Send

from nuanxin.accounts.tables import User
from nuanxin.identity import CurrentUser, Role, digest

__all__ = (
    "NuanxinAuthMiddleware",
    "RotatingSessionBackend",
    "hash_password",
    "new_token",
    "rotate_session",
    "user_by_id",
    "user_from_row",
    "verify_password",
)

_hasher = PasswordHasher()
ROTATE_KEY = "nuanxin.rotate_session"
SESSION_USER_KEY = "user_id"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def user_from_row(row: dict[str, object]) -> CurrentUser:
    """The caller as guards and services see it, from a row of :data:`USER_COLUMNS`."""
    jurisdiction = row["jurisdiction"]
    organization = row["organization"]
    return CurrentUser(
        id=int(str(row["id"])),
        username=str(row["username"]),
        role=Role(str(row["role"])),
        jurisdiction_id=None if jurisdiction is None else int(str(jurisdiction)),
        organization_id=None if organization is None else int(str(organization)),
        jurisdiction_code=_optional_str(row.get("jurisdiction.code")),
        jurisdiction_level=_optional_str(row.get("jurisdiction.level")),
    )


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


USER_COLUMNS = (
    User.id,
    User.username,
    User.role,
    User.jurisdiction,
    User.organization,
    User.jurisdiction.code,
    User.jurisdiction.level,
)


async def user_by_id(user_id: int) -> CurrentUser | None:
    """The active account with this id, as guards and services see it."""
    return await _user_by_id(user_id)


# Every authenticated request runs one of these two: raw SQL, one statement each (the token's
# account is joined, not read after it), with the columns of :data:`USER_COLUMNS` under the
# names Piccolo gives them. Built by Piccolo, the same select cost more CPU than the database.
_USER_SELECT = (
    "SELECT account.id, account.username, account.role, account.jurisdiction, "
    'account.organization, region.code AS "jurisdiction.code", '
    'region.level AS "jurisdiction.level" '
    "FROM account LEFT JOIN region ON region.id = account.jurisdiction "
)
_BY_ID = _USER_SELECT + "WHERE account.id = {} AND account.is_active = {}"
_BY_TOKEN = (
    _USER_SELECT + 'JOIN api_token ON api_token."user" = account.id '
    "WHERE api_token.token_hash = {} AND api_token.revoked_at IS NULL "
    "AND api_token.expires_at > {} AND account.is_active = {}"
)


async def _user_by_id(user_id: int) -> CurrentUser | None:
    rows = await User.raw(_BY_ID, user_id, True).run()
    return user_from_row(rows[0]) if rows else None


async def _user_by_token(token: str) -> CurrentUser | None:
    rows = await User.raw(_BY_TOKEN, digest(token), datetime.now(UTC), True).run()
    return user_from_row(rows[0]) if rows else None


class NuanxinAuthMiddleware(AbstractAuthenticationMiddleware):
    """A bearer token (API clients) or the session's user id (browsers)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and any(
            name == b"authorization" for name, _ in scope["headers"]
        ):  # checked even where no login is needed: a bad token is refused, not ignored
            result = await self.authenticate_request(ASGIConnection(scope))
            scope["user"] = result.user
            scope["auth"] = result.auth
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:  # type: ignore[type-arg]
        header = connection.headers.get("authorization", "")
        user: CurrentUser | None = None
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise NotAuthorizedException("Authorization must be 'Bearer <token>'")
            user = await _user_by_token(token.strip())
        else:
            user_id = (
                connection.session.get(SESSION_USER_KEY) if "session" in connection.scope else None
            )
            if isinstance(user_id, int):
                user = await _user_by_id(user_id)
        if user is None:
            raise NotAuthorizedException("Log in first (session) or send a valid bearer token")
        return AuthenticationResult(user=user, auth=None)


class RotatingSessionBackend(ServerSideSessionBackend):
    """Server-side sessions that take a fresh id when :func:`rotate_session` asks.

    A request that came without a session and left nothing in it (an API client with a bearer
    token, a donor tracking a gift, any anonymous visit) stores nothing and gets no session
    cookie: Litestar's backend would write an empty session to the store for each of them.
    """

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection,  # type: ignore[type-arg]
    ) -> None:
        if (
            scope_session is not Empty
            and not scope_session
            and connection.cookies.get(self.config.key, "null") == "null"
            and not connection.scope.get("state", {}).get(ROTATE_KEY)
        ):
            return
        await super().store_in_message(scope_session, message, connection)

    def get_session_id(self, connection: ASGIConnection) -> str:  # type: ignore[type-arg]
        state = connection.scope.setdefault("state", {})
        if state.get(ROTATE_KEY):
            fresh: str | None = state.get(ROTATE_KEY + ".id")
            if fresh is None:
                fresh = self.generate_session_id()
                state[ROTATE_KEY + ".id"] = fresh
            return fresh
        return super().get_session_id(connection)


async def rotate_session(connection: ASGIConnection) -> None:  # type: ignore[type-arg]
    """Forget the browser's current session id: the next response carries a new one."""
    old = connection.cookies.get("nuanxin_session")
    if old:
        store = connection.app.stores.get("sessions")
        await store.delete(old)
    connection.scope.setdefault("state", {})[ROTATE_KEY] = True
