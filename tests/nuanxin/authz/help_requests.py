"""Authorisation policy of the help requests area: anyone reports, staff triage."""

from __future__ import annotations

from typing import Any

from tests.nuanxin.authz.households import ANY_STAFF, new_household
from tests.nuanxin.authz.model import EVERYONE, STAFF_OF_A, Rule

REQUEST_A = {"request_id": "help_request_id"}


def report(_: Any) -> dict[str, Any]:
    return {"region_code": "230111", "description": "家里没有煤了"}


POLICY: dict[str, Rule] = {
    "ReportHelpRequest": Rule(allowed=EVERYONE, body=report),
    "ListHelpRequests": Rule(allowed=ANY_STAFF),
    # A hotline call lands where the person is, whoever takes it.
    "LogHotlineCall": Rule(allowed=ANY_STAFF, body=report),
    # Anyone on staff may import; rows outside their jurisdiction are row errors.
    "ImportHelpRequests": Rule(allowed=ANY_STAFF),
    "GetHelpRequest": Rule(allowed=STAFF_OF_A, path=REQUEST_A),
    "ConvertHelpRequest": Rule(
        allowed=STAFF_OF_A, path=REQUEST_A, body=lambda world: new_household(world, 12)
    ),
    "CloseHelpRequest": Rule(allowed=STAFF_OF_A, path=REQUEST_A, body=lambda _: {"reason": "重复"}),
}
