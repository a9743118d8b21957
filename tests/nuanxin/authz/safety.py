"""Authorisation policy of heating safety (follow-ups, cold spells, a visit's checklist), and
the world's records for it: the visit's checklist and an open follow-up in county A."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.nuanxin.authz.model import ADMIN, CHARITY, COURIER, NEIGHBOUR, PROVINCE, STAFF, Rule

STAFF_OF_A = frozenset({ADMIN, STAFF, PROVINCE})
ALL_STAFF = STAFF_OF_A | {NEIGHBOUR}

POLICY: dict[str, Rule] = {
    "ListSafetyFollowUps": Rule(allowed=ALL_STAFF),
    "CompleteSafetyFollowUp": Rule(
        allowed=STAFF_OF_A,
        path={"follow_up_id": "follow_up_id"},
        body=lambda w: {"note": "电话回访，烟囱已封好"},
    ),
    "SetColdSpell": Rule(
        allowed=ALL_STAFF,  # the neighbour is told county A is not theirs (400, region_code)
        body=lambda w: {"region_code": "230111", "starts_on": "2026-11-20"},
    ),
    "GetVisitSafetyCheck": Rule(
        allowed=STAFF_OF_A | {CHARITY, COURIER}, path={"visit_id": "visit_id"}
    ),
}


async def build_safety(world: Any) -> None:
    """The visit's checklist (a "no" for the vent) and its urgent follow-up."""
    from nuanxin.safety.tables import FollowUp, SafetyCheck

    now = datetime.now(UTC)
    staff = world.user_ids[STAFF]
    await SafetyCheck.insert(
        SafetyCheck(
            visit=world.visit_id,
            household=world.household_id,
            chimney_sealed=True,
            vent=False,
            stove_not_in_bedroom=True,
            co_alarm="present",
            leaflet=True,
            recorded_by=staff,
            recorded_at=now,
        )
    ).run()
    rows = (
        await FollowUp.insert(
            FollowUp(
                household=world.household_id,
                visit=world.visit_id,
                kind="door_answer",
                urgent=True,
                problems=["vent"],
                winter=2026,
                delivered_on=now.date(),
                due_from=now.date(),
                due_by=now.date(),
                created_at=now,
            )
        )
        .returning(FollowUp.id)
        .run()
    )
    world.follow_up_id = int(rows[0]["id"])
