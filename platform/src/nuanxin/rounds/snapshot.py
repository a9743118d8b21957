"""The snapshot a round solves: a jurisdiction's unmet verified needs and the open stock.

:func:`take_snapshot` reads both in one transaction; :func:`to_problem` turns them into the
engine's problem (offers of items nobody there needs are left out; each household carries
its region's code, so the engine can report the unmet need by region). The purchase advice
and the round's "what if" read the same snapshot, so they answer for the world a round sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matching
from nuanxin.db import atomic
from nuanxin.households import demand
from nuanxin.offers import stock as ledger
from nuanxin.rounds import exclusions

__all__ = ("Snapshot", "take_snapshot", "to_problem")


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    households: tuple[demand.HouseholdDemand, ...]
    stock: tuple[ledger.StockRecord, ...]


async def take_snapshot(
    *, region_prefix: str, item_codes: Sequence[str] | None, in_reach: bool = False
) -> Snapshot:
    """One consistent read of the unmet needs under ``region_prefix`` and of the open stock
    (of ``item_codes`` only, when given).

    With ``in_reach`` (a round), the stock is only what can serve those households: offers of
    the items they need whose radius reaches the box around them (:class:`~nuanxin.offers.
    stock.Reach`), selected in SQL. An offer left out could not reach any of them, so the
    engine's answer is the same; a province's round no longer reads the country's stock.
    Not by province or region: an offer across a border can serve the households near it.
    The purchase advice and the what-if leave it off: they weigh wider radii and new points.
    """
    async with atomic():
        households = await demand.unmet_demand(
            region_prefix=region_prefix, item_codes=list(item_codes) if item_codes else None
        )
        if in_reach:
            reach = ledger.Reach.around((h.lat, h.lon) for h in households)
            wanted = sorted({need.item_code for h in households for need in h.needs})
            stock = (
                await ledger.open_stock(item_codes=wanted, reach=reach) if reach is not None else []
            )
        else:
            stock = await ledger.open_stock(item_codes=list(item_codes) if item_codes else None)
        excluded = await exclusions.rejected_pairs(region_prefix=region_prefix)
    # A (household, offer) pair staff rejected before is left out (see rounds.exclusions).
    households, stock = exclusions.exclude(households, stock, excluded)
    return Snapshot(households=tuple(households), stock=tuple(stock))


def to_problem(
    households: Sequence[demand.HouseholdDemand], stock: Sequence[ledger.StockRecord]
) -> matching.Problem:
    wanted = {need.item_code for household in households for need in household.needs}
    return matching.Problem(
        offers=tuple(
            matching.Offer(
                id=str(offer.offer_id),
                kind=offer.item_code,
                quantity=offer.available,
                lat=offer.lat,
                lon=offer.lon,
                radius_km=offer.radius_km,
                requires=frozenset(offer.requires),
            )
            for offer in stock
            if offer.item_code in wanted
        ),
        households=tuple(
            matching.Household(
                id=str(household.household_id),
                lat=household.lat,
                lon=household.lon,
                tags=household.tags,
                region=household.region_code,
                needs=tuple(
                    matching.Need(kind=need.item_code, quantity=need.quantity, weights=need.weights)
                    for need in household.needs
                ),
            )
            for household in households
        ),
    )
