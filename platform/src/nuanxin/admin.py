"""piccolo-admin, built once and mounted at ``/admin`` for admins only.

Tables whose changes must go through the services (offer stock, allocations, deliveries,
donations and their payments, the audit trail) are read-only here: a write through
``/admin/api`` to one of them is refused (403), so that no stock moves, no money is booked and
no history is rewritten without the service's checks and audit entries.

The admin keeps its own login (piccolo's ``BaseUser`` and session tables, its own CSRF cookie
``csrftoken``); in front of it the app's own guard admits only accounts with the admin role.
``python -m nuanxin create-admin`` creates both logins with one password.
"""

from __future__ import annotations

import functools
from typing import Any

from litestar.handlers import asgi
from litestar.types import Receive, Scope, Send
from piccolo.apps.user.tables import BaseUser
from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig, create_admin
from piccolo_api.crud.endpoints import PiccoloCRUD
from piccolo_api.crud.validators import Validators
from piccolo_api.session_auth.tables import SessionsBase
from starlette.exceptions import HTTPException
from starlette.requests import Request

from nuanxin.accounts.tables import ApiToken, Organization, User
from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries.tables import (
    Allocation,
    ConfirmationKey,
    Delivery,
    DeliveryCase,
    OfflineReview,
    Visit,
)
from nuanxin.donations.tables import Campaign, Donation, Payment, Purchase, WebhookEvent
from nuanxin.guards import require_roles
from nuanxin.help_requests.tables import HelpRequest
from nuanxin.households.tables import Escalation, Household, Member, Need
from nuanxin.identity import Role
from nuanxin.offers.tables import Item, Offer
from nuanxin.regions.tables import GeocodeCache, Region
from nuanxin.rounds.tables import MatchingRound, Proposal
from nuanxin.safety.tables import ColdSpell, FollowUp, SafetyCheck
from nuanxin.settings import Settings
from nuanxin.warehouses.tables import Warehouse

__all__ = ("READ_ONLY", "admin_mount")

TABLES = [
    Region,
    GeocodeCache,
    Organization,
    Warehouse,
    User,
    ApiToken,
    Household,
    Member,
    Need,
    Escalation,
    Item,
    Offer,
    MatchingRound,
    Proposal,
    Allocation,
    Visit,
    Delivery,
    DeliveryCase,
    ConfirmationKey,
    OfflineReview,
    Campaign,
    Donation,
    Payment,
    Purchase,
    WebhookEvent,
    HelpRequest,
    SafetyCheck,
    FollowUp,
    ColdSpell,
    AuditEntry,
]


#: Changed only through their services (stock, money, history): read-only in the admin.
READ_ONLY: tuple[type[Table], ...] = (
    Offer,
    Allocation,
    Visit,
    Delivery,
    DeliveryCase,
    ConfirmationKey,
    OfflineReview,
    Donation,
    Payment,
    Purchase,
    WebhookEvent,
    SafetyCheck,
    FollowUp,
    ColdSpell,
    AuditEntry,
)


def _refuse_writes(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    raise HTTPException(
        status_code=403,
        detail=f"{piccolo_crud.table._meta.tablename} changes only through the platform's services",
    )


_READ_ONLY_VALIDATORS = Validators(
    post_single=[_refuse_writes],
    put_single=[_refuse_writes],
    patch_single=[_refuse_writes],
    delete_single=[_refuse_writes],
    delete_all=[_refuse_writes],
)


def _config(table: type[Table]) -> TableConfig | type[Table]:
    if table in READ_ONLY:
        return TableConfig(table, validators=_READ_ONLY_VALIDATORS)
    return table


@functools.cache
def _admin_app(production: bool) -> Any:
    """piccolo-admin's ASGI app, built once per process."""
    return create_admin(
        tables=[_config(table) for table in TABLES],
        auth_table=BaseUser,
        session_table=SessionsBase,
        site_name="暖心 Nuanxin admin",
        production=production,
        read_only=False,
    )


def admin_mount(settings: Settings) -> Any:
    """The admin ASGI app behind the app's admin-role guard."""
    admin_app = _admin_app(settings.is_production)

    @asgi(
        "/admin",
        is_mount=True,
        copy_scope=True,
        guards=[require_roles(Role.admin)],
        include_in_schema=False,
    )
    async def admin(scope: Scope, receive: Receive, send: Send) -> None:
        await admin_app(scope, receive, send)

    return admin
