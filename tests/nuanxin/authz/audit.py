"""Authorisation policy of the audit area: staff read their jurisdiction's trail."""

from __future__ import annotations

from tests.nuanxin.authz.households import ANY_STAFF
from tests.nuanxin.authz.model import Rule

POLICY: dict[str, Rule] = {
    "ListAuditEntries": Rule(allowed=ANY_STAFF),
}
