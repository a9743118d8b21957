"""Authorisation policy of deliveries."""

from __future__ import annotations

from tests.nuanxin.authz.model import (
    ADMIN,
    CHARITY,
    COURIER,
    EVERYONE,
    LOGGED_IN,
    NEIGHBOUR,
    PROVINCE,
    STAFF,
    Rule,
)
from tests.nuanxin.authz.world import DELIVERY_CODE

DELIVERY = {"delivery_id": "delivery_id"}
VISIT = {"visit_id": "visit_id"}
STAFF_OF_A = frozenset({ADMIN, STAFF, PROVINCE})
CHARITY_X = frozenset({CHARITY, COURIER})

POLICY: dict[str, Rule] = {
    "ListDeliveries": Rule(allowed=LOGGED_IN),
    "GetDelivery": Rule(allowed=STAFF_OF_A | CHARITY_X, path=DELIVERY),
    "IssueDeliverySlip": Rule(allowed=STAFF_OF_A, path=DELIVERY),
    "ConfirmDelivery": Rule(
        allowed=CHARITY_X, path=DELIVERY, body=lambda w: {"code": DELIVERY_CODE}
    ),
    "StaffConfirmDelivery": Rule(
        allowed=STAFF_OF_A, path=DELIVERY, body=lambda w: {"reason": "到户核实"}
    ),
    "FailDelivery": Rule(
        allowed=STAFF_OF_A | CHARITY_X, path=DELIVERY, body=lambda w: {"reason": "家中无人"}
    ),
    "ListVisits": Rule(allowed=LOGGED_IN),
    "GetVisit": Rule(allowed=STAFF_OF_A | CHARITY_X, path=VISIT),
    "IssueVisitSlip": Rule(allowed=STAFF_OF_A, path=VISIT),
    "IssueVisitSlips": Rule(allowed=STAFF_OF_A, body=lambda w: {"visit_ids": [w.visit_id]}),
    "ConfirmVisit": Rule(allowed=CHARITY_X, path=VISIT, body=lambda w: {"code": DELIVERY_CODE}),
    "StaffConfirmVisit": Rule(
        allowed=STAFF_OF_A, path=VISIT, body=lambda w: {"reason": "到户核实"}
    ),
    "FailVisit": Rule(
        allowed=STAFF_OF_A | CHARITY_X, path=VISIT, body=lambda w: {"reason": "家中无人"}
    ),
    "ListDeliveryCases": Rule(allowed=STAFF_OF_A | {NEIGHBOUR}),
    "ResolveDeliveryCase": Rule(
        allowed=frozenset({STAFF, PROVINCE}),
        path={"case_id": "case_id"},
        body=lambda w: {"outcome": "received", "note": "电话回访，已收到"},
    ),
    "GetProgress": Rule(allowed=STAFF_OF_A | {NEIGHBOUR}),
    "AssistFirst": Rule(
        allowed=frozenset({STAFF, PROVINCE}),
        body=lambda w: {"household_id": w.household_id, "item_code": "quilt", "reason": "暴雪"},
    ),
    "ListEmergencies": Rule(allowed=STAFF_OF_A | {NEIGHBOUR}),
    "CompleteEmergencyPaperwork": Rule(allowed=STAFF_OF_A, path={"allocation_id": "allocation_id"}),
    "ListOfflineReviews": Rule(allowed=STAFF_OF_A | {NEIGHBOUR}),
    "ResolveOfflineReview": Rule(
        allowed=STAFF_OF_A,
        path={"review_id": "review_id"},
        body=lambda w: {"outcome": "dismissed", "note": "电话回访，未送达"},
    ),
    "ReportNotReceived": Rule(
        allowed=EVERYONE, body=lambda w: {"code": DELIVERY_CODE, "description": "没收到"}
    ),
}
