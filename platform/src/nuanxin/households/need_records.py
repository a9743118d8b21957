"""A household's stored needs: recomputed from the rules, listed, overridden by staff.

* The quantities come from :mod:`nuanxin.households.needs` (a pure module) when a household
  is created and whenever the facts they depend on change (:func:`recompute_needs`).
* Staff may set a need's quantity by hand with a reason (:func:`override_need`); the override
  survives recomputation (:func:`nuanxin.households.needs.reconcile`). A need is never set
  below what is already allocated (409).
* Catalogue item ids come from the offers service, never its table.
* Allocating units of a need and raising it after a 一事一议 decision belong to the demand
  ledger (:mod:`nuanxin.households.demand`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict, Invalid
from nuanxin.households import needs as rules
from nuanxin.households.read_model import household_row, now
from nuanxin.households.schemas import NeedOut, NeedOverride
from nuanxin.households.tables import Need
from nuanxin.identity import CurrentUser
from nuanxin.offers import services as offers
from nuanxin.units import Unit, to_count

__all__ = ("MAX_NEED", "item_ids", "list_needs", "override_need", "recompute_needs")

#: The most a need may be set to by hand, in the item's counting unit (coal: 25 kg bags).
MAX_NEED = 1000


async def item_ids() -> dict[str, int]:
    """Catalogue item ids by code, from the offers area (a migration seeds the catalogue)."""
    return {item.code: item.id for item in await offers.list_items()}


async def recompute_needs(household_id: int, facts: rules.HouseholdFacts, moment: datetime) -> None:
    """Store the needs the rules give, keeping overrides (see :func:`needs.reconcile`)."""
    items = await item_ids()
    codes = {item_id: code for code, item_id in items.items()}
    stored_rows = await Need.select().where(Need.household == household_id).run()
    stored = [
        rules.StoredNeed(
            item_code=codes[int(row["item"])],
            quantity=int(row["quantity"]),
            allocated=int(row["allocated"]),
            override_reason=str(row["override_reason"]),
        )
        for row in stored_rows
    ]
    by_code = {codes[int(row["item"])]: int(row["id"]) for row in stored_rows}
    weight = rules.priority(facts).weight
    for plan in rules.reconcile(rules.compute_needs(facts), stored, weight=weight):
        values: dict[Any, Any] = {
            Need.quantity: plan.quantity,
            Need.weight: plan.weight,
            Need.rule: plan.rule,
            Need.override_reason: plan.override_reason,
            Need.updated_at: moment,
        }
        if plan.item_code in by_code:
            await Need.update(values).where(Need.id == by_code[plan.item_code]).run()
        elif plan.quantity > 0:
            await Need.insert(
                Need(
                    household=household_id,
                    item=items[plan.item_code],
                    quantity=plan.quantity,
                    weight=plan.weight,
                    rule=plan.rule,
                    override_reason=plan.override_reason,
                    updated_at=moment,
                )
            ).run()


def _need_out(row: dict[str, Any]) -> NeedOut:
    zh, en = rules.split_rule(str(row["rule"]))
    return NeedOut(
        id=int(row["id"]),
        household_id=int(row["household"]),
        item_code=str(row["item.code"]),
        unit=Unit(row["item.unit"]),
        quantity=int(row["quantity"]),
        allocated=int(row["allocated"]),
        weight=float(row["weight"]),
        rule_zh=zh,
        rule_en=en,
        override_reason=str(row["override_reason"]),
        updated_at=row["updated_at"],
    )


async def list_needs(*, user: CurrentUser, household_id: int) -> list[NeedOut]:
    """The household's needs, by item code."""
    await household_row(household_id, user)
    rows = (
        await Need.select(*Need.all_columns(), Need.item.code, Need.item.unit)
        .where(Need.household == household_id)
        .order_by(Need.item.code)
        .run()
    )
    return [_need_out(row) for row in rows]


async def override_need(*, user: CurrentUser, household_id: int, data: NeedOverride) -> NeedOut:
    """Set a need's quantity by hand, with a reason that survives recomputation."""
    moment = now()
    async with atomic():
        row = await household_row(household_id, user)
        item = {item.code: item for item in await offers.list_items()}.get(data.item_code)
        if item is None:
            raise Invalid(
                f"item_code: no catalogue item has the code {data.item_code}",
                error="validation_error",
                field="item_code",
            )
        item_id = item.id
        quantity = to_count(
            data.quantity, data.unit, counting=item.unit, minimum=0, maximum=MAX_NEED
        )
        existing = (
            await Need.select()
            .where((Need.household == household_id) & (Need.item == item_id))
            .first()
            .run()
        )
        if existing is not None and quantity < int(existing["allocated"]):
            raise Conflict(
                f"quantity: {existing['allocated']} units are already allocated; "
                "a need cannot be set below what is allocated",
                error="below_allocated",
                field="quantity",
            )
        before: dict[str, Any] = {}
        if existing is None:
            rule = rules.join_rule("工作人员手工设定", "set by staff")
            weight = (
                await Need.select(Need.weight).where(Need.household == household_id).first().run()
            )
            await Need.insert(
                Need(
                    household=household_id,
                    item=item_id,
                    quantity=quantity,
                    weight=float(weight["weight"]) if weight else 1.0,
                    rule=rule,
                    override_reason=data.reason,
                    updated_at=moment,
                )
            ).run()
        else:
            before = {
                "quantity": existing["quantity"],
                "override_reason": existing["override_reason"],
            }
            await (
                Need.update(
                    {
                        Need.quantity: quantity,
                        Need.override_reason: data.reason,
                        Need.updated_at: moment,
                    }
                )
                .where(Need.id == existing["id"])
                .run()
            )
        saved = (
            await Need.select(*Need.all_columns(), Need.item.code, Need.item.unit)
            .where((Need.household == household_id) & (Need.item == item_id))
            .first()
            .run()
        )
        assert saved is not None
        await record(
            actor=user,
            action="need.override",
            entity="need",
            entity_id=int(saved["id"]),
            before={"household": row["reference"], "item": data.item_code, **before},
            after={
                "household": row["reference"],
                "item": data.item_code,
                "quantity": quantity,
                "override_reason": data.reason,
                **({"given": f"{data.quantity} {data.unit.value}"} if data.unit else {}),
            },
            region_code=str(row["region.code"]),
        )
    return _need_out(saved)
