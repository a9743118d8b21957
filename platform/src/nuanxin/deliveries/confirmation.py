"""The hand-over of a household visit: the slip, the courier's code, a failure, "not received".

* One code per visit covers all its items. Staff print it with :func:`issue_slip` (or many at
  once with :func:`issue_slips`); only its keyed hash (HMAC with the secret key) is stored.
  Printing again is a reprint (“补打”): a new code, the old one dead, the wrong-code count reset,
  a locked visit open again; every print is audited.
* The courier confirms with the code (:func:`confirm`): a wrong code is audited and counted in
  one statement (``failed_attempts = failed_attempts + 1 ... RETURNING``), so concurrent wrong
  codes are each counted and the visit locks at exactly :data:`MAX_ATTEMPTS`; a repeated
  confirmation is harmless. Staff may confirm a hand-over they witnessed (:func:`staff_confirm`).
* A failed visit (:func:`fail`) or item (:func:`fail_delivery`) returns its stock (the ledger)
  and the need to the pool.
* A visit bringing coal or a stove takes the courier's safety checklist with the code, and a
  confirmed visit schedules its heating-safety follow-ups in the same transaction
  (:mod:`nuanxin.safety.services`).
* Locks are taken visit first, then its deliveries, in every path.
* A code typed at the door without a network, replayed later, and any confirmation sent with
  an ``Idempotency-Key``: :mod:`nuanxin.deliveries.offline`, over the same locks and closing.
* The per-delivery functions (``*_delivery``) act on the delivery's visit, for the API's
  per-delivery routes.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.deliveries.reading import ensure_reach, load_delivery
from nuanxin.deliveries.schemas import CaseOut, ConfirmOut, SlipOut, VisitItemOut
from nuanxin.deliveries.tables import Allocation, Delivery, DeliveryCase, Visit
from nuanxin.deliveries.visits import ensure_visit_reach, load_visit, visit_items, visits_by_id
from nuanxin.deliveries.vocabulary import (
    AllocationStatus,
    CaseStatus,
    DeliveryStatus,
    VisitStatus,
)
from nuanxin.errors import Conflict, Forbidden, Invalid, Locked, NotFound
from nuanxin.households import demand
from nuanxin.identity import CurrentUser, Role, keyed_hash
from nuanxin.jobs.queue import defer
from nuanxin.jobs.vocabulary import TaskName
from nuanxin.offers import stock
from nuanxin.safety import services as safety
from nuanxin.safety.schemas import SafetyChecklistIn

__all__ = (
    "CODE_DIGITS",
    "MAX_ATTEMPTS",
    "close_delivered",
    "code_hash",
    "code_matches",
    "confirm",
    "fail",
    "fail_delivery",
    "issue_slip",
    "issue_slips",
    "lock_visit",
    "report_not_received",
    "staff_confirm",
    "visit_of",
)

MAX_ATTEMPTS = 5
CODE_DIGITS = 8
#: Fresh codes tried for a slip before giving up: one already taken is a chance in 10^8.
_CODE_TRIES = 10
OPEN = (DeliveryStatus.pending, DeliveryStatus.locked)


def _new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def _normalise(code: str) -> str:
    return "".join(ch for ch in code if ch in "0123456789")


def code_hash(secret_key: str, code: str) -> str:
    """How a visit's code is stored: keyed, so a stolen table cannot be searched for codes."""
    return keyed_hash(secret_key, "visit-code:" + _normalise(code))


def _matches(row: dict[str, Any], secret_key: str, code: str) -> bool:
    stored = row["code_hash"]
    return stored is not None and secrets.compare_digest(str(stored), code_hash(secret_key, code))


async def visit_of(delivery_id: int) -> int:
    """The visit a delivery belongs to (NotFound for an unknown delivery)."""
    row = await Delivery.select(Delivery.visit).where(Delivery.id == delivery_id).first().run()
    if row is None or row["visit"] is None:
        raise NotFound("No such delivery")
    return int(row["visit"])


async def _lock(visit_id: int) -> None:
    """Take the visit's row lock first (a no-op write), so that every path locks in one order."""
    await (
        Visit.update({Visit.failed_attempts: Visit.failed_attempts + 0})
        .where(Visit.id == visit_id)
        .run()
    )


#: For the offline path (:mod:`nuanxin.deliveries.offline`), which keeps these same rules.
lock_visit = _lock
code_matches = _matches


