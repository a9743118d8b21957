"""The JSON API of the offers area: the item catalogue, and the offers charities post."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from nuanxin.guards import charity_members
from nuanxin.identity import CurrentUser
from nuanxin.offers import services
from nuanxin.offers.schemas import Item, Offer, OfferCreate, OfferUpdate, OfferWithdraw
from nuanxin.offers.vocabulary import OfferStatus
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses

__all__ = ("ItemController", "OfferController")

PAGINATED: dict[str, Provide] = {"page": Provide(provide_pagination)}


class ItemController(Controller):
    path = "/api/items"
    tags = ("offers",)

    @get(
        operation_id="ListItems",
        exclude_from_auth=True,
        security=[{}],
        responses=error_responses(400),
        summary="The item catalogue: coal, coats by size, quilts, electric blankets, stoves",
    )
    async def list_items(
        self, kind: Annotated[str | None, QueryParameter(max_length=20)] = None
    ) -> list[Item]:
        return await services.list_items(kind=kind)


class OfferController(Controller):
    path = "/api/offers"
    tags = ("offers",)
    dependencies = PAGINATED

    @get(
        operation_id="ListOffers",
        responses=error_responses(400, 401),
        summary="Offers within reach: one's charity's, or from warehouses in one's jurisdiction",
    )
    async def list_offers(
        self,
        actor: NamedDependency[CurrentUser],
        page: NamedDependency[Pagination],
        status: FromQuery[OfferStatus | None] = None,
        item_code: Annotated[str | None, QueryParameter(max_length=32)] = None,
        kind: Annotated[str | None, QueryParameter(max_length=20)] = None,
        warehouse_id: FromQuery[int | None] = None,
        organization_id: FromQuery[int | None] = None,
        region_code: Annotated[
            str | None, QueryParameter(description="warehouses in this region")
        ] = None,
        available_only: FromQuery[bool] = False,
    ) -> Page[Offer]:
        return await services.list_offers(
            user=actor,
            page=page,
            status=status,
            item_code=item_code,
            kind=kind,
            warehouse_id=warehouse_id,
            organization_id=organization_id,
            region_code=region_code,
            available_only=available_only,
        )

    @post(
        operation_id="CreateOffer",
        guards=[charity_members],
        responses=error_responses(400, 401, 403, 404, 409),  # 404: another charity's warehouse
        summary="Post an offer of a catalogue item from one of the charity's warehouses",
    )
    async def create_offer(
        self, actor: NamedDependency[CurrentUser], data: JSONBody[OfferCreate]
    ) -> Offer:
        return await services.create_offer(user=actor, data=data)

    @get(
        "/{offer_id:int}",
        operation_id="GetOffer",
        responses=error_responses(400, 401, 404),
        summary="One offer with its stock: available, reserved, delivered, withdrawn",
    )
    async def get_offer(
        self, actor: NamedDependency[CurrentUser], offer_id: FromPath[int]
    ) -> Offer:
        return await services.get_offer(user=actor, offer_id=offer_id)

    @patch(
        "/{offer_id:int}",
        operation_id="UpdateOffer",
        guards=[charity_members],
        responses=error_responses(400, 401, 403, 404, 409),
        summary="Edit an open offer; its quantity never drops below what is reserved",
    )
    async def update_offer(
        self,
        actor: NamedDependency[CurrentUser],
        offer_id: FromPath[int],
        data: JSONBody[OfferUpdate],
    ) -> Offer:
        return await services.update_offer(user=actor, offer_id=offer_id, data=data)

    @post(
        "/{offer_id:int}/withdraw",
        operation_id="WithdrawOffer",
        guards=[charity_members],
        status_code=HTTP_200_OK,
        responses=error_responses(400, 401, 403, 404, 409),
        summary="Take back available units (all of them, and close the offer, by default)",
    )
    async def withdraw_offer(
        self,
        actor: NamedDependency[CurrentUser],
        offer_id: FromPath[int],
        data: JSONBody[OfferWithdraw],
    ) -> Offer:
        return await services.withdraw_offer(
            user=actor,
            offer_id=offer_id,
            reason=data.reason,
            quantity=data.quantity,
            unit=data.unit,
        )
