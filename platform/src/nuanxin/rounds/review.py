"""Reviewing a round of any size: its summary, its proposals by household, and its closing.

* :func:`summarize` counts what the round proposes and what is decided: households, proposals
  by status, units by kind (proposed, approved, still open), and the need it left unmet (the
  engine's figures, kept in the round's stats).
* :func:`review_page` pages the round's proposals by household (township, then reference), with
  filters by township, item, charity and status: a page holds whole households.
* :func:`approval_preview` says what "approve all" would approve, checked as approving is
  (civil affairs staff, a round awaiting decisions), so that the page asks before doing it.

A round closes by itself when its last proposal is decided
(:func:`nuanxin.rounds.proposals.close_if_decided`).
"""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby
from typing import Any

from piccolo.query.functions.aggregate import Count, Sum

from nuanxin.errors import Conflict, Forbidden
from nuanxin.identity import CurrentUser, Role
from nuanxin.rounds.proposals import PROPOSAL_COLUMNS, proposal_out
from nuanxin.rounds.schemas import (
    ApprovalPreview,
    KindUnits,
    ReviewFilters,
    ReviewHousehold,
    ReviewPage,
    RoundSummary,
)
from nuanxin.rounds.services import round_row
from nuanxin.rounds.tables import Proposal
from nuanxin.rounds.vocabulary import ProposalStatus, RoundStatus

__all__ = (
    "HOUSEHOLDS_PER_PAGE",
    "approval_preview",
    "review_page",
    "summarize",
)

#: Households on one page of the review (about 100-200 proposals).
HOUSEHOLDS_PER_PAGE = 100


def _place(row: dict[str, Any], prefix: str) -> tuple[str, str]:
    """(county, township) of a household's region: a township's parent is its county."""
    if row[f"{prefix}.level"] == "township":
        return str(row[f"{prefix}.parent.name"]), str(row[f"{prefix}.name"])
    return str(row[f"{prefix}.name"]), ""


async def summarize(*, actor: CurrentUser, round_id: int) -> RoundSummary:
    """Households, proposals by status, units by kind and unmet need of the round."""
    current = await round_row(actor, round_id)
    in_round = Proposal.round == round_id
    units: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_status: dict[str, int] = defaultdict(int)
    for row in (
        await Proposal.select(
            Proposal.offer._.item._.code.as_alias("item"),
            Proposal.status,
            Sum(Proposal.quantity, alias="units"),
            Count(alias="proposals"),
        )
        .where(in_round)
        .group_by(Proposal.offer._.item._.code, Proposal.status)
        .run()
    ):
        units[str(row["item"])][str(row["status"])] += int(row["units"] or 0)
        by_status[str(row["status"])] += int(row["proposals"])
    households = await Proposal.select(Proposal.household).where(in_round).distinct().run()
    open_households = (
        await Proposal.select(Proposal.household)
        .where(in_round & (Proposal.status == ProposalStatus.proposed))
        .distinct()
        .run()
    )
    stats = dict(current["stats"] or {})
    unmet = stats.get("unmet_by_kind") or {}
    return RoundSummary(
        households=len(households),
        open_households=len(open_households),
        proposals=sum(by_status.values()),
        by_status={status: by_status.get(status, 0) for status in ProposalStatus},
        units=[
            KindUnits(
                item_code=code,
                proposed=sum(units[code].values()),
                approved=units[code].get(ProposalStatus.approved, 0),
                open=units[code].get(ProposalStatus.proposed, 0),
                unmet=int(unmet.get(code, 0)),
            )
            for code in sorted(set(units) | set(unmet))
        ],
        unmet_units=int(stats.get("unmet_units", 0)),
        snapshot_households=int(stats.get("households", 0)),
    )


def _filtered(round_id: int, filters: ReviewFilters) -> Any:
    where: Any = Proposal.round == round_id
    if filters.township:
        where = where & (Proposal.household._.region._.code == filters.township)
    if filters.item_code:
        where = where & (Proposal.offer._.item._.code == filters.item_code)
    if filters.organization_id is not None:
        where = where & (Proposal.offer._.organization == filters.organization_id)
    if filters.status:
        where = where & (Proposal.status == filters.status)
    return where


