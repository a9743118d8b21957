"""The deliveries area's words: an allocation's, a delivery's, a visit's and a case's status.

Tables, schemas, services and faces import these from here, never from tables.py.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = (
    "AllocationStatus",
    "CaseOutcome",
    "CaseStatus",
    "DeliveryStatus",
    "ReviewReason",
    "ReviewStatus",
    "VisitStatus",
)


class AllocationStatus(StrEnum):
    reserved = "reserved"
    delivered = "delivered"
    failed = "failed"
    cancelled = "cancelled"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"
    locked = "locked"  # too many wrong codes


class CaseStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class VisitStatus(StrEnum):
    """A household visit: open until its code (or staff) closes it; locked by wrong codes."""

    pending = "pending"
    delivered = "delivered"
    failed = "failed"
    locked = "locked"  # too many wrong codes: staff reprint the slip or confirm it themselves


class CaseOutcome(StrEnum):
    """How staff settled a "not received" case."""

    redelivered = "redelivered"  # the charity brought the goods again
    received = "received"  # the household had them after all
    written_off = "written_off"  # the goods are lost: the household's need is open again


class ReviewReason(StrEnum):
    """Why a confirmation made without a network waits for staff instead of closing a visit."""

    wrong_code = "wrong_code"  # the code typed at the door does not match
    locked = "locked"  # the visit was locked by wrong codes typed online meanwhile
    held = "held"  # an earlier offline code for this visit is still waiting for staff


class ReviewStatus(StrEnum):
    """An offline confirmation held for staff: open, or settled one way or the other."""

    open = "open"
    delivered = "delivered"  # staff checked with the household: the visit is confirmed
    dismissed = "dismissed"  # not delivered after all: the visit stays as it is
