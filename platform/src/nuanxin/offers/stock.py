"""The stock ledger: the one place where an offer's units move.

An offer's units are always ``available + reserved + delivered + withdrawn = quantity`` (the
table checks it too). The rules of the ledger:

* Every move is one conditional ``UPDATE`` (``... WHERE available >= n``, ``reserved >= n``),
  so two concurrent reservations can never take the same unit and no count ever goes
  negative: a move that would is refused with a 409 (``insufficient_stock`` /
  ``insufficient_reserved`` / ``offer_not_open``).
* A move of zero (or fewer) units is refused (400): it would only write an audit entry.
* :func:`reserve` takes available units of an *open* offer of a *verified* charity.
* :func:`release` gives reserved units back: they become available again while the offer is
  open; a withdrawn or closed offer's units can never become available again, they count
  as withdrawn.
* :func:`deliver` counts reserved units as handed out; an open offer with nothing left to
  give (nothing available or reserved) closes.
* :func:`withdraw` takes available units back for the charity (all of them closes the offer).
* Each move (but :func:`withdraw`, which the charity's edit audits) writes one audit entry.

Other areas move stock only through these functions and read the open stock through
:func:`open_stock`; allocations reach it through :mod:`nuanxin.deliveries.allocations`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from nuanxin.accounts import organizations as charities
from nuanxin.accounts.vocabulary import OrganizationStatus
from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict, DomainError, Invalid, NotFound
from nuanxin.identity import CurrentUser
from nuanxin.offers.reading import load_offer
from nuanxin.offers.schemas import Offer
from nuanxin.offers.tables import Offer as OfferTable
from nuanxin.offers.vocabulary import OfferStatus
from nuanxin.regions.services import get_region, subtree_prefix

__all__ = (
    "StockRecord",
    "deliver",
    "open_stock",
    "release",
    "reserve",
    "shortage",
    "withdraw",
)


def _today() -> date:
    return datetime.now(UTC).date()


def shortage(offer: Offer, wanted: int) -> DomainError:
    """Why ``wanted`` units could not be taken from the offer: it is closed, or short."""
    if offer.status is not OfferStatus.open:
        return Conflict(
            f"The offer is {offer.status.value}", error="offer_not_open", field="status"
        )
    return Conflict(
        f"Only {offer.available} units are available, not {wanted}",
        error="insufficient_stock",
        field="quantity",
        message_id="insufficient_stock",
        params={"available": offer.available, "quantity": wanted},
    )


async def _move(
    *,
    offer_id: int,
    changes: dict[Any, Any],
    condition: Any,
    actor: CurrentUser | None,
    action: str,
    quantity: int,
    reason: str = "",
) -> Offer:
    if quantity < 1:
        raise Invalid(
            "The quantity must be at least 1", field="quantity", message_id="quantity_at_least_one"
        )
    async with atomic():
        before = await load_offer(offer_id)
        if before is None:
            raise NotFound("No such offer")
        changes[OfferTable.updated_at] = datetime.now(UTC)
        updated = (
            await OfferTable.update(changes)
            .where((OfferTable.id == offer_id) & condition)
            .returning(OfferTable.id)
            .run()
        )
        if not updated:
            current = await load_offer(offer_id)
            assert current is not None
            if action == "offer.reserve":
                raise shortage(current, quantity)
            raise Conflict(
                f"Only {current.reserved} units are reserved, not {quantity}",
                error="insufficient_reserved",
                field="quantity",
                params={"reserved": current.reserved, "quantity": quantity},
            )
        after = await load_offer(offer_id)
        assert after is not None
        if (
            after.status is OfferStatus.open
            and after.available == 0
            and after.reserved == 0
            and after.delivered > 0
        ):
            await (
                OfferTable.update({OfferTable.status: OfferStatus.closed.value})
                .where(OfferTable.id == offer_id)
                .run()
            )
            after = await load_offer(offer_id)
            assert after is not None
        await record(
            actor=actor,
            action=action,
            entity="offer",
            entity_id=offer_id,
            before={
                "available": before.available,
                "reserved": before.reserved,
                "delivered": before.delivered,
                "withdrawn": before.withdrawn,
            },
            after={
                "available": after.available,
                "reserved": after.reserved,
                "delivered": after.delivered,
                "withdrawn": after.withdrawn,
                "status": after.status.value,
                "quantity": quantity,
                "reason": reason,
            },
            region_code=after.region_code,
        )
    return after


async def reserve(*, offer_id: int, quantity: int, actor: CurrentUser | None) -> Offer:
    """Reserve available units of an open offer of a verified charity (409 if short)."""
    offer = await load_offer(offer_id)
    if offer is None:
        raise NotFound("No such offer")
    await charities.ensure_verified(organization_id=offer.organization_id)
    return await _move(
        offer_id=offer_id,
        changes={
            OfferTable.available: OfferTable.available - quantity,
            OfferTable.reserved: OfferTable.reserved + quantity,
        },
        condition=(OfferTable.status == OfferStatus.open.value)
        & (OfferTable.available >= quantity),
        actor=actor,
        action="offer.reserve",
        quantity=quantity,
    )


async def release(*, offer_id: int, quantity: int, actor: CurrentUser | None, reason: str) -> Offer:
    """Return reserved units (a failed delivery, a cancelled allocation).

    They become available again while the offer is open; otherwise they count as withdrawn.
    """
    offer = await load_offer(offer_id)
    if offer is None:
        raise NotFound("No such offer")
    back_to = OfferTable.available if offer.status is OfferStatus.open else OfferTable.withdrawn
    return await _move(
        offer_id=offer_id,
        changes={
            OfferTable.reserved: OfferTable.reserved - quantity,
            back_to: back_to + quantity,
        },
        condition=(OfferTable.reserved >= quantity) & (OfferTable.status == offer.status.value),
        actor=actor,
        action="offer.release",
        quantity=quantity,
        reason=reason,
    )


async def deliver(*, offer_id: int, quantity: int, actor: CurrentUser | None) -> Offer:
    """Count reserved units as delivered; an offer with nothing left to give closes."""
    return await _move(
        offer_id=offer_id,
        changes={
            OfferTable.reserved: OfferTable.reserved - quantity,
            OfferTable.delivered: OfferTable.delivered + quantity,
        },
        condition=OfferTable.reserved >= quantity,
        actor=actor,
        action="offer.deliver",
        quantity=quantity,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StockRecord:
    """One open offer's available stock, as a matching round sees it."""

    offer_id: int
    organization_id: int
    item_code: str
    item_kind: str
    requires: tuple[str, ...]
    available: int
    lat: float
    lon: float
    radius_km: float
    available_until: date


