"""Deciding on a round's proposals: read them, approve (all, some, edited), reject.

:func:`approve` turns proposals into allocations in one transaction: edited proposals one by
one, each in a savepoint (:func:`nuanxin.deliveries.allocations.allocate`); the others in
bulk (:func:`nuanxin.deliveries.allocations.allocate_many`: a few statements per offer,
locking offers then needs in id order). The allocation path reserves the stock and counts
the needs, so a unit is never allocated twice; a proposal whose stock or need is gone is
reported as stale, not half-applied. Approving the same proposal twice is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from nuanxin.audit.services import record, record_many
from nuanxin.db import atomic
from nuanxin.deliveries import allocations
from nuanxin.errors import Conflict, DomainError, Forbidden, Invalid
from nuanxin.identity import CurrentUser, Role
from nuanxin.pagination import Page, Pagination
from nuanxin.rounds.schemas import ApprovalOut, ApproveIn, ProposalOut, StaleProposal
from nuanxin.rounds.services import round_row
from nuanxin.rounds.tables import Proposal
from nuanxin.rounds.vocabulary import ProposalStatus, RoundStatus

__all__ = ("approve", "list_proposals", "reject")


_PROPOSAL_COLUMNS = (
    Proposal.id,
    Proposal.round,
    Proposal.household,
    Proposal.household._.reference,
    Proposal.household._.category,
    Proposal.household._.region._.code,
    Proposal.household._.lat,
    Proposal.household._.lon,
    Proposal.offer,
    Proposal.offer._.organization,
    Proposal.offer._.item._.code,
    Proposal.need,
    Proposal.quantity,
    Proposal.distance_km,
    Proposal.reason,
    Proposal.status,
    Proposal.decision_reason,
)


def _proposal_out(row: dict[str, Any]) -> ProposalOut:
    return ProposalOut(
        id=int(row["id"]),
        round_id=int(row["round"]),
        household_id=int(row["household"]),
        household_reference=str(row["household.reference"]),
        household_category=str(row["household.category"]),
        region_code=str(row["household.region.code"]),
        lat=float(row["household.lat"]),
        lon=float(row["household.lon"]),
        offer_id=int(row["offer"]),
        organization_id=int(row["offer.organization"]),
        item_code=str(row["offer.item.code"]),
        quantity=int(row["quantity"]),
        distance_km=float(row["distance_km"]),
        reason=str(row["reason"]),
        status=str(row["status"]),
        decision_reason=str(row["decision_reason"]),
    )


async def list_proposals(
    *, actor: CurrentUser, round_id: int, page: Pagination, status: str | None = None
) -> Page[ProposalOut]:
    await round_row(actor, round_id)
    where: Any = Proposal.round == round_id
    if status is not None:
        where = where & (Proposal.status == status)
    rows = (
        await Proposal.select(*_PROPOSAL_COLUMNS)
        .where(where)
        .order_by(Proposal.id)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    return Page(
        items=[_proposal_out(row) for row in rows],
        total=await Proposal.count().where(where).run(),
        limit=page.limit,
        offset=page.offset,
    )


async def approve(*, actor: CurrentUser, round_id: int, data: ApproveIn) -> ApprovalOut:
    """Approve all, some or edited proposals; each one all-or-nothing."""
    current = await round_row(actor, round_id)
    if actor.role is not Role.staff:
        raise Forbidden("Only civil affairs staff approve proposals")
    if current["status"] != RoundStatus.proposed:
        raise Conflict(f"The round is {current['status']}: nothing to approve")
    edits = {edit.proposal_id: edit.quantity for edit in data.edits}
    wanted = set(data.proposal_ids) | set(edits)
    if not data.all and not wanted:
        raise Invalid(
            "Say which proposals to approve: all, proposal_ids or edits",
            field="proposal_ids",
        )
    where: Any = Proposal.round == round_id
    if not data.all:
        where = where & Proposal.id.is_in(sorted(wanted))
    rows = await Proposal.select(*_PROPOSAL_COLUMNS).where(where).order_by(Proposal.id).run()
    missing = wanted - {int(row["id"]) for row in rows}
    if missing:
        raise Invalid(
            f"Proposals {sorted(missing)} are not in this round",
            field="proposal_ids",
        )
    result = ApprovalOut(approved=[], already_approved=[], stale=[], delivery_ids=[])
    # One transaction for the request. Edited proposals go one by one (each in a
    # savepoint); the others in bulk, locking offers then needs in id order.
    async with atomic():
        for row in rows:
            if int(row["id"]) in edits:
                await _approve_one(actor, row, edits[int(row["id"])], result)
        await _approve_bulk(actor, [r for r in rows if int(r["id"]) not in edits], result)
    return result


async def _approve_bulk(
    actor: CurrentUser, rows: list[dict[str, Any]], result: ApprovalOut
) -> None:
    """Approve unedited proposals with a few statements per offer instead of per proposal.

    Each offer's units are reserved in one conditional update (falling back to one proposal
    at a time when the offer is short), then each need is counted; what cannot be honoured
    is marked stale with the reason and its reservation undone.
    """
    if not rows:
        return
    now = datetime.now(UTC)
    by_id = {int(row["id"]): row for row in rows}
    ids = sorted(by_id)
    claimed: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        answer = (
            await Proposal.update(
                {
                    Proposal.status: ProposalStatus.approved,
                    Proposal.decided_by: actor.id,
                    Proposal.decided_at: now,
                }
            )
            .where(Proposal.id.is_in(chunk) & (Proposal.status == ProposalStatus.proposed))
            .returning(Proposal.id)
            .run()
        )
        claimed.update(int(row["id"]) for row in answer)
    unclaimed = [pid for pid in ids if pid not in claimed]
    if unclaimed:
        for row in (
            await Proposal.select(Proposal.id, Proposal.status)
            .where(Proposal.id.is_in(unclaimed))
            .run()
        ):
            if row["status"] == ProposalStatus.approved:
                result.already_approved.append(int(row["id"]))
            else:
                result.stale.append(
                    StaleProposal(proposal_id=int(row["id"]), reason=f"it is {row['status']}")
                )
    outcome = await allocations.allocate_many(
        actor=actor,
        requests=[
            allocations.AllocationRequest(
                offer_id=int(by_id[pid]["offer"]),
                organization_id=int(by_id[pid]["offer.organization"]),
                household_id=int(by_id[pid]["household"]),
                need_id=int(by_id[pid]["need"]),
                quantity=int(by_id[pid]["quantity"]),
                distance_km=float(by_id[pid]["distance_km"]),
                proposal_id=pid,
            )
            for pid in sorted(claimed)
        ],
    )
    for request, reason in outcome.refused:
        assert request.proposal_id is not None
        await (
            Proposal.update(
                {Proposal.status: ProposalStatus.stale, Proposal.decision_reason: reason[:300]}
            )
            .where(Proposal.id == request.proposal_id)
            .run()
        )
        result.stale.append(StaleProposal(proposal_id=request.proposal_id, reason=reason))
    counted = [(by_id[int(request.proposal_id or 0)], made) for request, made in outcome.made]
    await record_many(
        actor=actor,
        action="proposal.approve",
        entity="proposal",
        entries=[
            (
                int(row["id"]),
                {"status": "proposed"},
                {
                    "status": "approved",
                    "quantity": int(row["quantity"]),
                    "allocation": made.allocation_id,
                    "delivery": made.delivery_id,
                },
                str(row["household.region.code"]),
            )
            for row, made in counted
        ],
    )
    result.approved.extend(int(row["id"]) for row, _ in counted)
    result.delivery_ids.extend(made.delivery_id for _, made in counted)


async def _approve_one(
    actor: CurrentUser, row: dict[str, Any], edited: int | None, result: ApprovalOut
) -> None:
    proposal_id = int(row["id"])
    quantity = int(row["quantity"]) if edited is None else edited
    if edited is not None and edited > int(row["quantity"]):
        result.stale.append(
            StaleProposal(
                proposal_id=proposal_id, reason="an edit may lower, not raise, the quantity"
            )
        )
        return
    try:
        async with atomic():
            claimed = (
                await Proposal.update(
                    {
                        Proposal.status: ProposalStatus.approved,
                        Proposal.quantity: quantity,
                        Proposal.decided_by: actor.id,
                        Proposal.decided_at: datetime.now(UTC),
                    }
                )
                .where((Proposal.id == proposal_id) & (Proposal.status == ProposalStatus.proposed))
                .returning(Proposal.id)
                .run()
            )
            if not claimed:
                current = (
                    await Proposal.select(Proposal.status)
                    .where(Proposal.id == proposal_id)
                    .first()
                    .run()
                )
                status = current["status"] if current else "gone"
                if status == ProposalStatus.approved:
                    result.already_approved.append(proposal_id)
                else:
                    result.stale.append(
                        StaleProposal(proposal_id=proposal_id, reason=f"it is {status}")
                    )
                return
            allocated = await allocations.allocate(
                actor=actor,
                offer_id=int(row["offer"]),
                organization_id=int(row["offer.organization"]),
                household_id=int(row["household"]),
                need_id=int(row["need"]),
                quantity=quantity,
                distance_km=float(row["distance_km"]),
                proposal_id=proposal_id,
            )
            await record(
                actor=actor,
                action="proposal.approve",
                entity="proposal",
                entity_id=proposal_id,
                before={"status": "proposed", "quantity": int(row["quantity"])},
                after={"status": "approved", "quantity": quantity},
            )
    except DomainError as refused:
        # The savepoint rolled back: record the proposal as stale, with the reason.
        async with atomic():
            await (
                Proposal.update(
                    {
                        Proposal.status: ProposalStatus.stale,
                        Proposal.decision_reason: refused.detail[:300],
                    }
                )
                .where((Proposal.id == proposal_id) & (Proposal.status == ProposalStatus.proposed))
                .run()
            )
        result.stale.append(StaleProposal(proposal_id=proposal_id, reason=refused.detail))
        return
    result.approved.append(proposal_id)
    result.delivery_ids.append(allocated.delivery_id)


async def reject(
    *, actor: CurrentUser, round_id: int, proposal_ids: Sequence[int], reason: str
) -> list[int]:
    """Reject proposals with a reason; returns those that were still open."""
    await round_row(actor, round_id)
    if actor.role is not Role.staff:
        raise Forbidden("Only civil affairs staff reject proposals")
    async with atomic():
        rows = (
            await Proposal.update(
                {
                    Proposal.status: ProposalStatus.rejected,
                    Proposal.decision_reason: reason,
                    Proposal.decided_by: actor.id,
                    Proposal.decided_at: datetime.now(UTC),
                }
            )
            .where(
                (Proposal.round == round_id)
                & Proposal.id.is_in(list(proposal_ids))
                & (Proposal.status == ProposalStatus.proposed)
            )
            .returning(Proposal.id)
            .run()
        )
        rejected = sorted(int(row["id"]) for row in rows)
        for proposal_id in rejected:
            await record(
                actor=actor,
                action="proposal.reject",
                entity="proposal",
                entity_id=proposal_id,
                after={"status": "rejected", "reason": reason},
            )
    return rejected
