"""The JSON API of the donations area: campaigns, donations, Stripe's webhook, tracking."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from nuanxin.donations import (
    campaigns,
    goods,
    need,
    payments,
    purchases,
    records,
    refunds,
    tracking,
    webhooks,
)
from nuanxin.donations.schemas import (
    Campaign,
    CampaignCreate,
    CampaignNeed,
    DashboardRow,
    DonationCreate,
    DonationRecord,
    DonationStarted,
    GoodsAccept,
    GoodsDecline,
    GoodsDonationCreate,
    GoodsRegistered,
    Purchase,
    PurchaseCreate,
    Receipt,
    RefundCreate,
    Tracking,
    WebhookAnswer,
)
from nuanxin.donations.vocabulary import CampaignStatus, DonationKind, DonationStatus
from nuanxin.errors import Invalid
from nuanxin.guards import charity_members, require_roles
from nuanxin.identity import CurrentUser, Role
from nuanxin.limits import Guess
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses
from nuanxin.settings import Settings

__all__ = (
    "CampaignController",
    "DonationController",
    "PublicDonationController",
    "StripeWebhookController",
)

T = TypeVar("T", bound=msgspec.Struct)
_AT = re.compile(r"at `\$\.(\w+)")
WEBHOOK_PATH = "/api/stripe/webhook"  # excluded from CSRF in app.py (Stripe sends no token)
PUBLIC: dict[str, Any] = {"exclude_from_auth": True, "security": [{}]}
MEMBER_ERRORS = error_responses(400, 401, 403, 404, 409)
PUBLIC_ERRORS = error_responses(400, 403, 404, 409)
TRACK_ERRORS = error_responses(400, 404, 429)
members_and_admins = require_roles(Role.charity, Role.admin)


async def strictly(request: Request[Any, Any, Any], data: T) -> T:
    """``data`` again, decoded strictly: money never arrives as a float (12.0) or a string.

    Litestar converts request bodies leniently; amounts of money must be JSON integers.
    """
    try:
        return msgspec.json.decode(await request.body(), type=type(data), strict=True)
    except msgspec.ValidationError as exc:
        match = _AT.search(str(exc))
        raise Invalid(
            str(exc),
            error="validation_error",
            field=match.group(1) if match else None,
        ) from exc


class CampaignController(Controller):
    path = "/api/campaigns"
    tags = ("donations",)
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @get(
        operation_id="ListCampaigns",
        responses=error_responses(400),
        summary="Campaigns with their progress (public)",
        **PUBLIC,
    )
    async def list_campaigns(
        self,
        page: NamedDependency[Pagination],
        status: Annotated[
            Literal["open", "closed", "all"],
            QueryParameter(description="open (default), closed or all"),
        ] = "open",
        region_code: Annotated[str | None, QueryParameter(max_length=12)] = None,
        organization_id: Annotated[int | None, QueryParameter()] = None,
    ) -> Page[Campaign]:
        return await campaigns.list_campaigns(
            page=page,
            status=None if status == "all" else CampaignStatus(status),
            region_code=region_code,
            organization_id=organization_id,
        )

    @get(
        "/{campaign_id:int}",
        operation_id="GetCampaign",
        responses=PUBLIC_ERRORS,
        summary="A campaign and its books (public)",
        **PUBLIC,
    )
    async def get_campaign(self, campaign_id: FromPath[int]) -> Campaign:
        return await campaigns.get_campaign(campaign_id=campaign_id)

    @get(
        "/{campaign_id:int}/need",
        operation_id="GetCampaignNeed",
        responses=PUBLIC_ERRORS,
        summary="The unmet need of the campaign's region by item, now (public, counts only)",
        **PUBLIC,
    )
    async def get_campaign_need(self, campaign_id: FromPath[int]) -> CampaignNeed:
        return await need.campaign_need(campaign_id=campaign_id)

    @post(
        operation_id="CreateCampaign",
        guards=[charity_members],
        status_code=HTTP_201_CREATED,
        responses=MEMBER_ERRORS,
        summary="A verified charity's member opens a campaign",
    )
    async def create_campaign(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[CurrentUser],
        data: JSONBody[CampaignCreate],
    ) -> Campaign:
        data = await strictly(request, data)
        return await campaigns.create_campaign(user=actor, data=data)

    @post(
        "/{campaign_id:int}/close",
        operation_id="CloseCampaign",
        guards=[charity_members],
        status_code=HTTP_200_OK,
        responses=MEMBER_ERRORS,
        summary="Close one's own campaign",
    )
    async def close_campaign(
        self, actor: NamedDependency[CurrentUser], campaign_id: FromPath[int]
    ) -> Campaign:
        return await campaigns.close_campaign(user=actor, campaign_id=campaign_id)

    @post(
        "/{campaign_id:int}/donations",
        operation_id="CreateDonation",
        status_code=HTTP_201_CREATED,
        responses=PUBLIC_ERRORS,
        summary="Start a money donation: the donation, then its Stripe PaymentIntent (public)",
        **PUBLIC,
    )
    async def create_donation(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        campaign_id: FromPath[int],
        data: JSONBody[DonationCreate],
    ) -> DonationStarted:
        data = await strictly(request, data)
        return await payments.start_donation(settings=settings, campaign_id=campaign_id, data=data)

    @get(
        "/{campaign_id:int}/purchases",
        operation_id="ListPurchases",
        responses=PUBLIC_ERRORS,
        summary="What the campaign's money bought (public)",
        **PUBLIC,
    )
    async def list_purchases(
        self, campaign_id: FromPath[int], page: NamedDependency[Pagination]
    ) -> Page[Purchase]:
        return await purchases.list_purchases(campaign_id=campaign_id, page=page)

    @post(
        "/{campaign_id:int}/purchases",
        operation_id="CreatePurchase",
        guards=[charity_members],
        status_code=HTTP_201_CREATED,
        responses=MEMBER_ERRORS,
        summary="Spend campaign money on goods: they become an offer at a warehouse",
    )
    async def create_purchase(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[CurrentUser],
        campaign_id: FromPath[int],
        data: JSONBody[PurchaseCreate],
    ) -> Purchase:
        data = await strictly(request, data)
        return await purchases.record_purchase(user=actor, campaign_id=campaign_id, data=data)


class DonationController(Controller):
    """A charity's side of its donations: list, refund, accept or decline goods."""

    path = "/api/donations"
    tags = ("donations",)
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @get(
        operation_id="ListDonations",
        guards=[members_and_admins],
        responses=MEMBER_ERRORS,
        summary="The charity's donations (admins: all)",
    )
    async def list_donations(
        self,
        actor: NamedDependency[CurrentUser],
        page: NamedDependency[Pagination],
        kind: Annotated[DonationKind | None, QueryParameter()] = None,
        status: Annotated[DonationStatus | None, QueryParameter()] = None,
        campaign_id: Annotated[int | None, QueryParameter()] = None,
    ) -> Page[DonationRecord]:
        return await records.list_donations(
            user=actor,
            page=page,
            kind=kind,
            status=status,
            campaign_id=campaign_id,
        )

    @post(
        "/{donation_id:int}/refunds",
        operation_id="RefundDonation",
        guards=[charity_members],
        status_code=HTTP_200_OK,
        responses=MEMBER_ERRORS,
        summary="Refund all or part of a paid donation through Stripe",
    )
    async def refund(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        donation_id: FromPath[int],
        data: JSONBody[RefundCreate],
    ) -> DonationRecord:
        data = await strictly(request, data)
        return await refunds.refund_donation(
            settings=settings, user=actor, donation_id=donation_id, data=data
        )

    @post(
        "/{donation_id:int}/accept",
        operation_id="AcceptGoodsDonation",
        guards=[charity_members],
        status_code=HTTP_200_OK,
        responses=MEMBER_ERRORS,
        summary="Take donated goods in: they join an offer at one of the charity's warehouses",
    )
    async def accept(
        self,
        actor: NamedDependency[CurrentUser],
        donation_id: FromPath[int],
        data: JSONBody[GoodsAccept],
    ) -> DonationRecord:
        return await goods.accept_goods(user=actor, donation_id=donation_id, data=data)

    @post(
        "/{donation_id:int}/decline",
        operation_id="DeclineGoodsDonation",
        guards=[charity_members],
        status_code=HTTP_200_OK,
        responses=MEMBER_ERRORS,
        summary="Decline donated goods, with the reason",
    )
    async def decline(
        self,
        actor: NamedDependency[CurrentUser],
        donation_id: FromPath[int],
        data: JSONBody[GoodsDecline],
    ) -> DonationRecord:
        return await goods.decline_goods(user=actor, donation_id=donation_id, data=data)


