"""Decisions the next round remembers: a rejected (household, offer) pair is not proposed again.

Staff reject a proposal with a reason (the household moved away, the charity cannot reach that
village ...); the next rounds must not pair that household with that offer again, while other
offers may still serve the household and other households may still get that offer.

The engine knows no pairs, only compatibility: an offer ``requires`` tags that a household must
carry. So the snapshot expresses an exclusion with a tag of its own: every offer that some
household was refused for requires the tag ``unrejected:<offer id>``, and every household that
needs the offer's item, lies within its radius and was never refused it carries that tag. Only
offers with a rejection get such a tag, and only the households they could reach carry it, so
the problem grows with the rejections, not with the jurisdiction. The engine stays exact: the
excluded pairs are simply not candidates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from matching.geo import great_circle_km
from nuanxin.households import demand
from nuanxin.offers import stock as ledger
from nuanxin.rounds.tables import Proposal
from nuanxin.rounds.vocabulary import ProposalStatus

__all__ = ("TAG_PREFIX", "exclude", "rejected_pairs")

TAG_PREFIX = "unrejected:"


async def rejected_pairs(*, region_prefix: str) -> frozenset[tuple[int, int]]:
    """(household id, offer id) of every rejected proposal of the households under the prefix."""
    rows = (
        await Proposal.select(Proposal.household, Proposal.offer)
        .where(
            (Proposal.status == ProposalStatus.rejected)
            & Proposal.household._.region._.code.like(f"{region_prefix}%")
        )
        .distinct()
        .run()
    )
    return frozenset((int(row["household"]), int(row["offer"])) for row in rows)


def exclude(
    households: Sequence[demand.HouseholdDemand],
    stock: Sequence[ledger.StockRecord],
    pairs: frozenset[tuple[int, int]],
) -> tuple[list[demand.HouseholdDemand], list[ledger.StockRecord]]:
    """The snapshot with each excluded pair made incompatible (see the module's docstring)."""
    refused: dict[int, set[int]] = defaultdict(set)
    for household_id, offer_id in pairs:
        refused[offer_id].add(household_id)
    offers = [offer for offer in stock if offer.offer_id in refused]
    if not offers:
        return list(households), list(stock)
    count = len(households)
    ids = np.fromiter((h.household_id for h in households), np.int64, count)
    lat = np.fromiter((h.lat for h in households), np.float64, count)
    lon = np.fromiter((h.lon for h in households), np.float64, count)
    wanting = {
        item: np.fromiter(
            (any(need.item_code == item for need in h.needs) for h in households), np.bool_, count
        )
        for item in {offer.item_code for offer in offers}
    }
    extra: dict[int, set[str]] = defaultdict(set)
    for offer in offers:
        reach = wanting[offer.item_code] & ~np.isin(ids, sorted(refused[offer.offer_id]))
        reach &= great_circle_km(offer.lat, offer.lon, lat, lon) <= offer.radius_km
        for index in np.flatnonzero(reach).tolist():
            extra[households[index].household_id].add(f"{TAG_PREFIX}{offer.offer_id}")
    return (
        [
            replace(household, tags=household.tags | extra[household.household_id])
            if household.household_id in extra
            else household
            for household in households
        ],
        [
            replace(offer, requires=(*offer.requires, f"{TAG_PREFIX}{offer.offer_id}"))
            if offer.offer_id in refused
            else offer
            for offer in stock
        ],
    )
