"""The hand-over: the household's slip, the courier's code, a failure, a report of non-receipt.

* The household holds a one-time code (staff print it with :func:`issue_slip`; only its
  digest is stored). The courier confirms with it (:func:`confirm`): wrong codes are counted
  and the delivery locks after :data:`MAX_ATTEMPTS`; a repeated confirmation is harmless.
* A failed delivery (:func:`fail`) returns its stock (the ledger) and the need to the pool.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.deliveries.reading import ensure_reach, load_delivery
from nuanxin.deliveries.schemas import CaseOut, ConfirmOut, DeliveryOut, SlipOut
from nuanxin.deliveries.services import get_delivery
from nuanxin.deliveries.tables import Allocation, Delivery, DeliveryCase
from nuanxin.deliveries.vocabulary import AllocationStatus, CaseStatus, DeliveryStatus
from nuanxin.errors import Conflict, Forbidden, Invalid, Locked, NotFound
from nuanxin.households import demand
from nuanxin.identity import CurrentUser, Role, digest
from nuanxin.offers import stock

__all__ = (
    "CODE_DIGITS",
    "MAX_ATTEMPTS",
    "confirm",
    "fail",
    "issue_slip",
    "report_not_received",
    "staff_confirm",
)

MAX_ATTEMPTS = 5
CODE_DIGITS = 8


def _new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def _normalise(code: str) -> str:
    return "".join(ch for ch in code if ch.isdigit())


async def issue_slip(*, actor: CurrentUser, delivery_id: int) -> SlipOut:
    """A new one-time code for the household's slip (any earlier code stops working)."""
    async with atomic():
        row = await load_delivery(delivery_id)
        if actor.role is not Role.admin:
            if actor.role is not Role.staff:
                raise Forbidden("Only civil affairs staff print slips")
            ensure_reach(actor, row)
        if row["status"] != DeliveryStatus.pending:
            raise Conflict(
                f"The delivery is {row['status']}: no slip to print", message_id="no_slip_to_print"
            )
        code = _new_code()
        await (
            Delivery.update({Delivery.code_hash: digest(code), Delivery.failed_attempts: 0})
            .where(Delivery.id == delivery_id)
            .run()
        )
        await record(actor=actor, action="delivery.slip", entity="delivery", entity_id=delivery_id)
    return SlipOut(
        delivery_id=delivery_id,
        household_reference=str(row["allocation.household.reference"]),
        item_code=str(row["allocation.offer.item.code"]),
        quantity=int(row["allocation.quantity"]),
        code=code,
    )


async def _close_delivered(actor: CurrentUser, row: dict[str, Any], how: str) -> bool:
    """Close a pending delivery as delivered; False if a racing request already did.

    Two confirmations of one delivery at once both read it pending; the conditional update
    lets one of them close it, and the other answers as a repeated confirmation would.
    """
    now = datetime.now(UTC)
    delivery_id = int(row["id"])
    updated = (
        await Delivery.update(
            {
                Delivery.status: DeliveryStatus.delivered,
                Delivery.confirmed_by: actor.id,
                Delivery.confirmed_at: now,
            }
        )
        .where((Delivery.id == delivery_id) & (Delivery.status == DeliveryStatus.pending))
        .returning(Delivery.id)
        .run()
    )
    if not updated:
        current = await load_delivery(delivery_id)
        if current["status"] == DeliveryStatus.delivered:
            return False
        raise Conflict(f"The delivery was {current['status']} just now", error="delivery_closed")
    await (
        Allocation.update({Allocation.status: AllocationStatus.delivered})
        .where(Allocation.id == int(row["allocation"]))
        .run()
    )
    await stock.deliver(
        offer_id=int(row["allocation.offer"]), quantity=int(row["allocation.quantity"]), actor=actor
    )
    await record(
        actor=actor,
        action="delivery.confirm",
        entity="delivery",
        entity_id=delivery_id,
        before={"status": "pending"},
        after={"status": "delivered", "by": how},
    )
    return True


