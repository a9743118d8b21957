"""What is past due in deliveries, for the periodic duties (:mod:`nuanxin.deadlines`).

The same rules the pages apply when they are read: 先行救助 paperwork is overdue once
``paperwork_due_at`` has passed without ``paperwork_done_at``; a delivery is stale once it has
been pending for :data:`~nuanxin.deliveries.progress.STALE_DELIVERY_DAYS` days.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from nuanxin.deadlines.vocabulary import Due
from nuanxin.deliveries.progress import STALE_DELIVERY_DAYS
from nuanxin.deliveries.tables import Allocation, Delivery
from nuanxin.deliveries.vocabulary import AllocationStatus, DeliveryStatus

__all__ = ("overdue_paperwork", "stale_deliveries")


async def overdue_paperwork(*, now: datetime) -> list[Due]:
    rows = (
        await Allocation.select(
            Allocation.id, Allocation.paperwork_due_at, Allocation.household._.region._.code
        )
        .where(
            (Allocation.emergency == True)  # noqa: E712 - Piccolo builds SQL from ==
            & Allocation.paperwork_done_at.is_null()
            & (Allocation.paperwork_due_at < now)
            & (Allocation.status != AllocationStatus.cancelled)
        )
        .order_by(Allocation.id)
        .run()
    )
    return [
        Due(
            entity_id=int(row["id"]),
            region_code=str(row["household.region.code"]),
            due_at=row["paperwork_due_at"],
        )
        for row in rows
    ]


async def stale_deliveries(*, now: datetime) -> list[Due]:
    limit = now - timedelta(days=STALE_DELIVERY_DAYS)
    rows = (
        await Delivery.select(
            Delivery.id, Delivery.created_at, Delivery.allocation._.household._.region._.code
        )
        .where((Delivery.status == DeliveryStatus.pending) & (Delivery.created_at < limit))
        .order_by(Delivery.id)
        .run()
    )
    return [
        Due(
            entity_id=int(row["id"]),
            region_code=str(row["allocation.household.region.code"]),
            due_at=row["created_at"] + timedelta(days=STALE_DELIVERY_DAYS),
        )
        for row in rows
    ]
