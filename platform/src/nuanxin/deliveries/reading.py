"""Reading deliveries: the columns a delivery is shown with, who may reach it, what they see.

Shared by the listing (:mod:`nuanxin.deliveries.services`) and the hand-over
(:mod:`nuanxin.deliveries.confirmation`).
"""

from __future__ import annotations

from typing import Any

from nuanxin.deliveries.schemas import DeliveryOut
from nuanxin.deliveries.tables import Delivery
from nuanxin.deliveries.vocabulary import DeliveryStatus
from nuanxin.errors import NotFound
from nuanxin.identity import CurrentUser, Role, ensure_visible
from nuanxin.privacy import mask_name

__all__ = ("DELIVERY_COLUMNS", "delivery_out", "ensure_reach", "load_delivery", "may_see_address")


DELIVERY_COLUMNS = (
    Delivery.id,
    Delivery.allocation,
    Delivery.visit,
    Delivery.visit._.failed_attempts,
    Delivery.organization,
    Delivery.status,
    Delivery.failed_attempts,
    Delivery.failure_reason,
    Delivery.created_at,
    Delivery.confirmed_at,
    Delivery.code_hash,
    Delivery.allocation._.quantity,
    Delivery.allocation._.emergency,
    Delivery.allocation._.offer,
    Delivery.allocation._.need,
    Delivery.allocation._.status,
    Delivery.allocation._.offer._.item._.code,
    Delivery.allocation._.household._.id,
    Delivery.allocation._.household._.reference,
    Delivery.allocation._.household._.category,
    Delivery.allocation._.household._.head_name,
    Delivery.allocation._.household._.current_address,
    Delivery.allocation._.household._.phone,
    Delivery.allocation._.household._.lat,
    Delivery.allocation._.household._.lon,
    Delivery.allocation._.household._.region._.code,
    Delivery.allocation._.household._.region._.name,
    Delivery.allocation._.household._.region._.level,
    Delivery.allocation._.household._.region._.parent._.name,
)


async def load_delivery(delivery_id: int) -> dict[str, Any]:
    row = await Delivery.select(*DELIVERY_COLUMNS).where(Delivery.id == delivery_id).first().run()
    if row is None:
        raise NotFound("No such delivery")
    return row


def ensure_reach(actor: CurrentUser, row: dict[str, Any]) -> None:
    """Staff in the household's jurisdiction, or the delivering charity's members and couriers."""
    ensure_visible(
        actor,
        what="delivery",
        region_codes=(str(row["allocation.household.region.code"]),),
        organization_id=int(row["organization"]),
    )


def delivery_out(row: dict[str, Any], *, reveal: bool) -> DeliveryOut:
    township_level = row["allocation.household.region.level"] == "township"
    return DeliveryOut(
        id=int(row["id"]),
        allocation_id=int(row["allocation"]),
        visit_id=None if row["visit"] is None else int(row["visit"]),
        organization_id=int(row["organization"]),
        household_reference=str(row["allocation.household.reference"]),
        household_category=str(row["allocation.household.category"]),
        county=str(
            row["allocation.household.region.parent.name"]
            if township_level
            else row["allocation.household.region.name"]
        ),
        township=str(row["allocation.household.region.name"]) if township_level else "",
        region_code=str(row["allocation.household.region.code"]),
        item_code=str(row["allocation.offer.item.code"]),
        quantity=int(row["allocation.quantity"]),
        status=str(row["status"]),
        emergency=bool(row["allocation.emergency"]),
        failed_attempts=int(
            row["failed_attempts"]
            if row["visit.failed_attempts"] is None
            else row["visit.failed_attempts"]
        ),
        failure_reason=str(row["failure_reason"]),
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        recipient=mask_name(str(row["allocation.household.head_name"])) if reveal else None,
        address=str(row["allocation.household.current_address"]) if reveal else None,
        phone=str(row["allocation.household.phone"]) if reveal else None,
        lat=float(row["allocation.household.lat"]) if reveal else None,
        lon=float(row["allocation.household.lon"]) if reveal else None,
    )


def may_see_address(actor: CurrentUser, row: dict[str, Any]) -> bool:
    """Staff of the jurisdiction always; the charity only while its delivery is open."""
    if actor.role in (Role.admin, Role.staff):
        return True
    return row["status"] == DeliveryStatus.pending and actor.organization_id == int(
        row["organization"]
    )
