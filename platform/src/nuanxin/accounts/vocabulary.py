"""The words of the accounts area: a charity's status and the roles given in it.

``Role`` itself (admin, staff, charity, courier) belongs to the identity core
(:mod:`nuanxin.identity`).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ("MemberRole", "OrganizationStatus", "StaffRole")


class OrganizationStatus(StrEnum):
    """A charity is pending until staff verify it; staff may suspend it and verify it again."""

    pending = "pending"
    verified = "verified"
    suspended = "suspended"


class StaffRole(StrEnum):
    """The roles an admin gives directly (charity accounts come with their charity)."""

    admin = "admin"
    staff = "staff"


class MemberRole(StrEnum):
    """The roles inside a charity."""

    charity = "charity"
    courier = "courier"
