"""A household's carbon-monoxide alarm, as a courier finds it at the door.

When the heating-safety checklist says an alarm is present or was installed, the household
gets the ``co_alarm`` tag and its needs are recomputed, so that the rules stop proposing an
alarm (a need already allocated keeps what it has). Called inside the confirmation's
transaction (see ``nuanxin.safety.services``); audited.
"""

from __future__ import annotations

from datetime import datetime

from nuanxin.audit.services import record
from nuanxin.errors import NotFound
from nuanxin.households.need_records import recompute_needs
from nuanxin.households.read_model import facts_of, members_of, region_lat, tags_of
from nuanxin.households.tables import Household
from nuanxin.households.vocabulary import Tag
from nuanxin.identity import CurrentUser

__all__ = ("note_co_alarm",)


async def note_co_alarm(*, actor: CurrentUser, household_id: int, moment: datetime) -> bool:
    """Tag the household ``co_alarm`` and recompute its needs; False if it had the tag."""
    row = (
        await Household.select(
            Household.tags,
            Household.category,
            Household.lives_alone,
            Household.region,
            Household.region._.code,
        )
        .where(Household.id == household_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFound("No such household", message_id="not_found")
    tags = tags_of(row["tags"])
    if Tag.co_alarm.value in tags:
        return False
    new = sorted({*tags, Tag.co_alarm.value})
    await (
        Household.update({Household.tags: new, Household.updated_at: moment})
        .where(Household.id == household_id)
        .run()
    )
    facts = facts_of(
        category=str(row["category"]),
        members=(await members_of([household_id]))[household_id],
        lives_alone=bool(row["lives_alone"]),
        tags=new,
        latitude=await region_lat(int(row["region"])),
        now=moment,
    )
    await recompute_needs(household_id, facts, moment)
    await record(
        actor=actor,
        action="household.co_alarm",
        entity="household",
        entity_id=household_id,
        before={"tags": tags},
        after={"tags": new, "by": "safety checklist"},
        region_code=str(row["region.code"]),
    )
    return True
