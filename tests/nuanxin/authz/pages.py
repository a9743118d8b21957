"""Authorisation policy of the HTML pages (keyed by method and path).

Pages call the same services as the API, so their rules mirror the API's: a page that acts on
county A's records admits the staff over county A, a charity's page its members, and so on.
Form bodies are valid, so that a refusal comes from the rules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.nuanxin.authz.accounts import credentials
from tests.nuanxin.authz.model import (
    ADMIN,
    CHARITY,
    COURIER,
    EVERYONE,
    LOGGED_IN,
    NEIGHBOUR,
    OTHER_CHARITY,
    PROVINCE,
    STAFF,
    Rule,
)
from tests.nuanxin.authz.world import DELIVERY_CODE

ALL_STAFF = frozenset({ADMIN, STAFF, NEIGHBOUR, PROVINCE})  # any jurisdiction: lists of one's own
STAFF_OF_A = frozenset({ADMIN, STAFF, PROVINCE})  # county A's records
WITH_JURISDICTION = frozenset({STAFF, NEIGHBOUR, PROVINCE})  # starts rounds (not the admin)
DECIDERS = frozenset({STAFF, PROVINCE})  # approve proposals, assist first (not the admin)
MEMBERS = frozenset({CHARITY, OTHER_CHARITY})
CHARITY_X = frozenset({CHARITY, COURIER})

ROUND = {"round_id": "round_id"}
HOUSEHOLD = {"household_id": "household_id"}
REQUEST = {"request_id": "help_request_id"}
DELIVERY = {"delivery_id": "delivery_id"}
VISIT = {"visit_id": "visit_id"}
CASE = {"case_id": "case_id"}
OFFER = {"offer_id": "offer_x_id"}
CHARITY_X_ORG = {"organization_id": "charity_x_id"}
CAMPAIGN = {"campaign_id": "campaign_x_id"}
GOODS = {"donation_id": "goods_donation_x_id"}


def sign_up_form(world: Any) -> dict[str, Any]:
    return {
        "name": "新慈善",
        "credit_code": "91110108551385082Q",
        "region": "呼兰区",
        "contact_name": "联系人",
        "contact_phone": "13800000001",
        "username": "new_charity",
        "password": "long enough password",
    }


def conversion(world: Any) -> dict[str, Any]:
    return {
        "category": "dibao",
        "head_name": "求助人",
        "id_number": "11010519491231002X",
        "current_address": "测试村2号",
        "region_code": "230111",
        "birth_years": "1950",
    }


def registration(world: Any) -> dict[str, Any]:
    return {
        "category": "temporary",
        "head_name": "外来务工者",
        "id_number": "11010519491231002X",
        "registered_address": "河南省郑州市某村",
        "current_address": "测试村3号",
        "region": "呼兰区",
        "m1_birth_year": "1949",
        "m1_relation": "self",
    }


def offer_form(world: Any) -> dict[str, Any]:
    return {
        "warehouse_id": str(world.warehouse_x_id),
        "item_code": "quilt",
        "quantity": "10",
        "radius_km": "30",
        "available_from": "2026-12-01",
        "available_until": "2027-02-28",
        "note": "",
    }


def campaign_form(world: Any) -> dict[str, Any]:
    return {
        "title": "冬季取暖",
        "region": "呼兰区",
        "item_codes": "quilt",
        "target_yuan": "1000",
        "ends_on": (datetime.now(UTC) + timedelta(days=30)).date().isoformat(),
    }


POLICY: dict[str, Rule] = {
    # everyone
    "GET /": Rule(allowed=EVERYONE),
    "GET /login": Rule(allowed=EVERYONE),
    "POST /login": Rule(allowed=EVERYONE, body=credentials, form=True),
    "POST /login/logout": Rule(allowed=LOGGED_IN, form=True),
    # donors and the public
    "GET /give": Rule(allowed=EVERYONE),
    "GET /track": Rule(allowed=EVERYONE),
    "GET /dashboard": Rule(allowed=EVERYONE),
    "GET /give/charities/{organization_id:int}": Rule(allowed=EVERYONE, path=CHARITY_X_ORG),
    "POST /give/charities/{organization_id:int}": Rule(
        allowed=EVERYONE,
        path=CHARITY_X_ORG,
        body=lambda w: {"item_code": "quilt", "quantity": "2"},
        form=True,
    ),
    "POST /campaigns/{campaign_id:int}/goods": Rule(
        allowed=EVERYONE,
        path={"campaign_id": "campaign_x_id"},
        body=lambda w: {"item_code": "quilt", "quantity": "2"},
        form=True,
    ),
    # charities sign up; regions are searched by name
    "GET /charities/sign-up": Rule(allowed=EVERYONE),
    "POST /charities/sign-up": Rule(allowed=EVERYONE, body=sign_up_form, form=True),
    "GET /regions/options": Rule(allowed=EVERYONE, query={"region": "呼兰"}),
    # reports: a person in difficulty, aid not received
    "GET /help": Rule(allowed=EVERYONE),
    "POST /help": Rule(
        allowed=EVERYONE, body=lambda w: {"region": "呼兰区", "description": "无煤"}, form=True
    ),
    "GET /not-received": Rule(allowed=EVERYONE),
    "POST /not-received": Rule(allowed=EVERYONE, body=lambda w: {"code": DELIVERY_CODE}, form=True),
    "GET /staff/hotline": Rule(allowed=ALL_STAFF),
    "POST /staff/hotline": Rule(
        allowed=ALL_STAFF, body=lambda w: {"region": "呼兰区", "description": "无煤"}, form=True
    ),
    "GET /staff/cases": Rule(allowed=ALL_STAFF),
    "GET /staff/cases/{case_id:int}": Rule(allowed=STAFF_OF_A, path=CASE),
    "POST /staff/cases/{case_id:int}/resolve": Rule(
        allowed=frozenset({STAFF, PROVINCE}),  # the admin reads cases but does not resolve them
        path=CASE,
        body=lambda w: {"outcome": "received", "note": "电话回访，已收到"},
        form=True,
    ),
    "GET /staff/offline-reviews": Rule(allowed=ALL_STAFF),
    "GET /staff/offline-reviews/{review_id:int}": Rule(
        allowed=STAFF_OF_A, path={"review_id": "review_id"}
    ),
    "POST /staff/offline-reviews/{review_id:int}/resolve": Rule(
        allowed=STAFF_OF_A,
        path={"review_id": "review_id"},
        body=lambda w: {"outcome": "dismissed", "note": "电话回访，未送达"},
        form=True,
    ),
    "GET /courier-sw.js": Rule(allowed=EVERYONE),
    "GET /staff/visits/{visit_id:int}": Rule(allowed=STAFF_OF_A, path=VISIT),
    "POST /staff/visits/{visit_id:int}/confirm": Rule(
        allowed=STAFF_OF_A, path=VISIT, body=lambda w: {"witness_reason": "到户核实"}, form=True
    ),
    "POST /staff/visits/{visit_id:int}/fail": Rule(
        allowed=STAFF_OF_A, path=VISIT, body=lambda w: {"fail_reason": "家中无人"}, form=True
    ),
    # staff: the audit trail; lists as spreadsheets (each under its own jurisdiction's rows)
    "GET /staff/audit": Rule(allowed=ALL_STAFF),
    "GET /staff/export/households": Rule(allowed=ALL_STAFF),
    "GET /staff/export/help-requests": Rule(allowed=ALL_STAFF),
    "GET /staff/export/audit": Rule(allowed=ALL_STAFF, query={"format": "xlsx"}),
    "GET /staff/export/deliveries": Rule(allowed=ALL_STAFF),
    "GET /staff/export/rounds/{round_id:int}/proposals": Rule(allowed=STAFF_OF_A, path=ROUND),
    # staff: charities of their jurisdiction; admins: staff accounts
    "GET /staff/charities": Rule(allowed=ALL_STAFF),
    "GET /staff/charities/{organization_id:int}": Rule(allowed=STAFF_OF_A, path=CHARITY_X_ORG),
    "POST /staff/charities/{organization_id:int}/verify": Rule(
        allowed=STAFF_OF_A, path=CHARITY_X_ORG, form=True
    ),
    "POST /staff/charities/{organization_id:int}/suspend": Rule(
        allowed=STAFF_OF_A, path=CHARITY_X_ORG, body=lambda w: {"reason": "核查中"}, form=True
    ),
    "GET /staff/accounts": Rule(allowed=frozenset({ADMIN})),
    "POST /staff/accounts": Rule(
        allowed=frozenset({ADMIN}),
        body=lambda w: {
            "role": "staff",
            "username": "new_staff",
            "jurisdiction": "呼兰区",
            "password": "long enough password",
        },
        form=True,
    ),
    # staff: progress, households, help requests, rounds, deliveries, emergencies, escalations
    "GET /staff": Rule(allowed=ALL_STAFF),
    "GET /staff/households": Rule(allowed=ALL_STAFF),
    "GET /staff/households/{household_id:int}": Rule(allowed=STAFF_OF_A, path=HOUSEHOLD),
    "POST /staff/households/{household_id:int}/verify": Rule(
        allowed=STAFF_OF_A, path=HOUSEHOLD, form=True
    ),
    "GET /staff/households/new": Rule(allowed=ALL_STAFF),
    "POST /staff/households/new": Rule(allowed=ALL_STAFF, body=registration, form=True),
    "GET /staff/households/{household_id:int}/edit": Rule(allowed=STAFF_OF_A, path=HOUSEHOLD),
    "POST /staff/households/{household_id:int}/edit": Rule(
        allowed=STAFF_OF_A, path=HOUSEHOLD, body=lambda w: {"notes": "入户核查"}, form=True
    ),
    "GET /staff/households/{household_id:int}/needs": Rule(allowed=STAFF_OF_A, path=HOUSEHOLD),
    "POST /staff/households/{household_id:int}/needs": Rule(
        allowed=STAFF_OF_A,
        path=HOUSEHOLD,
        body=lambda w: {"item_code": "quilt", "quantity": "3", "reason": "入户核查"},
        form=True,
    ),
    "GET /staff/help-requests": Rule(allowed=ALL_STAFF),
    "POST /staff/help-requests/import": Rule(allowed=ALL_STAFF, form=True),
    "GET /staff/help-requests/{request_id:int}": Rule(allowed=STAFF_OF_A, path=REQUEST),
    "POST /staff/help-requests/{request_id:int}/convert": Rule(
        allowed=STAFF_OF_A, path=REQUEST, body=conversion, form=True
    ),
    "POST /staff/help-requests/{request_id:int}/close": Rule(
        allowed=STAFF_OF_A, path=REQUEST, body=lambda w: {"reason": "重复"}, form=True
    ),
    "GET /staff/rounds": Rule(allowed=ALL_STAFF),
    "POST /staff/rounds": Rule(
        allowed=WITH_JURISDICTION, body=lambda w: {"item_codes": "quilt"}, form=True
    ),
    "GET /staff/rounds/{round_id:int}": Rule(allowed=STAFF_OF_A, path=ROUND),
    "GET /staff/rounds/{round_id:int}/progress": Rule(allowed=STAFF_OF_A, path=ROUND),
    "POST /staff/rounds/{round_id:int}/approve": Rule(
        allowed=DECIDERS, path=ROUND, body=lambda w: {"all": "1"}, form=True
    ),
    "POST /staff/rounds/{round_id:int}/reject": Rule(
        allowed=DECIDERS,
        path=ROUND,
        body=lambda w: {"proposal_id": str(w.proposal_id), "reason": "重复申领"},
        form=True,
    ),
    "POST /staff/rounds/{round_id:int}/retry": Rule(allowed=STAFF_OF_A, path=ROUND, form=True),
    "GET /staff/deliveries": Rule(allowed=ALL_STAFF),
    "POST /staff/deliveries/{delivery_id:int}/slip": Rule(
        allowed=STAFF_OF_A, path=DELIVERY, form=True
    ),
    "POST /staff/visits/slips": Rule(
        allowed=STAFF_OF_A, body=lambda w: {"visit_id": str(w.visit_id)}, form=True
    ),
    "GET /staff/emergencies": Rule(allowed=ALL_STAFF),
    "GET /staff/safety": Rule(allowed=ALL_STAFF),
    "POST /staff/safety/follow-ups/{follow_up_id:int}/done": Rule(
        allowed=STAFF_OF_A,
        path={"follow_up_id": "follow_up_id"},
        body=lambda w: {"note": "上门查看，风斗已装"},
        form=True,
    ),
    "POST /staff/safety/cold-spells": Rule(
        allowed=ALL_STAFF,  # the neighbour is told at the field that county A is not theirs
        body=lambda w: {"county": "230111", "starts_on": "2026-11-20"},
        form=True,
    ),
    "POST /staff/emergencies": Rule(
        allowed=DECIDERS,
        body=lambda w: {
            "household_id": str(w.household_id),
            "item_code": "quilt",
            "quantity": "1",
            "reason": "暴雪",
        },
        form=True,
    ),
    "POST /staff/emergencies/{allocation_id:int}/paperwork": Rule(
        allowed=STAFF_OF_A, path={"allocation_id": "allocation_id"}, form=True
    ),
    "GET /staff/escalations": Rule(allowed=ALL_STAFF),
    "POST /staff/escalations": Rule(
        allowed=DECIDERS,
        body=lambda w: {
            "household_id": str(w.household_id),
            "item_code": "quilt",
            "quantity": "3",
            "reason": "老人独居",
        },
        form=True,
    ),
    "POST /staff/escalations/{escalation_id:int}/decide": Rule(
        allowed=frozenset({ADMIN, PROVINCE}),  # one level up; the county itself may not
        path={"escalation_id": "escalation_id"},
        body=lambda w: {"approve": "1", "reason": "同意"},
        form=True,
    ),
    # charities and couriers
    "GET /charity": Rule(allowed=MEMBERS),
    "GET /charity/offers/new": Rule(allowed=MEMBERS),
    "POST /charity/offers/new": Rule(allowed=frozenset({CHARITY}), body=offer_form, form=True),
    "GET /charity/offers/{offer_id:int}": Rule(allowed=frozenset({CHARITY}), path=OFFER),
    "POST /charity/offers/{offer_id:int}": Rule(
        allowed=frozenset({CHARITY}), path=OFFER, body=lambda w: {"quantity": "25"}, form=True
    ),
    "POST /charity/offers/{offer_id:int}/withdraw": Rule(
        allowed=frozenset({CHARITY}),
        path=OFFER,
        body=lambda w: {"reason": "受潮", "quantity": "1"},
        form=True,
    ),
    "GET /charity/warehouses": Rule(allowed=MEMBERS),
    "POST /charity/warehouses": Rule(
        allowed=MEMBERS,
        body=lambda w: {"name": "新仓库", "address": "测试路1号", "region": "呼兰区"},
        form=True,
    ),
    "GET /charity/warehouses/{warehouse_id:int}": Rule(
        allowed=frozenset({CHARITY}), path={"warehouse_id": "warehouse_x_id"}
    ),
    "POST /charity/warehouses/{warehouse_id:int}": Rule(
        allowed=frozenset({CHARITY}),
        path={"warehouse_id": "warehouse_x_id"},
        body=lambda w: {"name": "改名仓库", "address": "测试路 3 号", "region": "呼兰区"},
        form=True,
    ),
    "POST /charity/warehouses/{warehouse_id:int}/remove": Rule(
        allowed=frozenset({CHARITY}), path={"warehouse_id": "warehouse_x_id"}, form=True
    ),
    "GET /charity/campaigns": Rule(allowed=MEMBERS),
    "POST /charity/campaigns": Rule(allowed=MEMBERS, body=campaign_form, form=True),
    "GET /charity/campaigns/{campaign_id:int}": Rule(allowed=frozenset({CHARITY}), path=CAMPAIGN),
    "POST /charity/campaigns/{campaign_id:int}/purchases": Rule(
        allowed=frozenset({CHARITY}),
        path=CAMPAIGN,
        body=lambda w: {
            "item_code": "quilt",
            "quantity": "2",
            "cost_yuan": "50",
            "warehouse_id": str(w.warehouse_x_id),
        },
        form=True,
    ),
    "POST /charity/campaigns/{campaign_id:int}/close": Rule(
        allowed=frozenset({CHARITY}), path=CAMPAIGN, form=True
    ),
    "GET /charity/donations": Rule(allowed=MEMBERS),
    "GET /charity/donations/{donation_id:int}": Rule(allowed=frozenset({CHARITY}), path=GOODS),
    "POST /charity/donations/{donation_id:int}/accept": Rule(
        allowed=frozenset({CHARITY}),
        path=GOODS,
        body=lambda w: {"warehouse_id": str(w.warehouse_x_id)},
        form=True,
    ),
    "POST /charity/donations/{donation_id:int}/decline": Rule(
        allowed=frozenset({CHARITY}), path=GOODS, body=lambda w: {"reason": "破损"}, form=True
    ),
    "POST /charity/donations/{donation_id:int}/refund": Rule(
        allowed=frozenset({CHARITY}),
        path={"donation_id": "donation_x_id"},
        body=lambda w: {"amount_yuan": "1", "reason": "捐错了"},
        form=True,
    ),
    "GET /charity/deliveries": Rule(allowed=MEMBERS),
    "GET /charity/members": Rule(allowed=MEMBERS),
    "POST /charity/members": Rule(
        allowed=MEMBERS,
        body=lambda w: {
            "role": "courier",
            "username": "new_courier",
            "password": "long enough password",
        },
        form=True,
    ),
    "POST /charity/members/contact": Rule(
        allowed=MEMBERS,
        body=lambda w: {"contact_name": "新联系人", "contact_phone": "13800000002"},
        form=True,
    ),
    "POST /charity/members/{account_id:int}/remove": Rule(
        allowed=frozenset({CHARITY}), path={"account_id": "courier_account_id"}, form=True
    ),
    "GET /courier": Rule(allowed=MEMBERS | {COURIER}),
    "GET /courier/deliveries/{delivery_id:int}": Rule(allowed=CHARITY_X, path=DELIVERY),
    "GET /courier/visits/{visit_id:int}": Rule(allowed=CHARITY_X, path=VISIT),
    "POST /courier/visits/{visit_id:int}/confirm": Rule(
        allowed=CHARITY_X, path=VISIT, body=lambda w: {"code": DELIVERY_CODE}, form=True
    ),
    "POST /courier/visits/{visit_id:int}/fail": Rule(
        allowed=CHARITY_X, path=VISIT, body=lambda w: {"reason": "家中无人"}, form=True
    ),
    "POST /courier/deliveries/{delivery_id:int}/confirm": Rule(
        allowed=CHARITY_X, path=DELIVERY, body=lambda w: {"code": DELIVERY_CODE}, form=True
    ),
    "POST /courier/deliveries/{delivery_id:int}/fail": Rule(
        allowed=CHARITY_X, path=DELIVERY, body=lambda w: {"reason": "家中无人"}, form=True
    ),
}
