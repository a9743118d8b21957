"""DTOs of the deliveries area."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

__all__ = (
    "CaseOut",
    "ConfirmIn",
    "ConfirmOut",
    "DeliveryOut",
    "FailIn",
    "NotReceivedIn",
    "SlipOut",
    "StaffConfirmIn",
)

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class DeliveryOut(msgspec.Struct, kw_only=True):
    """A delivery. ``address`` and ``phone`` are filled only for whom may see them."""

    id: int
    allocation_id: int
    organization_id: int
    household_reference: str
    household_category: str
    county: str
    township: str
    region_code: str
    item_code: str
    quantity: int
    status: str
    emergency: bool
    failed_attempts: int
    failure_reason: str
    created_at: datetime
    confirmed_at: datetime | None
    recipient: str | None = None
    address: str | None = None
    phone: str | None = None
    lat: float | None = None
    lon: float | None = None


class SlipOut(msgspec.Struct, kw_only=True):
    """The slip staff print for the household: the one-time code, shown once."""

    delivery_id: int
    household_reference: str
    item_code: str
    quantity: int
    code: str


class ConfirmIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code


class StaffConfirmIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class ConfirmOut(msgspec.Struct, kw_only=True):
    delivery_id: int
    status: str
    already_confirmed: bool


class FailIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class NotReceivedIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code
    description: Annotated[str, msgspec.Meta(max_length=500)] = ""


class CaseOut(msgspec.Struct, kw_only=True):
    id: int
    delivery_id: int
    household_reference: str
    description: str
    status: str
    created_at: datetime
