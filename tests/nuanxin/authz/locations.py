"""Authorisation policy of households' points: staff pin households and decide couriers' points."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nuanxin.households.tables import LocationSuggestion
from tests.nuanxin.authz.model import ADMIN, NEIGHBOUR, PROVINCE, STAFF, STAFF_OF_A, Caller, Rule

HOUSEHOLD = {"household_id": "household_id"}
SUGGESTION = {"suggestion_id": "suggestion_id"}
DECIDERS = frozenset({ADMIN, STAFF, PROVINCE})


async def build_locations(world: Any) -> None:
    """A courier's position at the household's visit, waiting for staff."""
    rows = (
        await LocationSuggestion.insert(
            LocationSuggestion(
                household=world.household_id,
                visit_id=world.visit_id,
                lat=45.885,
                lon=126.585,
                accuracy_m=15.0,
                distance_km=0.5,
                suggested_by=world.user_ids[Caller.COURIER],
                created_at=datetime.now(UTC),
            )
        )
        .returning(LocationSuggestion.id)
        .run()
    )
    world.suggestion_id = int(rows[0]["id"])


POLICY: dict[str, Rule] = {
    "PlaceHouseholdPin": Rule(
        allowed=STAFF_OF_A, path=HOUSEHOLD, body=lambda w: {"lat": 45.9, "lon": 126.6}
    ),
    "ListLocationSuggestions": Rule(allowed=STAFF_OF_A | {NEIGHBOUR}),
    "DecideLocationSuggestion": Rule(
        allowed=DECIDERS, path=SUGGESTION, body=lambda w: {"decision": "reject"}
    ),
    "GET /staff/households/{household_id:int}/location": Rule(allowed=STAFF_OF_A, path=HOUSEHOLD),
    "POST /staff/households/{household_id:int}/location": Rule(
        allowed=STAFF_OF_A,
        path=HOUSEHOLD,
        body=lambda w: {"lat": "45.9", "lon": "126.6"},
        form=True,
    ),
    "GET /staff/locations": Rule(allowed=STAFF_OF_A | {NEIGHBOUR}),
    "POST /staff/locations/{suggestion_id:int}/accept": Rule(
        allowed=DECIDERS, path=SUGGESTION, form=True
    ),
    "POST /staff/locations/{suggestion_id:int}/reject": Rule(
        allowed=DECIDERS, path=SUGGESTION, form=True
    ),
}
