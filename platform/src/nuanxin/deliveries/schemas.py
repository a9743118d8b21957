"""DTOs of the deliveries area."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from nuanxin.deliveries.vocabulary import CaseOutcome, ReviewStatus
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
    "OfflineReviewOut",
    "Position",
    "ReviewResolveIn",
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


class Position(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where the phone was at the door (WGS-84), sent only with the courier's consent."""

    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    accuracy_m: Annotated[float, msgspec.Meta(ge=0, le=100_000)] | None = None


class ConfirmIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The household's code; ``safety``: the heating-safety checklist of a visit bringing coal
    or a stove (optional here, refused for other visits; see ``safety.services``). A
    confirmation queued on the phone without a network also says so (``offline``), when it was
    typed at the door (``at_door``) and, with the courier's consent, where (``position``);
    those need an ``Idempotency-Key`` header."""

    code: Code
    safety: SafetyChecklistIn | None = None
    offline: bool = False
    at_door: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    position: Position | None = None


class StaffConfirmIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class ConfirmOut(msgspec.Struct, kw_only=True):
    """The visit's status after the confirmation. ``held_for_review``: a code typed offline
    that could not close the visit (wrong, or the visit locked) waits for staff as
    ``review_id``, without counting toward the lock."""

    delivery_id: int
    visit_id: int
    status: str
    already_confirmed: bool
    held_for_review: bool = False
    review_id: int | None = None


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


class OfflineReviewOut(msgspec.Struct, kw_only=True):
    """A confirmation made offline that waits for staff (or was settled by them).

    ``lat``/``lon`` are the phone's position at the door, when the courier shared it.
    """

    id: int
    visit_id: int
    household_reference: str
    county: str
    township: str
    region_code: str
    charity: str
    courier: str
    reason: str
    status: ReviewStatus
    visit_status: str
    at_door: datetime
    created_at: datetime
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    note: str = ""
    resolved_at: datetime | None = None


class ReviewResolveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How staff settled an offline confirmation: ``delivered`` (they checked with the household:
    the visit is confirmed) or ``dismissed`` (not delivered: the visit stays as it is)."""

    outcome: Annotated[str, msgspec.Meta(pattern="^(delivered|dismissed)$")]
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
