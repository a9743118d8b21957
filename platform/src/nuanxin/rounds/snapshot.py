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


async def take_snapshot(*, region_prefix: str, item_codes: Sequence[str] | None) -> Snapshot:
    """One consistent read of the unmet needs under ``region_prefix`` and of the open stock
    (of ``item_codes`` only, when given)."""
    async with atomic():
        households = await demand.unmet_demand(
            region_prefix=region_prefix, item_codes=list(item_codes) if item_codes else None
        )
        stock = [
            offer
            for offer in await ledger.open_stock()
            if not item_codes or offer.item_code in item_codes
        ]
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
