"""A charity's prices per item, and the purchase advice computed from them.

A purchase recorded from the advice points at its row (``purchase.advice``, in the donations
area), so what was bought can be traced to the advice it followed.
"""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, ForeignKey, Integer, Serial, Timestamptz
from piccolo.columns.base import OnDelete
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from nuanxin.accounts.tables import Organization, User
from nuanxin.offers.tables import Item
from nuanxin.regions.tables import Region


class PurchasePrice(Table, tablename="purchase_price"):
    """What one unit of an item costs the charity (fen)."""

    id = Serial(primary_key=True)

    organization = ForeignKey(Organization, index=True, null=False, on_delete=OnDelete.cascade)
    item = ForeignKey(Item, null=False, on_delete=OnDelete.restrict)
    price_fen = BigInt()
    updated_at = Timestamptz()

    one_price = Unique(["organization", "item"])
    price_positive = Check("price_fen > 0")


class PurchaseAdvice(Table, tablename="purchase_advice"):
    """One computed advice: its lines (aggregate counts only, no household), as shown."""

    id = Serial(primary_key=True)

    organization = ForeignKey(Organization, index=True, null=False, on_delete=OnDelete.cascade)
    region = ForeignKey(Region, null=False, on_delete=OnDelete.restrict)
    units = Integer()  # the batch each line prices: "10 more quilts"
    households = Integer()  # households waiting in the snapshot
    lines = JSON(default=[])
    created_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()

    units_positive = Check("units > 0")
