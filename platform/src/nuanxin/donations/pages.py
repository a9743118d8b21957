"""The donor's pages: a gift's timeline and its printable receipt, by tracking code."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from nuanxin.donations import services, tracking
from nuanxin.donations.services import yuan

__all__ = ("CampaignPages", "DonationPages")

STRIPE_JS = "https://js.stripe.com/v3/"  # Stripe requires Stripe.js to come from Stripe itself

STEP_ICONS = {"received": "📝", "paid": "💳", "accepted": "📦", "goods": "🧺", "matched": "🤝",
              "delivered": "🏠", "refunded": "↩️", "failed": "⚠️", "declined": "✖️"}  # fmt: skip


class DonationPages(Controller):
    path = "/donations"
    include_in_schema = False

    @get("/{code:str}", exclude_from_auth=True)
    async def timeline(self, code: FromPath[str]) -> Template:
        found = await tracking.track(code=code)
        return Template(
            "donations/tracking.html.j2",
            context={"t": found, "yuan": yuan, "icons": STEP_ICONS},
        )

    @get("/{code:str}/receipt", exclude_from_auth=True)
    async def receipt(self, code: FromPath[str]) -> Template:
        found = await tracking.get_receipt(code=code)
        return Template(
            "donations/receipt.html.j2",
            context={
                "r": found,
                "amount": yuan(found.amount_fen),
                "refunded": yuan(found.refunded_fen),
                "net": yuan(found.net_fen),
            },
        )


class CampaignPages(Controller):
    path = "/campaigns"
    include_in_schema = False

    @get("/{campaign_id:int}", exclude_from_auth=True)
    async def give(self, request: Request[Any, Any, Any], campaign_id: FromPath[int]) -> Template:
        """A campaign's progress and its donation form (card payments through Stripe.js)."""
        settings = request.app.state.settings
        campaign = await services.get_campaign(campaign_id=campaign_id)
        base = settings.stripe_api_base.rstrip("/")
        return Template(
            "donations/campaign.html.j2",
            context={
                "c": campaign,
                "yuan": yuan,
                "today": services.today(),
                "payments": bool(settings.stripe_secret_key and settings.stripe_publishable_key),
                "publishable_key": settings.stripe_publishable_key,
                # A Stripe-compatible test server (localstripe) serves its own Stripe.js.
                "stripe_js": f"{base}/js.stripe.com/v3/" if base else STRIPE_JS,
                "currency": settings.currency,
            },
        )