class PublicDonationController(Controller):
    """What donors and the public use: goods registration, tracking, receipts, dashboard."""

    path = "/api"
    tags = ("donations",)

    @post(
        "/goods-donations",
        operation_id="CreateGoodsDonation",
        status_code=HTTP_201_CREATED,
        responses=PUBLIC_ERRORS,
        summary="Register goods handed to a charity (public)",
        **PUBLIC,
    )
    async def register_goods(self, data: JSONBody[GoodsDonationCreate]) -> GoodsRegistered:
        return await goods.register_goods(data=data)

    @get(
        "/track/{code:str}",
        operation_id="TrackDonation",
        guessing=Guess.tracking_code,
        responses=TRACK_ERRORS,
        summary="A donation's timeline by its tracking code (public; never a household)",
        **PUBLIC,
    )
    async def track(self, code: FromPath[str]) -> Tracking:
        return await tracking.track(code=code)

    @get(
        "/track/{code:str}/receipt",
        operation_id="GetDonationReceipt",
        guessing=Guess.tracking_code,
        responses=TRACK_ERRORS,
        summary="The receipt of a donation, by its tracking code (public)",
        **PUBLIC,
    )
    async def receipt(self, code: FromPath[str]) -> Receipt:
        return await tracking.get_receipt(code=code)

    @get(
        "/donation-dashboard",
        operation_id="GetDonationDashboard",
        summary="Money and goods given, bought and delivered, per county and kind (public)",
        **PUBLIC,
    )
    async def dashboard(self) -> list[DashboardRow]:
        return await tracking.dashboard()


class StripeWebhookController(Controller):
    path = WEBHOOK_PATH
    tags = ("donations",)

    @post(
        operation_id="ReceiveStripeEvent",
        status_code=HTTP_200_OK,
        responses=PUBLIC_ERRORS,
        summary="Stripe's signed events (verified on the raw body; each event applied once)",
        **PUBLIC,
    )
    async def receive(
        self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]
    ) -> WebhookAnswer:
        return await webhooks.handle_event(
            settings=settings,
            payload=await request.body(),
            signature=request.headers.get("stripe-signature", ""),
        )
