"""A charity's side of giving, in pages: its campaigns (open one, close one, record what its
money bought) and the gifts it received (accept donated goods into an offer, or decline them;
refund money through Stripe).

The handlers call the same services as the API (:mod:`.campaigns`, :mod:`.purchases`,
:mod:`.goods`, :mod:`.records`); a refused form comes back with what was typed and the problem
at its field (:func:`nuanxin.forms.refused`). Money is typed in yuan and kept in fen, never
through a float.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from nuanxin.donations import campaigns, goods, purchases, records, refunds
from nuanxin.donations.campaigns import yuan
from nuanxin.donations.schemas import (
    CampaignCreate,
    DonationRecord,
    GoodsAccept,
    GoodsDecline,
    PurchaseCreate,
    RefundCreate,
)
from nuanxin.donations.vocabulary import REFUNDABLE, DonationKind, DonationStatus
from nuanxin.errors import DomainError, Forbidden
from nuanxin.forms import FormState, blank, refused
from nuanxin.guards import charity_members
from nuanxin.identity import CurrentUser
from nuanxin.offers import services as offers
from nuanxin.offers.schemas import Offer
from nuanxin.offers.vocabulary import OfferStatus
from nuanxin.pagination import MAX_LIMIT, Pagination
from nuanxin.regions.services import resolve_region
from nuanxin.settings import Settings
from nuanxin.warehouses import services as warehouses
from nuanxin.warehouses.schemas import Warehouse
from nuanxin.web import PageController, done, gettext_for, page

__all__ = ("CharityCampaignPages", "CharityDonationPages")

AnyRequest = Request[Any, Any, Any]
URL_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
REFUSED = (DomainError, msgspec.ValidationError)
PER_PAGE = 50


def _charity(actor: CurrentUser) -> int:
    if actor.organization_id is None:  # pragma: no cover - every charity account has one
        raise Forbidden("This account belongs to no charity")
    return actor.organization_id


def fen_of(text: str) -> int | None:
    """``"85.50"`` yuan -> 8550 fen; ``None`` unless a positive amount with at most 2 decimals."""
    cleaned = text.strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    fen = amount * 100
    if not amount.is_finite() or fen != fen.to_integral_value() or fen <= 0:
        return None
    return int(fen)


async def _warehouses(actor: CurrentUser) -> list[Warehouse]:
    return (
        await warehouses.list_warehouses(
            user=actor, organization_id=_charity(actor), page=Pagination(limit=MAX_LIMIT)
        )
    ).items


def _invalid(request: AnyRequest) -> dict[str, str]:
    """What to say when a field's value is malformed (the DTOs' limits, in words)."""
    _ = gettext_for(request)
    return {
        "title": _("Enter a title of up to 200 characters"),
        "ends_on": _("Enter the last day as year-month-day, e.g. 2027-02-28"),
        "item_codes": _("Tick at least one item"),
        "target_fen": _("Enter a target of at least ¥1.00"),
        "target_yuan": _("Enter a target of at least ¥1.00"),
        "quantity": _("Enter a whole number of units, at least 1"),
        "cost_fen": _("Enter an amount in yuan, e.g. 85.50"),
        "cost_yuan": _("Enter an amount in yuan, e.g. 85.50"),
        "warehouse_id": _("Pick one of your warehouses"),
        "radius_km": _("Enter a radius between 1 and 500 km"),
        "available_until": _("Enter the last day as year-month-day, e.g. 2027-02-28"),
        "item_code": _("Pick an item of the campaign"),
        "reason": _("Say why the goods are declined"),
        "offer_id": _("Pick an open offer of this item at this warehouse, or none"),
    }


# -- campaigns ----------------------------------------------------------------------------


class CampaignForm(msgspec.Struct, kw_only=True):
    """The campaign form as typed (the items are read from the repeated ``item_codes``)."""

    title: str = ""
    region: str = ""
    item_codes: list[str] = msgspec.field(default_factory=list)
    target_yuan: str = ""
    ends_on: str = ""


class PurchaseForm(msgspec.Struct, kw_only=True):
    """A purchase paid from the campaign's money, as typed (any item of the campaign)."""

    item_code: str = ""
    quantity: str = ""
    cost_yuan: str = ""
    warehouse_id: str = ""
    radius_km: str = "50"
    available_until: str = ""


