"""DTOs of the donations area (msgspec Structs, never tables).

Money is always an integer number of fen (分, 1/100 yuan): JSON floats are refused.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from nuanxin.donations.vocabulary import (
    CampaignStatus,
    DonationKind,
    DonationStatus,
    TimelineStep,
    WebhookOutcome,
)

__all__ = (
    "Campaign",
    "CampaignBooks",
    "CampaignCreate",
    "CampaignNeed",
    "DashboardRow",
    "DonationCreate",
    "DonationRecord",
    "DonationStarted",
    "GoodsAccept",
    "GoodsDecline",
    "GoodsDonationCreate",
    "GoodsRegistered",
    "KindNeed",
    "Purchase",
    "PurchaseCreate",
    "Receipt",
    "RefundCreate",
    "TimelineEvent",
    "Tracking",
    "WebhookAnswer",
)

MAX_DONATION_FEN = 99_999_999  # ¥999,999.99: Stripe's ceiling for one charge in most currencies
MAX_TARGET_FEN = 100_000_000_000  # ¥1,000,000,000

DonationFen = Annotated[
    int, msgspec.Meta(ge=100, le=MAX_DONATION_FEN, description="amount in fen (¥1.00 = 100)")
]
Fen = Annotated[int, msgspec.Meta(ge=1, le=MAX_TARGET_FEN, description="amount in fen")]
TargetFen = Annotated[int, msgspec.Meta(ge=100, le=MAX_TARGET_FEN, description="target in fen")]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
ItemCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")]
CountyCode = Annotated[str, msgspec.Meta(pattern=r"^\d{6}$", description="a county's code")]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[a-zA-Z]{3}$")]
DonorName = Annotated[str, msgspec.Meta(max_length=100)]
Email = Annotated[str, msgspec.Meta(max_length=200, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")]
FormKey = Annotated[
    str,
    msgspec.Meta(
        min_length=16,
        max_length=128,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="a random key the donation form makes once: the same key, the same donation",
    ),
]
Reason = Annotated[str, msgspec.Meta(max_length=300)]


class CampaignCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    region_code: CountyCode
    item_codes: Annotated[list[ItemCode], msgspec.Meta(min_length=1, max_length=20)]
    target_fen: TargetFen
    ends_on: date


class CampaignBooks(msgspec.Struct, kw_only=True):
    """A campaign's money and goods: ``left_fen = raised - refunded - spent``."""

    raised_fen: int
    refunded_fen: int
    spent_fen: int
    left_fen: int
    donations: int
    goods_bought: int
    units_delivered: int


class Campaign(msgspec.Struct, kw_only=True):
    id: int
    title: str
    organization_id: int
    organization_name: str
    region_code: str
    region_name: str
    item_codes: list[str]
    target_fen: int
    ends_on: date
    status: CampaignStatus
    created_at: datetime
    books: CampaignBooks


class DonationCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    amount_fen: DonationFen
    currency: Currency | None = None
    donor_name: DonorName = ""
    donor_email: Email = ""
    idempotency_key: FormKey | None = None


class DonationStarted(msgspec.Struct, kw_only=True):
    """What the donation page needs to confirm the payment with Stripe.js."""

    donation_id: int
    tracking_code: str
    status: DonationStatus
    amount_fen: int
    currency: str
    client_secret: str
    publishable_key: str
    payment_methods: list[str]


class RefundCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    amount_fen: DonationFen | None = None  # None: everything not yet refunded
    reason: Reason = ""


class DonationRecord(msgspec.Struct, kw_only=True):
    """A donation as its charity sees it (the donor's tracking code is theirs alone)."""

    id: int
    kind: DonationKind
    status: DonationStatus
    organization_id: int
    campaign_id: int | None
    amount_fen: int
    refunded_fen: int
    currency: str
    item_code: str | None
    quantity: int
    offer_id: int | None
    donor_name: str
    donor_email: str
    created_at: datetime
    settled_at: datetime | None


class PurchaseCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    item_code: ItemCode
    quantity: Quantity
    cost_fen: Fen
    warehouse_id: int
    radius_km: Annotated[float, msgspec.Meta(gt=0, le=500)] = 50.0
    available_until: date | None = None  # default: 90 days from today


class Purchase(msgspec.Struct, kw_only=True):
    id: int
    campaign_id: int
    offer_id: int
    item_code: str
    quantity: int
    cost_fen: int
    created_at: datetime
    advice_id: int | None = None  # the purchase advice it followed


class GoodsDonationCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    organization_id: int
    item_code: ItemCode
    quantity: Quantity
    campaign_id: int | None = None
    donor_name: DonorName = ""
    donor_email: Email = ""


class GoodsRegistered(msgspec.Struct, kw_only=True):
    donation_id: int
    tracking_code: str
    status: DonationStatus


class GoodsAccept(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Join an open offer of the same item at ``warehouse_id`` (``offer_id``), or a new one."""

    warehouse_id: int
    offer_id: int | None = None
    radius_km: Annotated[float, msgspec.Meta(gt=0, le=500)] = 50.0
    available_until: date | None = None


class GoodsDecline(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class WebhookAnswer(msgspec.Struct, kw_only=True):
    event_id: str
    outcome: WebhookOutcome


class TimelineEvent(msgspec.Struct, kw_only=True):
    """One step of a gift's way: never who received it, only where (the county) and what.

    No household category either: with a county, a date and an item it could point at a
    household in a small place (public pages show none, UI.md).
    """

    step: TimelineStep
    at: datetime
    label_zh: str
    label_en: str
    amount_fen: int | None = None
    item_code: str | None = None
    units: float | None = None  # this gift's share of the units, where gifts were pooled
    county_code: str | None = None
    county_name: str | None = None


class Tracking(msgspec.Struct, kw_only=True):
    tracking_code: str
    kind: DonationKind
    status: DonationStatus
    organization_name: str
    campaign_id: int | None
    campaign_title: str | None
    amount_fen: int
    refunded_fen: int
    currency: str
    item_code: str | None
    quantity: int
    timeline: list[TimelineEvent]


class Receipt(msgspec.Struct, kw_only=True):
    receipt_number: str
    tracking_code: str
    kind: DonationKind
    status: DonationStatus
    organization_name: str
    organization_credit_code: str
    campaign_title: str | None
    donor_name: str
    amount_fen: int
    refunded_fen: int
    net_fen: int
    currency: str
    amount_text: str  # e.g. ¥12.34
    item_code: str | None
    item_name_zh: str | None
    item_name_en: str | None
    quantity: int
    received_at: datetime
    settled_at: datetime | None


class DashboardRow(msgspec.Struct, kw_only=True):
    """Per county and kind: money given, units bought with it, goods given, units delivered."""

    county_code: str
    county_name: str
    kind: str  # "money" or an item kind (coal, coat_adult, quilt ...)
    donated_fen: int
    donated_units: int
    bought_units: int
    delivered_units: int  # every unit delivered there, whatever gave the stock
    deliveries: int = 0  # deliveries confirmed there (they add up to the home page's total)


class KindNeed(msgspec.Struct, kw_only=True):
    """Households waiting for an item and its unmet units (None: fewer than 5 households)."""

    item_code: str
    asked: bool  # the campaign buys this item
    households: int | None
    units: int | None


class CampaignNeed(msgspec.Struct, kw_only=True):
    """The unmet need of the campaign's region by item, now (aggregate counts only)."""

    campaign_id: int
    region_code: str
    region_name: str
    as_of: datetime
    min_public: int
    items: list[KindNeed]
