"""What a batch of units of an item at a warehouse would do, exactly: pure, no I/O.

For each priced item, the one kind is solved as the round would solve it (kinds never share a
unit), then again with ``units`` more at each warehouse (an offer at the warehouse's point,
with the item's required tags and the radius the charity uses there). The difference of the
two exact optima is the line: households that newly receive the item (net, by category),
weighted units gained and the change of unit-kilometres. Lines are ranked by weighted units
per yuan. Only aggregate counts leave this module, never a household's identity.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matching

__all__ = ("Candidate", "Line", "only_kind", "rank", "served")

EXTRA_OFFER = "+advice"


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    warehouse_id: int
    warehouse_name: str
    lat: float
    lon: float
    item_code: str
    requires: frozenset[str]
    radius_km: float
    price_fen: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    candidate: Candidate
    units: int
    households: int
    categories: dict[str, int]
    weighted_units: float
    unit_km: float

    @property
    def cost_fen(self) -> int:
        return self.candidate.price_fen * self.units

    @property
    def per_yuan(self) -> float:
        return self.weighted_units / (self.cost_fen / 100)


def only_kind(problem: matching.Problem, kind: str) -> matching.Problem:
    """The problem of one kind: its offers, and the households that need it."""
    households = []
    for household in problem.households:
        needs = tuple(need for need in household.needs if need.kind == kind)
        if needs:
            households.append(dataclasses.replace(household, needs=needs))
    return matching.Problem(
        offers=tuple(offer for offer in problem.offers if offer.kind == kind),
        households=tuple(households),
    )


def served(solution: matching.Solution) -> set[str]:
    return {assignment.household for assignment in solution.assignments}


def rank(
    problem: matching.Problem,
    categories: Mapping[str, str],
    candidates: Sequence[Candidate],
    *,
    units: int,
) -> list[Line]:
    """The lines, best value per yuan first (then more households, then fewer unit-km)."""
    lines: list[Line] = []
    for kind in dict.fromkeys(candidate.item_code for candidate in candidates):
        sub = only_kind(problem, kind)
        before = matching.solve(sub, reports=False)
        served_before = served(before)
        for candidate in (c for c in candidates if c.item_code == kind):
            extra = matching.Offer(
                id=EXTRA_OFFER,
                kind=kind,
                quantity=units,
                lat=candidate.lat,
                lon=candidate.lon,
                radius_km=candidate.radius_km,
                requires=candidate.requires,
            )
            after = matching.solve(
                dataclasses.replace(sub, offers=(*sub.offers, extra)), reports=False
            )
            served_after = served(after)
            gained = Counter(categories[h] for h in served_after - served_before)
            gained.subtract(Counter(categories[h] for h in served_before - served_after))
            lines.append(
                Line(
                    candidate=candidate,
                    units=units,
                    households=len(served_after) - len(served_before),
                    categories={c: n for c, n in sorted(gained.items()) if n},
                    weighted_units=after.totals.weighted_units - before.totals.weighted_units,
                    unit_km=after.totals.unit_km - before.totals.unit_km,
                )
            )
    lines.sort(key=lambda line: (-line.per_yuan, -line.households, line.unit_km))
    return lines
