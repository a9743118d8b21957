"""Matching rounds: snapshot, solve off the event loop with progress, propose, approve.

A round runs in three steps. :func:`start_round` records it (status ``running``);
:func:`run_round` (a background job) takes the snapshot of the jurisdiction's unmet needs and
the open stock, solves it with the engine in a worker thread while progress is written to the
round, and stores every proposal in ONE transaction together with the round's new status, so
a round that fails or is interrupted leaves no proposals behind. :func:`recover_interrupted`
marks rounds left ``running`` by a stopped server as failed; :func:`retry_round` runs a
failed round again.

:func:`approve` turns proposals into allocations, each in its own savepoint: the stock is
reserved through the offers service with a conditional update, so a unit is never allocated
twice, and a proposal whose stock or need is gone is reported as stale, not half-applied.
Approving the same proposal twice is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

import matching
from nuanxin.accounts.security import CurrentUser
from nuanxin.accounts.tables import Role
from nuanxin.audit.services import record, record_many
from nuanxin.db import atomic
from nuanxin.deliveries import services as deliveries
from nuanxin.errors import DomainError
from nuanxin.households import demand
from nuanxin.offers import services as offers
from nuanxin.offers.catalogue import CATALOGUE
from nuanxin.pagination import Page, Pagination
from nuanxin.regions.services import subtree_prefix
from nuanxin.rounds.schemas import (
    ApprovalOut,
    ApproveIn,
    ProposalOut,
    RoundOut,
    StaleProposal,
)
from nuanxin.rounds.tables import MatchingRound, Proposal

__all__ = (
    "approve",
    "get_round",
    "list_proposals",
    "list_rounds",
    "recover_interrupted",
    "reject",
    "retry_round",
    "run_round",
    "start_round",
)

logger = logging.getLogger("nuanxin.rounds")
ITEM_CODES = frozenset(item.code for item in CATALOGUE)
PROGRESS_INTERVAL = 0.5


async def start_round(*, actor: CurrentUser, item_codes: Sequence[str]) -> int:
    """Record a round over the actor's jurisdiction; :func:`run_round` does the work."""
    if actor.role is not Role.staff or actor.jurisdiction_id is None:
        raise DomainError(
            "Only civil affairs staff with a jurisdiction run rounds", status_code=403
        )
    unknown = sorted(set(item_codes) - ITEM_CODES)
    if unknown:
        raise DomainError(
            f"Unknown item codes: {', '.join(unknown)}", status_code=400, field="item_codes"
        )
    async with atomic():
        running = (
            await MatchingRound.exists()
            .where(
                (MatchingRound.region == actor.jurisdiction_id)
                & (MatchingRound.status == "running")
            )
            .run()
        )
        if running:
            raise DomainError(
                "A round is already running for this jurisdiction", error="round_running"
            )
        rows = (
            await MatchingRound.insert(
                MatchingRound(
                    region=actor.jurisdiction_id,
                    kinds=sorted(set(item_codes)),
                    status="running",
                    phase="queued",
                    created_by=actor.id,
                    created_at=datetime.now(UTC),
                )
            )
            .returning(MatchingRound.id)
            .run()
        )
        round_id = int(rows[0]["id"])
        await record(
            actor=actor,
            action="round.start",
            entity="round",
            entity_id=round_id,
            after={"region": actor.jurisdiction_id, "items": sorted(set(item_codes))},
        )
    return round_id


async def _set_progress(round_id: int, percent: int, phase: str) -> None:
    await (
        MatchingRound.update(
            {MatchingRound.progress: max(0, min(100, percent)), MatchingRound.phase: phase[:40]}
        )
        .where((MatchingRound.id == round_id) & (MatchingRound.status == "running"))
        .run()
    )


def _problem(
    households: Sequence[demand.HouseholdDemand], stock: Sequence[offers.StockRecord]
) -> matching.Problem:
    wanted = {need.item_code for household in households for need in household.needs}
    return matching.Problem(
        offers=tuple(
            matching.Offer(
                id=str(offer.offer_id),
                kind=offer.item_code,
                quantity=offer.available,
                lat=offer.lat,
                lon=offer.lon,
                radius_km=offer.radius_km,
                requires=frozenset(offer.requires),
            )
            for offer in stock
            if offer.item_code in wanted
        ),
        households=tuple(
            matching.Household(
                id=str(household.household_id),
                lat=household.lat,
                lon=household.lon,
                tags=household.tags,
                needs=tuple(
                    matching.Need(kind=need.item_code, quantity=need.quantity, weights=need.weights)
                    for need in household.needs
                ),
            )
            for household in households
        ),
    )


