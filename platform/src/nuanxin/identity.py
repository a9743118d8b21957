"""Who is asking, and the one rule for what they may see: the identity core.

Every area builds on this module and it builds on none of them (it imports no area's tables or
services). It holds:

* :class:`Role` and :class:`CurrentUser`: the caller as guards and services see it;
* :func:`digest` and :func:`keyed_hash`: how secrets and identifying numbers are stored;
* the visibility rule, written once:

  - staff act on their region's official code prefix and everything under it
    (:func:`jurisdiction_where` in queries, :meth:`CurrentUser.covers` for one record);
  - an account without a jurisdiction covers nothing;
  - admins cover everything;
  - charity members and couriers see their own charity's records (:func:`visible_to`).

  A record outside what the caller may see is answered as not found, so that its existence
  does not leak (:func:`ensure_visible`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from piccolo.columns import Column
from piccolo.columns.combination import Where

from nuanxin.errors import NotFound

__all__ = (
    "PREFIX_LENGTH",
    "CurrentUser",
    "Role",
    "digest",
    "ensure_visible",
    "jurisdiction_pattern",
    "jurisdiction_where",
    "keyed_hash",
    "subtree_prefix",
    "visible_to",
)

#: How many leading digits of an official division code a level and everything under it share.
PREFIX_LENGTH: dict[str, int] = {"province": 2, "city": 4, "county": 6, "township": 9}


class Role(StrEnum):
    admin = "admin"
    staff = "staff"
    charity = "charity"
    courier = "courier"


def subtree_prefix(code: str, level: str) -> str:
    """The code prefix shared by a division and every division under it."""
    return code[: PREFIX_LENGTH[level]]


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a random token is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def keyed_hash(secret_key: str, value: str) -> str:
    """A keyed hash (HMAC-SHA256): compares ID numbers and short codes without storing them."""
    return hmac.new(secret_key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrentUser:
    """Who is asking: what guards and services need to know about the account."""

    id: int
    username: str
    role: Role
    jurisdiction_id: int | None
    organization_id: int | None
    jurisdiction_code: str | None = None
    jurisdiction_level: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def jurisdiction_prefix(self) -> str | None:
        """The code prefix of the staff member's region and everything under it."""
        if self.jurisdiction_code is None or self.jurisdiction_level is None:
            return None
        return subtree_prefix(self.jurisdiction_code, self.jurisdiction_level)

    def covers(self, region_code: str) -> bool:
        """Whether a region lies in this account's jurisdiction (admins cover everything)."""
        if self.role is Role.admin:
            return True
        prefix = self.jurisdiction_prefix
        return prefix is not None and region_code.startswith(prefix)

    def belongs_to(self, organization_id: int | None) -> bool:
        """Whether the account is a member or courier of this charity."""
        return (
            self.role in (Role.charity, Role.courier)
            and organization_id is not None
            and self.organization_id == organization_id
        )


def visible_to(
    actor: CurrentUser,
    *,
    region_codes: Iterable[str] = (),
    organization_id: int | None = None,
) -> bool:
    """Whether the caller may see a record: the one rule, written once.

    Admins see everything; staff see a record when one of its regions (``region_codes``: the
    household's, the warehouse's ...) lies in their jurisdiction; charity members and couriers
    see their own charity's records (``organization_id``).
    """
    if actor.role is Role.admin:
        return True
    if actor.role is Role.staff:
        return any(actor.covers(code) for code in region_codes)
    return actor.belongs_to(organization_id)


def ensure_visible(
    actor: CurrentUser,
    *,
    what: str,
    region_codes: Iterable[str] = (),
    organization_id: int | None = None,
) -> None:
    """Refuse, as not found, a record the caller may not see (its existence does not leak)."""
    if not visible_to(actor, region_codes=region_codes, organization_id=organization_id):
        raise NotFound(f"No such {what}", message_id="not_found", params={"what": what})


def jurisdiction_where(actor: CurrentUser, region_code_column: Column) -> Where | None:
    """A ``where`` clause keeping rows whose region code lies in the caller's jurisdiction.

    ``region_code_column`` is the code column reached through the row's region, e.g.
    ``Household.region.code``. Admins need no filter (``None``); an account without a
    jurisdiction matches nothing.
    """
    pattern = jurisdiction_pattern(actor)
    return None if pattern is None else region_code_column.like(pattern)


def jurisdiction_pattern(actor: CurrentUser) -> str | None:
    """The ``LIKE`` pattern of :func:`jurisdiction_where`, for a raw query's region code."""
    if actor.role is Role.admin:
        return None
    prefix = actor.jurisdiction_prefix
    return "" if prefix is None else prefix + "%"
