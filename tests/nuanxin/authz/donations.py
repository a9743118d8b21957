"""Authorisation policy of the donations area's endpoints, and its part of the world."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from nuanxin.donations.tables import Campaign, Donation
from tests.nuanxin.authz.model import ADMIN, CHARITY, EVERYONE, OTHER_CHARITY, Rule

CHARITY_MEMBERS = frozenset({CHARITY, OTHER_CHARITY})


async def build_donations(world: Any) -> None:
    """Charity X's open campaign in county A, a paid money donation to it, goods to accept."""
    now = datetime.now(UTC)
    rows = (
        await Campaign.insert(
            Campaign(
                organization=world.charity_x_id,
                title="呼兰区冬季取暖",
                region=world.county_a_id,
                items=["quilt", "coal"],
                target_fen=1_000_000,
                ends_on=(now + timedelta(days=30)).date(),
                created_at=now,
            )
        )
        .returning(Campaign.id)
        .run()
    )
    world.campaign_x_id = int(rows[0]["id"])
    rows = (
        await Donation.insert(
            Donation(
                tracking_code="WXYZ23456789",
                kind="money",
                organization=world.charity_x_id,
                campaign=world.campaign_x_id,
                amount_fen=10_000,
                status="paid",
                created_at=now,
                updated_at=now,
                settled_at=now,
            ),
            Donation(
                tracking_code="WXYZ3456789A",
                kind="goods",
                organization=world.charity_x_id,
                item=world.item_quilt_id,
                quantity=3,
                status="created",
                created_at=now,
                updated_at=now,
            ),
        )
        .returning(Donation.id)
        .run()
    )
    world.donation_x_id = int(rows[0]["id"])
    world.goods_donation_x_id = int(rows[1]["id"])
    world.tracking_code_x = "WXYZ23456789"


CAMPAIGN = {"campaign_id": "campaign_x_id"}
DONATION = {"donation_id": "donation_x_id"}
GOODS = {"donation_id": "goods_donation_x_id"}
CODE = {"code": "tracking_code_x"}


def new_campaign(world: Any) -> dict[str, Any]:
    ends = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    return {
        "title": "冬季取暖",
        "region_code": "230111",
        "item_codes": ["quilt"],
        "target_fen": 500_000,
        "ends_on": ends,
    }


POLICY: dict[str, Rule] = {
    "ListCampaigns": Rule(allowed=EVERYONE),
    "GetCampaign": Rule(allowed=EVERYONE, path=CAMPAIGN),
    "CreateCampaign": Rule(allowed=CHARITY_MEMBERS, body=new_campaign),
    "CloseCampaign": Rule(allowed=frozenset({CHARITY}), path=CAMPAIGN),
    "CreateDonation": Rule(allowed=EVERYONE, path=CAMPAIGN, body=lambda _: {"amount_fen": 5_000}),
    "ListPurchases": Rule(allowed=EVERYONE, path=CAMPAIGN),
    "CreatePurchase": Rule(
        allowed=frozenset({CHARITY}),
        path=CAMPAIGN,
        body=lambda w: {
            "item_code": "quilt",
            "quantity": 2,
            "cost_fen": 1_000,
            "warehouse_id": w.warehouse_x_id,
        },
    ),
    "ListDonations": Rule(allowed=CHARITY_MEMBERS | {ADMIN}),
    "RefundDonation": Rule(
        allowed=frozenset({CHARITY}), path=DONATION, body=lambda _: {"amount_fen": 1_000}
    ),
    "AcceptGoodsDonation": Rule(
        allowed=frozenset({CHARITY}), path=GOODS, body=lambda w: {"warehouse_id": w.warehouse_x_id}
    ),
    "DeclineGoodsDonation": Rule(
        allowed=frozenset({CHARITY}), path=GOODS, body=lambda _: {"reason": "受潮"}
    ),
    "CreateGoodsDonation": Rule(
        allowed=EVERYONE,
        body=lambda w: {"organization_id": w.charity_x_id, "item_code": "quilt", "quantity": 2},
    ),
    "TrackDonation": Rule(allowed=EVERYONE, path=CODE),
    "GetDonationReceipt": Rule(allowed=EVERYONE, path=CODE),
    "GetDonationDashboard": Rule(allowed=EVERYONE),
    "ReceiveStripeEvent": Rule(allowed=EVERYONE),
    "GET /donations/{code:str}": Rule(allowed=EVERYONE, path=CODE),
    "GET /campaigns/{campaign_id:int}": Rule(allowed=EVERYONE, path=CAMPAIGN),
    "GET /donations/{code:str}/receipt": Rule(allowed=EVERYONE, path=CODE),
}
