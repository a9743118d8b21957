"""Duplicate households: the same person is registered once in the whole system.

Before a household is saved, the same ID number (by keyed hash) or the same head name and
current address anywhere refuses it (409). Inside the caller's jurisdiction the answer names
the existing household's reference; outside it, only the county whose civil affairs to
contact, never the other record's personal data. A person registered without papers (no ID
number, 先行救助) is checked by name and address only.
"""

from __future__ import annotations

from nuanxin.errors import Conflict
from nuanxin.households.tables import Household
from nuanxin.identity import CurrentUser, visible_to
from nuanxin.regions.services import get_region

__all__ = ("check_duplicate",)


async def _county_name(code: str) -> str:
    county = await get_region(code[:6])
    return county.full_name if county is not None else code[:6]


async def check_duplicate(
    *,
    user: CurrentUser,
    id_hash: str,
    head_name: str,
    current_address: str,
    exclude_id: int | None = None,
) -> None:
    """Refuse (409) a household already registered under this ID or name and address."""
    checks = (
        *((("id_number", Household.id_hash == id_hash),) if id_hash else ()),
        (
            "head_name",
            (Household.head_name == head_name) & (Household.current_address == current_address),
        ),
    )
    for field, condition in checks:
        query = Household.select(Household.id, Household.reference, Household.region.code)
        query = query.where(condition)
        if exclude_id is not None:
            query = query.where(Household.id != exclude_id)
        found = await query.first().run()
        if found is None:
            continue
        what = "this ID number" if field == "id_number" else "this name and current address"
        message = "duplicate_household" if field == "id_number" else "duplicate_household_name"
        if visible_to(user, region_codes=[str(found["region.code"])]):
            raise Conflict(
                f"A household with {what} is already registered: {found['reference']}",
                error="duplicate_household",
                field=field,
                message_id=message,
                params={"reference": str(found["reference"])},
            )
        county = await _county_name(str(found["region.code"]))
        raise Conflict(
            f"A household with {what} is already registered in another jurisdiction; "
            f"contact the civil affairs of {county}",
            error="duplicate_household",
            field=field,
            message_id=f"{message}_elsewhere",
            params={"county": county},
        )
