"""Authorisation policy of the households area's endpoints: staff and admins only."""

from __future__ import annotations

from typing import Any

from tests.nuanxin.authz.model import NEIGHBOUR, STAFF_OF_A, Rule
from tests.nuanxin.households.helpers import id_number

HOUSEHOLD_A = {"household_id": "household_id"}
ANY_STAFF = STAFF_OF_A | {NEIGHBOUR}  # lists answer each with their own jurisdiction


def new_household(_: Any, sequence: int = 11) -> dict[str, Any]:
    return {
        "category": "dibao",
        "head_name": f"矩阵户主{sequence}",
        "id_number": id_number(sequence=sequence),
        "current_address": f"呼兰区矩阵村{sequence}号",
        "region_code": "230111",
        "members": [{"birth_year": 1950}],
        "tags": ["coal_stove"],
    }


POLICY: dict[str, Rule] = {
    "ListHouseholds": Rule(allowed=ANY_STAFF),
    "LocateHouseholdAddress": Rule(allowed=ANY_STAFF, query={"address": "呼兰区康金街道"}),
    "CreateHousehold": Rule(allowed=STAFF_OF_A, body=new_household),
    "GetHousehold": Rule(allowed=STAFF_OF_A, path=HOUSEHOLD_A),
    "UpdateHousehold": Rule(allowed=STAFF_OF_A, path=HOUSEHOLD_A, body=lambda _: {"notes": "复核"}),
    "VerifyHousehold": Rule(allowed=STAFF_OF_A, path=HOUSEHOLD_A),
    "ListHouseholdNeeds": Rule(allowed=STAFF_OF_A, path=HOUSEHOLD_A),
    "OverrideHouseholdNeed": Rule(
        allowed=STAFF_OF_A,
        path=HOUSEHOLD_A,
        body=lambda _: {"item_code": "quilt", "quantity": 3, "reason": "房屋漏风"},
    ),
}