def _refuse_non_staff(
    actor: CurrentUser, detail: str = "Only civil affairs staff print slips"
) -> None:
    if actor.role not in (Role.admin, Role.staff):
        raise Forbidden(detail)


async def _print(actor: CurrentUser, secret_key: str, visit_id: int) -> str:
    """A new code for the visit (its slip reads the rest). Inside the caller's transaction."""
    row = await load_visit(visit_id)
    ensure_visit_reach(actor, row)
    if row["status"] not in (VisitStatus.pending, VisitStatus.locked):
        raise Conflict(
            f"The visit is {row['status']}: no slip to print",
            error="visit_closed",
            message_id="no_slip_to_print",
        )
    await _lock(visit_id)
    for _ in range(_CODE_TRIES):
        code = _new_code()
        digest = code_hash(secret_key, code)
        taken = await Visit.exists().where(Visit.code_hash == digest).run()
        if not taken:
            break
    else:  # pragma: no cover - ten codes in a row already taken
        raise Conflict("No free code: print again")  # pragma: no mutate
    printed = int(row["printed_count"]) + 1
    await (
        Visit.update(
            {
                Visit.code_hash: digest,
                Visit.failed_attempts: 0,
                Visit.status: VisitStatus.pending,
                Visit.printed_count: printed,
                Visit.printed_at: datetime.now(UTC),
            }
        )
        .where(Visit.id == visit_id)
        .run()
    )
    if row["status"] == VisitStatus.locked:
        await (
            Delivery.update({Delivery.status: DeliveryStatus.pending})
            .where((Delivery.visit == visit_id) & (Delivery.status == DeliveryStatus.locked))
            .run()
        )
    await record(
        actor=actor,
        action="visit.slip",
        entity="visit",
        entity_id=visit_id,
        before={"status": str(row["status"]), "failed_attempts": int(row["failed_attempts"])},
        after={"printed_count": printed, "reprint": printed > 1, "old_code": "void"},
    )
    return code


def _slip_out(
    *, visit_id: int, row: dict[str, Any], items: list[VisitItemOut], code: str, delivery_id: int
) -> SlipOut:
    """The slip names the item asked for, or the visit's first (a visit starts with one)."""
    line = next((i for i in items if i.delivery_id == delivery_id), items[0])
    return SlipOut(
        visit_id=visit_id,
        delivery_id=line.delivery_id,
        household_reference=str(row["household.reference"]),
        item_code=line.item_code,
        quantity=line.quantity,
        items=items,
        code=code,
        reprint=int(row["printed_count"]) > 1,
        printed_count=int(row["printed_count"]),
    )


async def issue_slip(
    *, actor: CurrentUser, secret_key: str, visit_id: int, delivery_id: int | None = None
) -> SlipOut:
    """A new one-time code for the visit's slip (the earlier code stops working).

    A locked visit may be printed again: the new code opens it and the count starts over.
    """
    _refuse_non_staff(actor)
    async with atomic():
        code = await _print(actor, secret_key, visit_id)
        row = await load_visit(visit_id)
        items = (await visit_items([visit_id]))[visit_id]
    return _slip_out(
        visit_id=visit_id, row=row, items=items, code=code, delivery_id=delivery_id or 0
    )


async def issue_slips(
    *, actor: CurrentUser, secret_key: str, visit_ids: list[int]
) -> list[SlipOut]:
    """New codes for many visits at once (a printed batch), in the order asked.

    All or nothing: a visit that is closed or out of reach refuses the whole batch.
    """
    _refuse_non_staff(actor)
    slips: list[SlipOut] = []
    async with atomic():
        ids = list(dict.fromkeys(visit_ids))
        await visits_by_id(actor=actor, visit_ids=ids)  # unknown or foreign: named visit_ids
        codes = {visit_id: await _print(actor, secret_key, visit_id) for visit_id in ids}
        items = await visit_items(ids)
        for visit_id in ids:
            row = await load_visit(visit_id)
            slips.append(
                _slip_out(
                    visit_id=visit_id,
                    row=row,
                    items=items[visit_id],
                    code=codes[visit_id],
                    delivery_id=0,
                )
            )
    return slips


