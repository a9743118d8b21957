"""Deciding on a round's proposals: read them, approve (all, some, edited), reject.

:func:`approve` turns proposals into allocations in one transaction: every proposal,
edited or not, through one call of the allocation path
(:func:`nuanxin.deliveries.allocations.allocate_many`: a few statements per offer, locking
offers then needs in id order). It reserves the stock and counts the needs, so a unit is
never allocated twice; a proposal whose stock or need is gone is reported as stale, not
half-applied. An edit may lower a proposal's quantity, never raise it. Approving the same
proposal twice is harmless.

A round closes when every proposal of it is decided (approved, rejected or stale):
:func:`close_if_decided` runs after each decision's transaction has committed, as one
conditional update (``proposed`` -> ``closed``) behind a check that no proposal is open. Two
decisions finishing at once each check after their own commit: the later check sees both and
closes the round, and the round's row lock lets only one of them close it (one audit entry).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from nuanxin.audit.services import record, record_many
from nuanxin.db import atomic, batched, is_postgres, retrying, rows_table
from nuanxin.deliveries import allocations
from nuanxin.errors import Conflict, Forbidden, Invalid
from nuanxin.identity import CurrentUser, Role
from nuanxin.pagination import Page, Pagination
from nuanxin.rounds.schemas import ApprovalOut, ApproveIn, ProposalOut, StaleProposal
from nuanxin.rounds.services import round_row
from nuanxin.rounds.tables import MatchingRound, Proposal
from nuanxin.rounds.vocabulary import ProposalStatus, RoundStatus

__all__ = (
    "PROPOSAL_COLUMNS",
    "approve",
    "close_if_decided",
    "list_proposals",
    "proposal_out",
    "reject",
)


PROPOSAL_COLUMNS = (
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
    Proposal.offer._.organization._.name,
    Proposal.offer._.item._.code,
    Proposal.offer._.radius_km,
    Proposal.need,
    Proposal.need._.weight,
    Proposal.quantity,
    Proposal.distance_km,
    Proposal.reason,
    Proposal.location_source,
    Proposal.status,
    Proposal.decision_reason,
)


def proposal_out(row: dict[str, Any]) -> ProposalOut:
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
        charity=str(row["offer.organization.name"]),
        item_code=str(row["offer.item.code"]),
        quantity=int(row["quantity"]),
        distance_km=float(row["distance_km"]),
        radius_km=float(row["offer.radius_km"]),
        priority=float(row["need.weight"]),
        reason=str(row["reason"]),
        status=str(row["status"]),
        decision_reason=str(row["decision_reason"]),
        location_source=str(row["location_source"]),
    )


async def list_proposals(
    *, actor: CurrentUser, round_id: int, page: Pagination, status: str | None = None
) -> Page[ProposalOut]:
    """A page of the round's proposals, by id.

    The page's ids first, from the proposal table alone, then their columns: a deep page of
    a province's round (a hundred thousand proposals) joins its own rows, not those it skips.
    """
    await round_row(actor, round_id)
    where: Any = Proposal.round == round_id
    if status is not None:
        where = where & (Proposal.status == status)
    ids = [
        int(row["id"])
        for row in await Proposal.select(Proposal.id)
        .where(where)
        .order_by(Proposal.id)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    ]
    rows = (
        await Proposal.select(*PROPOSAL_COLUMNS)
        .where(Proposal.id.is_in(ids))
        .order_by(Proposal.id)
        .run()
        if ids
        else []
    )
    return Page(
        items=[proposal_out(row) for row in rows],
        total=await Proposal.count().where(where).run(),
        limit=page.limit,
        offset=page.offset,
    )


async def approve(*, actor: CurrentUser, round_id: int, data: ApproveIn) -> ApprovalOut:
    """Approve all, some or edited proposals; each one all-or-nothing."""
    current = await round_row(actor, round_id)
    if actor.role is not Role.staff:
        raise Forbidden("Only civil affairs staff approve proposals")
    # a closed round has every proposal decided: approving again reports them, harmlessly
    if current["status"] not in (RoundStatus.proposed, RoundStatus.closed):
        raise Conflict(
            f"The round is {current['status']}: nothing to approve",
            message_id="round_not_proposed",
        )
    edits = {edit.proposal_id: edit.quantity for edit in data.edits}
    wanted = set(data.proposal_ids) | set(edits)
    if not data.all and not wanted:
        raise Invalid(
            "Say which proposals to approve: all, proposal_ids or edits",
            field="proposal_ids",
            message_id="proposals_unticked",
        )
    rows = await _approvable(round_id, None if data.all else sorted(wanted))
    found = {int(row["id"]): row for row in rows}
    _ensure_in_round(set(data.proposal_ids) - set(found), "proposal_ids")
    for index, edit in enumerate(data.edits):
        _ensure_in_round({edit.proposal_id} - set(found), f"edits[{index}].proposal_id")
        limit = int(found[edit.proposal_id]["quantity"])
        if edit.quantity > limit:
            raise Invalid(
                f"edits[{index}].quantity: {edit.quantity} is more than the {limit} proposed;"
                " an edit may lower the quantity, not raise it",
                field=f"edits[{index}].quantity",
                message_id="edit_above_proposal",
                params={"proposal_id": edit.proposal_id, "limit": limit},
            )

    async def decide() -> ApprovalOut:
        # One transaction for the request, one allocation call for every proposal (edited or
        # not): offers, then needs, are locked in id order.
        result = ApprovalOut(approved=[], already_approved=[], stale=[], delivery_ids=[])
        await _approve_all(actor, rows, edits, result)
        return result

    # a deadlock victim or a serialization failure wrote nothing: decide again, afresh
    result = await retrying(decide)
    await close_if_decided(actor=actor, round_id=round_id)
    return result


async def _approvable(round_id: int, ids: list[int] | None) -> list[dict[str, Any]]:
    """What approving needs of the round's proposals (all, or those of ``ids``), by id.

    Fewer columns than :data:`PROPOSAL_COLUMNS` (a province's round has a hundred thousand).
    """
    columns = (
        "SELECT proposal.id, proposal.offer, offer.organization, proposal.household,"
        " region.code AS region_code, proposal.need, proposal.quantity, proposal.distance_km"
    )
    joins = (
        " JOIN offer ON offer.id = proposal.offer"
        " JOIN household ON household.id = proposal.household"
        " JOIN region ON region.id = household.region"
    )
    rows: list[dict[str, Any]] = []
    if ids is None:
        rows += await Proposal.raw(
            f"{columns} FROM proposal{joins} WHERE proposal.round = {{}} ORDER BY proposal.id",
            round_id,
        ).run()
        return rows
    for chunk in batched(ids):
        table, args = rows_table([("id", "int")], [(i,) for i in chunk])
        rows += await Proposal.raw(
            f"{columns} FROM {table} CROSS JOIN proposal{joins}"
            " WHERE proposal.id = t.id AND proposal.round = {} ORDER BY proposal.id",
            *args,
            round_id,
        ).run()
    return rows


async def _claim(
    actor: CurrentUser, ids: list[int], edits: dict[int, int], result: ApprovalOut
) -> set[int]:
    """Mark still-open proposals approved (edited ones with their new quantity).

    One statement per batch. On PostgreSQL it locks the batch's open proposals in id order
    first, so that two approvals of the same proposals queue rather than deadlock: the later
    one finds them decided (SQLite's writer holds the whole database). Returns the ids
    claimed; the others are reported as already approved or stale.
    """
    now = datetime.now(UTC)
    claimed: set[int] = set()
    for chunk in batched(ids):
        rows = [(pid, edits.get(pid)) for pid in chunk]
        if is_postgres():
            table, args = rows_table([("id", "int"), ("quantity", "int")], rows)
            source = (
                f"(SELECT proposal.id, t.quantity FROM {table} CROSS JOIN proposal"
                " WHERE proposal.id = t.id AND proposal.status = {}"
                " ORDER BY proposal.id FOR UPDATE OF proposal) AS pick"
            )
            still_open = ""
        else:
            source, args = rows_table([("id", "int"), ("quantity", "int")], rows, alias="pick")
            # the unary plus keeps SQLite off the status index: it finds each row by its id
            still_open = " AND +proposal.status = {}"
        answer = await Proposal.raw(
            "UPDATE proposal SET status = {}, decided_by = {}, decided_at = {},"
            " quantity = COALESCE(pick.quantity, proposal.quantity)"
            f" FROM {source} WHERE proposal.id = pick.id{still_open} RETURNING proposal.id",
            ProposalStatus.approved.value,
            actor.id,
            now,
            *args,
            ProposalStatus.proposed.value,
        ).run()
        claimed.update(int(row["id"]) for row in answer)
    unclaimed = [pid for pid in ids if pid not in claimed]
    for chunk in batched(unclaimed):
        for row in (
            await Proposal.select(Proposal.id, Proposal.status)
            .where(Proposal.id.is_in(list(chunk)))
            .order_by(Proposal.id)
            .run()
        ):
            if row["status"] == ProposalStatus.approved:
                result.already_approved.append(int(row["id"]))
            else:
                result.stale.append(
                    StaleProposal(proposal_id=int(row["id"]), reason=f"it is {row['status']}")
                )
    return claimed


async def _approve_all(
    actor: CurrentUser, rows: list[dict[str, Any]], edits: dict[int, int], result: ApprovalOut
) -> None:
    """Approve proposals with a few statements per table and batch, not per proposal.

    The allocation path (:func:`nuanxin.deliveries.allocations.allocate_many`) reserves the
    offers' units and counts the needs under their locks, deciding each proposal in id order;
    what cannot be honoured is marked stale with the reason (an edited proposal keeps its
    proposed quantity), its reservation undone. Each approved proposal gets its audit entry.
    """
    if not rows:
        return
    by_id = {int(row["id"]): row for row in rows}
    claimed = await _claim(actor, sorted(by_id), edits, result)

    def quantity(pid: int) -> int:
        return edits.get(pid, int(by_id[pid]["quantity"]))

    outcome = await allocations.allocate_many(
        actor=actor,
        requests=[
            allocations.AllocationRequest(
                offer_id=int(by_id[pid]["offer"]),
                organization_id=int(by_id[pid]["organization"]),
                household_id=int(by_id[pid]["household"]),
                need_id=int(by_id[pid]["need"]),
                quantity=quantity(pid),
                distance_km=float(by_id[pid]["distance_km"]),
                proposal_id=pid,
            )
            for pid in sorted(claimed)
        ],
    )
    refused = [(int(request.proposal_id or 0), reason) for request, reason in outcome.refused]
    for chunk in batched(refused):
        table, args = rows_table(
            [("id", "int"), ("reason", "text"), ("quantity", "int")],
            [(pid, reason[:300], int(by_id[pid]["quantity"])) for pid, reason in chunk],
        )
        await Proposal.raw(
            "UPDATE proposal SET status = {}, decision_reason = t.reason, quantity = t.quantity"
            f" FROM {table} WHERE proposal.id = t.id",
            ProposalStatus.stale.value,
            *args,
        ).run()
    result.stale.extend(StaleProposal(proposal_id=pid, reason=reason) for pid, reason in refused)
    made = [(by_id[int(request.proposal_id or 0)], done) for request, done in outcome.made]
    await record_many(
        actor=actor,
        action="proposal.approve",
        entity="proposal",
        entries=[
            (
                int(row["id"]),
                {"status": "proposed", "quantity": int(row["quantity"])},
                {
                    "status": "approved",
                    "quantity": quantity(int(row["id"])),
                    "allocation": done.allocation_id,
                    "delivery": done.delivery_id,
                },
                str(row["region_code"]),
            )
            for row, done in made
        ],
    )
    result.approved.extend(int(row["id"]) for row, _ in made)
    result.delivery_ids.extend(done.delivery_id for _, done in made)


def _ensure_in_round(missing: set[int], field: str) -> None:
    """Refuse ids that name no proposal of the round (unknown, or another round's)."""
    if missing:
        raise Invalid(
            f"{field}: proposals {sorted(missing)} are not in this round",
            field=field,
            message_id="proposals_not_in_round",
            params={"proposal_ids": sorted(missing)},
        )


async def reject(
    *, actor: CurrentUser, round_id: int, proposal_ids: Sequence[int], reason: str
) -> list[int]:
    """Reject proposals of the round with a reason; returns those that were still open.

    Ids that are not the round's are refused, as :func:`approve` refuses them; proposals
    decided already are left as they are (rejecting twice is harmless).
    """
    await round_row(actor, round_id)
    if actor.role is not Role.staff:
        raise Forbidden("Only civil affairs staff reject proposals")
    known = (
        await Proposal.select(Proposal.id)
        .where((Proposal.round == round_id) & Proposal.id.is_in(sorted(set(proposal_ids))))
        .run()
    )
    _ensure_in_round(set(proposal_ids) - {int(row["id"]) for row in known}, "proposal_ids")
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
    await close_if_decided(actor=actor, round_id=round_id)
    return rejected


async def close_if_decided(*, actor: CurrentUser, round_id: int) -> bool:
    """Close the round when no proposal of it is open; True when this call closed it.

    Call it after the deciding transaction has committed (see the module's docstring).
    """
    async with atomic():
        still_open = (
            await Proposal.exists()
            .where((Proposal.round == round_id) & (Proposal.status == ProposalStatus.proposed))
            .run()
        )
        if still_open:
            return False
        closed = (
            await MatchingRound.update({MatchingRound.status: RoundStatus.closed})
            .where((MatchingRound.id == round_id) & (MatchingRound.status == RoundStatus.proposed))
            .returning(MatchingRound.id)
            .run()
        )
        if not closed:
            return False
        await record(
            actor=actor,
            action="round.close",
            entity="round",
            entity_id=round_id,
            before={"status": "proposed"},
            after={"status": "closed", "at": datetime.now(UTC).isoformat()},
        )
    return True
