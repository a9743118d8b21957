"""Authorisation policy of the offers area's endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.nuanxin.authz.model import CHARITY, COURIER, EVERYONE, LOGGED_IN, STAFF_OF_A, Rule

OFFER_X = {"offer_id": "offer_x_id"}
ONLY_CHARITY_X = frozenset({CHARITY})  # its members post and change its offers


def new_offer(world: Any) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "warehouse_id": world.warehouse_x_id,
        "item_code": "quilt",
        "quantity": 5,
        "radius_km": 30,
        "available_from": today.isoformat(),
        "available_until": (today + timedelta(days=30)).isoformat(),
    }


POLICY: dict[str, Rule] = {
    "ListItems": Rule(allowed=EVERYONE),
    "ListOffers": Rule(allowed=LOGGED_IN),  # each sees what is within reach
    "CreateOffer": Rule(allowed=ONLY_CHARITY_X, body=new_offer),
    "GetOffer": Rule(allowed=STAFF_OF_A | {CHARITY, COURIER}, path=OFFER_X),
    "UpdateOffer": Rule(allowed=ONLY_CHARITY_X, path=OFFER_X, body=lambda _: {"quantity": 25}),
    "WithdrawOffer": Rule(
        allowed=ONLY_CHARITY_X, path=OFFER_X, body=lambda _: {"reason": "调拨", "quantity": 1}
    ),
}
