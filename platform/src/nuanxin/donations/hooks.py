"""Where the matching/delivery loop plugs into the donor's view: three functions to extend.

The donations area follows a gift as far as the goods it became: a goods donation joins one
offer; a money donation is pooled in its campaign, and each purchase of the campaign made an
offer. :class:`Contribution` says, for one gift, which offer it went into and how many units
of that offer are its share. What happens to those units afterwards (a matching round
proposes them, staff approve an allocation, a courier delivers it) lives in the rounds and
deliveries areas, so the three functions below answer "nothing yet" until the delivery loop
implements them:

* :func:`delivery_events_for` — the "matched" and "delivered" steps of one gift's timeline.
* :func:`delivered_units_by_campaign` — units delivered per campaign, for its books.
* :func:`delivered_units_by_county_kind` — units delivered per county and item kind, for the
  public dashboard.

TO IMPLEMENT (issue 6), keeping the donor's view anonymous:

* For each contribution, read the allocations of ``contribution.offer_id`` (through the
  deliveries area's services) and, where gifts were pooled, scale their units by
  ``contribution.units / offer.quantity`` (the gift's part of the offer).
* Emit one :class:`DeliveryEvent` per allocation: ``step="matched"`` at its approval time,
  and ``step="delivered"`` at the confirmed delivery's time, with the household's **county**
  (code and name) and **category** (dibao, extremely poor, ...) only — never a name,
  address, phone, ID number or household id. ``tests/nuanxin/donations`` checks that a
  tracking answer contains none of the household's data.
* A delivery only counts when it is confirmed (``Delivery.status == "delivered"``); a failed
  one returns its units to the offer and shows nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = (
    "Contribution",
    "DeliveryEvent",
    "delivered_units_by_campaign",
    "delivered_units_by_county_kind",
    "delivery_events_for",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Contribution:
    """A gift's part of one offer: ``units`` of ``offer_id`` (a fraction where pooled)."""

    offer_id: int
    item_code: str
    units: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryEvent:
    """A "matched" or "delivered" step; only the county and the household category show."""

    step: str  # "matched" or "delivered"
    at: datetime
    item_code: str
    units: float  # this gift's share of the allocation's units
    county_code: str
    county_name: str
    household_category: str


async def delivery_events_for(
    *, donation_id: int, contributions: Sequence[Contribution]
) -> list[DeliveryEvent]:
    """The matched/delivered steps of one gift, oldest first. Nothing until issue 6."""
    return []


async def delivered_units_by_campaign(campaign_ids: Sequence[int]) -> dict[int, int]:
    """Units delivered out of each campaign's purchases (absent: 0). Nothing until issue 6."""
    return {}


async def delivered_units_by_county_kind() -> dict[tuple[str, str], int]:
    """(county code, item kind) -> units delivered from donated or bought goods."""
    return {}