async def run_round(round_id: int) -> None:
    """Snapshot, solve and store the proposals of a running round (the background job)."""
    try:
        await _run(round_id)
    except Exception as exc:  # the round records why it failed; nothing else is written
        logger.exception("round %s failed", round_id)
        message = str(exc) if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        async with atomic():
            await (
                MatchingRound.update(
                    {
                        MatchingRound.status: "failed",
                        MatchingRound.error: message[:500],
                        MatchingRound.finished_at: datetime.now(UTC),
                    }
                )
                .where(MatchingRound.id == round_id)
                .run()
            )
            await record(
                actor=None,
                action="round.fail",
                entity="round",
                entity_id=round_id,
                after={"error": message[:200]},
            )


async def _run(round_id: int) -> None:
    round_row = (
        await MatchingRound.select(
            MatchingRound.kinds, MatchingRound.region._.code, MatchingRound.region._.level
        )
        .where(MatchingRound.id == round_id)
        .output(load_json=True)
        .first()
        .run()
    )
    if round_row is None:
        raise DomainError(f"No round {round_id}", status_code=404)
    item_codes = list(round_row["kinds"] or [])
    await _set_progress(round_id, 5, "snapshot")

    prefix = subtree_prefix(str(round_row["region.code"]), str(round_row["region.level"]))
    async with atomic():  # one consistent read of demand and stock
        households = await demand.unmet_demand(region_prefix=prefix, item_codes=item_codes or None)
        stock = [
            offer
            for offer in await offers.open_stock()
            if not item_codes or offer.item_code in item_codes
        ]
    problem = _problem(households, stock)
    await _set_progress(round_id, 15, "candidates")

    latest: dict[str, Any] = {}

    def on_progress(report: matching.Progress) -> None:
        latest["report"] = report

    async def publish() -> None:
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL)
            report = latest.get("report")
            if report is not None:
                share = report.done / report.total if report.total else 0.0
                await _set_progress(round_id, 20 + int(70 * share), report.stage)

    publisher = asyncio.create_task(publish())
    try:
        solution = await asyncio.to_thread(matching.solve, problem, progress=on_progress)
    finally:
        publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publisher
    await _store(round_id, households, stock, solution)


async def _store(
    round_id: int,
    households: Sequence[demand.HouseholdDemand],
    stock: Sequence[offers.StockRecord],
    solution: matching.Solution,
) -> None:
    need_ids = {
        (household.household_id, need.item_code): need.need_id
        for household in households
        for need in household.needs
    }
    stats = msgspec.to_builtins(solution.stats) | {
        "households": len(households),
        "offers": len(stock),
        "totals": msgspec.to_builtins(solution.totals),
        "unmet_units": sum(unmet.quantity for unmet in solution.unmet),
    }
    async with atomic():
        rows = [
            Proposal(
                round=round_id,
                offer=int(a.offer),
                household=int(a.household),
                need=need_ids[(int(a.household), a.kind)],
                quantity=a.quantity,
                distance_km=a.distance_km,
                reason=a.reason[:500],
            )
            for a in solution.assignments
        ]
        for start in range(0, len(rows), 500):
            await Proposal.insert(*rows[start : start + 500]).run()
        await (
            MatchingRound.update(
                {
                    MatchingRound.status: "proposed",
                    MatchingRound.progress: 100,
                    MatchingRound.phase: "done",
                    MatchingRound.stats: stats,
                    MatchingRound.finished_at: datetime.now(UTC),
                }
            )
            .where(MatchingRound.id == round_id)
            .run()
        )
        await record(
            actor=None,
            action="round.propose",
            entity="round",
            entity_id=round_id,
            after={"proposals": len(rows), "units": solution.totals.units},
        )


