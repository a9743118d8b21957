"""Who may do what: role guards and jurisdiction checks shared by every area.

* A guard on a controller or handler admits roles (``staff_only``, ``admin_only`` ...).
* A service checks the *record*: staff act only inside their jurisdiction (their region and
  everything under it, decided by the official code prefix), charity members only on their
  own charity's records. Outside it, a record is answered as not found (404), so that its
  existence does not leak.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from piccolo.columns import Column
from piccolo.columns.combination import Where

from nuanxin.accounts.security import CurrentUser, require_roles
from nuanxin.accounts.tables import Role
from nuanxin.errors import DomainError

__all__ = (
    "admin_only",
    "charity_members",
    "couriers_and_members",
    "current_user",
    "ensure_covers",
    "ensure_own_charity",
    "jurisdiction_filter",
    "staff_and_admin",
    "staff_only",
)

admin_only = require_roles(Role.admin)
staff_only = require_roles(Role.staff)
staff_and_admin = require_roles(Role.staff, Role.admin)
charity_members = require_roles(Role.charity)
couriers_and_members = require_roles(Role.charity, Role.courier)


def current_user(request: Request[Any, Any, Any]) -> CurrentUser:
    """The authenticated account of the request (the auth middleware guarantees one)."""
    user = request.scope.get("user")
    if not isinstance(user, CurrentUser):  # pragma: no cover - excluded routes only
        raise DomainError("Log in first", status_code=401)
    return user


def ensure_covers(user: CurrentUser, region_code: str, *, what: str = "record") -> None:
    """Refuse (as 404) a record whose region lies outside the user's jurisdiction."""
    if not user.covers(region_code):
        raise DomainError(f"No such {what} in your jurisdiction", status_code=404)


def ensure_own_charity(user: CurrentUser, organization_id: int, *, what: str = "record") -> None:
    """Refuse (as 404) a record of another charity."""
    if user.role is not Role.admin and user.organization_id != organization_id:
        raise DomainError(f"No such {what} for your charity", status_code=404)


def jurisdiction_filter(user: CurrentUser, region_code_column: Column) -> Where | None:
    """A ``where`` clause keeping rows whose region code lies in the jurisdiction.

    ``region_code_column`` is the code column reached through the row's region, e.g.
    ``Household.region.code``. Admins need no filter (``None``).
    """
    if user.role is Role.admin:
        return None
    prefix = user.jurisdiction_prefix
    if prefix is None:
        # An account without a jurisdiction sees nothing: match no code at all.
        return region_code_column.like("")
    return region_code_column.like(prefix + "%")
