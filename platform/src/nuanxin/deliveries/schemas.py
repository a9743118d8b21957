"""DTOs of the deliveries area."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from nuanxin.deliveries.vocabulary import CaseOutcome
from nuanxin.safety.schemas import SafetyChecklistIn

__all__ = (
    "BatchIn",
    "CaseOut",
    "CaseResolveIn",
    "ConfirmIn",
    "ConfirmOut",
    "DeliveryOut",
    "FailIn",
    "NotReceivedIn",
    "SlipOut",
    "StaffConfirmIn",
    "VisitItemOut",
    "VisitOut",
)

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class DeliveryOut(msgspec.Struct, kw_only=True):
    """A delivery. ``address`` and ``phone`` are filled only for whom may see them."""

    id: int
    allocation_id: int
    visit_id: int | None
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


class VisitItemOut(msgspec.Struct, kw_only=True):
    """One item line of a visit (one delivery)."""

    delivery_id: int
    item_code: str
    quantity: int
    status: str
    emergency: bool = False


class VisitOut(msgspec.Struct, kw_only=True):
    """A household visit: what one charity brings one household on one trip, one code for all.

    ``recipient`` (masked), ``address`` and ``phone`` are filled only for whom may see them.
    """

    id: int
    organization_id: int
    charity: str
    household_id: int
    household_reference: str
    county: str
    township: str
    region_code: str
    status: str
    failed_attempts: int
    printed_count: int
    visit_no: int
    items: list[VisitItemOut]
    created_at: datetime
    printed_at: datetime | None
    confirmed_at: datetime | None
    recipient: str | None = None
    address: str | None = None
    phone: str | None = None


class SlipOut(msgspec.Struct, kw_only=True):
    """The slip staff print for a household visit: the one-time code, shown once.

    ``delivery_id``, ``item_code`` and ``quantity`` name the delivery the slip was asked
    for (the per-delivery route) or the visit's first item; ``items`` lists them all.
    """

    visit_id: int
    delivery_id: int
    household_reference: str
    item_code: str
    quantity: int
    items: list[VisitItemOut]
    code: str
    reprint: bool
    printed_count: int


class BatchIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Visits whose slips to print at once (each gets a new code)."""

    visit_ids: Annotated[list[int], msgspec.Meta(min_length=1, max_length=500)]


class ConfirmIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The household's code; ``safety``: the heating-safety checklist of a visit bringing coal
    or a stove (optional here, refused for other visits; see ``safety.services``)."""

    code: Code
    safety: SafetyChecklistIn | None = None


class StaffConfirmIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class ConfirmOut(msgspec.Struct, kw_only=True):
    delivery_id: int
    visit_id: int
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
    visit_id: int | None
    household_reference: str
    description: str
    status: str
    created_at: datetime
    outcome: CaseOutcome | None = None
    resolution: str = ""
    resolved_at: datetime | None = None


class CaseResolveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How the case ended, and a note saying what was done (who checked, when, how)."""

    outcome: CaseOutcome
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