async def confirm(*, actor: CurrentUser, delivery_id: int, code: str) -> ConfirmOut:
    """The courier confirms with the household's code. Repeating it is harmless."""
    async with atomic():
        row = await load_delivery(delivery_id)
        ensure_reach(actor, row)
        if actor.role not in (Role.charity, Role.courier):
            raise Forbidden("Couriers confirm with the code; staff use staff-confirm")
        if row["status"] == DeliveryStatus.delivered:
            if secrets.compare_digest(str(row["code_hash"]), digest(_normalise(code))):
                return ConfirmOut(
                    delivery_id=delivery_id, status=DeliveryStatus.delivered, already_confirmed=True
                )
            raise Conflict("The delivery is already confirmed", error="already_delivered")
        if row["status"] == DeliveryStatus.locked:
            raise Locked(
                "Too many wrong codes: the delivery is locked; staff can print a new slip",
                error="delivery_locked",
            )
        if row["status"] != DeliveryStatus.pending:
            raise Conflict(f"The delivery is {row['status']}", error="delivery_closed")
        if secrets.compare_digest(str(row["code_hash"]), digest(_normalise(code))):
            closed = await _close_delivered(actor, row, "code")
            return ConfirmOut(
                delivery_id=delivery_id,
                status=DeliveryStatus.delivered,
                already_confirmed=not closed,
            )
        attempts = int(row["failed_attempts"]) + 1
        locked = attempts >= MAX_ATTEMPTS
        await (
            Delivery.update(
                {
                    Delivery.failed_attempts: attempts,
                    Delivery.status: DeliveryStatus.locked if locked else DeliveryStatus.pending,
                }
            )
            .where(Delivery.id == delivery_id)
            .run()
        )
        await record(
            actor=actor,
            action="delivery.wrong_code",
            entity="delivery",
            entity_id=delivery_id,
            after={"failed_attempts": attempts, "locked": locked},
        )
    left = MAX_ATTEMPTS - attempts
    if locked:
        raise Locked(
            "Wrong code: the delivery is now locked",
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


async def staff_confirm(*, actor: CurrentUser, delivery_id: int, reason: str) -> ConfirmOut:
    """Staff confirm a hand-over they witnessed (the household has no code, say)."""
    async with atomic():
        row = await load_delivery(delivery_id)
        ensure_reach(actor, row)
        if row["status"] == DeliveryStatus.delivered:
            return ConfirmOut(
                delivery_id=delivery_id, status=DeliveryStatus.delivered, already_confirmed=True
            )
        if row["status"] not in (DeliveryStatus.pending, DeliveryStatus.locked):
            raise Conflict(f"The delivery is {row['status']}", error="delivery_closed")
        if row["status"] == DeliveryStatus.locked:
            await (
                Delivery.update({Delivery.status: DeliveryStatus.pending})
                .where(Delivery.id == delivery_id)
                .run()
            )
        closed = await _close_delivered(actor, row, f"staff: {reason}")
    return ConfirmOut(
        delivery_id=delivery_id, status=DeliveryStatus.delivered, already_confirmed=not closed
    )


async def fail(*, actor: CurrentUser, delivery_id: int, reason: str) -> DeliveryOut:
    """Record a failed delivery: its stock and the household's need return to the pool."""
    async with atomic():
        row = await load_delivery(delivery_id)
        ensure_reach(actor, row)
        updated = (
            await Delivery.update(
                {Delivery.status: DeliveryStatus.failed, Delivery.failure_reason: reason}
            )
            .where(
                (Delivery.id == delivery_id)
                & Delivery.status.is_in([DeliveryStatus.pending, DeliveryStatus.locked])
            )
            .returning(Delivery.id)
            .run()
        )
        if not updated:
            raise Conflict(f"The delivery is {row['status']}", error="delivery_closed")
        quantity = int(row["allocation.quantity"])
        await (
            Allocation.update({Allocation.status: AllocationStatus.failed})
            .where(Allocation.id == int(row["allocation"]))
            .run()
        )
        await stock.release(
            offer_id=int(row["allocation.offer"]), quantity=quantity, reason=reason, actor=actor
        )
        await demand.release(need_id=int(row["allocation.need"]), quantity=quantity)
        await record(
            actor=actor,
            action="delivery.fail",
            entity="delivery",
            entity_id=delivery_id,
            before={"status": row["status"]},
            after={"status": "failed", "reason": reason},
        )
    return await get_delivery(actor=actor, delivery_id=delivery_id)


async def report_not_received(*, code: str, description: str) -> CaseOut:
    """The household reports, with its code, that the goods did not arrive."""
    normalised = _normalise(code)
    if len(normalised) != CODE_DIGITS:
        raise Invalid("The code has 8 digits", field="code", message_id="code_format")
    async with atomic():
        row = (
            await Delivery.select(
                Delivery.id,
                Delivery.allocation._.household._.id,
                Delivery.allocation._.household._.reference,
            )
            .where(Delivery.code_hash == digest(normalised))
            .first()
            .run()
        )
        if row is None:
            raise NotFound("No delivery has this code", field="code", message_id="no_such_code")
        now = datetime.now(UTC)
        case = (
            await DeliveryCase.insert(
                DeliveryCase(
                    delivery=row["id"],
                    household=row["allocation.household.id"],
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
            action="delivery.not_received",
            entity="delivery",
            entity_id=int(row["id"]),
            after={"case": case_id},
        )
    return CaseOut(
        id=case_id,
        delivery_id=int(row["id"]),
        household_reference=str(row["allocation.household.reference"]),
        description=description,
        status=CaseStatus.open,
        created_at=now,
    )
