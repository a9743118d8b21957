"""Charity pages: the stock dashboard, and posting or editing offers from a warehouse on a map."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from nuanxin.errors import DomainError, NotFound
from nuanxin.forms import FormState, blank, refused
from nuanxin.guards import charity_members
from nuanxin.identity import CurrentUser
from nuanxin.labels import quantity_text
from nuanxin.offers import services
from nuanxin.offers.schemas import Offer, OfferCreate, OfferUpdate, OfferWithdraw
from nuanxin.pagination import MAX_LIMIT, Pagination
from nuanxin.units import to_count
from nuanxin.warehouses import services as warehouses
from nuanxin.web import (
    PageController,
    done,
    form_error,
    gettext_for,
    item_label,
    language_of,
    page,
    status_label,
)

__all__ = ("CharityPages",)

AnyRequest = Request[Any, Any, Any]


class OfferForm(msgspec.Struct, kw_only=True):
    """The offer form as typed; :func:`_fields` turns it into the API's DTO fields."""

    warehouse_id: str = ""
    item_code: str = ""
    quantity: str = ""
    unit: str = ""
    radius_km: str = ""
    available_from: str = ""
    available_until: str = ""
    note: str = ""


OfferBody = Annotated[OfferForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


class WithdrawForm(msgspec.Struct, kw_only=True):
    """Take back units of an offer: a number of them, or (blank) all, which closes it."""

    reason: str = ""
    quantity: str = ""
    unit: str = ""  # blank: the item's counting unit (coal: 25 kg bags); or kg, t


WithdrawBody = Annotated[WithdrawForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


async def _all_offers(user: CurrentUser) -> list[Offer]:
    found: list[Offer] = []
    while True:
        chunk = await services.list_offers(
            user=user, page=Pagination(limit=MAX_LIMIT, offset=len(found))
        )
        found.extend(chunk.items)
        if not chunk.items or len(found) >= chunk.total:
            return found


async def _warehouses(user: CurrentUser) -> list[Any]:
    if user.organization_id is None:
        return []
    return (
        await warehouses.list_warehouses(
            user=user,
            organization_id=user.organization_id,
            page=Pagination(limit=MAX_LIMIT, offset=0),
        )
    ).items


def _fields(form: OfferForm) -> dict[str, Any]:
    """The offer form as the API's DTO fields (blank fields left out)."""
    raw = {key: str(value).strip() for key, value in msgspec.structs.asdict(form).items()}
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if value == "" and key != "note":
            continue
        if key == "warehouse_id":
            fields[key] = int(value)
        elif key == "radius_km":
            fields[key] = float(value)
        else:
            fields[key] = value
    return fields


def _values(offer: Offer) -> dict[str, Any]:
    """The edit form's values: the offer as it is."""
    return {
        "warehouse_id": offer.warehouse_id,
        "quantity": offer.quantity,
        "radius_km": offer.radius_km,
        "available_from": offer.available_from.isoformat(),
        "available_until": offer.available_until.isoformat(),
        "note": offer.note,
    }


class CharityPages(PageController):
    path = "/charity"
    guards = [charity_members]  # noqa: RUF012

    @get("/")
    async def dashboard(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
        _ = gettext_for(request)
        offers = await _all_offers(actor)
        stock: dict[str, dict[str, int]] = defaultdict(
            lambda: {"available": 0, "reserved": 0, "delivered": 0}
        )
        names: dict[str, Offer] = {}
        for offer in offers:
            for column in ("available", "reserved", "delivered"):
                stock[offer.item_kind][column] += getattr(offer, column)
            names.setdefault(offer.item_kind, offer)
        kinds = sorted(stock)
        chart = {
            "type": "bar",
            "stacked": True,
            "labels": [item_label(request, kind) for kind in kinds],
            "datasets": [
                {
                    "label": status_label(request, column, "stock"),
                    "data": [stock[kind][column] for kind in kinds],
                }
                for column in ("available", "reserved", "delivered")
            ],
        }
        warehouses = await _warehouses(actor)
        points = [
            {"lat": w.lat, "lon": w.lon, "kind": "warehouse", "label": w.name} for w in warehouses
        ]
        return page(
            request,
            "charity/dashboard.html.j2",
            {"offers": offers, "stock": stock, "kinds": kinds, "chart": chart, "points": points},
        )

    async def _form(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        *,
        offer: Offer | None,
        values: dict[str, Any],
        error: str | None = None,
        withdraw: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        warehouses = await _warehouses(actor)
        points = [
            {
                "lat": w.lat,
                "lon": w.lon,
                "kind": "warehouse",
                "label": w.name,
                "radius_km": offer.radius_km if offer and offer.warehouse_id == w.id else None,
            }
            for w in warehouses
        ]
        return page(
            request,
            "charity/offer_form.html.j2",
            {
                "offer": offer,
                "values": values,
                "items": await services.list_items(),
                "warehouses": warehouses,
                "points": points,
                "error": error,
                "withdraw": withdraw or blank(WithdrawForm()),
            },
            status_code=status_code,
        )

    @get("/offers/new")
    async def new(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
        today = datetime.now(UTC).date()
        values = {
            "warehouse_id": request.query_params.get("warehouse_id", ""),
            "radius_km": 30,
            "available_from": today.isoformat(),
            "available_until": (today + timedelta(days=90)).isoformat(),
            "note": "",
        }
        return await self._form(request, actor, offer=None, values=values)

    @post("/offers/new", status_code=303)
    async def create(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], data: OfferBody
    ) -> Template | Redirect:
        _ = gettext_for(request)
        values = msgspec.structs.asdict(data)
        try:
            wanted = msgspec.convert(_fields(data), OfferCreate, strict=False)
            offer = await services.create_offer(user=actor, data=wanted)
        except (DomainError, msgspec.ValidationError, ValueError) as exc:
            return await self._form(
                request,
                actor,
                offer=None,
                values=values,
                error=form_error(request, exc),
                status_code=400,
            )
        return done(request, _("Offer #%(id)d posted.") % {"id": offer.id}, "/charity")

    @get("/offers/{offer_id:int}")
    async def edit(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], offer_id: FromPath[int]
    ) -> Template:
        offer = await services.get_offer(user=actor, offer_id=offer_id)
        if offer.organization_id != actor.organization_id:
            raise NotFound("No such offer for your charity")
        return await self._form(request, actor, offer=offer, values=_values(offer))

    @post("/offers/{offer_id:int}", status_code=303)
    async def update(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        offer_id: FromPath[int],
        data: OfferBody,
    ) -> Template | Redirect:
        _ = gettext_for(request)
        values = msgspec.structs.asdict(data)
        try:
            fields = _fields(data)
            fields.pop("item_code", None)  # the item of an offer does not change
            wanted = msgspec.convert(fields, OfferUpdate, strict=False)
            await services.update_offer(user=actor, offer_id=offer_id, data=wanted)
        except (DomainError, msgspec.ValidationError, ValueError) as exc:
            offer = await services.get_offer(user=actor, offer_id=offer_id)
            return await self._form(
                request,
                actor,
                offer=offer,
                values=values,
                error=form_error(request, exc),
                status_code=400,
            )
        return done(request, _("Offer #%(id)d saved.") % {"id": offer_id}, "/charity")

    @post("/offers/{offer_id:int}/withdraw", status_code=303)
    async def withdraw(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        offer_id: FromPath[int],
        data: WithdrawBody,
    ) -> Template | Redirect:
        """Take back available units (all of them, and close the offer, when left blank)."""
        _ = gettext_for(request)
        try:
            fields: dict[str, Any] = {"reason": data.reason.strip()}
            if data.quantity.strip():
                fields["quantity"] = data.quantity.strip()
                if data.unit.strip():
                    fields["unit"] = data.unit.strip()
            wanted = msgspec.convert(fields, OfferWithdraw, strict=False)
            offer = await services.withdraw_offer(
                user=actor,
                offer_id=offer_id,
                reason=wanted.reason,
                quantity=wanted.quantity,
                unit=wanted.unit,
            )
        except (DomainError, msgspec.ValidationError) as exc:
            form = refused(
                request,
                exc,
                data,
                invalid={
                    "reason": _("Say why the units are taken back"),
                    "quantity": _("Enter a whole number of units, at least 1, or leave it blank"),
                },
            )
            current = await services.get_offer(user=actor, offer_id=offer_id)
            return await self._form(
                request,
                actor,
                offer=current,
                values=_values(current),
                withdraw=form,
                status_code=400,
            )
        if wanted.quantity is None:
            message = _("Offer #%(id)d withdrawn: its available units are taken back.")
            return done(request, message % {"id": offer.id}, "/charity")
        taken = to_count(wanted.quantity, wanted.unit, counting=offer.unit)
        said = quantity_text(taken, offer.item_code, language_of(request), _)
        message = _("%(quantity)s of offer #%(id)d taken back.")
        return done(request, message % {"id": offer.id, "quantity": said}, "/charity")
