"""Reading offers: the columns an offer is shown with, and loading one without a reach check.

The charity's editing (:mod:`nuanxin.offers.services`) and the stock ledger
(:mod:`nuanxin.offers.stock`) both read offers through here.
"""

from __future__ import annotations

from typing import Any

import msgspec

from nuanxin.offers.schemas import Offer
from nuanxin.offers.tables import Offer as OfferTable
from nuanxin.offers.vocabulary import OfferStatus
from nuanxin.units import Unit

__all__ = (
    "OFFER_COLUMNS",
    "OFFER_SQL_COLUMNS",
    "OFFER_TABLES",
    "load_offer",
    "offer_from_row",
    "offers_from_rows",
)

OFFER_COLUMNS = (
    *OfferTable.all_columns(exclude=[OfferTable.created_by]),
    OfferTable.organization.name.as_alias("organization_name"),
    OfferTable.warehouse.name.as_alias("warehouse_name"),
    OfferTable.warehouse._.region._.code.as_alias("region_code"),
    OfferTable.item.code.as_alias("item_code"),
    OfferTable.item.kind.as_alias("item_kind"),
    OfferTable.item.name_zh.as_alias("item_name_zh"),
    OfferTable.item.name_en.as_alias("item_name_en"),
    OfferTable.item.unit.as_alias("item_unit"),
)


#: :data:`OFFER_COLUMNS` as raw SQL (``SELECT`` them ``FROM`` :data:`OFFER_TABLES`), named as
#: the fields of :class:`~nuanxin.offers.schemas.Offer`, for the list that every charity page
#: and API client reads (:func:`nuanxin.offers.services.list_offers`): built by Piccolo, the
#: five-table select cost more CPU than the database spent on it; the rows become offers in
#: one :func:`offers_from_rows`.
OFFER_SQL_COLUMNS = (
    "offer.id, offer.organization AS organization_id, offer.warehouse AS warehouse_id, "
    "offer.quantity, offer.available, offer.reserved, offer.delivered, offer.withdrawn, "
    "offer.lat, offer.lon, offer.radius_km, offer.available_from, offer.available_until, "
    "offer.status, offer.note, offer.created_at, offer.updated_at, "
    "organization.name AS organization_name, warehouse.name AS warehouse_name, "
    "region.code AS region_code, item.code AS item_code, item.kind AS item_kind, "
    "item.name_zh AS item_name_zh, item.name_en AS item_name_en, item.unit AS unit"
)
#: The tables of :data:`OFFER_SQL_COLUMNS`; ``region`` is the warehouse's, for its code.
OFFER_TABLES = (
    "offer JOIN organization ON organization.id = offer.organization "
    "JOIN warehouse ON warehouse.id = offer.warehouse "
    "JOIN region ON region.id = warehouse.region "
    "JOIN item ON item.id = offer.item"
)


def offer_from_row(row: dict[str, Any]) -> Offer:
    return Offer(
        id=row["id"],
        organization_id=row["organization"],
        organization_name=row["organization_name"],
        warehouse_id=row["warehouse"],
        warehouse_name=row["warehouse_name"],
        region_code=row["region_code"],
        item_code=row["item_code"],
        item_kind=row["item_kind"],
        item_name_zh=row["item_name_zh"],
        item_name_en=row["item_name_en"],
        unit=Unit(row["item_unit"]),
        quantity=row["quantity"],
        available=row["available"],
        reserved=row["reserved"],
        delivered=row["delivered"],
        withdrawn=row["withdrawn"],
        lat=row["lat"],
        lon=row["lon"],
        radius_km=row["radius_km"],
        available_from=row["available_from"],
        available_until=row["available_until"],
        status=OfferStatus(row["status"]),
        note=row["note"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def offers_from_rows(rows: list[dict[str, Any]]) -> list[Offer]:
    """Rows of :data:`OFFER_SQL_COLUMNS` as offers (msgspec converts the page at once: a fifth
    of the time of :func:`offer_from_row` on each)."""
    return msgspec.convert(rows, list[Offer])


async def load_offer(offer_id: int) -> Offer | None:
    row = await OfferTable.select(*OFFER_COLUMNS).where(OfferTable.id == offer_id).first().run()
    return None if row is None else offer_from_row(row)