async def open_stock(
    *, region_code: str | None = None, on: date | None = None
) -> list[StockRecord]:
    """Available units of open offers of verified charities, whose window covers ``on``.

    ``region_code`` keeps offers from warehouses in that region and below it.
    """
    day = on or _today()
    query = OfferTable.select(
        OfferTable.id,
        OfferTable.organization,
        OfferTable.item.code.as_alias("item_code"),
        OfferTable.item.kind.as_alias("item_kind"),
        OfferTable.item.requires.as_alias("requires"),
        OfferTable.available,
        OfferTable.lat,
        OfferTable.lon,
        OfferTable.radius_km,
        OfferTable.available_until,
    ).where(
        (OfferTable.status == OfferStatus.open.value)
        & (OfferTable.available > 0)
        & (OfferTable.available_from <= day)
        & (OfferTable.available_until >= day)
        & (OfferTable.organization._.status == OrganizationStatus.verified.value)
    )
    if region_code is not None:
        region = await get_region(region_code)
        prefix = "-" if region is None else subtree_prefix(region.code, region.level)
        query = query.where(OfferTable.warehouse._.region._.code.like(prefix + "%"))
    rows = await query.order_by(OfferTable.id).output(load_json=True).run()
    return [
        StockRecord(
            offer_id=row["id"],
            organization_id=row["organization"],
            item_code=row["item_code"],
            item_kind=row["item_kind"],
            requires=tuple(row["requires"] or ()),
            available=row["available"],
            lat=row["lat"],
            lon=row["lon"],
            radius_km=row["radius_km"],
            available_until=row["available_until"],
        )
        for row in rows
    ]


async def withdraw(*, offer_id: int, quantity: int | None) -> None:
    """Take available units of an open offer back; ``None`` takes all and closes the offer.

    Inside the caller's transaction; the caller (the charity's edit) writes the audit entry.
    """
    if quantity is not None and quantity < 1:
        raise Invalid("The quantity must be at least 1", field="quantity")
    async with atomic():
        current = await load_offer(offer_id)
        if current is None:
            raise NotFound("No such offer")
        take = current.available if quantity is None else quantity
        changes: dict[Any, Any] = {
            OfferTable.available: OfferTable.available - take,
            OfferTable.withdrawn: OfferTable.withdrawn + take,
            OfferTable.updated_at: datetime.now(UTC),
        }
        if quantity is None:
            changes[OfferTable.status] = OfferStatus.withdrawn.value
        updated = (
            await OfferTable.update(changes)
            .where(
                (OfferTable.id == offer_id)
                & (OfferTable.status == OfferStatus.open.value)
                & (OfferTable.available >= take)
            )
            .returning(OfferTable.id)
            .run()
        )
        if not updated:
            now = await load_offer(offer_id)
            assert now is not None
            raise shortage(now, take)
