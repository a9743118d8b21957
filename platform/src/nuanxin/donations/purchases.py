"""Purchases: campaign money turned into goods, which go on offer.

* The money must be there: ``cost <= raised - refunded - spent``, checked under the campaign's
  lock (see :mod:`.campaigns`), or nothing is written (409 ``insufficient_funds``).
* The goods become an offer at one of the charity's warehouses through the offers service, the
  one place where stock is counted; this module never writes an offer itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.donations.campaigns import (
    campaign_books,
    campaign_row,
    item_ids,
    lock_campaign,
    now,
    own_campaign,
    yuan,
)
from nuanxin.donations.schemas import Purchase, PurchaseCreate
from nuanxin.donations.tables import Purchase as PurchaseTable
from nuanxin.errors import Conflict, Invalid
from nuanxin.identity import CurrentUser
from nuanxin.offers import services as offers
from nuanxin.offers.schemas import OfferCreate
from nuanxin.pagination import Page, Pagination

__all__ = ("OFFER_DAYS", "list_purchases", "record_purchase")

OFFER_DAYS = 90  # how long bought or given goods stay on offer unless said otherwise


def _purchase(row: dict[str, Any]) -> Purchase:
    return Purchase(
        id=row["id"],
        campaign_id=row["campaign"],
        offer_id=row["offer"],
        item_code=row["item_code"],
        quantity=row["quantity"],
        cost_fen=row["cost_fen"],
        created_at=row["created_at"],
        advice_id=row["advice"],
    )


_PURCHASE_COLUMNS = (*PurchaseTable.all_columns(), PurchaseTable.item.code.as_alias("item_code"))


async def list_purchases(*, campaign_id: int, page: Pagination) -> Page[Purchase]:
    await campaign_row(campaign_id)
    where = PurchaseTable.campaign == campaign_id
    rows = (
        await PurchaseTable.select(*_PURCHASE_COLUMNS)
        .where(where)
        .order_by(PurchaseTable.id)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    return Page(
        items=[_purchase(row) for row in rows],
        total=await PurchaseTable.count().where(where).run(),
        limit=page.limit,
        offset=page.offset,
    )


async def record_purchase(
    *, user: CurrentUser, campaign_id: int, data: PurchaseCreate, advice_id: int | None = None
) -> Purchase:
    """Spend campaign money on goods: an offer at the charity's warehouse, in one transaction.

    ``advice_id``: the purchase advice it follows (checked by :mod:`nuanxin.advice`), kept on
    the purchase and in its audit entry.

    The money must be there (``cost <= raised - refunded - spent``, checked under the
    campaign's lock), or nothing is written (409).
    """
    async with atomic():
        campaign = await own_campaign(user, campaign_id)
        if data.item_code not in (campaign["items"] or []):
            raise Invalid(
                f"The campaign buys {', '.join(campaign['items'])}, not {data.item_code}",
                field="item_code",
            )
        await lock_campaign(campaign_id)
        left = (await campaign_books([campaign_id]))[campaign_id].left_fen
        if data.cost_fen > left:
            raise Conflict(
                f"The campaign has {yuan(left)} left, not {yuan(data.cost_fen)}",
                error="insufficient_funds",
                field="cost_fen",
            )
        today = now().date()
        offer = await offers.create_offer(
            user=user,
            data=OfferCreate(
                warehouse_id=data.warehouse_id,
                item_code=data.item_code,
                quantity=data.quantity,
                radius_km=data.radius_km,
                available_from=today,
                available_until=data.available_until or today + timedelta(days=OFFER_DAYS),
                note=f"campaign {campaign_id}",
            ),
        )
        item_id = (await item_ids())[data.item_code][0]
        rows = (
            await PurchaseTable.insert(
                PurchaseTable(
                    campaign=campaign_id,
                    offer=offer.id,
                    item=item_id,
                    quantity=data.quantity,
                    cost_fen=data.cost_fen,
                    recorded_by=user.id,
                    created_at=now(),
                    advice=advice_id,
                )
            )
            .returning(PurchaseTable.id)
            .run()
        )
        purchase_id = int(rows[0]["id"])
        await record(
            actor=user,
            action="purchase.create",
            entity="purchase",
            entity_id=purchase_id,
            after={
                "campaign": campaign_id,
                "offer": offer.id,
                "item": data.item_code,
                "quantity": data.quantity,
                "cost_fen": data.cost_fen,
                "left_fen": left,
                "advice": advice_id,
            },
        )
        row = (
            await PurchaseTable.select(*_PURCHASE_COLUMNS)
            .where(PurchaseTable.id == purchase_id)
            .first()
            .run()
        )
        assert row is not None
    return _purchase(row)
