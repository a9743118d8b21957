"""Staff's "what if" before approving a round: more stock of an item at a warehouse, or a
wider radius for an offer, answered exactly by the engine on the round's snapshot.

The snapshot is taken again as the round takes it (its region, its items: the unmet verified
needs and the open stock, :mod:`nuanxin.rounds.snapshot`); until the round is approved, that
is the world the round solved, save for what changed since. The engine's
:func:`matching.what_if_stock` / :func:`matching.what_if_radius` solve the one kind concerned
before and after the change (off the event loop) and give the change of households served
(households that receive anything), units, weighted units and unit-kilometres.
"""

from __future__ import annotations

import asyncio

import matching
from nuanxin.advice.schemas import WhatIfIn, WhatIfOut
from nuanxin.errors import Invalid
from nuanxin.identity import CurrentUser, subtree_prefix
from nuanxin.offers import services as offers
from nuanxin.regions.services import get_region
from nuanxin.rounds.services import round_row
from nuanxin.rounds.snapshot import Snapshot, take_snapshot, to_problem

__all__ = ("round_what_if", "snapshot_offers")


async def _snapshot(actor: CurrentUser, round_id: int) -> Snapshot:
    row = await round_row(actor, round_id)
    code = str(row["region.code"])
    region = await get_region(code)
    prefix = code if region is None else subtree_prefix(region.code, region.level)
    kinds = list(row["kinds"] or [])
    return await take_snapshot(region_prefix=prefix, item_codes=kinds or None)


async def snapshot_offers(*, actor: CurrentUser, round_id: int) -> list[tuple[int, str, float]]:
    """The open offers the round's snapshot holds now: (offer id, item, radius km)."""
    snapshot = await _snapshot(actor, round_id)
    return [(s.offer_id, s.item_code, s.radius_km) for s in snapshot.stock]


def _answer(
    problem: matching.Problem, change: WhatIfIn, requires: tuple[str, ...], at: tuple[float, float]
) -> matching.WhatIf:
    arrays = matching.problem_to_arrays(problem)
    solution = matching.solve_arrays(arrays, reports=False)
    if change.change == "radius":
        return matching.what_if_radius(
            arrays, solution, offer=str(change.offer_id), radius_km=change.radius_km
        )
    return matching.what_if_stock(
        arrays,
        solution,
        kind=change.item_code or "",
        lat=at[0],
        lon=at[1],
        quantity=change.quantity,
        radius_km=change.radius_km,
        requires=requires,
    )


async def round_what_if(*, actor: CurrentUser, round_id: int, change: WhatIfIn) -> WhatIfOut:
    """The exact change of the round's optimum if ``change`` were made."""
    snapshot = await _snapshot(actor, round_id)
    stock = {s.offer_id: s for s in snapshot.stock}
    offer = stock.get(change.offer_id)
    if offer is None:
        raise Invalid("The offer is not open stock in this round's snapshot", field="offer_id")
    item_code = change.item_code or offer.item_code
    requires = {item.code: tuple(item.requires) for item in await offers.list_items()}
    if item_code not in requires:
        raise Invalid(f"Unknown item code: {item_code}", field="item_code")
    wanted = WhatIfIn(
        change=change.change,
        offer_id=change.offer_id,
        item_code=item_code,
        quantity=change.quantity,
        radius_km=change.radius_km,
    )
    problem = to_problem(snapshot.households, snapshot.stock)
    if change.change == "radius" and str(offer.offer_id) not in {o.id for o in problem.offers}:
        raise Invalid("No household in the round needs this offer's item", field="offer_id")
    answer = await asyncio.to_thread(
        _answer, problem, wanted, requires[item_code], (offer.lat, offer.lon)
    )
    return WhatIfOut(
        change=wanted,
        households_served=answer.households_served,
        units=answer.units,
        weighted_units=round(answer.weighted_units, 6),
        unit_km=round(answer.unit_km, 3),
        seconds=round(answer.seconds, 3),
    )
