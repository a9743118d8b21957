"""The warehouse table (created by the accounts app's first migration; see ``piccolo_app``)."""

from __future__ import annotations

from piccolo.columns import DoublePrecision, ForeignKey, Serial, Varchar
from piccolo.columns.base import OnDelete
from piccolo.constraints import Check
from piccolo.table import Table

from nuanxin.accounts.tables import Organization
from nuanxin.regions.tables import Region

__all__ = ("Warehouse",)


class Warehouse(Table, tablename="warehouse"):
    """A place a charity keeps stock and ships from."""

    id = Serial(primary_key=True)

    organization = ForeignKey(Organization, index=True, null=False, on_delete=OnDelete.restrict)
    name = Varchar(length=200)
    address = Varchar(length=300)
    region = ForeignKey(Region, null=False, on_delete=OnDelete.restrict)
    lat = DoublePrecision()
    lon = DoublePrecision()

    lat_in_range = Check("lat >= -90 AND lat <= 90")
    lon_in_range = Check("lon >= -180 AND lon <= 180")
