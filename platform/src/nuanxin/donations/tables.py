"""Campaigns, money and goods donations, payments, purchases and Stripe events.

Their enums live in :mod:`nuanxin.donations.vocabulary`.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.constraints import Check
from piccolo.table import Table

from nuanxin.accounts.tables import Organization, User
from nuanxin.advice.tables import PurchaseAdvice
from nuanxin.donations.vocabulary import CampaignStatus, DonationKind, DonationStatus
from nuanxin.offers.tables import Item, Offer
from nuanxin.regions.tables import Region


class Campaign(Table, tablename="campaign"):
    """A charity's appeal, e.g. 呼兰区冬季取暖."""

    id = Serial(primary_key=True)

    organization = ForeignKey(Organization, index=True, null=False, on_delete=OnDelete.restrict)
    title = Varchar(length=200)
    region = ForeignKey(Region, null=False, on_delete=OnDelete.restrict)
    items = JSON(default=[])  # item codes the money buys
    target_fen = BigInt()
    ends_on = Date()
    status = Varchar(length=10, default=CampaignStatus.open.value, index=True)
    created_at = Timestamptz()

    target_positive = Check("target_fen > 0")


class Donation(Table, tablename="donation"):
    """A gift of money (in fen, never floats) or goods, followed by its tracking code."""

    id = Serial(primary_key=True)

    tracking_code = Varchar(length=16, unique=True)
    kind = Varchar(length=5, choices=DonationKind)
    organization = ForeignKey(Organization, index=True, null=False, on_delete=OnDelete.restrict)
    campaign = ForeignKey(Campaign, null=True, default=None, on_delete=OnDelete.restrict)
    donor_name = Varchar(length=100, default="")
    donor_email = Varchar(length=200, default="")
    amount_fen = BigInt(default=0)
    refunded_fen = BigInt(default=0)
    currency = Varchar(length=3, default="cny")
    item = ForeignKey(Item, null=True, default=None, on_delete=OnDelete.restrict)
    quantity = Integer(default=0)
    offer = ForeignKey(
        Offer, null=True, default=None, on_delete=OnDelete.restrict
    )  # where accepted goods went
    status = Varchar(
        length=20, choices=DonationStatus, default=DonationStatus.created.value, index=True
    )
    created_at = Timestamptz()
    updated_at = Timestamptz()
    # The digest of the donation form's one-time key: the same form submitted twice finds the
    # same donation (a unique index, added by the migration that adds the column).
    form_key = Varchar(length=64, null=True, default=None)
    settled_at = Timestamptz(null=True, default=None)  # paid, or goods accepted/declined

    money_or_goods = Check(
        "(kind = 'money' AND amount_fen > 0 AND quantity = 0)"
        " OR (kind = 'goods' AND amount_fen = 0 AND quantity > 0)"
    )
    refund_within_amount = Check("refunded_fen >= 0 AND refunded_fen <= amount_fen")


class Payment(Table, tablename="payment"):
    """A Stripe PaymentIntent for a money donation."""

    id = Serial(primary_key=True)

    donation = ForeignKey(Donation, index=True, null=False, on_delete=OnDelete.restrict)
    intent_id = Varchar(length=100, unique=True)
    amount_fen = BigInt()
    status = Varchar(length=30)
    last_event_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()

    amount_positive = Check("amount_fen > 0")


class WebhookEvent(Table, tablename="webhook_event"):
    """Each Stripe event id, recorded once: a redelivered event changes nothing."""

    id = Serial(primary_key=True)

    event_id = Varchar(length=100, unique=True)
    type = Varchar(length=80)
    created = BigInt()  # Stripe's event timestamp, to ignore stale events
    received_at = Timestamptz()


class Purchase(Table, tablename="purchase"):
    """Campaign money turned into goods: it creates (or tops up) an offer."""

    id = Serial(primary_key=True)

    campaign = ForeignKey(Campaign, index=True, null=False, on_delete=OnDelete.restrict)
    offer = ForeignKey(Offer, null=False, on_delete=OnDelete.restrict)
    item = ForeignKey(Item, null=False, on_delete=OnDelete.restrict)
    quantity = Integer()
    cost_fen = BigInt()
    recorded_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    # the purchase advice it followed, when recorded from the advice page
    advice = ForeignKey(PurchaseAdvice, null=True, default=None, on_delete=OnDelete.restrict)

    quantity_positive = Check("quantity > 0")
    cost_positive = Check("cost_fen > 0")
