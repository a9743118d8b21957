"""Authorisation policy of matching rounds."""

from __future__ import annotations

from typing import Any

from tests.nuanxin.authz.model import ADMIN, NEIGHBOUR, PROVINCE, STAFF, Rule

ROUND = {"round_id": "round_id"}
STAFF_WITH_JURISDICTION = frozenset({STAFF, NEIGHBOUR, PROVINCE})
COUNTY_A = frozenset({ADMIN, STAFF, PROVINCE})
DECIDERS = frozenset({STAFF, PROVINCE})  # civil affairs staff over county A, not the admin


def reject_body(world: Any) -> dict[str, Any]:
    return {"proposal_ids": [world.proposal_id], "reason": "重复申领"}


POLICY: dict[str, Rule] = {
    "StartRound": Rule(allowed=STAFF_WITH_JURISDICTION, body=lambda w: {"item_codes": ["quilt"]}),
    "ListRounds": Rule(allowed=STAFF_WITH_JURISDICTION | {ADMIN}),
    "GetRound": Rule(allowed=COUNTY_A, path=ROUND),
    "RetryRound": Rule(allowed=COUNTY_A, path=ROUND),
    "ListProposals": Rule(allowed=COUNTY_A, path=ROUND),
    "ApproveProposals": Rule(allowed=DECIDERS, path=ROUND, body=lambda w: {"all": True}),
    "RejectProposals": Rule(allowed=DECIDERS, path=ROUND, body=reject_body),
}
