"""一事一议 (case by case): a request above the usual caps, decided one level up.

Staff ask for more units of an item than the household's need allows, with a reason; the
request goes to the staff of the region one level above the requester's jurisdiction (the
province's staff for a city, the admin above a province). Their decision is recorded with
its reason and is binding: an approval raises the household's need to the requested total,
so the next matching round serves it (and an emergency allocation may draw on it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict, Forbidden, Invalid, NotFound
from nuanxin.guards import current_user, staff_and_admin
from nuanxin.households import demand
from nuanxin.households.tables import Escalation, Need
from nuanxin.identity import CurrentUser, Role
from nuanxin.offers import services as offers
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.regions.services import get_region_by_id
from nuanxin.responses import error_responses

__all__ = ("EscalationController", "decide", "list_escalations", "request_escalation")

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class EscalationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Ask for ``quantity`` units in all of ``item_code`` for the household, and say why."""

    household_id: int
    item_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    reason: Reason


class DecisionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    approve: bool
    reason: Reason


class EscalationOut(msgspec.Struct, kw_only=True):
    id: int
    household_id: int
    household_reference: str
    item_code: str
    quantity: int
    current_quantity: int
    reason: str
    status: str
    decide_at_code: str
    decide_at_name: str
    decision_reason: str
    created_at: datetime
    decided_at: datetime | None


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
        status=str(row["status"]),
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
    if place is None or not actor.covers(place.region_code):
        raise NotFound("No such household in your jurisdiction", field="household_id")
    items = {item.code: item for item in await offers.list_items()}
    item = items.get(data.item_code)
    if item is None:
        raise Invalid(f"No catalogue item has the code {data.item_code!r}", field="item_code")
    current = await _current_quantity(place.household_id, item.id)
    if data.quantity <= current:
        raise Invalid(
            f"The household's need is already {current}: a case-by-case request asks for more",
            field="quantity",
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
                & (Escalation.status == "pending")
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


def _may_decide(actor: CurrentUser, decide_at_code: str) -> bool:
    return actor.role is Role.admin or (actor.role is Role.staff and actor.covers(decide_at_code))


async def decide(
    *, actor: CurrentUser, escalation_id: int, approve: bool, reason: str
) -> EscalationOut:
    """Approve or reject with a reason; an approval raises the need for the next round."""
    async with atomic():
        row = await Escalation.select(*_COLUMNS).where(Escalation.id == escalation_id).first().run()
        if row is None or not (
            _may_decide(actor, str(row["decide_at.code"]))
            or actor.covers(str(row["household.region.code"]))
        ):
            raise NotFound("No such case-by-case request")
        if (
            not _may_decide(actor, str(row["decide_at.code"]))
            or int(row["requested_by"]) == actor.id
        ):
            raise Forbidden(
                "Staff one level up decide this request, not the requester's level",
            )
        if row["status"] != "pending":
            if row["status"] == ("approved" if approve else "rejected"):
                return await _out(row)  # the same decision again is harmless
            raise Conflict(f"The request was already {row['status']}", error="already_decided")
        status: Literal["approved", "rejected"] = "approved" if approve else "rejected"
        await (
            Escalation.update(
                {
                    Escalation.status: status,
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
            before={"status": "pending"},
            after={"status": status, "reason": reason},
        )
    return await _get(escalation_id)


async def list_escalations(
    *, actor: CurrentUser, page: Pagination, status: str | None = None
) -> Page[EscalationOut]:
    """Requests for me to decide, and those about households of my jurisdiction."""
    where: Any = None
    if actor.role is not Role.admin:
        prefix = (actor.jurisdiction_prefix or "-") + "%"
        where = Escalation.decide_at._.code.like(
            prefix
        ) | Escalation.household._.region._.code.like(prefix)
    if status is not None:
        clause = Escalation.status == status
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


ERRORS = error_responses(400, 401, 403, 404, 409)


class EscalationController(Controller):
    """一事一议: requests above the usual caps, decided one level up."""

    path = "/api/escalations"
    tags = ("households",)
    guards = [staff_and_admin]  # noqa: RUF012
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @post(
        operation_id="RequestEscalation",
        status_code=HTTP_201_CREATED,
        responses=ERRORS,
        summary="Ask the level above for more than the usual cap, with a reason",
    )
    async def request_one(
        self, request: Request[Any, Any, Any], data: JSONBody[EscalationIn]
    ) -> EscalationOut:
        return await request_escalation(actor=current_user(request), data=data)

    @get(operation_id="ListEscalations", responses=ERRORS, summary="Case-by-case requests")
    async def list_all(
        self,
        request: Request[Any, Any, Any],
        page: NamedDependency[Pagination],
        status: Annotated[
            str | None, QueryParameter(pattern=r"^(pending|approved|rejected)$", required=False)
        ] = None,
    ) -> Page[EscalationOut]:
        return await list_escalations(actor=current_user(request), page=page, status=status)

    @post(
        "/{escalation_id:int}/decide",
        operation_id="DecideEscalation",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Approve (binding on the next round) or reject, with a reason",
    )
    async def decide_one(
        self,
        request: Request[Any, Any, Any],
        escalation_id: FromPath[int],
        data: JSONBody[DecisionIn],
    ) -> EscalationOut:
        return await decide(
            actor=current_user(request),
            escalation_id=escalation_id,
            approve=data.approve,
            reason=data.reason,
        )
