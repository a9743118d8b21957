"""Administrative divisions (province > city > county > township) and the geocoding cache."""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import JSON, DoublePrecision, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.constraints import Check, Unique
from piccolo.table import Table


class RegionLevel(StrEnum):
    province = "province"
    city = "city"
    county = "county"
    township = "township"


class Region(Table, tablename="region"):
    """An administrative division with its official code and a WGS-84 point."""

    id = Serial(primary_key=True)

    code = Varchar(length=12, unique=True, index=True)
    name = Varchar(length=64)
    full_name = Varchar(length=200)
    level = Varchar(length=10, choices=RegionLevel, index=True)
    parent: ForeignKey[Region] = ForeignKey(
        "self", null=True, index=True, on_delete=OnDelete.restrict
    )
    lat = DoublePrecision()
    lon = DoublePrecision()

    lat_in_range = Check("lat >= -90 AND lat <= 90")
    lon_in_range = Check("lon >= -180 AND lon <= 180")


class GeocodeCache(Table, tablename="geocode_cache"):
    """An online provider's answer, kept so that the same address is asked once."""

    id = Serial(primary_key=True)

    provider = Varchar(length=20)
    query = Varchar(length=300)
    lat = DoublePrecision(null=True, default=None)
    lon = DoublePrecision(null=True, default=None)
    response = JSON()
    created_at = Timestamptz()

    one_answer_per_query = Unique(["provider", "query"])
