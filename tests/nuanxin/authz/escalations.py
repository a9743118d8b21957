"""Authorisation policy of 一事一议 (case-by-case requests)."""

from __future__ import annotations

from tests.nuanxin.authz.model import ADMIN, NEIGHBOUR, PROVINCE, STAFF, Rule

POLICY: dict[str, Rule] = {
    "RequestEscalation": Rule(
        allowed=frozenset({STAFF, PROVINCE}),
        body=lambda w: {
            "household_id": w.household_id,
            "item_code": "stove",
            "quantity": 1,
            "reason": "房屋漏风",
        },
    ),
    "ListEscalations": Rule(allowed=frozenset({ADMIN, STAFF, NEIGHBOUR, PROVINCE})),
    "DecideEscalation": Rule(
        allowed=frozenset({ADMIN, PROVINCE}),  # one level up; the county itself may not
        path={"escalation_id": "escalation_id"},
        body=lambda w: {"approve": True, "reason": "同意"},
    ),
}
