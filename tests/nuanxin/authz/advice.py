"""Authorisation policy of the purchase advice, the campaign's need and the round's what-if."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nuanxin.advice.tables import PurchaseAdvice
from tests.nuanxin.authz.model import (
    CHARITY,
    EVERYONE,
    OTHER_CHARITY,
    STAFF_OF_A,
    Caller,
    Rule,
)

MEMBERS = frozenset({CHARITY, OTHER_CHARITY})
OWN = frozenset({CHARITY})  # charity X's advice
ADVICE = {"advice_id": "advice_x_id"}
ROUND = {"round_id": "round_id"}


async def build_advice(world: Any) -> None:
    """Charity X's advice: one line, ten quilts at its warehouse."""
    line = {
        "warehouse_id": world.warehouse_x_id,
        "warehouse_name": "X",
        "item_code": "quilt",
        "units": 10,
        "radius_km": 30.0,
        "cost_fen": 85_000,
        "households": 1,
        "categories": {"dibao": 1},
        "weighted_units": 1.0,
        "unit_km": 1.0,
        "per_yuan": 1 / 850,
    }
    rows = (
        await PurchaseAdvice.insert(
            PurchaseAdvice(
                organization=world.charity_x_id,
                region=world.county_a_id,
                units=10,
                households=1,
                lines=[line],
                created_by=world.user_ids[Caller.CHARITY],
                created_at=datetime.now(UTC),
            )
        )
        .returning(PurchaseAdvice.id)
        .run()
    )
    world.advice_x_id = int(rows[0]["id"])


def purchase(world: Any) -> dict[str, Any]:
    return {"campaign_id": world.campaign_x_id, "line": 0, "quantity": 1, "cost_fen": 100}


def radius(world: Any) -> dict[str, Any]:
    return {"change": "radius", "offer_id": world.offer_x_id, "radius_km": 60.0}


POLICY: dict[str, Rule] = {
    "ListPurchasePrices": Rule(allowed=MEMBERS),
    "SetPurchasePrices": Rule(allowed=MEMBERS, body=lambda w: {"prices": {"quilt": 8500}}),
    "ComputePurchaseAdvice": Rule(allowed=MEMBERS),
    "GetPurchaseAdvice": Rule(allowed=MEMBERS),
    "RecordAdvisedPurchase": Rule(allowed=OWN, path=ADVICE, body=purchase),
    "GetCampaignNeed": Rule(allowed=EVERYONE, path={"campaign_id": "campaign_x_id"}),
    "AskRoundWhatIf": Rule(allowed=STAFF_OF_A, path=ROUND, body=radius),
    "GET /charity/advice": Rule(allowed=MEMBERS),
    "POST /charity/advice": Rule(allowed=MEMBERS, body=lambda w: {"price_quilt": "85"}, form=True),
    "POST /charity/advice/{advice_id:int}/purchases": Rule(
        allowed=OWN,
        path=ADVICE,
        body=lambda w: {
            "campaign_id": str(w.campaign_x_id),
            "line": "0",
            "quantity": "1",
            "cost_yuan": "1",
        },
        form=True,
    ),
    "GET /staff/rounds/{round_id:int}/what-if": Rule(allowed=STAFF_OF_A, path=ROUND),
    "POST /staff/rounds/{round_id:int}/what-if": Rule(
        allowed=STAFF_OF_A,
        path=ROUND,
        body=lambda w: {"change": "radius", "offer_id": str(w.offer_x_id), "radius_km": "60"},
        form=True,
    ),
}