async def _close_delivered(
    actor: CurrentUser, row: dict[str, Any], how: str, *, at: datetime | None = None
) -> bool:
    """Close an open visit as delivered with all its open items; False if a racing request did.

    Two confirmations at once both read the visit open; the conditional update lets one of
    them close it, and the other answers as a repeated confirmation would. ``at``: when the
    hand-over happened, if earlier than now (a code typed at the door without a network).
    """
    now = min(at, datetime.now(UTC)) if at is not None else datetime.now(UTC)
    visit_id = int(row["id"])
    updated = (
        await Visit.update(
            {
                Visit.status: VisitStatus.delivered,
                Visit.confirmed_by: actor.id,
                Visit.confirmed_at: now,
            }
        )
        .where(
            (Visit.id == visit_id) & Visit.status.is_in([VisitStatus.pending, VisitStatus.locked])
        )
        .returning(Visit.id)
        .run()
    )
    if not updated:
        current = await load_visit(visit_id)
        if current["status"] == VisitStatus.delivered:
            return False
        raise Conflict(
            f"The visit was {current['status']} just now",
            error="delivery_closed",
            message_id="delivery_closed",
        )
    closed = (
        await Delivery.update(
            {
                Delivery.status: DeliveryStatus.delivered,
                Delivery.confirmed_by: actor.id,
                Delivery.confirmed_at: now,
            }
        )
        .where((Delivery.visit == visit_id) & Delivery.status.is_in(list(OPEN)))
        .returning(Delivery.id, Delivery.allocation)
        .run()
    )
    allocation_ids = sorted(int(r["allocation"]) for r in closed)
    if allocation_ids:
        await (
            Allocation.update({Allocation.status: AllocationStatus.delivered})
            .where(Allocation.id.is_in(allocation_ids))
            .run()
        )
        delivered = (
            await Allocation.select(Allocation.offer, Allocation.quantity)
            .where(Allocation.id.is_in(allocation_ids))
            .order_by(Allocation.offer)
            .run()
        )
        await stock.deliver_each(
            given=[(int(a["offer"]), int(a["quantity"])) for a in delivered], actor=actor
        )
    await record(
        actor=actor,
        action="visit.confirm",
        entity="visit",
        entity_id=visit_id,
        before={"status": str(row["status"])},
        after={
            "status": "delivered",
            "by": how,
            "deliveries": sorted(int(r["id"]) for r in closed),
        },
    )
    await defer(TaskName.visit_delivered, visit_id=visit_id)  # donors: where their gifts went
    return True


async def _open_item_codes(visit_id: int) -> list[str]:
    """The item codes of the visit's items still to hand over."""
    return [
        line.item_code for line in (await visit_items([visit_id]))[visit_id] if line.status in OPEN
    ]


async def _after_delivery(
    actor: CurrentUser,
    row: dict[str, Any],
    item_codes: list[str],
    checklist: SafetyChecklistIn | None,
    policy: safety.SafetyPolicy | None,
    at: datetime | None = None,
) -> None:
    """The checklist kept, the heating-safety follow-ups scheduled (same transaction).

    ``at``: when the goods were handed over (an offline confirmation's time at the door);
    the follow-ups' days count from it. Now, by default.
    """
    await safety.after_delivery(
        actor=actor,
        visit_id=int(row["id"]),
        household_id=int(row["household"]),
        region_code=str(row["household.region.code"]),
        item_codes=item_codes,
        checklist=checklist,
        policy=policy or safety.SafetyPolicy(),
        delivered_at=at or datetime.now(UTC),
    )


close_delivered = _close_delivered
open_item_codes = _open_item_codes
after_delivery = _after_delivery


def _locked() -> Locked:
    return Locked(
        "Too many wrong codes: the visit is locked; call the civil affairs staff, "
        "who can print a new slip or confirm the delivery themselves",
        error="delivery_locked",
        field="code",
        message_id="delivery_locked",
    )


