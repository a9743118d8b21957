"""The donor's and the public's pages: give (money through Stripe.js, or goods), follow a gift by
its tracking code as a timeline, its printable receipt, and what was delivered where."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from nuanxin.accounts import organizations
from nuanxin.deliveries import services as deliveries
from nuanxin.donations import campaigns, goods, need, tracking
from nuanxin.donations.campaigns import yuan
from nuanxin.donations.schemas import GoodsDonationCreate
from nuanxin.donations.vocabulary import DonationKind
from nuanxin.errors import DomainError
from nuanxin.forms import FormState, blank, refused
from nuanxin.limits import Guess
from nuanxin.offers import services as offers
from nuanxin.pagination import Pagination
from nuanxin.settings import Settings
from nuanxin.web import PageController, done, form_error, gettext_for, item_label, page

__all__ = ("CampaignPages", "DonationPages", "PublicPages")

AnyRequest = Request[Any, Any, Any]
STRIPE_JS = "https://js.stripe.com/v3/"  # Stripe requires Stripe.js to come from Stripe itself


class GoodsForm(msgspec.Struct, kw_only=True):
    """The campaign page's goods form as typed (then checked as a `GoodsDonationCreate`)."""

    item_code: str = ""
    quantity: str = ""
    donor_name: str = ""
    donor_email: str = ""


class DonationPages(PageController):
    path = "/donations"

    @get("/{code:str}", exclude_from_auth=True, security=[{}], guessing=Guess.tracking_code)
    async def timeline(self, request: AnyRequest, code: FromPath[str]) -> Template:
        found = await tracking.track(code=code)
        items = {item.code: item for item in await offers.list_items()}
        return page(
            request,
            "donations/tracking.html.j2",
            {"t": found, "yuan": yuan, "items": items},
        )

    @get("/{code:str}/receipt", exclude_from_auth=True, security=[{}], guessing=Guess.tracking_code)
    async def receipt(self, request: AnyRequest, code: FromPath[str]) -> Template:
        found = await tracking.get_receipt(code=code)
        return page(
            request,
            "donations/receipt.html.j2",
            {
                "r": found,
                "amount": yuan(found.amount_fen),
                "refunded": yuan(found.refunded_fen),
                "net": yuan(found.net_fen),
            },
        )


