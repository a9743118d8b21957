"""piccolo-admin, built once and mounted at ``/admin`` for admins only.

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
from piccolo_admin.endpoints import create_admin
from piccolo_api.session_auth.tables import SessionsBase

from nuanxin.accounts.tables import ApiToken, Organization, User
from nuanxin.audit.tables import AuditEntry
from nuanxin.deliveries.tables import Allocation, Delivery, DeliveryCase
from nuanxin.donations.tables import Campaign, Donation, Payment, Purchase, WebhookEvent
from nuanxin.guards import require_roles
from nuanxin.help_requests.tables import HelpRequest
from nuanxin.households.tables import Escalation, Household, Member, Need
from nuanxin.identity import Role
from nuanxin.offers.tables import Item, Offer
from nuanxin.regions.tables import GeocodeCache, Region
from nuanxin.rounds.tables import MatchingRound, Proposal
from nuanxin.settings import Settings
from nuanxin.warehouses.tables import Warehouse

__all__ = ("admin_mount",)

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
    Delivery,
    DeliveryCase,
    Campaign,
    Donation,
    Payment,
    Purchase,
    WebhookEvent,
    HelpRequest,
    AuditEntry,
]


@functools.cache
def _admin_app(production: bool) -> Any:
    """piccolo-admin's ASGI app, built once per process."""
    return create_admin(
        tables=TABLES,
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
