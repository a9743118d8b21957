"""The donor's pages: the campaign page with Stripe.js, or without payments."""

from __future__ import annotations

import httpx

from tests.nuanxin.donations.helpers import (
    Charity,
    open_campaign,
)


async def test_the_campaign_page_loads_stripe_js_and_says_when_it_cannot(
    offline_client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(offline_client, charity)
    page = await offline_client.get(f"/campaigns/{campaign_id}")
    assert page.status_code == 200
    assert 'src="http://127.0.0.1:9/js.stripe.com/v3/"' in page.text
    assert 'data-key="pk_test_nuanxin"' in page.text
    english = await offline_client.get(f"/campaigns/{campaign_id}?lang=en")
    assert "无法加载 Stripe 支付组件" in page.text  # each language on its own page
    assert "Stripe.js could not load" in english.text and "无法加载" not in english.text
    assert "¥10,000.00" in page.text  # the target, formatted from fen
    await offline_client.post(f"/api/campaigns/{campaign_id}/close", headers=charity.member)
    closed = await offline_client.get(f"/campaigns/{campaign_id}?lang=en")
    assert "This campaign has ended" in closed.text and "js.stripe.com" not in closed.text
    closed_zh = await offline_client.get(f"/campaigns/{campaign_id}?lang=zh-CN")
    assert "此活动已结束" in closed_zh.text and "js.stripe.com" not in closed_zh.text
    assert (await offline_client.get("/campaigns/999999")).status_code == 404


async def test_without_payments_the_campaign_page_offers_no_card_form(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(client, charity)
    page = await client.get(f"/campaigns/{campaign_id}?lang=en")
    assert page.status_code == 200
    assert "Online giving is not configured" in page.text and "js.stripe.com" not in page.text
    chinese = await client.get(f"/campaigns/{campaign_id}?lang=zh-CN")
    assert "本平台尚未开通在线捐款" in chinese.text and "js.stripe.com" not in chinese.text