async def recover_interrupted() -> int:
    """Mark rounds left running by a stopped server as failed (they wrote no proposals)."""
    async with atomic():
        rows = (
            await MatchingRound.update(
                {
                    MatchingRound.status: "failed",
                    MatchingRound.error: "interrupted: the server stopped during the round",
                    MatchingRound.finished_at: datetime.now(UTC),
                }
            )
            .where(MatchingRound.status == "running")
            .returning(MatchingRound.id)
            .run()
        )
    return len(rows)


async def _round_row(actor: CurrentUser, round_id: int) -> dict[str, Any]:
    row = await (
        MatchingRound.select(
            *MatchingRound.all_columns(),
            MatchingRound.region._.code,
            MatchingRound.region._.name,
        )
        .where(MatchingRound.id == round_id)
        .output(load_json=True)
        .first()
        .run()
    )
    if row is None or not actor.covers(str(row["region.code"])):
        raise DomainError("No such round in your jurisdiction", status_code=404)
    return row


async def retry_round(*, actor: CurrentUser, round_id: int) -> int:
    """Run a failed round again (its snapshot is taken anew)."""
    async with atomic():
        row = await _round_row(actor, round_id)
        if row["status"] != "failed":
            raise DomainError(f"The round is {row['status']}; only a failed round is retried")
        await (
            MatchingRound.update(
                {
                    MatchingRound.status: "running",
                    MatchingRound.progress: 0,
                    MatchingRound.phase: "queued",
                    MatchingRound.error: "",
                    MatchingRound.finished_at: None,
                }
            )
            .where(MatchingRound.id == round_id)
            .run()
        )
        await record(actor=actor, action="round.retry", entity="round", entity_id=round_id)
    return round_id


def _round_out(row: dict[str, Any], proposals: int) -> RoundOut:
    return RoundOut(
        id=int(row["id"]),
        region_code=str(row["region.code"]),
        region_name=str(row["region.name"]),
        item_codes=list(row["kinds"] or []),
        status=str(row["status"]),
        progress=int(row["progress"]),
        phase=str(row["phase"]),
        error=str(row["error"]),
        stats=dict(row["stats"] or {}),
        created_by=int(row["created_by"]),
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        proposals=proposals,
    )


async def get_round(*, actor: CurrentUser, round_id: int) -> RoundOut:
    row = await _round_row(actor, round_id)
    count = await Proposal.count().where(Proposal.round == round_id).run()
    return _round_out(row, count)


