"""A jurisdiction's progress for the staff dashboard: deliveries over time, unmet need, stale cases.

Read-only. Unmet need comes from the households area's ``demand.unmet_demand`` (the same
snapshot a matching round solves), stale help requests from the help requests area's counts;
deliveries and their allocations are this area's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from nuanxin.deliveries import emergencies
from nuanxin.deliveries.tables import Delivery
from nuanxin.deliveries.vocabulary import DeliveryStatus
from nuanxin.help_requests import counts as help_counts
from nuanxin.households import demand
from nuanxin.identity import CurrentUser, Role, jurisdiction_where
from nuanxin.offers import services as offers
from nuanxin.pagination import Pagination
from nuanxin.regions.services import get_region

__all__ = ("Progress", "StaleDelivery", "UnmetPlace", "progress")

STALE_DELIVERY_DAYS = 14
STALE_REQUEST_DAYS = 7


class DeliveredWeek(msgspec.Struct, kw_only=True):
    week: date  # the Monday of the week
    township: str
    kind: str
    units: int


class UnmetPlace(msgspec.Struct, kw_only=True):
    region_code: str
    region_name: str
    lat: float
    lon: float
    households: int
    units_by_kind: dict[str, int]


class StaleDelivery(msgspec.Struct, kw_only=True):
    delivery_id: int
    household_reference: str
    township: str
    item_code: str
    days: int


class Progress(msgspec.Struct, kw_only=True):
    delivered: list[DeliveredWeek]
    unmet: list[UnmetPlace]
    stale_deliveries: list[StaleDelivery]
    stale_requests: int
    overdue_paperwork: int


def _prefix(actor: CurrentUser) -> str | None:
    """The region prefix the need ledger's snapshot takes (``None``: everywhere)."""
    if actor.role is Role.admin:
        return None
    return actor.jurisdiction_prefix or "-"


async def progress(*, actor: CurrentUser, now: datetime | None = None) -> Progress:
    """The figures of the staff member's jurisdiction (everything for admins)."""
    moment = now or datetime.now(UTC)
    prefix = _prefix(actor)
    kinds = {item.code: item.kind for item in await offers.list_items()}
    household_code = Delivery.allocation._.household._.region._.code
    query = Delivery.select(
        Delivery.id,
        Delivery.status,
        Delivery.created_at,
        Delivery.confirmed_at,
        Delivery.allocation._.quantity,
        Delivery.allocation._.offer._.item._.code,
        Delivery.allocation._.household._.reference,
        Delivery.allocation._.household._.region._.name,
    ).where(Delivery.status.is_in([DeliveryStatus.delivered, DeliveryStatus.pending]))
    reach = jurisdiction_where(actor, household_code)
    if reach is not None:
        query = query.where(reach)
    weekly: dict[tuple[date, str, str], int] = defaultdict(int)
    stale: list[StaleDelivery] = []
    for row in await query.order_by(Delivery.id).run():
        township = str(row["allocation.household.region.name"])
        item_code = str(row["allocation.offer.item.code"])
        if row["status"] == DeliveryStatus.delivered and row["confirmed_at"] is not None:
            day = row["confirmed_at"].date()
            week = day - timedelta(days=day.weekday())
            weekly[(week, township, kinds.get(item_code, item_code))] += int(
                row["allocation.quantity"]
            )
        elif row["status"] == DeliveryStatus.pending:
            age = (moment - _aware(row["created_at"])).days
            if age >= STALE_DELIVERY_DAYS:
                stale.append(
                    StaleDelivery(
                        delivery_id=int(row["id"]),
                        household_reference=str(row["allocation.household.reference"]),
                        township=township,
                        item_code=item_code,
                        days=age,
                    )
                )
    return Progress(
        delivered=[
            DeliveredWeek(week=week, township=township, kind=kind, units=units)
            for (week, township, kind), units in sorted(weekly.items())
        ],
        unmet=await _unmet(prefix, kinds),
        stale_deliveries=stale,
        stale_requests=await help_counts.count_open_requests(
            actor=actor, created_before=moment - timedelta(days=STALE_REQUEST_DAYS)
        ),
        overdue_paperwork=await _overdue_paperwork(actor),
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _unmet(prefix: str | None, kinds: dict[str, str]) -> list[UnmetPlace]:
    places: dict[str, dict[str, Any]] = {}
    for household in await demand.unmet_demand(region_prefix=prefix):
        place = places.setdefault(
            household.region_code,
            {"lat": 0.0, "lon": 0.0, "households": 0, "units": defaultdict(int)},
        )
        place["lat"] += household.lat
        place["lon"] += household.lon
        place["households"] += 1
        for need in household.needs:
            place["units"][kinds.get(need.item_code, need.item_code)] += need.quantity
    found: list[UnmetPlace] = []
    for code, place in sorted(places.items()):
        region = await get_region(code)
        count = place["households"]
        found.append(
            UnmetPlace(
                region_code=code,
                region_name=region.name if region else code,
                lat=place["lat"] / count,
                lon=place["lon"] / count,
                households=count,
                units_by_kind=dict(sorted(place["units"].items())),
            )
        )
    return found


async def _overdue_paperwork(actor: CurrentUser) -> int:
    page = await emergencies.list_emergencies(
        actor=actor, page=Pagination(limit=1, offset=0), overdue_only=True
    )
    return page.total
