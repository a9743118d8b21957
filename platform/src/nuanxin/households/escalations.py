"""一事一议 (case by case): a request above the usual caps, decided one level up.

Staff ask for more units of an item than the household's need allows, with a reason; the
request goes to the staff of the region one level above the requester's jurisdiction (the
province's staff for a city, the admin above a province). Their decision is recorded with
its reason and is binding: an approval raises the household's need to the requested total,
so the next matching round serves it (and an emergency allocation may draw on it).

Who sees a request: admins, staff covering the region that decides it, and staff covering the
household (:func:`nuanxin.identity.visible_to`, :func:`nuanxin.identity.jurisdiction_where`).
Only the deciding level decides (:func:`may_decide`), never the requester.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict, Forbidden, Invalid, NotFound
from nuanxin.households import demand
from nuanxin.households.schemas import EscalationIn, EscalationOut
from nuanxin.households.tables import Escalation, Need
from nuanxin.households.vocabulary import EscalationStatus
from nuanxin.identity import CurrentUser, Role, jurisdiction_where, visible_to
from nuanxin.offers import services as offers
from nuanxin.pagination import Page, Pagination
from nuanxin.regions.services import get_region_by_id

__all__ = ("decide", "list_escalations", "may_decide", "request_escalation")


_COLUMNS = (
    Escalation.id,
    Escalation.household,
    Escalation.household._.reference,
    Escalation.household._.region._.code,
    Escalation.item,
    Escalation.item._.code,
    Escalation.quantity,
    Escalation.reason,
    Escalation.status,
    Escalation.decide_at._.code,
    Escalation.decide_at._.name,
    Escalation.decision_reason,
    Escalation.created_at,
    Escalation.decided_at,
    Escalation.requested_by,
)


async def _current_quantity(household_id: int, item_id: int) -> int:
    row = (
        await Need.select(Need.quantity)
        .where((Need.household == household_id) & (Need.item == item_id))
        .first()
        .run()
    )
    return 0 if row is None else int(row["quantity"])


async def _out(row: dict[str, Any]) -> EscalationOut:
    return EscalationOut(
        id=int(row["id"]),
        household_id=int(row["household"]),
        household_reference=str(row["household.reference"]),
        item_code=str(row["item.code"]),
        quantity=int(row["quantity"]),
        current_quantity=await _current_quantity(int(row["household"]), int(row["item"])),
        reason=str(row["reason"]),
        status=EscalationStatus(row["status"]),
        decide_at_code=str(row["decide_at.code"]),
        decide_at_name=str(row["decide_at.name"]),
        decision_reason=str(row["decision_reason"]),
        created_at=row["created_at"],
        decided_at=row["decided_at"],
    )


async def request_escalation(*, actor: CurrentUser, data: EscalationIn) -> EscalationOut:
    """File a case-by-case request; it goes to the region one level up."""
    if actor.role is not Role.staff or actor.jurisdiction_id is None:
        raise Forbidden("Only civil affairs staff file case-by-case requests")
    place = await demand.household_place(household_id=data.household_id)
    if place is None or not visible_to(actor, region_codes=[place.region_code]):
        raise NotFound(
            "No such household in your jurisdiction",
            field="household_id",
            message_id="household_not_in_jurisdiction",
        )
    items = {item.code: item for item in await offers.list_items()}
    item = items.get(data.item_code)
    if item is None:
        raise Invalid(
            f"No catalogue item has the code {data.item_code!r}",
            field="item_code",
            message_id="unknown_item",
        )
    current = await _current_quantity(place.household_id, item.id)
    if data.quantity <= current:
        raise Invalid(
            f"The household's need is already {current}: a case-by-case request asks for more",
            field="quantity",
            message_id="escalation_needs_more",
            params={"current": current},
        )
    own = await get_region_by_id(actor.jurisdiction_id)
    assert own is not None
    upper = own.parent_id if own.parent_id is not None else own.id
    async with atomic():
        pending = (
            await Escalation.exists()
            .where(
                (Escalation.household == place.household_id)
                & (Escalation.item == item.id)
                & (Escalation.status == EscalationStatus.pending)
            )
            .run()
        )
        if pending:
            raise Conflict(
                "A case-by-case request for this household and item is already pending",
                error="escalation_pending",
            )
        rows = (
            await Escalation.insert(
                Escalation(
                    household=place.household_id,
                    item=item.id,
                    quantity=data.quantity,
                    reason=data.reason,
                    requested_by=actor.id,
                    decide_at=upper,
                    created_at=datetime.now(UTC),
                )
            )
            .returning(Escalation.id)
            .run()
        )
        escalation_id = int(rows[0]["id"])
        await record(
            actor=actor,
            action="escalation.request",
            entity="escalation",
            entity_id=escalation_id,
            region_code=place.region_code,
            after={"item": data.item_code, "quantity": data.quantity, "from": current},
        )
    return await _get(escalation_id)


async def _get(escalation_id: int) -> EscalationOut:
    row = await Escalation.select(*_COLUMNS).where(Escalation.id == escalation_id).first().run()
    if row is None:
        raise NotFound("No such case-by-case request")
    return await _out(row)


def may_decide(actor: CurrentUser, decide_at_code: str) -> bool:
    """Admins, and staff covering the region the request went to, decide it."""
    return visible_to(actor, region_codes=[decide_at_code])


async def decide(
    *, actor: CurrentUser, escalation_id: int, approve: bool, reason: str
) -> EscalationOut:
    """Approve or reject with a reason; an approval raises the need for the next round."""
    async with atomic():
        row = await Escalation.select(*_COLUMNS).where(Escalation.id == escalation_id).first().run()
        if row is None or not visible_to(
            actor, region_codes=[str(row["decide_at.code"]), str(row["household.region.code"])]
        ):
            raise NotFound("No such case-by-case request")
        if (
            not may_decide(actor, str(row["decide_at.code"]))
            or int(row["requested_by"]) == actor.id
        ):
            raise Forbidden(
                "Staff one level up decide this request, not the requester's level",
            )
        status = EscalationStatus.approved if approve else EscalationStatus.rejected
        if row["status"] != EscalationStatus.pending:
            if row["status"] == status:
                return await _out(row)  # the same decision again is harmless
            raise Conflict(f"The request was already {row['status']}", error="already_decided")
        await (
            Escalation.update(
                {
                    Escalation.status: status.value,
                    Escalation.decided_by: actor.id,
                    Escalation.decision_reason: reason,
                    Escalation.decided_at: datetime.now(UTC),
                }
            )
            .where(Escalation.id == escalation_id)
            .run()
        )
        if approve:
            await demand.raise_quantity(
                household_id=int(row["household"]),
                item_id=int(row["item"]),
                total=int(row["quantity"]),
                reason=f"一事一议 #{escalation_id}: {reason}",
            )
        await record(
            actor=actor,
            action=f"escalation.{'approve' if approve else 'reject'}",
            entity="escalation",
            entity_id=escalation_id,
            region_code=str(row["household.region.code"]),
            before={"status": EscalationStatus.pending.value},
            after={"status": status.value, "reason": reason},
        )
    return await _get(escalation_id)


async def list_escalations(
    *, actor: CurrentUser, page: Pagination, status: EscalationStatus | None = None
) -> Page[EscalationOut]:
    """Requests for me to decide, and those about households of my jurisdiction."""
    where: Any = None
    to_decide = jurisdiction_where(actor, Escalation.decide_at._.code)
    about_mine = jurisdiction_where(actor, Escalation.household._.region._.code)
    if to_decide is not None and about_mine is not None:
        where = to_decide | about_mine
    if status is not None:
        clause = Escalation.status == status.value
        where = clause if where is None else where & clause
    query = Escalation.select(*_COLUMNS)
    count = Escalation.count()
    if where is not None:
        query = query.where(where)
        count = count.where(where)
    rows = (
        await query.order_by(Escalation.id, ascending=False)
        .limit(page.limit)
        .offset(page.offset)
        .run()
    )
    return Page(
        items=[await _out(row) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )
