"""Authorisation policy of the accounts area's endpoints: logging in, accounts, charities."""

from __future__ import annotations

from typing import Any

from tests.nuanxin.authz.model import (
    ADMIN,
    CHARITY,
    COURIER,
    EVERYONE,
    LOGGED_IN,
    NEIGHBOUR,
    STAFF_OF_A,
    Rule,
)
from tests.nuanxin.conftest import PASSWORD

CHARITY_X = {"organization_id": "charity_x_id"}
SEE_CHARITY_X = STAFF_OF_A | {CHARITY, COURIER}  # staff over county A and charity X's people
RUN_CHARITY_X = frozenset({ADMIN, CHARITY})  # charity X's members (not couriers), admins


def credentials(_: Any) -> dict[str, str]:
    return {"username": "w_admin", "password": PASSWORD}


def sign_up(_: Any) -> dict[str, str]:
    return {
        "name": "新慈善",
        "credit_code": "91110108551385082Q",
        "region_code": "230111",
        "contact_name": "联系人",
        "contact_phone": "13800000001",
        "username": "new_charity",
        "password": "long enough password",
    }


POLICY: dict[str, Rule] = {
    "LogIn": Rule(allowed=EVERYONE, body=credentials),
    "CreateToken": Rule(allowed=EVERYONE, body=credentials),
    "LogOut": Rule(allowed=LOGGED_IN),
    "GetMe": Rule(allowed=LOGGED_IN),
    "RevokeToken": Rule(allowed=LOGGED_IN, body=lambda _: {"token": "not-a-token"}),
    # Accounts: admins only.
    "ListAccounts": Rule(allowed=frozenset({ADMIN})),
    "CreateAccount": Rule(
        allowed=frozenset({ADMIN}),
        body=lambda _: {
            "username": "new_staff",
            "password": "long enough password",
            "jurisdiction_code": "230111",
        },
    ),
    "GetAccount": Rule(allowed=frozenset({ADMIN}), path={"account_id": "courier_account_id"}),
    "UpdateAccount": Rule(
        allowed=frozenset({ADMIN}),
        path={"account_id": "courier_account_id"},
        body=lambda _: {"display_name": "送货员"},
    ),
    # Charities: anyone signs up; staff over its region verify and suspend it.
    "SignUpOrganization": Rule(allowed=EVERYONE, body=sign_up),
    "ListOrganizations": Rule(allowed=STAFF_OF_A | {NEIGHBOUR}),
    "ListVerifiedCharities": Rule(allowed=EVERYONE),
    "GetOrganization": Rule(allowed=SEE_CHARITY_X, path=CHARITY_X),
    "UpdateOrganization": Rule(
        allowed=RUN_CHARITY_X, path=CHARITY_X, body=lambda _: {"contact_name": "新联系人"}
    ),
    "VerifyOrganization": Rule(
        allowed=STAFF_OF_A, path=CHARITY_X, body=lambda _: {"reason": "材料齐全"}
    ),
    "SuspendOrganization": Rule(
        allowed=STAFF_OF_A, path=CHARITY_X, body=lambda _: {"reason": "核查中"}
    ),
    "ListMembers": Rule(allowed=STAFF_OF_A | {CHARITY}, path=CHARITY_X),
    "AddMember": Rule(
        allowed=RUN_CHARITY_X,
        path=CHARITY_X,
        body=lambda _: {
            "username": "new_courier",
            "password": "long enough password",
            "role": "courier",
        },
    ),
    "RemoveMember": Rule(
        allowed=RUN_CHARITY_X,
        path={"organization_id": "charity_x_id", "account_id": "courier_account_id"},
    ),
    "ListWarehouses": Rule(allowed=SEE_CHARITY_X, path=CHARITY_X),
    "CreateWarehouse": Rule(
        allowed=RUN_CHARITY_X,
        path=CHARITY_X,
        body=lambda _: {"name": "二号仓库", "address": "测试路2号", "region_code": "230111"},
    ),
    "GetWarehouse": Rule(allowed=SEE_CHARITY_X, path={"warehouse_id": "warehouse_x_id"}),
    "UpdateWarehouse": Rule(
        allowed=RUN_CHARITY_X,
        path={"warehouse_id": "warehouse_x_id"},
        body=lambda _: {"name": "一号仓库"},
    ),
    "DeleteWarehouse": Rule(allowed=RUN_CHARITY_X, path={"warehouse_id": "warehouse_x_id"}),
}
