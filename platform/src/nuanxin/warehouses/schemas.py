"""DTOs of the warehouses area (msgspec Structs, never tables).

In :class:`WarehouseUpdate` a field left out (``None``) is left unchanged.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ("Warehouse", "WarehouseCreate", "WarehouseUpdate")

RegionCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9]{6}([0-9]{3})?$",
        description="official division code: 6 digits (province to county) or 9 (township)",
    ),
]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Address = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]


class WarehouseCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A warehouse; without a point it stands at its county's or township's point."""

    name: Name
    address: Address
    region_code: RegionCode
    lat: Latitude | None = None
    lon: Longitude | None = None


class WarehouseUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name | None = None
    address: Address | None = None
    region_code: RegionCode | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None


class Warehouse(msgspec.Struct, kw_only=True):
    id: int
    organization_id: int
    name: str
    address: str
    region_id: int
    region_code: str
    region_name: str
    lat: float
    lon: float
