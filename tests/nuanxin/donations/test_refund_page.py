"""A charity refunds a donor from the gift's page, through Stripe (localstripe)."""

from __future__ import annotations

import httpx
import pytest

from tests.nuanxin.donations.helpers import Charity, StripeServer, open_campaign, paid, status_of

pytestmark = pytest.mark.localstripe


async def test_a_member_refunds_part_then_the_rest_and_too_much_is_refused_at_the_field(
    pay_client: httpx.AsyncClient, localstripe: StripeServer, charity: Charity
) -> None:
    campaign_id = await open_campaign(pay_client, charity)
    started, intent = await paid(pay_client, localstripe, campaign_id, 100_00)
    path = f"/charity/donations/{started['donation_id']}"
    shown = await pay_client.get(path, headers=charity.member)
    assert shown.status_code == 200 and 'data-testid="refund-form"' in shown.text
    part = await pay_client.post(
        f"{path}/refund", data={"amount_yuan": "30", "reason": "捐错了"}, headers=charity.member
    )
    assert part.status_code == 303, part.text
    assert await status_of(started["donation_id"]) == ("partially_refunded", 30_00)
    too_much = await pay_client.post(
        f"{path}/refund?lang=zh-CN", data={"amount_yuan": "70.01"}, headers=charity.member
    )
    assert too_much.status_code == 400 and 'href="#amount_yuan"' in too_much.text
    assert 'value="70.01"' in too_much.text
    rest = await pay_client.post(f"{path}/refund", data={}, headers=charity.member)
    assert rest.status_code == 303, rest.text
    assert await status_of(started["donation_id"]) == ("refunded", 100_00)
    refunds = localstripe.client.v1.refunds.list(params={"payment_intent": intent}).data
    assert sorted(r.amount for r in refunds) == [30_00, 70_00]
    done = await pay_client.get(path, headers=charity.member)
    assert 'data-testid="refund-form"' not in done.text  # nothing left to refund
