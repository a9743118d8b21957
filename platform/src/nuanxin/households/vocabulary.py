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
