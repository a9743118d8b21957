"""The item catalogue and the offers charities post from their warehouses."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.constraints import Check
from piccolo.table import Table

from nuanxin.accounts.tables import Organization, User
from nuanxin.offers.vocabulary import OfferStatus
from nuanxin.units import Unit
from nuanxin.warehouses.tables import Warehouse


class Item(Table, tablename="item"):
    """A catalogue entry: what one unit is, and the household tags it requires.

    ``unit`` is the counting unit: every quantity of the item (stock, needs, matching) is a
    whole number of it; quantities given in another unit of its measure are converted
    exactly (:mod:`nuanxin.units`). Coal is counted in 25 kg bags, the rest in pieces.
    """

    id = Serial(primary_key=True)

    code = Varchar(length=32, unique=True)  # e.g. coal, coat_adult_l, quilt
    kind = Varchar(length=20, index=True)  # coal, coat, quilt, electric_blanket, stove
    name_zh = Varchar(length=50)
    name_en = Varchar(length=80)
    unit_zh = Varchar(length=10)
    unit_en = Varchar(length=20)
    unit = Varchar(length=16, choices=Unit, default=Unit.piece)
    requires = JSON(default=[])  # tags a household must have, e.g. ["electricity"]


class Offer(Table, tablename="offer"):
    """Stock a charity offers: ``quantity = available + reserved + delivered + withdrawn``."""

    id = Serial(primary_key=True)

    organization = ForeignKey(Organization, index=True, null=False, on_delete=OnDelete.restrict)
    warehouse = ForeignKey(Warehouse, null=False, on_delete=OnDelete.restrict)
    item = ForeignKey(Item, null=False, on_delete=OnDelete.restrict)
    quantity = Integer()
    available = Integer()
    reserved = Integer(default=0)
    delivered = Integer(default=0)
    withdrawn = Integer(default=0)
    lat = DoublePrecision()
    lon = DoublePrecision()
    radius_km = DoublePrecision()
    available_from = Date()
    available_until = Date()
    status = Varchar(length=10, choices=OfferStatus, default=OfferStatus.open, index=True)
    note = Varchar(length=300, default="")
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    updated_at = Timestamptz()

    stock_not_negative = Check(
        "available >= 0 AND reserved >= 0 AND delivered >= 0 AND withdrawn >= 0"
    )
    stock_adds_up = Check("available + reserved + delivered + withdrawn = quantity")
    radius_positive = Check("radius_km > 0 AND radius_km <= 500")
    window_in_order = Check("available_from <= available_until")
