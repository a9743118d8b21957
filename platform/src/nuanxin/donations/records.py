"""What every gift shares, and what a charity sees of its donations.

* A donation, money or goods, gets its own random tracking code (:func:`unused_tracking_code`):
  the donor's key to its timeline, never shown to the charity.
* A charity sees and acts on its own donations only (:func:`own_donation`, through the identity
  core's visibility rule); admins list all of them.
"""

from __future__ import annotations

import secrets
from typing import Any

from nuanxin.donations.campaigns import member_of_charity
from nuanxin.donations.schemas import DonationRecord
from nuanxin.donations.tables import Donation
from nuanxin.donations.vocabulary import DonationKind, DonationStatus
from nuanxin.errors import NotFound
from nuanxin.identity import CurrentUser, Role, ensure_visible
from nuanxin.pagination import Page, Pagination

__all__ = (
    "TRACKING_ALPHABET",
    "is_unique_violation",
    "list_donations",
    "load_donation",
    "new_tracking_code",
    "own_donation",
    "unused_tracking_code",
)

# No 0/O, 1/I/L: a code read aloud or copied by hand is not mistaken.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 12  # 31**12 ≈ 2**59 codes


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


async def unused_tracking_code() -> str:
    while True:
        code = new_tracking_code()
        if not await Donation.exists().where(Donation.tracking_code == code).run():
            return code


def is_unique_violation(exc: BaseException) -> bool:
    """Whether the database refused a row because another one holds its unique key."""
    text = f"{type(exc).__name__} {exc}".lower()
    return "unique" in text or "duplicate key" in text


_DONATION_COLUMNS = (
    *Donation.all_columns(exclude=[Donation.form_key, Donation.tracking_code]),
    Donation.item.code.as_alias("item_code"),
)


def _donation(row: dict[str, Any]) -> DonationRecord:
    return DonationRecord(
        id=row["id"],
        kind=DonationKind(row["kind"]),
        status=DonationStatus(row["status"]),
        organization_id=row["organization"],
        campaign_id=row["campaign"],
        amount_fen=row["amount_fen"],
        refunded_fen=row["refunded_fen"],
        currency=row["currency"],
        item_code=row["item_code"],
        quantity=row["quantity"],
        offer_id=row["offer"],
        donor_name=row["donor_name"],
        donor_email=row["donor_email"],
        created_at=row["created_at"],
        settled_at=row["settled_at"],
    )


async def load_donation(donation_id: int) -> DonationRecord | None:
    row = await Donation.select(*_DONATION_COLUMNS).where(Donation.id == donation_id).first().run()
    return None if row is None else _donation(row)


async def own_donation(user: CurrentUser, donation_id: int) -> DonationRecord:
    """The donation, if the caller is a member of its charity (else: not found)."""
    donation = await load_donation(donation_id)
    if donation is None or user.role is not Role.charity:
        raise NotFound("No such donation for your charity")
    ensure_visible(user, what="donation", organization_id=donation.organization_id)
    return donation


async def list_donations(
    *,
    user: CurrentUser,
    page: Pagination,
    kind: DonationKind | None = None,
    status: DonationStatus | None = None,
    campaign_id: int | None = None,
) -> Page[DonationRecord]:
    """A charity's donations (admins: all), newest first."""
    where: list[Any] = []
    if not user.is_admin:
        where.append(Donation.organization == member_of_charity(user))
    if kind is not None:
        where.append(Donation.kind == kind)
    if status is not None:
        where.append(Donation.status == status)
    if campaign_id is not None:
        where.append(Donation.campaign == campaign_id)
    query = Donation.select(*_DONATION_COLUMNS)
    count = Donation.count()
    for condition in where:
        query = query.where(condition)
        count = count.where(condition)
    rows = (
        await query.order_by(Donation.id, ascending=False)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    return Page(
        items=[_donation(row) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )
