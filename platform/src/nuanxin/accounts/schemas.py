"""DTOs of the accounts area (msgspec Structs, never tables).

Inputs forbid unknown fields and carry their limits (``msgspec.Meta``), so a bad value is a
400 naming the field before any service runs. In the ``...Update`` inputs a field left out
(``None``) is left unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from nuanxin.accounts.vocabulary import MemberRole, OrganizationStatus, StaffRole
from nuanxin.identity import Role

__all__ = (
    "Account",
    "AccountCreate",
    "AccountUpdate",
    "CharityListing",
    "Credentials",
    "Me",
    "Member",
    "MemberCreate",
    "MemberRole",
    "Organization",
    "OrganizationSignUp",
    "OrganizationUpdate",
    "SignedUp",
    "StaffRole",
    "StatusChange",
    "TokenCreated",
    "TokenRevoke",
)

Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
NewPassword = Annotated[
    str, msgspec.Meta(min_length=8, max_length=256, description="at least 8 characters")
]
DisplayName = Annotated[str, msgspec.Meta(max_length=100)]
Phone = Annotated[str, msgspec.Meta(max_length=20, pattern=r"^(\+?[0-9][0-9 -]{4,18})?$")]
RequiredPhone = Annotated[
    str, msgspec.Meta(min_length=5, max_length=20, pattern=r"^\+?[0-9][0-9 -]{4,18}$")
]
RegionCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9]{6}([0-9]{3})?$",
        description="official division code: 6 digits (province to county) or 9 (township)",
    ),
]
CreditCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$",
        description="统一社会信用代码: 18 characters, the last a check character",
    ),
]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
PersonName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class Credentials(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Password


class Me(msgspec.Struct, kw_only=True):
    id: int
    username: str
    role: Role
    jurisdiction_id: int | None
    organization_id: int | None


class TokenCreated(msgspec.Struct, kw_only=True):
    token: str
    token_type: str
    expires_at: datetime


class TokenRevoke(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The token to revoke: it must be one's own (anything else is quietly ignored)."""

    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


# -- accounts ---------------------------------------------------------------------------------


class AccountCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A staff (or admin) account; staff need a jurisdiction."""

    username: Username
    password: NewPassword
    role: StaffRole = StaffRole.staff
    display_name: DisplayName = ""
    jurisdiction_code: RegionCode | None = None
    phone: Phone = ""


class AccountUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    display_name: DisplayName | None = None
    jurisdiction_code: RegionCode | None = None
    phone: Phone | None = None
    is_active: bool | None = None


class Account(msgspec.Struct, kw_only=True):
    id: int
    username: str
    display_name: str
    role: Role
    jurisdiction_id: int | None
    jurisdiction_code: str | None
    jurisdiction_name: str | None
    organization_id: int | None
    phone: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


# -- charities --------------------------------------------------------------------------------


class OrganizationSignUp(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A charity signs up with its first member's account; it stays pending until verified."""

    name: Name
    credit_code: CreditCode
    region_code: RegionCode
    contact_name: PersonName
    contact_phone: RequiredPhone
    username: Username
    password: NewPassword
    display_name: DisplayName = ""


class OrganizationUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    contact_name: PersonName | None = None
    contact_phone: RequiredPhone | None = None


class StatusChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Why staff verify or suspend a charity (kept in the audit trail)."""

    reason: Annotated[str, msgspec.Meta(max_length=300)] = ""


class Organization(msgspec.Struct, kw_only=True):
    id: int
    name: str
    credit_code: str
    status: OrganizationStatus
    region_id: int
    region_code: str
    region_name: str
    contact_name: str
    contact_phone: str
    created_at: datetime
    verified_at: datetime | None


class CharityListing(msgspec.Struct, kw_only=True):
    """A verified charity as the public sees it: whom a donor may give goods to."""

    id: int
    name: str
    region_code: str
    region_name: str


class MemberCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    username: Username
    password: NewPassword
    role: MemberRole = MemberRole.charity
    display_name: DisplayName = ""
    phone: Phone = ""


class Member(msgspec.Struct, kw_only=True):
    id: int
    username: str
    display_name: str
    role: Role
    phone: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class SignedUp(msgspec.Struct, kw_only=True):
    organization: Organization
    account: Member
