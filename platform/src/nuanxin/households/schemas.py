"""DTOs of the households area (msgspec Structs, never tables)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from nuanxin.households.vocabulary import Category, EscalationStatus, Tag, VerificationStatus
from nuanxin.units import GivenUnit, Unit, amount_schema

__all__ = (
    "AddressLookup",
    "DecisionIn",
    "EscalationIn",
    "EscalationOut",
    "HouseholdCreate",
    "HouseholdFields",
    "HouseholdOut",
    "HouseholdUpdate",
    "LocationSuggestionOut",
    "MemberIn",
    "MemberOut",
    "NeedOut",
    "NeedOverride",
    "PinIn",
    "RegionChoice",
    "SuggestionDecisionIn",
)


Relation = Literal[
    "self", "spouse", "child", "parent", "grandchild", "grandparent", "sibling", "other"
]
Sex = Literal["M", "F", ""]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Phone = Annotated[str, msgspec.Meta(max_length=20, pattern=r"^[0-9+\- ]*$")]
Address = Annotated[str, msgspec.Meta(max_length=300)]
RequiredAddress = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
RegionCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^\d{6}(\d{3})?$", description="county (6 digits) or township (9 digits) code"
    ),
]
IdNumber = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        description=(
            "18-character resident ID number (full-width digits and spaces are read as ASCII, "
            "then the birth date and check character are checked); stored as a keyed hash, "
            "shown as the last 4"
        ),
    ),
]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
#: A point staff place by hand: inside the box of China's territory (WGS-84 degrees).
PinLatitude = Annotated[float, msgspec.Meta(ge=3.3, le=53.6)]
PinLongitude = Annotated[float, msgspec.Meta(ge=73.4, le=135.1)]
Notes = Annotated[str, msgspec.Meta(max_length=2000)]


class MemberIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    birth_year: Annotated[int, msgspec.Meta(ge=1900, le=2100)]
    sex: Sex = ""
    relation: Relation = "self"
    disability_level: Annotated[
        int, msgspec.Meta(ge=0, le=4, description="0 none, 1 most severe .. 4")
    ] = 0


Members = Annotated[list[MemberIn], msgspec.Meta(min_length=1, max_length=20)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=len(Tag))]


class HouseholdFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What staff enter about a household (all but the ID number)."""

    category: Category
    head_name: Name
    phone: Phone = ""
    registered_address: Address = ""
    current_address: RequiredAddress
    region_code: RegionCode
    lat: Latitude | None = None
    lon: Longitude | None = None
    members: Members
    lives_alone: bool = False
    tags: Tags = msgspec.field(default_factory=list)
    notes: Notes = ""


class HouseholdCreate(HouseholdFields, kw_only=True, forbid_unknown_fields=True):
    """A new household. ``lat``/``lon`` default to the region's point.

    ``id_number`` may be left out only for a person without papers helped first (先行救助),
    saying why in ``without_id``: the household is recorded as having no ID number, cannot be
    verified until one is added, and duplicates are found by name and current address.
    """

    id_number: IdNumber | None = None
    without_id: Annotated[str, msgspec.Meta(max_length=300)] = ""


class HouseholdUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Changes to a household: a field left out (or null) stays as it is.

    ``members`` replaces the whole list. Changing members, tags, category, lives_alone or the
    region recomputes the needs (overridden needs keep their quantity).
    """

    category: Category | None = None
    head_name: Name | None = None
    id_number: IdNumber | None = None
    phone: Phone | None = None
    registered_address: Address | None = None
    current_address: RequiredAddress | None = None
    region_code: RegionCode | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    members: Members | None = None
    lives_alone: bool | None = None
    tags: Tags | None = None
    notes: Notes | None = None


class MemberOut(msgspec.Struct, kw_only=True):
    id: int
    birth_year: int
    sex: str
    relation: str
    disability_level: int


class HouseholdOut(msgspec.Struct, kw_only=True):
    id: int
    reference: str
    category: Category
    head_name: str
    id_number: str  # masked: only the last 4 characters ("" when the person has none)
    phone: str  # in full to staff of the jurisdiction, masked otherwise
    registered_address: str
    current_address: str
    region_code: str
    region_name: str
    lat: float
    lon: float
    tags: list[str]
    lives_alone: bool
    status: VerificationStatus
    verified_by: int | None
    verified_at: datetime | None
    verification_expires_at: datetime | None
    is_verification_current: bool
    members: list[MemberOut]
    priority_weight: float
    priority_reasons_zh: list[str]
    priority_reasons_en: list[str]
    notes: str
    created_at: datetime
    updated_at: datetime
    id_missing: bool = False  # registered without an ID number (先行救助): identify them
    location_source: str = "county"  # where lat/lon came from: pin, courier, township, county


class RegionChoice(msgspec.Struct, kw_only=True):
    """A county or township staff may pick for a household's current location."""

    code: str
    name: str
    full_name: str
    level: str
    lat: float
    lon: float
    in_jurisdiction: bool


class AddressLookup(msgspec.Struct, kw_only=True):
    """What an address pre-fills: the region it names, if it names exactly one, and the
    candidates to pick from (``problem`` says why there is no single answer)."""

    region: RegionChoice | None
    candidates: list[RegionChoice]
    problem: str


class NeedOut(msgspec.Struct, kw_only=True):
    id: int
    household_id: int
    item_code: str
    unit: Annotated[Unit, msgspec.Meta(description="the item's counting unit, of the quantities")]
    quantity: int
    allocated: int
    weight: float
    rule_zh: str
    rule_en: str
    override_reason: str
    updated_at: datetime


class NeedOverride(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Staff set a need's quantity by hand (in ``unit``: coal in 25 kg bags, kg or t); the
    reason is kept and survives recomputation. At most 1,000 of the item's counting unit."""

    item_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    quantity: Annotated[int | Decimal, amount_schema(minimum=0)]
    unit: GivenUnit = None
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


# -- 一事一议 (case-by-case requests) ---------------------------------------------------------

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class EscalationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Ask for ``quantity`` units in all of ``item_code`` for the household, and say why."""

    household_id: int
    item_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    reason: Reason


class DecisionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    approve: bool
    reason: Reason


class EscalationOut(msgspec.Struct, kw_only=True):
    id: int
    household_id: int
    household_reference: str
    item_code: str
    quantity: int
    current_quantity: int
    reason: str
    status: EscalationStatus
    decide_at_code: str
    decide_at_name: str
    decision_reason: str
    created_at: datetime
    decided_at: datetime | None


class PinIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where staff placed the household on the map (WGS-84 degrees, inside China's box)."""

    lat: PinLatitude
    lon: PinLongitude


class LocationSuggestionOut(msgspec.Struct, kw_only=True):
    """A courier's position at the household's first confirmed visit, for staff to decide.

    ``current_*`` is the household's point now and where it came from; ``distance_km`` how far
    the suggestion lies from it (when suggested).
    """

    id: int
    household_id: int
    household_reference: str
    region_code: str
    region_name: str
    current_lat: float
    current_lon: float
    current_source: str
    lat: float
    lon: float
    accuracy_m: float | None
    distance_km: float
    visit_id: int
    suggested_by: str
    created_at: datetime
    status: str
    decided_at: datetime | None = None


class SuggestionDecisionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Accept the courier's point (it becomes the household's, unless a pin is there) or not.

    A word rather than a boolean, so that a stray ``0`` or ``"false"`` never decides.
    """

    decision: Literal["accept", "reject"]
