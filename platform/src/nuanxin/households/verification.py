"""Verifying households: staff vouch for a household for ``Settings.verification_months``.

An expired verification counts as unverified (the read model says whether it is current;
matching rounds take only current ones). Renewing is verifying again. The audit entry keeps
the household's snapshot before and after, without the ID number or full phone.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import datetime

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict
from nuanxin.households.read_model import household_detail, household_row, members_of, now, snapshot
from nuanxin.households.schemas import HouseholdOut
from nuanxin.households.tables import Household
from nuanxin.households.vocabulary import VerificationStatus
from nuanxin.identity import CurrentUser

__all__ = ("add_months", "verify_household")


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


async def verify_household(
    *,
    user: CurrentUser,
    household_id: int,
    verification_months: int,
    at: datetime | None = None,
) -> HouseholdOut:
    """Staff vouch for the household: verified at the visit (``at``, by default now), until
    ``verification_months`` after it. A visit recorded late (paper forms entered afterwards)
    keeps its own date, and may already have expired."""
    moment = now() if at is None else at
    async with atomic():
        row = await household_row(household_id, user)
        if not row["id_last4"]:
            raise Conflict(
                "The person has no ID number on record: add it before verifying",
                error="id_missing",
                field="id_number",
            )
        members = (await members_of([household_id]))[household_id]
        expires = add_months(moment, verification_months)
        await (
            Household.update(
                {
                    Household.status: VerificationStatus.verified.value,
                    Household.verified_by: user.id,
                    Household.verified_at: moment,
                    Household.verification_expires_at: expires,
                    Household.updated_at: moment,
                }
            )
            .where(Household.id == household_id)
            .run()
        )
        after = {
            **row,
            "status": VerificationStatus.verified.value,
            "verification_expires_at": expires,
        }
        await record(
            actor=user,
            action="household.verify",
            entity="household",
            entity_id=household_id,
            before=snapshot(row, len(members)),
            after=snapshot(after, len(members)),
            region_code=str(row["region.code"]),
        )
    return await household_detail(household_id, user)