async def confirm(
    *,
    actor: CurrentUser,
    secret_key: str,
    visit_id: int,
    code: str,
    delivery_id: int | None = None,
    checklist: SafetyChecklistIn | None = None,
    policy: safety.SafetyPolicy | None = None,
) -> ConfirmOut:
    """The courier confirms the visit with the household's code. Repeating it is harmless.

    ``checklist``: the heating-safety answers, for a visit bringing coal or a stove (refused
    for another visit, before the code is checked).
    """

    def answer(status: str, already: bool) -> ConfirmOut:
        return ConfirmOut(
            delivery_id=delivery_id or 0,
            visit_id=visit_id,
            status=status,
            already_confirmed=already,
        )

    def refuse_or_repeat(row: dict[str, Any]) -> ConfirmOut | None:
        ensure_visit_reach(actor, row)
        if actor.role not in (Role.charity, Role.courier):
            raise Forbidden("Couriers confirm with the code; staff use staff-confirm")
        if row["status"] != VisitStatus.delivered:
            return None
        if _matches(row, secret_key, code):
            return answer(VisitStatus.delivered, True)
        raise Conflict("The delivery is already confirmed", error="already_delivered")

    # A visit already delivered stays delivered: its repeat (a courier's retry, a queue sent
    # again) is answered from one read, without a transaction (the read inside one would
    # take no lock either).
    repeated = refuse_or_repeat(await load_visit(visit_id))
    if repeated is not None:
        return repeated
    async with atomic():
        row = await load_visit(visit_id)
        repeated = refuse_or_repeat(row)
        if repeated is not None:
            return repeated
        if row["status"] == VisitStatus.locked:
            raise _locked()
        if row["status"] != VisitStatus.pending:
            raise Conflict(f"The delivery is {row['status']}", error="delivery_closed")
        item_codes = await _open_item_codes(visit_id)
        await safety.asks_checklist(item_codes=item_codes, checklist=checklist)
        if _matches(row, secret_key, code):
            closed = await _close_delivered(actor, row, "code")
            if closed:
                await _after_delivery(actor, row, item_codes, checklist, policy)
            return answer(VisitStatus.delivered, not closed)
        counted = await Visit.raw(
            "UPDATE visit SET failed_attempts = failed_attempts + 1, "
            "status = CASE WHEN failed_attempts + 1 >= {} THEN {} ELSE status END "
            "WHERE id = {} AND status = {} RETURNING failed_attempts, status",
            MAX_ATTEMPTS,
            VisitStatus.locked.value,
            visit_id,
            VisitStatus.pending.value,
        ).run()
        if not counted:
            current = await load_visit(visit_id)
            if current["status"] == VisitStatus.locked:
                raise _locked()
            raise Conflict(
                f"The delivery was {current['status']} just now", error="delivery_closed"
            )
        attempts = int(counted[0]["failed_attempts"])
        locked = counted[0]["status"] == VisitStatus.locked
        if locked:
            await (
                Delivery.update({Delivery.status: DeliveryStatus.locked})
                .where((Delivery.visit == visit_id) & (Delivery.status == DeliveryStatus.pending))
                .run()
            )
        await record(
            actor=actor,
            action="visit.wrong_code",
            entity="visit",
            entity_id=visit_id,
            after={"failed_attempts": attempts, "locked": locked},
        )
    left = MAX_ATTEMPTS - attempts
    if locked:
        raise Locked(
            "Wrong code: the visit is now locked; call the civil affairs staff, "
            "who can print a new slip",
            error="delivery_locked",
            field="code",
            message_id="delivery_locked",
        )
    raise Invalid(
        f"Wrong code: {left} attempts left",
        error="wrong_code",
        field="code",
        message_id="wrong_code",
        params={"left": left},
    )


async def staff_confirm(
    *,
    actor: CurrentUser,
    visit_id: int,
    reason: str,
    delivery_id: int | None = None,
    policy: safety.SafetyPolicy | None = None,
) -> ConfirmOut:
    """Staff confirm a hand-over they witnessed (the household has no code, say).

    Coal or a stove confirmed so has no checklist: a door-check follow-up is scheduled.
    """
    async with atomic():
        row = await load_visit(visit_id)
        ensure_visit_reach(actor, row)
        _refuse_non_staff(actor, "Only civil affairs staff confirm a hand-over on their word")
        if row["status"] == VisitStatus.delivered:
            closed = False
        elif row["status"] not in (VisitStatus.pending, VisitStatus.locked):
            raise Conflict(f"The delivery is {row['status']}", error="delivery_closed")
        else:
            item_codes = await _open_item_codes(visit_id)
            closed = await _close_delivered(actor, row, f"staff: {reason}")
            if closed:
                await _after_delivery(actor, row, item_codes, None, policy)
    return ConfirmOut(
        delivery_id=delivery_id or 0,
        visit_id=visit_id,
        status=VisitStatus.delivered,
        already_confirmed=not closed,
    )