async def review_page(
    *, actor: CurrentUser, round_id: int, filters: ReviewFilters, page: int = 1
) -> ReviewPage:
    """One page of the round's proposals, whole households at a time, with the filters' choices."""
    await round_row(actor, round_id)
    in_round = Proposal.round == round_id
    region = Proposal.household._.region._
    places = (
        await Proposal.select(
            region.code.as_alias("code"),
            region.name.as_alias("r.name"),
            region.level.as_alias("r.level"),
            region.parent._.name.as_alias("r.parent.name"),
        )
        .where(in_round)
        .distinct()
        .run()
    )
    townships = sorted(
        (str(row["code"]), " ".join(part for part in _place(row, "r") if part)) for row in places
    )
    charities = sorted(
        (
            (int(row["id"]), str(row["name"]))
            for row in await Proposal.select(
                Proposal.offer._.organization.as_alias("id"),
                Proposal.offer._.organization._.name.as_alias("name"),
            )
            .where(in_round)
            .distinct()
            .run()
        ),
        key=lambda pair: pair[1],
    )
    items = sorted(
        str(row["code"])
        for row in await Proposal.select(Proposal.offer._.item._.code.as_alias("code"))
        .where(in_round)
        .distinct()
        .run()
    )
    where = _filtered(round_id, filters)
    ordered = (
        await Proposal.select(
            Proposal.household, region.code.as_alias("code"), Proposal.household._.reference
        )
        .where(where)
        .distinct()
        .order_by(region.code)
        .order_by(Proposal.household._.reference)
        .run()
    )
    total = len(ordered)
    pages = max(1, -(-total // HOUSEHOLDS_PER_PAGE))
    page = max(1, min(page, pages))
    start = (page - 1) * HOUSEHOLDS_PER_PAGE
    chosen = [int(row["household"]) for row in ordered[start : start + HOUSEHOLDS_PER_PAGE]]
    rows = (
        await Proposal.select(
            *PROPOSAL_COLUMNS,
            region.name.as_alias("place.name"),
            region.level.as_alias("place.level"),
            region.parent._.name.as_alias("place.parent.name"),
        )
        .where(where & Proposal.household.is_in(chosen))
        .order_by(region.code)
        .order_by(Proposal.household._.reference)
        .order_by(Proposal.id)
        .run()
        if chosen
        else []
    )
    households = []
    for household_id, group in groupby(rows, key=lambda row: int(row["household"])):
        listed = list(group)
        county, township = _place(listed[0], "place")
        households.append(
            ReviewHousehold(
                household_id=household_id,
                reference=str(listed[0]["household.reference"]),
                category=str(listed[0]["household.category"]),
                region_code=str(listed[0]["household.region.code"]),
                county=county,
                township=township,
                proposals=[proposal_out(row) for row in listed],
            )
        )
    return ReviewPage(
        households=households,
        total_households=total,
        total_proposals=await Proposal.count().where(where).run(),
        page=page,
        pages=pages,
        per_page=HOUSEHOLDS_PER_PAGE,
        townships=townships,
        charities=charities,
        item_codes=items,
    )


async def approval_preview(*, actor: CurrentUser, round_id: int) -> ApprovalPreview:
    """What approving every open proposal of the round would approve (refused as approving is)."""
    current = await round_row(actor, round_id)
    if actor.role is not Role.staff:
        raise Forbidden("Only civil affairs staff approve proposals")
    if current["status"] != RoundStatus.proposed:
        raise Conflict(
            f"The round is {current['status']}: nothing to approve",
            message_id="round_not_proposed",
        )
    summary = await summarize(actor=actor, round_id=round_id)
    return ApprovalPreview(
        proposals=summary.by_status.get(ProposalStatus.proposed, 0),
        households=summary.open_households,
        units=[kind for kind in summary.units if kind.open],
    )
