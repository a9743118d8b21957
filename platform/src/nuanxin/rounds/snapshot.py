"""The snapshot a round solves: a jurisdiction's unmet verified needs and the open stock.

:func:`take_snapshot` reads both in one transaction; :func:`to_problem` turns them into the
engine's problem (offers of items nobody there needs are left out; each household carries
its region's code, so the engine can report the unmet need by region). The purchase advice
and the round's "what if" read the same snapshot, so they answer for the world a round sees.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

import matching
from matching.arrays import no_cyclic_gc
from nuanxin.db import atomic
from nuanxin.households import demand
from nuanxin.offers import stock as ledger
from nuanxin.rounds import exclusions

__all__ = ("Snapshot", "take_snapshot", "to_arrays", "to_problem")


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
    # a province's snapshot makes millions of objects without cycles: the cyclic collector
    # would walk them all again and again (about half the time), so it waits until the end
    with no_cyclic_gc():
        return await _snapshot(region_prefix, item_codes, in_reach)


async def _snapshot(
    region_prefix: str, item_codes: Sequence[str] | None, in_reach: bool
) -> Snapshot:
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


def to_arrays(
    households: Sequence[demand.HouseholdDemand], stock: Sequence[ledger.StockRecord]
) -> matching.ArrayProblem:
    """``problem_to_arrays(to_problem(households, stock))``, without the dataclasses between.

    A province's round has a million households and several million needs: building the
    engine's dataclasses, checking them and turning them into columns cost about as much as
    the solve itself. The columns are built here from the snapshot's records directly, the
    engine checks them (``solve_arrays``), and a test holds them equal to the dataclass path.
    """
    with no_cyclic_gc():
        return _to_arrays(households, stock)


def _to_arrays(
    households: Sequence[demand.HouseholdDemand], stock: Sequence[ledger.StockRecord]
) -> matching.ArrayProblem:
    wanted = {need.item_code for household in households for need in household.needs}
    offers = [offer for offer in stock if offer.item_code in wanted]
    needs = [need for household in households for need in household.needs]
    n_o, n_h, n = len(offers), len(households), len(needs)
    kinds = sorted(wanted.union(offer.item_code for offer in offers))
    kind_code = {kind: code for code, kind in enumerate(kinds)}
    tag_lists = [household.tags for household in households]
    require_lists = [offer.requires for offer in offers]
    tags = sorted(set().union(*tag_lists, *require_lists))
    tag_code = {tag: code for code, tag in enumerate(tags)}
    regions = sorted({household.region_code for household in households})
    region_code = {region: code for code, region in enumerate(regions)}
    weight_lists = [need.weights for need in needs]

    def starts(lists: Sequence[Collection[object]]) -> npt.NDArray[np.int64]:
        out = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, lists), np.int64, len(lists)), out=out[1:])
        return out

    def codes(lists: Sequence[Iterable[str]], code: dict[str, int]) -> npt.NDArray[np.int64]:
        return np.fromiter((code[item] for items in lists for item in items), np.int64)

    return matching.ArrayProblem(
        kinds=tuple(kinds),
        tags=tuple(tags),
        offer_id=tuple(str(offer.offer_id) for offer in offers),
        offer_kind=np.fromiter((kind_code[o.item_code] for o in offers), np.int64, n_o),
        offer_quantity=np.fromiter((o.available for o in offers), np.int64, n_o),
        offer_lat=np.fromiter((o.lat for o in offers), np.float64, n_o),
        offer_lon=np.fromiter((o.lon for o in offers), np.float64, n_o),
        offer_radius_km=np.fromiter((o.radius_km for o in offers), np.float64, n_o),
        offer_requires_start=starts(require_lists),
        offer_requires=codes(require_lists, tag_code),
        household_id=tuple(str(household.household_id) for household in households),
        household_lat=np.fromiter((h.lat for h in households), np.float64, n_h),
        household_lon=np.fromiter((h.lon for h in households), np.float64, n_h),
        household_tags_start=starts(tag_lists),
        household_tags=codes(tag_lists, tag_code),
        need_household=np.repeat(
            np.arange(n_h, dtype=np.int64),
            np.fromiter((len(h.needs) for h in households), np.int64, n_h),
        ),
        need_kind=np.fromiter((kind_code[need.item_code] for need in needs), np.int64, n),
        need_quantity=np.fromiter((need.quantity for need in needs), np.int64, n),
        need_weights_start=starts(weight_lists),
        need_weights=np.fromiter(
            (weight for weights in weight_lists for weight in weights), np.float64
        ),
        regions=tuple(regions),
        household_region=np.fromiter(
            (region_code[h.region_code] for h in households), np.int64, n_h
        )
        if regions
        else None,
    )
