"""The home page: what the platform is, and live totals."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from nuanxin.deliveries import services as deliveries
from nuanxin.households import counts as household_counts
from nuanxin.offers import services as offers
from nuanxin.web import PageController, page

__all__ = ("HomePage",)


class HomePage(PageController):
    path = "/"

    @get(exclude_from_auth=True, security=[{}])
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        totals = {
            "households": await household_counts.count_current_households(),
            "offers": await offers.count_open_offers(),
            "delivered": await deliveries.count_delivered(),
        }
        return page(request, "home.html.j2", {"totals": totals})
