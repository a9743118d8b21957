"""Settling "not received" cases: staff record how each one ended, with a note.

A household reports with its code that the goods did not arrive
(:func:`nuanxin.deliveries.confirmation.report_not_received`); staff of its jurisdiction look
into it and resolve the case once, with an outcome and a note, audited:

* ``redelivered``: the charity brought the goods again; the need stays met.
* ``received``: the household had them after all; the need stays met.
* ``written_off``: the goods are lost; the units go back to the household's unmet need
  (the stock stays spent), so the next round or an emergency can serve it again.

A case outside one's jurisdiction is not found; a case resolved already is a conflict.
"""

from __future__ import annotations

from datetime import UTC, datetime

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.deliveries.schemas import CaseOut, CaseResolveIn
from nuanxin.deliveries.tables import DeliveryCase
from nuanxin.deliveries.vocabulary import CaseOutcome, CaseStatus
from nuanxin.errors import Conflict, Forbidden, NotFound
from nuanxin.households import demand
from nuanxin.identity import CurrentUser, Role, ensure_visible

__all__ = ("get_case", "resolve_case")


async def get_case(*, actor: CurrentUser, case_id: int) -> CaseOut:
    """One case, for staff of its household's jurisdiction (404 otherwise)."""
    row = (
        await DeliveryCase.select(
            DeliveryCase.id,
            DeliveryCase.delivery,
            DeliveryCase.delivery._.visit,
            DeliveryCase.household._.reference,
            DeliveryCase.household._.region._.code,
            DeliveryCase.description,
            DeliveryCase.status,
            DeliveryCase.created_at,
            DeliveryCase.outcome,
            DeliveryCase.resolution,
            DeliveryCase.resolved_at,
        )
        .where(DeliveryCase.id == case_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFound("No such case")
    ensure_visible(actor, what="case", region_codes=(str(row["household.region.code"]),))
    return CaseOut(
        id=int(row["id"]),
        delivery_id=int(row["delivery"]),
        visit_id=None if row["delivery.visit"] is None else int(row["delivery.visit"]),
        household_reference=str(row["household.reference"]),
        description=str(row["description"]),
        status=str(row["status"]),
        created_at=row["created_at"],
        outcome=None if row["outcome"] is None else CaseOutcome(row["outcome"]),
        resolution=str(row["resolution"]),
        resolved_at=row["resolved_at"],
    )


async def resolve_case(*, actor: CurrentUser, case_id: int, data: CaseResolveIn) -> CaseOut:
    """Close an open case with its outcome and note (once; see the module's docstring)."""
    async with atomic():
        row = (
            await DeliveryCase.select(
                DeliveryCase.id,
                DeliveryCase.delivery,
                DeliveryCase.delivery._.visit,
                DeliveryCase.description,
                DeliveryCase.status,
                DeliveryCase.created_at,
                DeliveryCase.household._.reference,
                DeliveryCase.household._.region._.code,
                DeliveryCase.delivery._.allocation._.need,
                DeliveryCase.delivery._.allocation._.quantity,
            )
            .where(DeliveryCase.id == case_id)
            .first()
            .run()
        )
        if row is None:
            raise NotFound("No such case")
        region_code = str(row["household.region.code"])
        ensure_visible(actor, what="case", region_codes=(region_code,))
        if actor.role is not Role.staff:
            raise Forbidden("Only civil affairs staff resolve cases")
        if row["status"] != CaseStatus.open:
            raise Conflict("The case is resolved already", error="case_resolved", field="status")
        now = datetime.now(UTC)
        closed = (
            await DeliveryCase.update(
                {
                    DeliveryCase.status: CaseStatus.resolved,
                    DeliveryCase.outcome: data.outcome,
                    DeliveryCase.resolution: data.note,
                    DeliveryCase.resolved_at: now,
                }
            )
            .where((DeliveryCase.id == case_id) & (DeliveryCase.status == CaseStatus.open))
            .returning(DeliveryCase.id)
            .run()
        )
        if not closed:
            raise Conflict("The case is resolved already", error="case_resolved", field="status")
        if data.outcome is CaseOutcome.written_off:
            await demand.release(
                need_id=int(row["delivery.allocation.need"]),
                quantity=int(row["delivery.allocation.quantity"]),
            )
        await record(
            actor=actor,
            action="delivery_case.resolve",
            entity="delivery_case",
            entity_id=case_id,
            region_code=region_code,
            before={"status": CaseStatus.open.value},
            after={
                "status": CaseStatus.resolved.value,
                "outcome": data.outcome.value,
                "note": data.note,
            },
        )
    return CaseOut(
        id=case_id,
        delivery_id=int(row["delivery"]),
        visit_id=None if row["delivery.visit"] is None else int(row["delivery.visit"]),
        household_reference=str(row["household.reference"]),
        description=str(row["description"]),
        status=CaseStatus.resolved,
        created_at=row["created_at"],
        outcome=data.outcome,
        resolution=data.note,
        resolved_at=now,
    )
