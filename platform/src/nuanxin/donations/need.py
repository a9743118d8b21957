"""The unmet need of a campaign's region by item, live, for donors (public, aggregate).

Counted from the households area's demand (verified households whose verification is current,
units not yet allocated), in the campaign's region and below it. Only counts leave here: an
item with fewer than :data:`MIN_PUBLIC` households waiting shows neither its households nor
its units (the public pages' rule), so that no household can be singled out.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from nuanxin.donations.campaigns import campaign_row
from nuanxin.donations.schemas import CampaignNeed, KindNeed
from nuanxin.households import demand
from nuanxin.identity import subtree_prefix
from nuanxin.regions.services import get_region

__all__ = ("MIN_PUBLIC", "campaign_need")

MIN_PUBLIC = 5


async def campaign_need(*, campaign_id: int) -> CampaignNeed:
    """Households waiting and units unmet per item in the campaign's region, now."""
    row = await campaign_row(campaign_id)
    region = await get_region(str(row["region_code"]))
    prefix = (
        str(row["region_code"]) if region is None else subtree_prefix(region.code, region.level)
    )
    households: Counter[str] = Counter()
    units: Counter[str] = Counter()
    for household in await demand.unmet_demand(region_prefix=prefix):
        for need in household.needs:
            households[need.item_code] += 1
            units[need.item_code] += need.quantity
    asked = list(row["items"] or [])
    order = asked + sorted(set(households) - set(asked))
    return CampaignNeed(
        campaign_id=campaign_id,
        region_code=str(row["region_code"]),
        region_name=str(row["region_name"]),
        as_of=datetime.now(UTC),
        min_public=MIN_PUBLIC,
        items=[
            KindNeed(
                item_code=code,
                asked=code in asked,
                households=households[code] if households[code] >= MIN_PUBLIC else None,
                units=units[code] if households[code] >= MIN_PUBLIC else None,
            )
            for code in order
        ],
    )
