"""The JSON API of the purchase advice: the charity's prices, the advice, advised purchases."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from nuanxin.advice import services, whatif
from nuanxin.advice.schemas import Advice, AdvisedPurchaseIn, Price, PricesIn, WhatIfIn, WhatIfOut
from nuanxin.donations.schemas import Purchase
from nuanxin.guards import charity_members, staff_and_admin
from nuanxin.identity import CurrentUser
from nuanxin.responses import error_responses

__all__ = ("AdviceController", "RoundWhatIfController")

ERRORS = error_responses(400, 401, 403, 404, 409)


class AdviceController(Controller):
    path = "/api/advice"
    tags = ("advice",)
    guards = [charity_members]  # noqa: RUF012 - Litestar's controller attribute

    @get("/prices", operation_id="ListPurchasePrices", responses=ERRORS, summary="My prices")
    async def prices(self, actor: NamedDependency[CurrentUser]) -> list[Price]:
        return await services.get_prices(actor=actor)

    @put(
        "/prices",
        operation_id="SetPurchasePrices",
        responses=ERRORS,
        summary="Set my price of one unit per item (fen); items left out have none",
    )
    async def set_prices(
        self, actor: NamedDependency[CurrentUser], data: JSONBody[PricesIn]
    ) -> list[Price]:
        return await services.set_prices(actor=actor, prices=dict(data.prices))

    @post(
        operation_id="ComputePurchaseAdvice",
        status_code=HTTP_201_CREATED,
        responses=ERRORS,
        summary="Rank what to buy at my warehouses by value per yuan (exact; stored)",
    )
    async def compute(
        self,
        actor: NamedDependency[CurrentUser],
        units: Annotated[int, QueryParameter(ge=1, le=10_000)] = services.BATCH,
    ) -> Advice:
        return await services.compute_advice(actor=actor, units=units)

    @get(
        "/latest",
        operation_id="GetPurchaseAdvice",
        responses=ERRORS,
        summary="My latest purchase advice (null: none yet)",
    )
    async def latest(self, actor: NamedDependency[CurrentUser]) -> Advice | None:
        return await services.latest_advice(actor=actor)

    @post(
        "/{advice_id:int}/purchases",
        operation_id="RecordAdvisedPurchase",
        status_code=HTTP_201_CREATED,
        responses=ERRORS,
        summary="Record a purchase that follows a line of my advice (linked to it)",
    )
    async def purchase(
        self,
        actor: NamedDependency[CurrentUser],
        advice_id: FromPath[int],
        data: JSONBody[AdvisedPurchaseIn],
    ) -> Purchase:
        return await services.record_advised_purchase(actor=actor, advice_id=advice_id, data=data)


class RoundWhatIfController(Controller):
    path = "/api/rounds/{round_id:int}/what-if"
    tags = ("rounds",)
    guards = [staff_and_admin]  # noqa: RUF012 - Litestar's controller attribute

    @post(
        operation_id="AskRoundWhatIf",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="What if: more stock at an offer's warehouse, or a wider radius (exact change)",
    )
    async def ask(
        self, actor: NamedDependency[CurrentUser], round_id: FromPath[int], data: JSONBody[WhatIfIn]
    ) -> WhatIfOut:
        return await whatif.round_what_if(actor=actor, round_id=round_id, change=data)
