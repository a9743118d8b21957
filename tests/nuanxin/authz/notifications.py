"""Authorisation policy of notifications: scheduling a visit's SMS, failures, opt-outs."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.nuanxin.authz.model import (
    ADMIN,
    EVERYONE,
    LOGGED_IN,
    NEIGHBOUR,
    PROVINCE,
    STAFF,
    STAFF_OF_A,
    Rule,
)

ALL_STAFF = frozenset({ADMIN, STAFF, NEIGHBOUR, PROVINCE})  # a list of one's own jurisdiction


def today(_: Any) -> dict[str, str]:
    return {"visit_on": datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()}


POLICY: dict[str, Rule] = {
    "ScheduleVisit": Rule(allowed=STAFF_OF_A, path={"visit_id": "visit_id"}, body=today),
    "ListNotificationFailures": Rule(allowed=ALL_STAFF),
    "GetMyNotificationPreference": Rule(allowed=LOGGED_IN),
    "SetMyNotificationPreference": Rule(allowed=LOGGED_IN, body=lambda _: {"language": "zh"}),
    "SetHouseholdNotificationPreference": Rule(
        allowed=STAFF_OF_A,
        path={"household_id": "household_id"},
        body=lambda _: {"opted_out": True},
    ),
    # the page of failures, over the same service
    "GET /staff/notifications": Rule(allowed=ALL_STAFF),
    # a donor's way out, by the link in an email (a wrong token is a 400 page, not a refusal)
    "GET /notifications/opt-out": Rule(allowed=EVERYONE),
    "POST /notifications/opt-out": Rule(
        allowed=EVERYONE, body=lambda _: {"r": "email:x", "t": "not-the-token"}, form=True
    ),
    "POST /staff/visits/{visit_id:int}/schedule": Rule(
        allowed=STAFF_OF_A, path={"visit_id": "visit_id"}, body=today, form=True
    ),
}
