"""Confirmations from the courier's phone, which may have waited there for a network, and the
staff queue for the ones that could not close their visit.

* **Once per key** (:func:`confirm_once`): a confirmation sent with an ``Idempotency-Key`` (a
  UUID the phone made when the code was typed) is claimed in ``confirmation_key`` (a unique
  key) in the same transaction that acts on it, and the answer, a confirmation or a refusal,
  is stored with it. The same key again, however often and however concurrently, changes
  nothing and answers what the first did: a concurrent twin waits on the unique index until
  the first commits, then reads its answer. A key reused for another visit, code or account
  is refused (409).
* **Offline** (``offline: true``, which needs a key): the code was typed at the door with no
  network, so the courier could not be told it was wrong. A right code closes the visit at
  the time at the door. A wrong one is *not* counted toward the lock (five wrong codes typed
  online lock a visit); it goes to the staff review queue instead (:class:`OfflineReview`),
  and so does any offline code for a locked visit or for a visit that already has an open
  review: offline codes never get past a lock, nor try again past a wrong one, without staff.
* **Position**: shared with the courier's consent, kept with the key; when it came with the
  confirmation that closed the household's first visit, it is offered to staff as the
  household's point (:func:`positions.offer_position`), never applied by itself.
* **Review** (:func:`list_reviews`, :func:`resolve_review`): staff of the household's
  jurisdiction settle each held confirmation once: ``delivered`` (they checked with the
  household; the visit is confirmed, at the time at the door) or ``dismissed`` (the visit
  stays as it is).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.deliveries import confirmation, positions
from nuanxin.deliveries.schemas import ConfirmIn, ConfirmOut, OfflineReviewOut, ReviewResolveIn
from nuanxin.deliveries.tables import ConfirmationKey, OfflineReview
from nuanxin.deliveries.visits import ensure_visit_reach, load_visit
from nuanxin.deliveries.vocabulary import ReviewReason, ReviewStatus, VisitStatus
from nuanxin.errors import Conflict, DomainError, Forbidden, Invalid, Locked, NotFound
from nuanxin.identity import CurrentUser, Role, ensure_visible, jurisdiction_where, keyed_hash
from nuanxin.pagination import Page, Pagination
from nuanxin.safety import services as safety

__all__ = (
    "IDEMPOTENCY_HEADER",
    "confirm_once",
    "get_review",
    "list_reviews",
    "resolve_review",
)

IDEMPOTENCY_HEADER = "Idempotency-Key"

#: The refusals an answer may store, by name (what a replay raises again).
_REFUSALS: dict[str, type[DomainError]] = {
    kind.__name__: kind for kind in (Invalid, Conflict, Locked, Forbidden, NotFound)
}


def _key(value: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise Invalid(
            "The Idempotency-Key header must be a UUID",
            field=IDEMPOTENCY_HEADER,
            message_id="idempotency_key_format",
        ) from None


def _stored(exc: DomainError) -> dict[str, Any]:
    return {
        "refused": {
            "kind": type(exc).__name__,
            "detail": exc.detail,
            "error": exc.error,
            "field": exc.field,
            "message_id": exc.message_id,
            "params": dict(exc.params),
        }
    }


def _replayed(answer: dict[str, Any]) -> ConfirmOut:
    """The stored answer again: the confirmation, or the refusal raised once more."""
    refused = answer.get("refused")
    if refused is None:
        return msgspec.convert(answer["ok"], ConfirmOut)
    kind = _REFUSALS.get(str(refused["kind"]), Conflict)
    raise kind(
        str(refused["detail"]),
        error=refused["error"],
        field=refused["field"],
        message_id=refused["message_id"],
        params=refused["params"],
    )


def _fingerprint(secret_key: str, actor: CurrentUser, visit_id: int, data: ConfirmIn) -> str:
    code = "".join(ch for ch in data.code if ch.isdigit()) or data.code
    return keyed_hash(
        secret_key, f"confirm:{actor.id}:{visit_id}:{int(data.offline)}:{code.strip()}"
    )


async def confirm_once(
    *,
    actor: CurrentUser,
    secret_key: str,
    visit_id: int,
    data: ConfirmIn,
    key: str | None,
    delivery_id: int | None = None,
    policy: safety.SafetyPolicy | None = None,
) -> ConfirmOut:
    """Confirm the visit with the household's code, at most once per ``key``.

    Without a key this is :func:`confirmation.confirm` (an offline confirmation, a time at
    the door or a position need one).
    """
    if key is None:
        if data.offline or data.at_door is not None or data.position is not None:
            raise Invalid(
                "An offline confirmation needs an Idempotency-Key header",
                field=IDEMPOTENCY_HEADER,
                message_id="idempotency_key_required",
            )
        return await confirmation.confirm(
            actor=actor,
            secret_key=secret_key,
            visit_id=visit_id,
            code=data.code,
            delivery_id=delivery_id,
            checklist=data.safety,
            policy=policy,
        )
    key = _key(key)
    row = await load_visit(visit_id)  # refusals that store nothing and change nothing
    ensure_visit_reach(actor, row)
    if actor.role not in (Role.charity, Role.courier):
        raise Forbidden("Couriers confirm with the code; staff use staff-confirm")
    fingerprint = _fingerprint(secret_key, actor, visit_id, data)
    now = datetime.now(UTC)
    at_door = min(data.at_door or now, now)
    position = data.position
    async with atomic():
        claimed = (
            await ConfirmationKey.insert(
                ConfirmationKey(
                    key=key,
                    user=actor.id,
                    visit=visit_id,
                    fingerprint=fingerprint,
                    offline=data.offline,
                    at_door=at_door,
                    lat=position.lat if position else None,
                    lon=position.lon if position else None,
                    accuracy_m=position.accuracy_m if position else None,
                    answer={},
                    created_at=now,
                )
            )
            .on_conflict(target=ConfirmationKey.key, action="DO NOTHING")
            .returning(ConfirmationKey.id)
            .run()
        )
        if claimed:
            key_id = int(claimed[0]["id"])
            answer: dict[str, Any]
            try:
                if data.offline:
                    done = await _offline(
                        actor, secret_key, visit_id, key_id, data, at_door, policy
                    )
                else:
                    done = await confirmation.confirm(
                        actor=actor,
                        secret_key=secret_key,
                        visit_id=visit_id,
                        code=data.code,
                        checklist=data.safety,
                        policy=policy,
                    )
                answer = {"ok": msgspec.to_builtins(done)}
                closed = done.status == VisitStatus.delivered and not done.already_confirmed
                if position is not None and closed:  # shared with consent: staff may accept it
                    await positions.offer_position(
                        actor=actor,
                        visit_id=visit_id,
                        lat=position.lat,
                        lon=position.lon,
                        accuracy_m=position.accuracy_m,
                    )
            except DomainError as exc:  # stored: the same key answers the same refusal
                answer = _stored(exc)
            await (
                ConfirmationKey.update({ConfirmationKey.answer: answer})
                .where(ConfirmationKey.id == key_id)
                .run()
            )
        else:
            earlier = (
                await ConfirmationKey.select(
                    ConfirmationKey.user,
                    ConfirmationKey.visit,
                    ConfirmationKey.fingerprint,
                    ConfirmationKey.answer,
                )
                .where(ConfirmationKey.key == key)
                .output(load_json=True)
                .first()
                .run()
            )
            if earlier is None:  # pragma: no cover - a key is never deleted while in use
                raise Conflict("The Idempotency-Key was just released: send it again")
            if (
                int(earlier["user"]) != actor.id
                or int(earlier["visit"]) != visit_id
                or earlier["fingerprint"] != fingerprint
            ):
                raise Conflict(
                    "This Idempotency-Key was used for another confirmation",
                    error="idempotency_key_reused",
                    field=IDEMPOTENCY_HEADER,
                )
            answer = dict(earlier["answer"])
    out = _replayed(answer)
    if delivery_id is not None:
        out = msgspec.structs.replace(out, delivery_id=delivery_id)
    return out


async def _offline(
    actor: CurrentUser,
    secret_key: str,
    visit_id: int,
    key_id: int,
    data: ConfirmIn,
    at_door: datetime,
    policy: safety.SafetyPolicy | None,
) -> ConfirmOut:
    """An offline code: close the visit with a right one, else hold it for staff (no lock).

    The heating-safety checklist typed at the door is kept as the online path keeps it.
    """
    await confirmation.lock_visit(visit_id)
    row = await load_visit(visit_id)
    status = row["status"]
    right = confirmation.code_matches(row, secret_key, data.code)
    if status == VisitStatus.delivered:
        if right:
            return ConfirmOut(
                delivery_id=0, visit_id=visit_id, status=status, already_confirmed=True
            )
        raise Conflict("The delivery is already confirmed", error="already_delivered")
    if status not in (VisitStatus.pending, VisitStatus.locked):
        raise Conflict(f"The delivery is {status}", error="delivery_closed")
    waiting = await OfflineReview.exists().where(
        (OfflineReview.visit == visit_id) & (OfflineReview.status == ReviewStatus.open)
    )
    item_codes = await confirmation.open_item_codes(visit_id)
    await safety.asks_checklist(item_codes=item_codes, checklist=data.safety)
    if status == VisitStatus.pending and right and not waiting:
        handed_over = max(at_door, row["created_at"])
        closed = await confirmation.close_delivered(actor, row, "offline code", at=handed_over)
        if closed:
            await confirmation.after_delivery(
                actor, row, item_codes, data.safety, policy, at=handed_over
            )
        return ConfirmOut(
            delivery_id=0,
            visit_id=visit_id,
            status=VisitStatus.delivered,
            already_confirmed=not closed,
        )
    if status == VisitStatus.locked:
        reason = ReviewReason.locked
    elif not right:
        reason = ReviewReason.wrong_code
    else:
        reason = ReviewReason.held
    made = (
        await OfflineReview.insert(
            OfflineReview(
                visit=visit_id,
                confirmation=key_id,
                courier=actor.id,
                reason=reason,
                status=ReviewStatus.open,
                at_door=at_door,
                created_at=datetime.now(UTC),
            )
        )
        .returning(OfflineReview.id)
        .run()
    )
    review_id = int(made[0]["id"])
    await record(
        actor=actor,
        action="visit.offline_review",
        entity="visit",
        entity_id=visit_id,
        after={"review": review_id, "reason": str(reason), "at_door": at_door.isoformat()},
        region_code=str(row["household.region.code"]),
    )
    return ConfirmOut(
        delivery_id=0,
        visit_id=visit_id,
        status=str(status),
        already_confirmed=False,
        held_for_review=True,
        review_id=review_id,
    )


_REVIEW_COLUMNS = (
    OfflineReview.id,
    OfflineReview.visit,
    OfflineReview.reason,
    OfflineReview.status,
    OfflineReview.at_door,
    OfflineReview.created_at,
    OfflineReview.resolved_at,
    OfflineReview.note,
    OfflineReview.courier._.username,
    OfflineReview.confirmation._.lat,
    OfflineReview.confirmation._.lon,
    OfflineReview.confirmation._.accuracy_m,
    OfflineReview.visit._.status,
    OfflineReview.visit._.organization._.name,
    OfflineReview.visit._.household._.reference,
    OfflineReview.visit._.household._.region._.code,
    OfflineReview.visit._.household._.region._.name,
    OfflineReview.visit._.household._.region._.level,
    OfflineReview.visit._.household._.region._.parent._.name,
)


def _review_out(row: dict[str, Any]) -> OfflineReviewOut:
    township_level = row["visit.household.region.level"] == "township"
    return OfflineReviewOut(
        id=int(row["id"]),
        visit_id=int(row["visit"]),
        household_reference=str(row["visit.household.reference"]),
        county=str(
            row["visit.household.region.parent.name"]
            if township_level
            else row["visit.household.region.name"]
        ),
        township=str(row["visit.household.region.name"]) if township_level else "",
        region_code=str(row["visit.household.region.code"]),
        charity=str(row["visit.organization.name"]),
        courier=str(row["courier.username"]),
        reason=str(row["reason"]),
        status=ReviewStatus(row["status"]),
        visit_status=str(row["visit.status"]),
        at_door=row["at_door"],
        created_at=row["created_at"],
        lat=row["confirmation.lat"],
        lon=row["confirmation.lon"],
        accuracy_m=row["confirmation.accuracy_m"],
        note=str(row["note"]),
        resolved_at=row["resolved_at"],
    )


def _refuse_non_staff(actor: CurrentUser) -> None:
    if actor.role not in (Role.admin, Role.staff):
        raise Forbidden("Only civil affairs staff settle offline confirmations")


async def list_reviews(
    *, actor: CurrentUser, page: Pagination, status: ReviewStatus | None = ReviewStatus.open
) -> Page[OfflineReviewOut]:
    """Offline confirmations held for staff in the caller's jurisdiction, oldest first."""
    _refuse_non_staff(actor)
    query = OfflineReview.select(*_REVIEW_COLUMNS)
    count = OfflineReview.count()
    clauses: list[Any] = []
    clause = jurisdiction_where(actor, OfflineReview.visit._.household._.region._.code)
    if clause is not None:
        clauses.append(clause)
    if status is not None:
        clauses.append(OfflineReview.status == status)
    for where in clauses:
        query = query.where(where)
        count = count.where(where)
    rows = await query.order_by(OfflineReview.id).limit(page.limit).offset(page.offset).run()
    return Page(
        items=[_review_out(row) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


async def _load_review(actor: CurrentUser, review_id: int) -> dict[str, Any]:
    row = (
        await OfflineReview.select(*_REVIEW_COLUMNS)
        .where(OfflineReview.id == review_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFound("No such offline confirmation", field="review_id")
    ensure_visible(
        actor,
        what="offline confirmation",
        region_codes=(str(row["visit.household.region.code"]),),
    )
    return row


async def get_review(*, actor: CurrentUser, review_id: int) -> OfflineReviewOut:
    """One held offline confirmation of the caller's jurisdiction."""
    _refuse_non_staff(actor)
    return _review_out(await _load_review(actor, review_id))


async def resolve_review(
    *,
    actor: CurrentUser,
    review_id: int,
    data: ReviewResolveIn,
    policy: safety.SafetyPolicy | None = None,
) -> OfflineReviewOut:
    """Settle a held offline confirmation once: the visit delivered, or the hold dismissed.

    ``delivered`` closes a visit still open (pending or locked) as delivered at the time at
    the door, and settles its other open reviews with it; a visit failed meanwhile refuses.
    """
    _refuse_non_staff(actor)
    outcome = ReviewStatus(data.outcome)
    note = data.note.strip()
    if not note:
        raise Invalid("Say what was checked", field="note", message_id="note_required")
    async with atomic():
        row = await _load_review(actor, review_id)
        visit_id = int(row["visit"])
        await confirmation.lock_visit(visit_id)
        now = datetime.now(UTC)
        settled = (
            await OfflineReview.update(
                {
                    OfflineReview.status: outcome,
                    OfflineReview.resolved_by: actor.id,
                    OfflineReview.resolved_at: now,
                    OfflineReview.note: note,
                }
            )
            .where((OfflineReview.id == review_id) & (OfflineReview.status == ReviewStatus.open))
            .returning(OfflineReview.id)
            .run()
        )
        if not settled:
            raise Conflict(
                "This offline confirmation is already settled",
                error="review_settled",
                message_id="review_settled",
            )
        if outcome == ReviewStatus.delivered:
            visit = await load_visit(visit_id)
            if visit["status"] in (VisitStatus.pending, VisitStatus.locked):
                item_codes = await confirmation.open_item_codes(visit_id)
                handed_over = max(row["at_door"], visit["created_at"])
                if await confirmation.close_delivered(
                    actor, visit, f"staff after an offline code: {note}", at=handed_over
                ):  # no checklist kept: the heating-safety follow-up checks at the door
                    await confirmation.after_delivery(
                        actor, visit, item_codes, None, policy, at=handed_over
                    )
                    if row["confirmation.lat"] is not None and row["confirmation.lon"] is not None:
                        await positions.offer_position(
                            actor=actor,
                            visit_id=visit_id,
                            lat=float(row["confirmation.lat"]),
                            lon=float(row["confirmation.lon"]),
                            accuracy_m=row["confirmation.accuracy_m"],
                        )
            elif visit["status"] != VisitStatus.delivered:
                raise Conflict(
                    f"The visit is {visit['status']}",
                    error="delivery_closed",
                    message_id="delivery_closed",
                )
            await (
                OfflineReview.update(
                    {
                        OfflineReview.status: ReviewStatus.delivered,
                        OfflineReview.resolved_by: actor.id,
                        OfflineReview.resolved_at: now,
                        OfflineReview.note: note,
                    }
                )
                .where(
                    (OfflineReview.visit == visit_id) & (OfflineReview.status == ReviewStatus.open)
                )
                .run()
            )
        await record(
            actor=actor,
            action="visit.offline_review_resolved",
            entity="visit",
            entity_id=visit_id,
            before={"review": review_id, "status": "open"},
            after={"review": review_id, "status": str(outcome), "note": note},
            region_code=str(row["visit.household.region.code"]),
        )
        settled_row = await _load_review(actor, review_id)
    return _review_out(settled_row)
