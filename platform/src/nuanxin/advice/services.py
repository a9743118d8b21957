"""Purchase advice for a charity: its prices, the ranked advice, purchases that follow it.

* Prices are the charity's own, per item (fen), one row per item; changes are audited.
* :func:`compute_advice` takes the round's snapshot of the charity's region (unmet verified
  needs below the charity's region, all open stock), solves off the event loop
  (:mod:`.ranking`, exact) and stores the lines shown, so that a purchase can name the advice
  it followed. Lines carry aggregate counts only.
* :func:`record_advised_purchase` checks that the advice and its line are the charity's own
  and records the purchase through the donations service, linked to the advice.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any

import msgspec

from nuanxin.accounts.organizations import get_organization
from nuanxin.advice import ranking
from nuanxin.advice.schemas import Advice, AdviceLine, AdvisedPurchaseIn, Price
from nuanxin.advice.tables import PurchaseAdvice, PurchasePrice
from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.donations import purchases
from nuanxin.donations.schemas import Purchase, PurchaseCreate
from nuanxin.errors import Forbidden, Invalid, NotFound
from nuanxin.identity import CurrentUser, Role, subtree_prefix
from nuanxin.offers import services as offers
from nuanxin.pagination import MAX_LIMIT, Pagination
from nuanxin.regions.services import get_region
from nuanxin.rounds.snapshot import take_snapshot, to_problem
from nuanxin.warehouses import services as warehouses

__all__ = (
    "BATCH",
    "DEFAULT_RADIUS_KM",
    "compute_advice",
    "get_prices",
    "latest_advice",
    "record_advised_purchase",
    "set_prices",
)

BATCH = 10  # units a line prices, unless asked otherwise
DEFAULT_RADIUS_KM = 50.0  # a purchase's offer radius when the warehouse has none of the item


def _charity(actor: CurrentUser) -> int:
    if actor.role is not Role.charity or actor.organization_id is None:
        raise Forbidden("Only a charity's members ask for purchase advice")
    return actor.organization_id


async def get_prices(*, actor: CurrentUser) -> list[Price]:
    organization_id = _charity(actor)
    rows = (
        await PurchasePrice.select(
            PurchasePrice.item.code.as_alias("item_code"), PurchasePrice.price_fen
        )
        .where(PurchasePrice.organization == organization_id)
        .order_by(PurchasePrice.item.code)
        .run()
    )
    return [Price(item_code=row["item_code"], price_fen=int(row["price_fen"])) for row in rows]


async def set_prices(*, actor: CurrentUser, prices: dict[str, int]) -> list[Price]:
    """Replace the charity's prices (an item left out has no price)."""
    organization_id = _charity(actor)
    items = {item.code: item.id for item in await offers.list_items()}
    unknown = sorted(set(prices) - set(items))
    if unknown:
        raise Invalid(f"Unknown item codes: {', '.join(unknown)}", field="prices")
    if any(fen <= 0 for fen in prices.values()):
        raise Invalid("A price is more than zero", field="prices")
    async with atomic():
        before = {price.item_code: price.price_fen for price in await get_prices(actor=actor)}
        await PurchasePrice.delete().where(PurchasePrice.organization == organization_id).run()
        if prices:
            moment = datetime.now(UTC)
            await PurchasePrice.insert(
                *(
                    PurchasePrice(
                        organization=organization_id,
                        item=items[code],
                        price_fen=fen,
                        updated_at=moment,
                    )
                    for code, fen in sorted(prices.items())
                )
            ).run()
        await record(
            actor=actor,
            action="prices.set",
            entity="organization",
            entity_id=organization_id,
            before=before,
            after=dict(sorted(prices.items())),
        )
    return await get_prices(actor=actor)


def _advice(row: dict[str, Any]) -> Advice:
    return Advice(
        id=int(row["id"]),
        region_code=str(row["region_code"]),
        units=int(row["units"]),
        households=int(row["households"]),
        created_at=row["created_at"],
        lines=msgspec.convert(row["lines"] or [], list[AdviceLine]),
    )


_ADVICE_COLUMNS = (
    *PurchaseAdvice.all_columns(),
    PurchaseAdvice.region.code.as_alias("region_code"),
)


async def latest_advice(*, actor: CurrentUser) -> Advice | None:
    organization_id = _charity(actor)
    row = (
        await PurchaseAdvice.select(*_ADVICE_COLUMNS)
        .where(PurchaseAdvice.organization == organization_id)
        .order_by(PurchaseAdvice.id, ascending=False)
        .output(load_json=True)
        .first()
        .run()
    )
    return None if row is None else _advice(row)


async def own_advice(*, actor: CurrentUser, advice_id: int) -> Advice:
    """The advice, if it is the caller's charity's (else: not found)."""
    organization_id = _charity(actor)
    row = (
        await PurchaseAdvice.select(*_ADVICE_COLUMNS)
        .where((PurchaseAdvice.id == advice_id) & (PurchaseAdvice.organization == organization_id))
        .output(load_json=True)
        .first()
        .run()
    )
    if row is None:
        raise NotFound("No such advice for your charity")
    return _advice(row)


