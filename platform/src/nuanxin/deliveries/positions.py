"""A courier's position at the door, shared with consent, offered to refine the household's point.

Only the household's first confirmed visit counts (the first time a courier stood at that door):
its position becomes a suggestion staff accept or reject
(:func:`nuanxin.households.locations.suggest_from_courier`); it never moves the point by itself.
Call :func:`offer_position` in the transaction that confirmed the visit.
"""

from __future__ import annotations

from nuanxin.deliveries.tables import Visit
from nuanxin.deliveries.vocabulary import VisitStatus
from nuanxin.households.locations import suggest_from_courier
from nuanxin.identity import CurrentUser

__all__ = ("offer_position",)


async def offer_position(
    *,
    actor: CurrentUser,
    visit_id: int,
    lat: float,
    lon: float,
    accuracy_m: float | None = None,
) -> int | None:
    """The suggestion's id, or ``None`` when the visit is not its household's first confirmed
    one (or not confirmed), or the household has a suggestion already."""
    row = (
        await Visit.select(Visit.household, Visit.status).where(Visit.id == visit_id).first().run()
    )
    if row is None or row["status"] != VisitStatus.delivered:
        return None
    household = int(row["household"])
    earlier = await Visit.exists().where(
        (Visit.household == household)
        & (Visit.status == VisitStatus.delivered)
        & (Visit.id != visit_id)
    )
    if earlier:
        return None
    return await suggest_from_courier(
        actor=actor,
        household_id=household,
        visit_id=visit_id,
        lat=lat,
        lon=lon,
        accuracy_m=accuracy_m,
    )
