"""Where the matching/delivery loop plugs into the donor's view.

The donations area follows a gift as far as the goods it became: a goods donation joins one
offer; a money donation is pooled in its campaign, and each purchase of the campaign made an
offer. :class:`Contribution` says, for one gift, which offer it went into and how many units
of that offer are its share. What happens to those units afterwards (a matching round
proposes them, staff approve an allocation, a courier delivers it) lives in the rounds and
deliveries areas; the three functions below ask the deliveries area for them:

* :func:`delivery_events_for` — the "matched" and "delivered" steps of one gift's timeline.
* :func:`delivered_units_by_campaign` — units delivered per campaign, for its books.
* :func:`delivered_units_by_county_kind` — units and deliveries confirmed per county and item
  kind, whatever gave the stock, for the public dashboard.

Keeping the donor's view anonymous: where gifts were pooled, an allocation's units are
scaled by ``contribution.units / offer.quantity`` (the gift's part of the offer); each
allocation gives a "matched" step at its approval and a "delivered" step at its confirmed
delivery, with the household's **county** and **category** only. A failed delivery
returns its units to the offer and shows nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from nuanxin.deliveries import allocations as deliveries
from nuanxin.donations.tables import Purchase
from nuanxin.donations.vocabulary import TimelineStep

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

    step: TimelineStep  # matched or delivered
    at: datetime
    item_code: str
    units: float  # this gift's share of the allocation's units
    county_code: str
    county_name: str
    household_category: str


async def delivery_events_for(
    *, donation_id: int, contributions: Sequence[Contribution]
) -> list[DeliveryEvent]:
    """The matched/delivered steps of one gift, oldest first, scaled to the gift's share."""
    share = {c.offer_id: c.units for c in contributions}
    events: list[DeliveryEvent] = []
    for allocation in await deliveries.allocation_events(offer_ids=list(share)):
        part = share[allocation.offer_id] / allocation.offer_quantity
        units = round(allocation.quantity * part, 3)
        if units <= 0:
            continue
        for step, at in (
            (TimelineStep.matched, allocation.approved_at),
            (TimelineStep.delivered, allocation.delivered_at),
        ):
            if at is None:
                continue
            events.append(
                DeliveryEvent(
                    step=step,
                    at=at,
                    item_code=allocation.item_code,
                    units=units,
                    county_code=allocation.county_code,
                    county_name=allocation.county_name,
                    household_category=allocation.household_category,
                )
            )
    events.sort(key=lambda event: (event.at, event.step is not TimelineStep.matched))
    return events


async def delivered_units_by_campaign(campaign_ids: Sequence[int]) -> dict[int, int]:
    """Units delivered out of each campaign's purchases (absent: 0)."""
    if not campaign_ids:
        return {}
    offer_campaign = {
        int(row["offer"]): int(row["campaign"])
        for row in await Purchase.select(Purchase.offer, Purchase.campaign)
        .where(Purchase.campaign.is_in(list(campaign_ids)))
        .run()
    }
    totals: dict[int, int] = {}
    for allocation in await deliveries.allocation_events(offer_ids=list(offer_campaign)):
        if allocation.delivered_at is not None:
            campaign = offer_campaign[allocation.offer_id]
            totals[campaign] = totals.get(campaign, 0) + allocation.quantity
    return totals


async def delivered_units_by_county_kind() -> dict[tuple[str, str], deliveries.DeliveredTotal]:
    """(county code, item kind) -> units and deliveries confirmed there.

    Every confirmed delivery counts, whatever gave its stock (a charity's own, donated goods,
    a campaign's purchase): the public sees what reached the households of each county, as
    the home page counts it. The county is the receiving household's (a township's parent).
    """
    return await deliveries.delivered_by_county_kind()
