"""The words of the households area: categories, verification, tags, climate zones, escalations.

Tables, schemas, services and faces import these enums from here (never from ``tables.py``)
and compare members, not string literals.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = (
    "Category",
    "ClimateZone",
    "EscalationStatus",
    "LocationSource",
    "SuggestionStatus",
    "Tag",
    "VerificationFilter",
    "VerificationStatus",
)


class Category(StrEnum):
    """The assistance category a household is registered under."""

    dibao = "dibao"  # 低保
    extremely_poor = "extremely_poor"  # 特困人员
    near_dibao = "near_dibao"  # 低保边缘
    temporary = "temporary"  # 临时救助


class LocationSource(StrEnum):
    """Where a household's point came from, best first (:data:`LOCATION_RANK`)."""

    pin = "pin"  # placed by staff on the map, or typed as latitude/longitude
    courier = "courier"  # a courier's position at the door, accepted by staff
    township = "township"  # the township's centre (from a licensed dataset)
    county = "county"  # the county's centre (the seat of government)


LOCATION_RANK = {source: rank for rank, source in enumerate(LocationSource)}
"""0 for the best source (a pin): a point is replaced only by one of a better or equal rank."""


class SuggestionStatus(StrEnum):
    """A courier's suggested point for a household, as staff decided it."""

    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"


class VerificationStatus(StrEnum):
    unverified = "unverified"
    verified = "verified"
    rejected = "rejected"


class VerificationFilter(StrEnum):
    current = "current"  # verified, and the verification has not expired
    expired = "expired"  # verified once, expired since
    unverified = "unverified"  # never verified (or rejected)


class Tag(StrEnum):
    """The fixed vocabulary of a household's heating and supply (see ``households.needs``)."""

    electricity = "electricity"  # the home has a mains electricity supply
    coal_stove = "coal_stove"  # heats with a coal stove (coal is only useful with one)
    central_heating = "central_heating"  # connected to district heating
    gas_heating = "gas_heating"  # heats with gas
    kang = "kang"  # a heated brick bed (炕)
    no_heating = "no_heating"  # no heating at all
    co_alarm = "co_alarm"  # a carbon-monoxide alarm is installed (一氧化碳报警器)


class ClimateZone(StrEnum):
    severe_cold = "severe_cold"
    cold = "cold"
    mild = "mild"


class EscalationStatus(StrEnum):
    """一事一议: a case-by-case request waits, then is approved or rejected once."""

    pending = "pending"
    approved = "approved"
    rejected = "rejected"