async def list_rounds(*, actor: CurrentUser, page: Pagination) -> Page[RoundOut]:
    query = MatchingRound.select(
        *MatchingRound.all_columns(), MatchingRound.region._.code, MatchingRound.region._.name
    ).output(load_json=True)
    count = MatchingRound.count()
    if actor.role is not Role.admin:
        clause = MatchingRound.region._.code.like((actor.jurisdiction_prefix or "-") + "%")
        query = query.where(clause)
        count = count.where(clause)
    rows = (
        await query.order_by(MatchingRound.id, ascending=False)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    counts: dict[int, int] = {}
    if rows:
        for proposal in (
            await Proposal.select(Proposal.round)
            .where(Proposal.round.is_in([row["id"] for row in rows]))
            .run()
        ):
            counts[int(proposal["round"])] = counts.get(int(proposal["round"]), 0) + 1
    return Page(
        items=[_round_out(row, counts.get(int(row["id"]), 0)) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


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
    await _round_row(actor, round_id)
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
    round_row = await _round_row(actor, round_id)
    if actor.role is not Role.staff:
        raise DomainError("Only civil affairs staff approve proposals", status_code=403)
    if round_row["status"] != "proposed":
        raise DomainError(f"The round is {round_row['status']}: nothing to approve")
    edits = {edit.proposal_id: edit.quantity for edit in data.edits}
    wanted = set(data.proposal_ids) | set(edits)
    if not data.all and not wanted:
        raise DomainError(
            "Say which proposals to approve: all, proposal_ids or edits",
            status_code=400,
            field="proposal_ids",
        )
    where: Any = Proposal.round == round_id
    if not data.all:
        where = where & Proposal.id.is_in(sorted(wanted))
    rows = await Proposal.select(*_PROPOSAL_COLUMNS).where(where).order_by(Proposal.id).run()
    missing = wanted - {int(row["id"]) for row in rows}
    if missing:
        raise DomainError(
            f"Proposals {sorted(missing)} are not in this round",
            status_code=400,
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
                    Proposal.status: "approved",
                    Proposal.decided_by: actor.id,
                    Proposal.decided_at: now,
                }
            )
            .where(Proposal.id.is_in(chunk) & (Proposal.status == "proposed"))
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
            if row["status"] == "approved":
                result.already_approved.append(int(row["id"]))
            else:
                result.stale.append(
                    StaleProposal(proposal_id=int(row["id"]), reason=f"it is {row['status']}")
                )
    by_offer: dict[int, list[dict[str, Any]]] = {}
    for pid in sorted(claimed):
        by_offer.setdefault(int(by_id[pid]["offer"]), []).append(by_id[pid])
    reserved: list[dict[str, Any]] = []
    failed: list[tuple[dict[str, Any], str]] = []
    for offer_id in sorted(by_offer):
        group = by_offer[offer_id]
        try:
            async with atomic():
                total = sum(int(row["quantity"]) for row in group)
                await offers.reserve(offer_id=offer_id, quantity=total, actor=actor)
            reserved.extend(group)
        except DomainError:
            for row in group:
                try:
                    async with atomic():
                        await offers.reserve(
                            offer_id=offer_id, quantity=int(row["quantity"]), actor=actor
                        )
                    reserved.append(row)
                except DomainError as short:
                    failed.append((row, short.detail))
    counted: list[dict[str, Any]] = []
    for row in sorted(reserved, key=lambda r: (int(r["need"]), int(r["id"]))):
        try:
            async with atomic():
                await demand.allocate(need_id=int(row["need"]), quantity=int(row["quantity"]))
            counted.append(row)
        except DomainError as met:
            await offers.release(
                offer_id=int(row["offer"]),
                quantity=int(row["quantity"]),
                actor=actor,
                reason=f"proposal {row['id']} not approved: {met.detail}",
            )
            failed.append((row, met.detail))
    for row, reason in failed:
        await (
            Proposal.update({Proposal.status: "stale", Proposal.decision_reason: reason[:300]})
            .where(Proposal.id == int(row["id"]))
            .run()
        )
        result.stale.append(StaleProposal(proposal_id=int(row["id"]), reason=reason))
    counted.sort(key=lambda r: int(r["id"]))
    allocated = await deliveries.create_allocations(
        actor=actor,
        rows=[
            deliveries.AllocationRow(
                offer_id=int(row["offer"]),
                organization_id=int(row["offer.organization"]),
                household_id=int(row["household"]),
                need_id=int(row["need"]),
                quantity=int(row["quantity"]),
                distance_km=float(row["distance_km"]),
                proposal_id=int(row["id"]),
            )
            for row in counted
        ],
    )
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
            for row, made in zip(counted, allocated, strict=True)
        ],
    )
    result.approved.extend(int(row["id"]) for row in counted)
    result.delivery_ids.extend(made.delivery_id for made in allocated)


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
                        Proposal.status: "approved",
                        Proposal.quantity: quantity,
                        Proposal.decided_by: actor.id,
                        Proposal.decided_at: datetime.now(UTC),
                    }
                )
                .where((Proposal.id == proposal_id) & (Proposal.status == "proposed"))
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
                if status == "approved":
                    result.already_approved.append(proposal_id)
                else:
                    result.stale.append(
                        StaleProposal(proposal_id=proposal_id, reason=f"it is {status}")
                    )
                return
            allocated = await deliveries.allocate(
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
                    {Proposal.status: "stale", Proposal.decision_reason: refused.detail[:300]}
                )
                .where((Proposal.id == proposal_id) & (Proposal.status == "proposed"))
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
    await _round_row(actor, round_id)
    if actor.role is not Role.staff:
        raise DomainError("Only civil affairs staff reject proposals", status_code=403)
    async with atomic():
        rows = (
            await Proposal.update(
                {
                    Proposal.status: "rejected",
                    Proposal.decision_reason: reason,
                    Proposal.decided_by: actor.id,
                    Proposal.decided_at: datetime.now(UTC),
                }
            )
            .where(
                (Proposal.round == round_id)
                & Proposal.id.is_in(list(proposal_ids))
                & (Proposal.status == "proposed")
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