async def _fail_items(
    actor: CurrentUser, visit_id: int, reason: str, delivery_ids: list[int] | None
) -> list[int]:
    """Fail these open items of the visit (all when None); their stock and needs return."""
    where = (Delivery.visit == visit_id) & Delivery.status.is_in(list(OPEN))
    if delivery_ids is not None:
        where = where & Delivery.id.is_in(delivery_ids)
    failed = (
        await Delivery.update(
            {Delivery.status: DeliveryStatus.failed, Delivery.failure_reason: reason}
        )
        .where(where)
        .returning(Delivery.id, Delivery.allocation)
        .run()
    )
    allocation_ids = sorted(int(r["allocation"]) for r in failed)
    if not allocation_ids:
        return []
    await (
        Allocation.update({Allocation.status: AllocationStatus.failed})
        .where(Allocation.id.is_in(allocation_ids))
        .run()
    )
    for allocation in (
        await Allocation.select(Allocation.offer, Allocation.need, Allocation.quantity)
        .where(Allocation.id.is_in(allocation_ids))
        .order_by(Allocation.offer)
        .run()
    ):
        quantity = int(allocation["quantity"])
        await stock.release(
            offer_id=int(allocation["offer"]), quantity=quantity, reason=reason, actor=actor
        )
        await demand.release(need_id=int(allocation["need"]), quantity=quantity)
    left = await Delivery.count().where(
        (Delivery.visit == visit_id) & Delivery.status.is_in(list(OPEN))
    )
    if not left:
        await (
            Visit.update({Visit.status: VisitStatus.failed})
            .where(
                (Visit.id == visit_id)
                & Visit.status.is_in([VisitStatus.pending, VisitStatus.locked])
            )
            .run()
        )
    return sorted(int(r["id"]) for r in failed)


async def fail(*, actor: CurrentUser, visit_id: int, reason: str) -> list[int]:
    """Record a failed visit: every open item's stock and need return to the pool."""
    async with atomic():
        row = await load_visit(visit_id)
        ensure_visit_reach(actor, row)
        await _lock(visit_id)
        failed = await _fail_items(actor, visit_id, reason, None)
        if not failed:
            raise Conflict(f"The visit is {row['status']}", error="delivery_closed")
        await record(
            actor=actor,
            action="visit.fail",
            entity="visit",
            entity_id=visit_id,
            before={"status": str(row["status"])},
            after={"status": "failed", "reason": reason, "deliveries": failed},
        )
    return failed


async def fail_delivery(*, actor: CurrentUser, delivery_id: int, reason: str) -> None:
    """Record one failed item of a visit (the stove does not fit, say); the rest stay open."""
    async with atomic():
        row = await load_delivery(delivery_id)
        ensure_reach(actor, row)
        visit_id = int(row["visit"])
        await _lock(visit_id)
        if not await _fail_items(actor, visit_id, reason, [delivery_id]):
            current = await load_delivery(delivery_id)
            raise Conflict(f"The delivery is {current['status']}", error="delivery_closed")
        await record(
            actor=actor,
            action="delivery.fail",
            entity="delivery",
            entity_id=delivery_id,
            before={"status": str(row["status"])},
            after={"status": "failed", "reason": reason, "visit": visit_id},
        )


async def report_not_received(*, secret_key: str, code: str, description: str) -> CaseOut:
    """The household reports, with its code, that the goods did not arrive."""
    normalised = _normalise(code)
    if len(normalised) != CODE_DIGITS:
        raise Invalid("The code has 8 digits", field="code", message_id="code_format")
    async with atomic():
        visit = (
            await Visit.select(Visit.id, Visit.household, Visit.household._.reference)
            .where(Visit.code_hash == code_hash(secret_key, normalised))
            .first()
            .run()
        )
        if visit is None:
            raise NotFound("No delivery has this code", field="code", message_id="no_such_code")
        first = (
            await Delivery.select(Delivery.id)
            .where(Delivery.visit == visit["id"])
            .order_by(Delivery.id)
            .first()
            .run()
        )
        if first is None:  # pragma: no cover - a visit is made with its first delivery
            raise NotFound("No delivery has this code", field="code")
        now = datetime.now(UTC)
        case = (
            await DeliveryCase.insert(
                DeliveryCase(
                    delivery=first["id"],
                    household=visit["household"],
                    description=description,
                    created_at=now,
                )
            )
            .returning(DeliveryCase.id)
            .run()
        )
        case_id = int(case[0]["id"])
        await record(
            actor=None,
            actor_label="household",
            action="visit.not_received",
            entity="visit",
            entity_id=int(visit["id"]),
            after={"case": case_id},
        )
    return CaseOut(
        id=case_id,
        delivery_id=int(first["id"]),
        visit_id=int(visit["id"]),
        household_reference=str(visit["household.reference"]),
        description=description,
        status=CaseStatus.open,
        created_at=now,
    )
