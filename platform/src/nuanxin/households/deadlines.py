"""Verifications that have lapsed, for the periodic duties (:mod:`nuanxin.deadlines`)."""

from __future__ import annotations

from datetime import datetime

from nuanxin.deadlines.vocabulary import Due
from nuanxin.households.tables import Household
from nuanxin.households.vocabulary import VerificationStatus

__all__ = ("expired_verifications",)


async def expired_verifications(*, now: datetime) -> list[Due]:
    rows = (
        await Household.select(
            Household.id, Household.verification_expires_at, Household.region._.code
        )
        .where(
            (Household.status == VerificationStatus.verified)
            & (Household.verification_expires_at < now)
        )
        .order_by(Household.id)
        .run()
    )
    return [
        Due(
            entity_id=int(row["id"]),
            region_code=str(row["region.code"]),
            due_at=row["verification_expires_at"],
        )
        for row in rows
    ]
