"""Charities (organizations), user accounts and API tokens (warehouses: ``nuanxin.warehouses``)."""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.constraints import Check
from piccolo.table import Table

from nuanxin.accounts.vocabulary import OrganizationStatus
from nuanxin.identity import Role
from nuanxin.regions.tables import Region


class Organization(Table, tablename="organization"):
    """A charity (social organization) that posts offers and delivers them."""

    id = Serial(primary_key=True)

    name = Varchar(length=200, unique=True)
    credit_code = Varchar(length=18, unique=True)  # 统一社会信用代码
    status = Varchar(
        length=10, choices=OrganizationStatus, default=OrganizationStatus.pending, index=True
    )
    region = ForeignKey(Region, null=False, on_delete=OnDelete.restrict)
    contact_name = Varchar(length=100)
    contact_phone = Varchar(length=20)
    created_at = Timestamptz()
    verified_at = Timestamptz(null=True, default=None)


class User(Table, tablename="account"):
    """A person who logs in: admin, civil affairs staff, charity member or courier."""

    id = Serial(primary_key=True)

    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=100)
    password_hash = Varchar(length=255)
    role = Varchar(length=10, choices=Role, index=True)
    jurisdiction = ForeignKey(Region, null=True, default=None, on_delete=OnDelete.restrict)
    organization = ForeignKey(Organization, null=True, default=None, on_delete=OnDelete.restrict)
    phone = Varchar(length=20, default="")
    is_active = Boolean(default=True)
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)

    staff_have_a_jurisdiction = Check("role <> 'staff' OR jurisdiction IS NOT NULL")
    members_have_a_charity = Check("role NOT IN ('charity', 'courier') OR organization IS NOT NULL")


class ApiToken(Table, tablename="api_token"):
    """A bearer token for API clients, stored as a hash."""

    id = Serial(primary_key=True)

    user = ForeignKey(User, index=True, null=False, on_delete=OnDelete.restrict)
    token_hash = Varchar(length=64, unique=True)
    label = Varchar(length=100, default="")
    created_at = Timestamptz()
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
