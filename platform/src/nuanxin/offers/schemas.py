"""DTOs of the offers area (msgspec Structs, never tables).

In :class:`OfferUpdate` a field left out (``None``) is left unchanged.

Quantities are given in a ``unit`` (coal in 25 kg bags, kilograms or tonnes) and converted
exactly into the item's counting unit (:mod:`nuanxin.units`); an offer answers in its item's
counting unit, named by its ``unit``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from nuanxin.offers.vocabulary import OfferStatus
from nuanxin.units import Amount, GivenUnit, OptionalAmount, Unit

__all__ = ("Item", "Offer", "OfferCreate", "OfferUpdate", "OfferWithdraw")

Radius = Annotated[float, msgspec.Meta(gt=0, le=500, description="delivery radius in km")]
Note = Annotated[str, msgspec.Meta(max_length=300)]
ItemCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class Item(msgspec.Struct, kw_only=True):
    """A catalogue entry: what one unit is, and the household tags it needs."""

    id: int
    code: str
    kind: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    requires: list[str]
    unit: Annotated[
        Unit,
        msgspec.Meta(
            description="the counting unit: every quantity of the item is a whole number of it"
        ),
    ]
    units: Annotated[
        list[Unit],
        msgspec.Meta(
            description="the units a quantity of the item may be given in (exact conversions)"
        ),
    ]


class OfferCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """So much of a catalogue item (in ``unit``), at one of the charity's warehouses."""

    warehouse_id: int
    item_code: ItemCode
    quantity: Amount
    unit: GivenUnit = None
    radius_km: Radius
    available_from: date
    available_until: date
    note: Note = ""


class OfferUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new total quantity (in ``unit``) may not fall below what is reserved, delivered or
    withdrawn."""

    quantity: OptionalAmount = None
    unit: GivenUnit = None
    radius_km: Radius | None = None
    available_from: date | None = None
    available_until: date | None = None
    note: Note | None = None
    warehouse_id: int | None = None


class OfferWithdraw(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Take back so many available units, or (no quantity) all of them and close the offer."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    quantity: OptionalAmount = None
    unit: GivenUnit = None


class Offer(msgspec.Struct, kw_only=True):
    """``quantity = available + reserved + delivered + withdrawn``, all in ``unit``."""

    id: int
    organization_id: int
    organization_name: str
    warehouse_id: int
    warehouse_name: str
    region_code: str
    item_code: str
    item_kind: str
    item_name_zh: str
    item_name_en: str
    unit: Annotated[
        Unit, msgspec.Meta(description="the item's counting unit, of every quantity below")
    ]
    quantity: int
    available: int
    reserved: int
    delivered: int
    withdrawn: int
    lat: float
    lon: float
    radius_km: float
    available_from: date
    available_until: date
    status: OfferStatus
    note: str
    created_at: datetime
    updated_at: datetime
