"""Households in difficulty, their members and their needs for this winter."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from nuanxin.accounts.tables import User
from nuanxin.households.vocabulary import (
    Category,
    EscalationStatus,
    LocationSource,
    SuggestionStatus,
    VerificationStatus,
)
from nuanxin.offers.tables import Item
from nuanxin.regions.tables import Region


class Household(Table, tablename="household"):
    """A recipient unit. Its current location is kept apart from its registered address."""

    id = Serial(primary_key=True)

    reference = Varchar(length=20, unique=True)  # public, non-identifying reference
    category = Varchar(length=16, choices=Category, index=True)
    head_name = Varchar(length=100)
    id_hash = Varchar(length=64, index=True)  # keyed hash (HMAC) of the ID number
    id_last4 = Varchar(length=4)
    phone = Varchar(length=20, default="")
    registered_address = Varchar(length=300, default="")  # 户籍地址
    current_address = Varchar(length=300)
    region = ForeignKey(
        Region, index=True, null=False, on_delete=OnDelete.restrict
    )  # where the household is now
    lat = DoublePrecision()
    lon = DoublePrecision()
    location_source = Varchar(
        length=10, choices=LocationSource, default=LocationSource.county.value
    )  # where lat/lon came from: the best point known (households/locations.py)
    tags = JSON(default=[])  # e.g. ["electricity", "coal_stove"]
    lives_alone = Boolean(default=False)
    status = Varchar(
        length=12,
        choices=VerificationStatus,
        default=VerificationStatus.unverified.value,
        index=True,
    )
    verified_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    verified_at = Timestamptz(null=True, default=None)
    verification_expires_at = Timestamptz(null=True, default=None)
    notes = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()

    lat_in_range = Check("lat >= -90 AND lat <= 90")
    lon_in_range = Check("lon >= -180 AND lon <= 180")
    verified_has_expiry = Check(
        "status <> 'verified' OR (verified_at IS NOT NULL AND verification_expires_at IS NOT NULL)"
    )


class Member(Table, tablename="household_member"):
    """A person in a household (no name needed for matching; age and disability matter)."""

    id = Serial(primary_key=True)

    household = ForeignKey(Household, index=True, null=False, on_delete=OnDelete.restrict)
    relation = Varchar(length=20, default="self")
    birth_year = Integer()
    sex = Varchar(length=1, default="")
    disability_level = Integer(default=0)  # 0 none, 1..4 as on the disability card

    plausible_birth_year = Check("birth_year >= 1900 AND birth_year <= 2100")
    disability_in_range = Check("disability_level >= 0 AND disability_level <= 4")


class Need(Table, tablename="need"):
    """How many units of one item a household should receive this winter."""

    id = Serial(primary_key=True)

    household = ForeignKey(Household, index=True, null=False, on_delete=OnDelete.restrict)
    item = ForeignKey(Item, index=True, null=False, on_delete=OnDelete.restrict)
    quantity = Integer()
    allocated = Integer(default=0)
    weight = DoublePrecision(default=1.0)  # priority of each unit
    rule = Varchar(length=200, default="")  # the rule the quantity came from
    override_reason = Varchar(length=300, default="")
    updated_at = Timestamptz()

    one_need_per_item = Unique(["household", "item"])
    quantity_not_negative = Check("quantity >= 0")
    allocated_within_quantity = Check("allocated >= 0 AND allocated <= quantity")
    weight_positive = Check("weight > 0")


class Escalation(Table, tablename="escalation"):
    """一事一议: a request above the usual caps, decided by staff one level up."""

    id = Serial(primary_key=True)

    household = ForeignKey(Household, index=True, null=False, on_delete=OnDelete.restrict)
    item = ForeignKey(Item, null=False, on_delete=OnDelete.restrict)
    quantity = Integer()
    reason = Varchar(length=500)
    requested_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    decide_at = ForeignKey(
        Region, null=False, on_delete=OnDelete.restrict
    )  # the region one level up whose staff decide
    status = Varchar(
        length=10, choices=EscalationStatus, default=EscalationStatus.pending.value, index=True
    )
    decided_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    decision_reason = Varchar(length=500, default="")
    created_at = Timestamptz()
    decided_at = Timestamptz(null=True, default=None)

    quantity_positive = Check("quantity > 0")


class LocationSuggestion(Table, tablename="location_suggestion"):
    """A courier's position at a household's first confirmed visit, shared with consent.

    It refines the household's point only once staff accept it (and never moves a pin).
    ``visit_id`` names the visit it came from (the deliveries area's; no foreign key, since
    that area builds on this one); ``distance_km`` is how far it lies from the household's
    point when it was suggested. One suggestion a household: only the first visit counts.
    """

    id = Serial(primary_key=True)

    household = ForeignKey(Household, unique=True, null=False, on_delete=OnDelete.restrict)
    visit_id = Integer()
    lat = DoublePrecision()
    lon = DoublePrecision()
    accuracy_m = DoublePrecision(null=True, default=None)
    distance_km = DoublePrecision()
    suggested_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    status = Varchar(
        length=10, choices=SuggestionStatus, default=SuggestionStatus.pending.value, index=True
    )
    decided_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    decided_at = Timestamptz(null=True, default=None)

    suggestion_lat_in_range = Check("lat >= -90 AND lat <= 90")
    suggestion_lon_in_range = Check("lon >= -180 AND lon <= 180")
