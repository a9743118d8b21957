"""Counts of households for dashboards (the home page), without reaching into the table."""

from __future__ import annotations

from datetime import UTC, datetime

from nuanxin.households.tables import Household
from nuanxin.households.vocabulary import VerificationStatus

__all__ = ("count_current_households",)


async def count_current_households(*, now: datetime | None = None) -> int:
    """Verified households whose verification is current."""
    moment = now or datetime.now(UTC)
    return int(
        await Household.count()
        .where(
            (Household.status == VerificationStatus.verified)
            & (Household.verification_expires_at > moment)
        )
        .run()
    )
