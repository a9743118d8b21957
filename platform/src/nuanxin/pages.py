"""The home page: what the platform is, and live totals."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, get
from litestar.response import Template

from nuanxin.deliveries.tables import Delivery
from nuanxin.households.tables import Household
from nuanxin.offers.tables import Offer

__all__ = ("HomePage",)


class HomePage(Controller):
    path = "/"
    include_in_schema = False

    @get(exclude_from_auth=True, security=[{}])
    async def home(self) -> Template:
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
        return Template(template_name="home.html.j2", context={"totals": totals})