class CharityCampaignPages(PageController):
    """A charity's campaigns: open one, see its books, record purchases, close it."""

    path = "/charity/campaigns"
    guards = [charity_members]  # noqa: RUF012

    async def _index(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        found = await campaigns.list_campaigns(
            page=Pagination(limit=MAX_LIMIT), organization_id=_charity(actor), status=None
        )
        default = CampaignForm(ends_on=(campaigns.today() + timedelta(days=90)).isoformat())
        return page(
            request,
            "charity/campaigns.html.j2",
            {
                "found": found,
                "items": await offers.list_items(),
                "form": form or blank(default),
                "yuan": yuan,
                "today": campaigns.today(),
            },
            status_code=status_code,
        )

    @get("/")
    async def index(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
        return await self._index(request, actor)

    @post("/", status_code=303)
    async def open(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser]
    ) -> Template | Redirect:
        _ = gettext_for(request)
        raw = await request.form()
        typed = CampaignForm(
            title=str(raw.get("title", "")),
            region=str(raw.get("region", "")),
            item_codes=[str(code) for code in raw.getall("item_codes", [])],
            target_yuan=str(raw.get("target_yuan", "")),
            ends_on=str(raw.get("ends_on", "")),
        )
        try:
            target = fen_of(typed.target_yuan)
            if target is None:
                return await self._index(
                    request,
                    actor,
                    FormState(
                        values=msgspec.structs.asdict(typed),
                        errors={"target_yuan": _invalid(request)["target_yuan"]},
                    ),
                    400,
                )
            region = await resolve_region(typed.region, field="region", levels=("county",))
            opened = await campaigns.create_campaign(
                user=actor,
                data=msgspec.convert(
                    {
                        "title": typed.title.strip(),
                        "region_code": region.code,
                        "item_codes": typed.item_codes,
                        "target_fen": target,
                        "ends_on": typed.ends_on.strip(),
                    },
                    CampaignCreate,
                    strict=False,
                ),
            )
        except REFUSED as exc:
            form = refused(
                request,
                exc,
                typed,
                invalid=_invalid(request),
                aliases={"region_code": "region", "target_fen": "target_yuan"},
            )
            return await self._index(request, actor, form, 400)
        return done(
            request,
            _("Campaign %(title)s is open: donors find it on the Give page.")
            % {"title": opened.title},
            f"/charity/campaigns/{opened.id}",
        )

    async def _one(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        campaign_id: int,
        form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        await campaigns.own_campaign(actor, campaign_id)
        campaign = await campaigns.get_campaign(campaign_id=campaign_id)
        bought = await purchases.list_purchases(
            campaign_id=campaign_id, page=Pagination(limit=MAX_LIMIT)
        )
        items = [i for i in await offers.list_items() if i.code in campaign.item_codes]
        return page(
            request,
            "charity/campaign.html.j2",
            {
                "c": campaign,
                "bought": bought,
                "items": items,
                "warehouses": await _warehouses(actor),
                "form": form or blank(PurchaseForm()),
                "yuan": yuan,
                "today": campaigns.today(),
            },
            status_code=status_code,
        )

    @get("/{campaign_id:int}")
    async def one(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        campaign_id: FromPath[int],
    ) -> Template:
        return await self._one(request, actor, campaign_id)

    @post("/{campaign_id:int}/purchases", status_code=303)
    async def purchase(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        campaign_id: FromPath[int],
        data: Annotated[PurchaseForm, URL_FORM],
    ) -> Template | Redirect:
        """Record goods bought with the campaign's money: they go on offer at a warehouse."""
        _ = gettext_for(request)
        await campaigns.own_campaign(actor, campaign_id)
        cost = fen_of(data.cost_yuan)
        if cost is None:
            form = FormState(
                values=msgspec.structs.asdict(data),
                errors={"cost_yuan": _invalid(request)["cost_yuan"]},
            )
            return await self._one(request, actor, campaign_id, form, 400)
        fields: dict[str, Any] = {
            "item_code": data.item_code.strip(),
            "quantity": data.quantity.strip(),
            "cost_fen": cost,
            "warehouse_id": data.warehouse_id.strip(),
        }
        for name in ("radius_km", "available_until"):
            value = getattr(data, name).strip()
            if value:
                fields[name] = value
        try:
            bought = await purchases.record_purchase(
                user=actor,
                campaign_id=campaign_id,
                data=msgspec.convert(fields, PurchaseCreate, strict=False),
            )
        except REFUSED as exc:
            form = refused(
                request, exc, data, invalid=_invalid(request), aliases={"cost_fen": "cost_yuan"}
            )
            return await self._one(request, actor, campaign_id, form, 400)
        return done(
            request,
            _("Purchase #%(id)d recorded: %(n)d units are on offer (offer #%(offer)d).")
            % {"id": bought.id, "n": bought.quantity, "offer": bought.offer_id},
            f"/charity/campaigns/{campaign_id}",
        )

    @post("/{campaign_id:int}/close", status_code=303)
    async def close(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        campaign_id: FromPath[int],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            closed = await campaigns.close_campaign(user=actor, campaign_id=campaign_id)
        except REFUSED as exc:
            return await self._one(request, actor, campaign_id, refused(request, exc, {}), 400)
        return done(
            request,
            _(
                "Campaign %(title)s is closed: it takes no more donations; its money can "
                "still buy goods."
            )
            % {"title": closed.title},
            f"/charity/campaigns/{campaign_id}",
        )


# -- gifts received -----------------------------------------------------------------------


class AcceptForm(msgspec.Struct, kw_only=True):
    """Where accepted goods go: a warehouse, and an open offer there to join (or a new one)."""

    warehouse_id: str = ""
    offer_id: str = ""
    radius_km: str = "50"
    available_until: str = ""


class DeclineForm(msgspec.Struct, kw_only=True):
    reason: str = ""


class RefundForm(msgspec.Struct, kw_only=True):
    """Give back all (blank) or part of a paid donation, through Stripe."""

    amount_yuan: str = ""
    reason: str = ""


async def _open_offers(actor: CurrentUser, item_code: str | None) -> list[Offer]:
    """The charity's open offers of this item (the goods may join one)."""
    if item_code is None:
        return []
    found = await offers.list_offers(
        user=actor,
        page=Pagination(limit=MAX_LIMIT),
        status=OfferStatus.open,
        item_code=item_code,
        organization_id=_charity(actor),
    )
    return found.items


class CharityDonationPages(PageController):
    """The gifts a charity received: goods to accept into an offer or decline, money given."""

    path = "/charity/donations"
    guards = [charity_members]  # noqa: RUF012

    @get("/")
    async def index(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], offset: FromQuery[int] = 0
    ) -> Template:
        waiting = await records.list_donations(
            user=actor,
            page=Pagination(limit=MAX_LIMIT),
            kind=DonationKind.goods,
            status=DonationStatus.created,
        )
        found = await records.list_donations(
            user=actor, page=Pagination(limit=PER_PAGE, offset=max(offset, 0))
        )
        return page(
            request,
            "charity/donations.html.j2",
            {"waiting": waiting, "found": found, "yuan": yuan},
        )

    async def _one(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        donation_id: int,
        *,
        accept: FormState | None = None,
        decline: FormState | None = None,
        refund: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        donation = await records.own_donation(actor, donation_id)
        campaign = None
        if donation.campaign_id is not None:
            campaign = await campaigns.get_campaign(campaign_id=donation.campaign_id)
        houses = await _warehouses(actor)
        default = AcceptForm(warehouse_id=str(houses[0].id) if houses else "")
        return page(
            request,
            "charity/donation.html.j2",
            {
                "d": donation,
                "campaign": campaign,
                "warehouses": houses,
                "offers": await _open_offers(actor, donation.item_code),
                "accept": accept or blank(default),
                "decline": decline or blank(DeclineForm()),
                "refund": refund or blank(RefundForm()),
                "yuan": yuan,
                "undecided": _undecided(donation),
                "refundable": donation.kind is DonationKind.money and donation.status in REFUNDABLE,
            },
            status_code=status_code,
        )

    @get("/{donation_id:int}")
    async def one(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        donation_id: FromPath[int],
    ) -> Template:
        return await self._one(request, actor, donation_id)

    @post("/{donation_id:int}/accept", status_code=303)
    async def accept(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        donation_id: FromPath[int],
        data: Annotated[AcceptForm, URL_FORM],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        fields: dict[str, Any] = {"warehouse_id": data.warehouse_id.strip()}
        for name in ("offer_id", "radius_km", "available_until"):
            value = getattr(data, name).strip()
            if value:
                fields[name] = value
        try:
            accepted = await goods.accept_goods(
                user=actor,
                donation_id=donation_id,
                data=msgspec.convert(fields, GoodsAccept, strict=False),
            )
        except REFUSED as exc:
            form = refused(request, exc, data, invalid=_invalid(request))
            return await self._one(request, actor, donation_id, accept=form, status_code=400)
        return done(
            request,
            _(
                "The goods are taken in: they are on offer (offer #%(offer)d) and the "
                "donor's timeline says so."
            )
            % {"offer": accepted.offer_id or 0},
            f"/charity/donations/{donation_id}",
        )

    @post("/{donation_id:int}/decline", status_code=303)
    async def decline(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        donation_id: FromPath[int],
        data: Annotated[DeclineForm, URL_FORM],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            await goods.decline_goods(
                user=actor,
                donation_id=donation_id,
                data=msgspec.convert({"reason": data.reason.strip()}, GoodsDecline),
            )
        except REFUSED as exc:
            form = refused(request, exc, data, invalid=_invalid(request))
            return await self._one(request, actor, donation_id, decline=form, status_code=400)
        return done(request, _("The goods are declined."), f"/charity/donations/{donation_id}")

    @post("/{donation_id:int}/refund", status_code=303)
    async def refund(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        donation_id: FromPath[int],
        data: Annotated[RefundForm, URL_FORM],
    ) -> Template | Redirect:
        """Refund all or part of a paid donation through Stripe (never money already spent)."""
        _ = gettext_for(request)
        await records.own_donation(actor, donation_id)
        fields: dict[str, Any] = {"reason": data.reason.strip()}
        if data.amount_yuan.strip():
            amount = fen_of(data.amount_yuan)
            if amount is None:
                form = FormState(
                    values=msgspec.structs.asdict(data),
                    errors={"amount_yuan": _invalid(request)["cost_yuan"]},
                )
                return await self._one(request, actor, donation_id, refund=form, status_code=400)
            fields["amount_fen"] = amount
        try:
            after = await refunds.refund_donation(
                settings=settings,
                user=actor,
                donation_id=donation_id,
                data=msgspec.convert(fields, RefundCreate),
            )
        except REFUSED as exc:
            form = refused(
                request,
                exc,
                data,
                invalid={
                    "amount_fen": _("Refund at least ¥1.00, and no more than is left"),
                    "reason": _("The reason is too long"),
                },
                aliases={"amount_fen": "amount_yuan"},
            )
            return await self._one(request, actor, donation_id, refund=form, status_code=400)
        return done(
            request,
            _("%(amount)s refunded to the donor through Stripe.")
            % {"amount": yuan(after.refunded_fen)},
            f"/charity/donations/{donation_id}",
        )


def _undecided(donation: DonationRecord) -> bool:
    return donation.kind is DonationKind.goods and donation.status is DonationStatus.created
