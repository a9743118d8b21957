"""Who may call a handler: role guards and the caller as a dependency (the faces' side of
:mod:`nuanxin.identity`).

A guard on a controller or handler admits roles; which *records* the caller may then see is the
services' business, through :func:`nuanxin.identity.visible_to` and
:func:`nuanxin.identity.jurisdiction_where`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from nuanxin.identity import CurrentUser, Role

__all__ = (
    "admin_only",
    "charity_members",
    "couriers_and_members",
    "current_user",
    "require_roles",
    "staff_and_admin",
    "staff_only",
)


def require_roles(*roles: Role) -> Guard:
    """A guard admitting only the given roles."""

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
        user = connection.scope.get("user")
        if not isinstance(user, CurrentUser):
            raise NotAuthorizedException("Log in first")
        if user.role not in roles:
            raise PermissionDeniedException(
                f"This needs the role {' or '.join(r.value for r in roles)}"
            )

    return guard


admin_only = require_roles(Role.admin)
staff_only = require_roles(Role.staff)
staff_and_admin = require_roles(Role.staff, Role.admin)
charity_members = require_roles(Role.charity)
couriers_and_members = require_roles(Role.charity, Role.courier)


def current_user(request: Request[Any, Any, Any]) -> CurrentUser:
    """The authenticated account of the request (the auth middleware guarantees one)."""
    user = request.scope.get("user")
    if not isinstance(user, CurrentUser):  # pragma: no cover - excluded routes only
        raise NotAuthorizedException("Log in first")
    return user