async def _campaign_page(
    request: AnyRequest,
    settings: Settings,
    campaign_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    campaign = await campaigns.get_campaign(campaign_id=campaign_id)
    base = settings.stripe_api_base.rstrip("/")
    items = [item for item in await offers.list_items() if item.code in campaign.item_codes]
    return page(
        request,
        "donations/campaign.html.j2",
        {
            "c": campaign,
            "need": await need.campaign_need(campaign_id=campaign_id),
            "yuan": yuan,
            "today": campaigns.today(),
            "payments": bool(settings.stripe_secret_key and settings.stripe_publishable_key),
            "publishable_key": settings.stripe_publishable_key,
            # A Stripe-compatible test server (localstripe) serves its own Stripe.js.
            "stripe_js": f"{base}/js.stripe.com/v3/" if base else STRIPE_JS,
            "currency": settings.currency,
            "goods_items": items or await offers.list_items(),
            "error": error,
        },
        status_code=status_code,
    )


class CampaignPages(PageController):
    path = "/campaigns"

    @get("/{campaign_id:int}", exclude_from_auth=True, security=[{}])
    async def give(
        self, request: AnyRequest, settings: NamedDependency[Settings], campaign_id: FromPath[int]
    ) -> Template:
        """A campaign's progress, its card form (Stripe.js) and its goods form."""
        return await _campaign_page(request, settings, campaign_id)

    @post("/{campaign_id:int}/goods", status_code=303, exclude_from_auth=True, security=[{}])
    async def give_goods(
        self,
        request: AnyRequest,
        settings: NamedDependency[Settings],
        campaign_id: FromPath[int],
        data: Annotated[GoodsForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """Register goods handed to the campaign's charity; the donor gets a tracking code."""
        _ = gettext_for(request)
        campaign = await campaigns.get_campaign(campaign_id=campaign_id)
        try:
            gift = msgspec.convert(
                {
                    "organization_id": campaign.organization_id,
                    "campaign_id": campaign_id,
                    "item_code": data.item_code,
                    "quantity": int(data.quantity.strip() or 0),
                    "donor_name": data.donor_name.strip(),
                    "donor_email": data.donor_email.strip(),
                },
                GoodsDonationCreate,
            )
            registered = await goods.register_goods(data=gift)
        except (DomainError, msgspec.ValidationError, ValueError) as exc:
            return await _campaign_page(
                request, settings, campaign_id, error=form_error(request, exc), status_code=400
            )
        return done(
            request,
            _("Thank you. Keep your tracking code: %(code)s") % {"code": registered.tracking_code},
            f"/donations/{registered.tracking_code}",
        )


class PublicPages(PageController):
    """Give, track, and the public dashboard."""

    path = "/"

    @get("/give", exclude_from_auth=True, security=[{}])
    async def campaigns(self, request: AnyRequest, q: FromQuery[str] = "") -> Template:
        """Open campaigns, and the verified charities one may give goods to without one."""
        found = await campaigns.list_campaigns(page=Pagination(limit=50, offset=0))
        charities = await organizations.list_verified_charities(
            page=Pagination(limit=50, offset=0), q=q.strip()[:100] or None
        )
        return page(
            request,
            "donations/give.html.j2",
            {"campaigns": found, "charities": charities, "q": q, "yuan": yuan},
        )

    async def _give_goods(
        self,
        request: AnyRequest,
        organization_id: int,
        form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        charity = await organizations.verified_charity(organization_id=organization_id)
        return page(
            request,
            "donations/give_goods.html.j2",
            {
                "charity": charity,
                "items": await offers.list_items(),
                "form": form or blank(GoodsForm()),
            },
            status_code=status_code,
        )

    @get("/give/charities/{organization_id:int}", exclude_from_auth=True, security=[{}])
    async def give_goods_form(
        self, request: AnyRequest, organization_id: FromPath[int]
    ) -> Template:
        """Give goods to a verified charity directly (no campaign needed)."""
        return await self._give_goods(request, organization_id)

    @post(
        "/give/charities/{organization_id:int}",
        status_code=303,
        exclude_from_auth=True,
        security=[{}],
    )
    async def give_goods(
        self,
        request: AnyRequest,
        organization_id: FromPath[int],
        data: Annotated[GoodsForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """Register goods handed to the charity; the donor gets a tracking code."""
        _ = gettext_for(request)
        await organizations.verified_charity(organization_id=organization_id)
        try:
            gift = msgspec.convert(
                {
                    "organization_id": organization_id,
                    "item_code": data.item_code.strip(),
                    "quantity": data.quantity.strip(),
                    "donor_name": data.donor_name.strip(),
                    "donor_email": data.donor_email.strip(),
                },
                GoodsDonationCreate,
                strict=False,
            )
            registered = await goods.register_goods(data=gift)
        except (DomainError, msgspec.ValidationError) as exc:
            form = refused(
                request,
                exc,
                data,
                invalid={
                    "item_code": _("Pick an item from the list"),
                    "quantity": _("Enter a whole number of units, at least 1"),
                    "donor_name": _("The name is too long"),
                    "donor_email": _("Enter an email address such as name@example.com, or none"),
                },
            )
            return await self._give_goods(request, organization_id, form, 400)
        return done(
            request,
            _("Thank you. Keep your tracking code: %(code)s") % {"code": registered.tracking_code},
            f"/donations/{registered.tracking_code}",
        )

    @get("/track", exclude_from_auth=True, security=[{}], guessing=Guess.tracking_code)
    async def track_form(self, request: AnyRequest) -> Template | Redirect:
        code = (request.query_params.get("code") or "").strip().upper().replace(" ", "")
        if code and tracking.valid_code(code):
            return Redirect(f"/donations/{code}", status_code=303)
        _ = gettext_for(request)
        error = _("This is not a tracking code.") if code else None
        return page(
            request,
            "donations/track.html.j2",
            {"error": error, "code": code},
            status_code=400 if error else 200,
        )

    @get("/dashboard", exclude_from_auth=True, security=[{}])
    async def dashboard(self, request: AnyRequest) -> Template:
        """What was given and delivered, per county and kind (never a household)."""
        _ = gettext_for(request)
        rows = await tracking.dashboard()
        kinds = sorted({row.kind for row in rows if row.kind != DonationKind.money})
        counties: dict[str, dict[str, Any]] = defaultdict(lambda: {"name": "", "kinds": {}})
        for row in rows:
            county = counties[row.county_code]
            county["name"] = row.county_name
            county["kinds"][row.kind] = row
        chart = {
            "type": "bar",
            "stacked": True,
            "labels": [counties[code]["name"] for code in sorted(counties)],
            "datasets": [
                {
                    "label": item_label(request, kind),
                    "data": [
                        getattr(counties[code]["kinds"].get(kind), "delivered_units", 0)
                        for code in sorted(counties)
                    ],
                }
                for kind in kinds
            ],
        }
        totals = {
            "deliveries": await deliveries.count_delivered(),  # as the home page counts them
            "counties": len({row.county_code for row in rows if row.delivered_units}),
        }
        return page(
            request,
            "donations/dashboard.html.j2",
            {"rows": rows, "chart": chart, "yuan": yuan, "kinds": kinds, "totals": totals},
        )