async def _candidates(actor: CurrentUser, organization_id: int) -> list[ranking.Candidate]:
    prices = {price.item_code: price.price_fen for price in await get_prices(actor=actor)}
    if not prices:
        return []
    requires = {item.code: frozenset(item.requires) for item in await offers.list_items()}
    houses = (
        await warehouses.list_warehouses(
            user=actor,
            organization_id=organization_id,
            page=Pagination(limit=MAX_LIMIT, offset=0),
        )
    ).items
    return [
        ranking.Candidate(
            warehouse_id=house.id,
            warehouse_name=house.name,
            lat=house.lat,
            lon=house.lon,
            item_code=code,
            requires=requires[code],
            radius_km=DEFAULT_RADIUS_KM,
            price_fen=fen,
        )
        for house in houses
        for code, fen in sorted(prices.items())
    ]


async def compute_advice(*, actor: CurrentUser, units: int = BATCH) -> Advice:
    """Rank what to buy where, from a solve over the charity's region, and store it."""
    organization_id = _charity(actor)
    if not 1 <= units <= 10_000:
        raise Invalid("The batch is 1 to 10,000 units", field="units")
    organization = await get_organization(user=actor, organization_id=organization_id)
    region = await get_region(organization.region_code)
    if region is None:  # pragma: no cover - an organization's region exists
        raise NotFound("The charity's region is not loaded")
    candidates = await _candidates(actor, organization_id)
    item_codes = sorted({candidate.item_code for candidate in candidates})
    snapshot = await take_snapshot(
        region_prefix=subtree_prefix(region.code, region.level), item_codes=item_codes
    )
    # the radius the charity already uses for the item at that warehouse, if it offers it
    radius = {
        (stock.organization_id, stock.item_code, stock.lat, stock.lon): stock.radius_km
        for stock in snapshot.stock
    }
    candidates = [
        dataclasses.replace(
            c,
            radius_km=radius.get((organization_id, c.item_code, c.lat, c.lon), DEFAULT_RADIUS_KM),
        )
        for c in candidates
    ]
    problem = to_problem(snapshot.households, snapshot.stock)
    categories = {str(h.household_id): str(h.category) for h in snapshot.households}
    lines = (
        await asyncio.to_thread(ranking.rank, problem, categories, candidates, units=units)
        if snapshot.households
        else []
    )
    out = [
        AdviceLine(
            warehouse_id=line.candidate.warehouse_id,
            warehouse_name=line.candidate.warehouse_name,
            item_code=line.candidate.item_code,
            units=line.units,
            radius_km=line.candidate.radius_km,
            cost_fen=line.cost_fen,
            households=line.households,
            categories=line.categories,
            weighted_units=round(line.weighted_units, 6),
            unit_km=round(line.unit_km, 3),
            per_yuan=line.per_yuan,
        )
        for line in lines
    ]
    async with atomic():
        rows = (
            await PurchaseAdvice.insert(
                PurchaseAdvice(
                    organization=organization_id,
                    region=region.id,
                    units=units,
                    households=len(snapshot.households),
                    lines=msgspec.to_builtins(out),
                    created_by=actor.id,
                    created_at=datetime.now(UTC),
                )
            )
            .returning(PurchaseAdvice.id)
            .run()
        )
        advice_id = int(rows[0]["id"])
        await record(
            actor=actor,
            action="advice.create",
            entity="purchase_advice",
            entity_id=advice_id,
            after={"units": units, "lines": len(out), "households": len(snapshot.households)},
            region_code=region.code,
        )
    return await own_advice(actor=actor, advice_id=advice_id)


async def record_advised_purchase(
    *, actor: CurrentUser, advice_id: int, data: AdvisedPurchaseIn
) -> Purchase:
    """Buy what line ``data.line`` of the advice says, linked to that advice."""
    advice = await own_advice(actor=actor, advice_id=advice_id)
    if data.line >= len(advice.lines):
        raise Invalid(f"The advice has {len(advice.lines)} lines", field="line")
    line = advice.lines[data.line]
    try:
        return await _record(actor, advice.id, line, data)
    except NotFound as refused:  # the campaign came in the body: name its field
        if refused.field is not None:
            raise
        raise NotFound(refused.detail, field="campaign_id") from None


async def _record(
    actor: CurrentUser, advice_id: int, line: Any, data: AdvisedPurchaseIn
) -> Purchase:
    return await purchases.record_purchase(
        user=actor,
        campaign_id=data.campaign_id,
        data=PurchaseCreate(
            item_code=line.item_code,
            quantity=data.quantity,
            cost_fen=data.cost_fen,
            warehouse_id=line.warehouse_id,
            radius_km=line.radius_km,
            available_until=data.available_until,
        ),
        advice_id=advice_id,
    )
