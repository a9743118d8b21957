"""The charity's purchase page: its prices, what to buy where (ranked per yuan), and a
purchase that follows a line of the advice."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from nuanxin.advice import services, whatif
from nuanxin.advice.schemas import AdvisedPurchaseIn, WhatIfIn, WhatIfOut
from nuanxin.donations import campaigns
from nuanxin.donations.campaigns import yuan
from nuanxin.errors import DomainError, Invalid
from nuanxin.guards import charity_members, staff_and_admin
from nuanxin.identity import CurrentUser
from nuanxin.offers import services as offers
from nuanxin.pagination import MAX_LIMIT, Pagination
from nuanxin.web import PageController, done, form_error, gettext_for, page

__all__ = ("AdvicePages", "RoundWhatIfPages")

AnyRequest = Request[Any, Any, Any]
PRICE_FIELD = "price_"


class PurchaseForm(msgspec.Struct, kw_only=True):
    """A purchase following one line of the advice, as typed (money in yuan)."""

    campaign_id: str = ""
    line: str = ""
    quantity: str = ""
    cost_yuan: str = ""


PurchaseBody = Annotated[PurchaseForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
PricesBody = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _fen(text: str, field: str) -> int:
    """``12.5`` yuan -> 1250 fen (never through a float)."""
    try:
        amount = Decimal(text.strip().replace(",", "").lstrip("¥"))
    except InvalidOperation:
        raise Invalid("Enter an amount in yuan, e.g. 85.50", field=field) from None
    fen = amount * 100
    if fen != fen.to_integral_value() or fen <= 0:
        raise Invalid("Enter an amount in yuan, e.g. 85.50", field=field)
    return int(fen)


class AdvicePages(PageController):
    path = "/charity/advice"
    guards = [charity_members]  # noqa: RUF012

    async def _page(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        *,
        values: dict[str, Any] | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        prices = {
            price.item_code: price.price_fen for price in await services.get_prices(actor=actor)
        }
        open_campaigns = []
        if actor.organization_id is not None:
            open_campaigns = (
                await campaigns.list_campaigns(
                    page=Pagination(limit=MAX_LIMIT, offset=0),
                    organization_id=actor.organization_id,
                    status=None,  # a closed campaign's money still buys goods
                )
            ).items
        return page(
            request,
            "charity/advice.html.j2",
            {
                "items": await offers.list_items(),
                "prices": {code: yuan(fen).lstrip("¥") for code, fen in prices.items()},
                "advice": await services.latest_advice(actor=actor),
                "campaigns": open_campaigns,
                "yuan": yuan,
                "values": values or {},
                "error": error,
            },
            status_code=status_code,
        )

    @get("/")
    async def show(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
        return await self._page(request, actor)

    @post("/", status_code=303)
    async def rank(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], data: PricesBody
    ) -> Template | Redirect:
        """Save the prices typed, and rank what to buy with them."""
        _ = gettext_for(request)
        try:
            prices = {
                key[len(PRICE_FIELD) :]: _fen(value, key)
                for key, value in data.items()
                if key.startswith(PRICE_FIELD) and value.strip()
            }
            await services.set_prices(actor=actor, prices=prices)
            await services.compute_advice(actor=actor)
        except DomainError as exc:
            return await self._page(
                request,
                actor,
                values=dict(data),
                error=form_error(request, exc),
                status_code=400,
            )
        return done(request, _("Prices saved; the advice is up to date."), "/charity/advice")

    @post("/{advice_id:int}/purchases", status_code=303)
    async def purchase(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        advice_id: FromPath[int],
        data: PurchaseBody,
    ) -> Template | Redirect:
        """Record a purchase following a line of the advice (linked to it)."""
        _ = gettext_for(request)
        try:
            wanted = msgspec.convert(
                {
                    "campaign_id": data.campaign_id,
                    "line": data.line,
                    "quantity": data.quantity,
                    "cost_fen": _fen(data.cost_yuan, "cost_yuan"),
                },
                AdvisedPurchaseIn,
                strict=False,
            )
            bought = await services.record_advised_purchase(
                actor=actor, advice_id=advice_id, data=wanted
            )
        except (DomainError, msgspec.ValidationError, ValueError) as exc:
            return await self._page(
                request,
                actor,
                values=msgspec.structs.asdict(data),
                error=form_error(request, exc),
                status_code=400,
            )
        return done(
            request,
            _("Purchase #%(id)d recorded, following the advice.") % {"id": bought.id},
            "/charity/advice",
        )


class WhatIfForm(msgspec.Struct, kw_only=True):
    """The what-if form as typed."""

    change: str = "stock"
    offer_id: str = ""
    item_code: str = ""
    quantity: str = "10"
    radius_km: str = ""


WhatIfBody = Annotated[WhatIfForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


class RoundWhatIfPages(PageController):
    """Before approving a round, staff ask what more stock or a wider radius would change."""

    path = "/staff/rounds/{round_id:int}/what-if"
    guards = [staff_and_admin]  # noqa: RUF012

    async def _page(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        round_id: int,
        *,
        values: dict[str, Any],
        answer: WhatIfOut | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "staff/round_what_if.html.j2",
            {
                "round_id": round_id,
                "offers": await whatif.snapshot_offers(actor=actor, round_id=round_id),
                "items": await offers.list_items(),
                "values": values,
                "answer": answer,
                "error": error,
            },
            status_code=status_code,
        )

    @get("/")
    async def form(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], round_id: FromPath[int]
    ) -> Template:
        return await self._page(
            request, actor, round_id, values=msgspec.structs.asdict(WhatIfForm())
        )

    @post("/", status_code=200)
    async def ask(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        round_id: FromPath[int],
        data: WhatIfBody,
    ) -> Template:
        values = msgspec.structs.asdict(data)
        try:
            fields: dict[str, Any] = {
                key: value.strip() for key, value in values.items() if value.strip()
            }
            change = msgspec.convert(fields, WhatIfIn, strict=False)
            answer = await whatif.round_what_if(actor=actor, round_id=round_id, change=change)
        except (DomainError, msgspec.ValidationError, ValueError) as exc:
            return await self._page(
                request,
                actor,
                round_id,
                values=values,
                error=form_error(request, exc),
                status_code=400,
            )
        return await self._page(request, actor, round_id, values=values, answer=answer)
