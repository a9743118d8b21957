"""The home page: what the platform is, and live totals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, get
from litestar.response import Template

from nuanxin.deliveries.tables import Delivery
from nuanxin.households.tables import Household
from nuanxin.offers.tables import Offer
from nuanxin.web import PageController, page

__all__ = ("HomePage",)


class HomePage(PageController):
    path = "/"

    @get(exclude_from_auth=True, security=[{}])
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        totals = {
            "households": await Household.count()
            .where(
                (Household.status == "verified")
                & (Household.verification_expires_at > datetime.now(UTC))
            )
            .run(),
            "offers": await Offer.count().where(Offer.status == "open").run(),
            "delivered": await Delivery.count().where(Delivery.status == "delivered").run(),
        }
        return page(request, "home.html.j2", {"totals": totals})
