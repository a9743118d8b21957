"""Allocations (approved, stock reserved), their deliveries, and cases opened at the door."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
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
from nuanxin.deliveries.vocabulary import (
    AllocationStatus,
    CaseOutcome,
    CaseStatus,
    DeliveryStatus,
    ReviewReason,
    ReviewStatus,
    VisitStatus,
)
from nuanxin.households.tables import Household, Need
from nuanxin.offers.tables import Offer
from nuanxin.rounds.tables import Proposal


class Allocation(Table, tablename="allocation"):
    """Approved units of an offer reserved for one household's need."""

    id = Serial(primary_key=True)

    proposal = ForeignKey(
        Proposal, null=True, default=None, unique=True, on_delete=OnDelete.restrict
    )
    offer = ForeignKey(Offer, index=True, null=False, on_delete=OnDelete.restrict)
    household = ForeignKey(Household, index=True, null=False, on_delete=OnDelete.restrict)
    need = ForeignKey(Need, null=False, on_delete=OnDelete.restrict)
    quantity = Integer()
    distance_km = DoublePrecision()
    status = Varchar(
        length=10, choices=AllocationStatus, default=AllocationStatus.reserved, index=True
    )
    emergency = Boolean(default=False)  # 先行救助
    paperwork_due_at = Timestamptz(null=True, default=None)
    paperwork_done_at = Timestamptz(null=True, default=None)
    approved_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()

    quantity_positive = Check("quantity > 0")


class Visit(Table, tablename="visit"):
    """What one charity brings one household on one trip: one slip, one code for all its items.

    Allocations approved for a household and a charity join the open visit whose slip is not
    printed yet, or start a new one. ``code_hash`` is the keyed hash of the household's code
    (none until staff print the slip); ``failed_attempts`` counts wrong codes atomically and
    five lock the visit; a reprint (``printed_count`` > 1, “补打”) gives a new code and resets
    the count. A partial unique index (``visit_one_open_per_pair``, made by a migration: Piccolo
    cannot declare one) allows one pending, unprinted visit per household and charity.
    """

    id = Serial(primary_key=True)

    household = ForeignKey(Household, index=True, null=False, on_delete=OnDelete.restrict)
    organization = ForeignKey(Organization, index=True, null=False, on_delete=OnDelete.restrict)
    status = Varchar(length=10, choices=VisitStatus, default=VisitStatus.pending, index=True)
    code_hash = Varchar(length=64, null=True, default=None, unique=True)
    failed_attempts = Integer(default=0)
    printed_count = Integer(default=0)
    printed_at = Timestamptz(null=True, default=None)
    confirmed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    confirmed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()

    visit_attempts_not_negative = Check("failed_attempts >= 0")


class Delivery(Table, tablename="delivery"):
    """The hand-over of an allocation: one item line of a household :class:`Visit`.

    ``code_hash`` is a random placeholder kept for old rows: the code lives on the visit.
    """

    id = Serial(primary_key=True)

    visit = ForeignKey(Visit, index=True, null=True, default=None, on_delete=OnDelete.restrict)

    allocation = ForeignKey(Allocation, unique=True, null=False, on_delete=OnDelete.restrict)
    organization = ForeignKey(Organization, index=True, null=False, on_delete=OnDelete.restrict)
    code_hash = Varchar(length=64, unique=True)
    status = Varchar(length=10, choices=DeliveryStatus, default=DeliveryStatus.pending, index=True)
    failed_attempts = Integer(default=0)
    failure_reason = Varchar(length=300, default="")
    confirmed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    confirmed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()

    attempts_not_negative = Check("failed_attempts >= 0")


class DeliveryCase(Table, tablename="delivery_case"):
    """A household's report through its code that the goods did not arrive."""

    id = Serial(primary_key=True)

    delivery = ForeignKey(Delivery, index=True, null=False, on_delete=OnDelete.restrict)
    household = ForeignKey(Household, null=False, on_delete=OnDelete.restrict)
    description = Varchar(length=500, default="")
    status = Varchar(length=10, choices=CaseStatus, default=CaseStatus.open, index=True)
    outcome = Varchar(length=12, choices=CaseOutcome, null=True, default=None)
    resolution = Varchar(length=300, default="")  # the resolving staff member's note
    created_at = Timestamptz()
    resolved_at = Timestamptz(null=True, default=None)


class ConfirmationKey(Table, tablename="confirmation_key"):
    """A courier's confirmation sent with an ``Idempotency-Key``, and the answer it got.

    The phone makes one key (a UUID) per confirmation, kept with it while it waits to be sent;
    the unique key makes a replay of it answer what the first one did and change nothing.
    ``fingerprint`` is a keyed hash of what was asked (visit, code, offline or not), so a key
    reused for another request is refused. ``at_door`` is the time the phone recorded at the
    door; ``lat``/``lon`` its position, only when the courier agreed to share it.
    """

    id = Serial(primary_key=True)

    key = Varchar(length=36, unique=True)
    user = ForeignKey(User, index=True, null=False, on_delete=OnDelete.restrict)
    visit = ForeignKey(Visit, index=True, null=False, on_delete=OnDelete.restrict)
    fingerprint = Varchar(length=64)
    offline = Boolean(default=False)
    at_door = Timestamptz(null=True, default=None)
    lat = DoublePrecision(null=True, default=None)
    lon = DoublePrecision(null=True, default=None)
    accuracy_m = DoublePrecision(null=True, default=None)
    answer = JSON(default="{}")  # the answer given the first time: a confirmation or a refusal
    created_at = Timestamptz()


class OfflineReview(Table, tablename="offline_review"):
    """A confirmation made without a network that could not close its visit: staff decide.

    A wrong code typed offline lands here and is never counted toward the visit's lock (the
    courier could not be told at the door); nor does a later offline code close a visit while
    one of these is open, or a locked visit.
    """

    id = Serial(primary_key=True)

    visit = ForeignKey(Visit, index=True, null=False, on_delete=OnDelete.restrict)
    confirmation = ForeignKey(ConfirmationKey, unique=True, null=False, on_delete=OnDelete.restrict)
    courier = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    reason = Varchar(length=12, choices=ReviewReason)
    status = Varchar(length=10, choices=ReviewStatus, default=ReviewStatus.open, index=True)
    at_door = Timestamptz()
    created_at = Timestamptz()
    resolved_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    resolved_at = Timestamptz(null=True, default=None)
    note = Varchar(length=300, default="")
