"""DTOs of the purchase advice: prices, the ranked lines, an advised purchase."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

__all__ = (
    "Advice",
    "AdviceLine",
    "AdvisedPurchaseIn",
    "Price",
    "PricesIn",
    "WhatIfIn",
    "WhatIfOut",
)

Fen = Annotated[int, msgspec.Meta(gt=0, le=10_000_000_000)]
Units = Annotated[int, msgspec.Meta(ge=1, le=10_000)]


class Price(msgspec.Struct, kw_only=True):
    item_code: str
    price_fen: int


class PricesIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Price of one unit per item (fen), at least one; an item left out keeps no price."""

    prices: Annotated[dict[str, Fen], msgspec.Meta(min_length=1, max_length=100)]


class AdviceLine(msgspec.Struct, kw_only=True):
    """``units`` more of ``item_code`` at a warehouse, and what they would do (exact).

    ``households``: households that would newly receive the item (net), by category in
    ``categories``; ``weighted_units`` the priority-weighted units gained; ``unit_km`` the
    change of the optimum's unit-kilometres; ``per_yuan`` the weighted units per yuan.
    """

    warehouse_id: int
    warehouse_name: str
    item_code: str
    units: int
    radius_km: float
    cost_fen: int
    households: int
    categories: dict[str, int]
    weighted_units: float
    unit_km: float
    per_yuan: float


class Advice(msgspec.Struct, kw_only=True):
    id: int
    region_code: str
    units: int
    households: int  # households waiting in the region when the advice was computed
    created_at: datetime
    lines: list[AdviceLine]


class AdvisedPurchaseIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A purchase following line ``line`` (0-based) of an advice, paid by ``campaign_id``."""

    campaign_id: int
    line: Annotated[int, msgspec.Meta(ge=0)]
    quantity: Units
    cost_fen: Fen
    available_until: date | None = None


class WhatIfIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``stock``: ``quantity`` more units of ``item_code`` (default: the offer's item) at the
    offer's warehouse, within ``radius_km``; ``radius``: the offer reaches ``radius_km``."""

    change: Literal["stock", "radius"]
    offer_id: int
    radius_km: Annotated[float, msgspec.Meta(gt=0, le=500)]
    item_code: str | None = None
    quantity: Units = 10


class WhatIfOut(msgspec.Struct, kw_only=True):
    """The exact change of the round's optimum: after minus before."""

    change: WhatIfIn
    households_served: int
    units: int
    weighted_units: float
    unit_km: float
    seconds: float
