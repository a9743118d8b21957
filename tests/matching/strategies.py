"""Hypothesis strategies for small matching problems, shared by the engine's tests."""

from __future__ import annotations

from hypothesis import strategies as st

from matching import Household, Need, Offer, Problem

__all__ = ("GRID", "KINDS", "TAGS", "needs", "problems")

KINDS = ("quilt", "coal")
TAGS = ("electricity", "coal_stove")
GRID = [(40.0 + 0.06 * (i % 4), 116.0 + 0.08 * (i // 4)) for i in range(8)]

weights = st.sampled_from([1.0, 2.0, 2.5, 7.0, 0.3])


@st.composite
def needs(draw: st.DrawFn) -> Need:
    kind = draw(st.sampled_from(KINDS))
    quantity = draw(st.integers(0, 3))
    if draw(st.booleans()):
        return Need(kind=kind, quantity=quantity, weight=draw(weights))
    chosen = sorted(draw(st.lists(weights, min_size=quantity, max_size=quantity)), reverse=True)
    return Need(kind=kind, quantity=quantity, weights=tuple(chosen))


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    n_offers = draw(st.integers(0, 6))
    offers = []
    for i in range(n_offers):
        lat, lon = draw(st.sampled_from(GRID))
        offers.append(
            Offer(
                id=f"o{i}",
                kind=draw(st.sampled_from(KINDS)),
                quantity=draw(st.integers(0, 4)),
                lat=lat,
                lon=lon,
                radius_km=draw(st.sampled_from([3.0, 8.0, 15.0, 30.0])),
                requires=frozenset(draw(st.sets(st.sampled_from(TAGS), max_size=1))),
            )
        )
    households = []
    for h in range(draw(st.integers(0, 9))):
        lat, lon = draw(st.sampled_from(GRID))
        households.append(
            Household(
                id=f"h{h}",
                lat=lat,
                lon=lon,
                tags=frozenset(draw(st.sets(st.sampled_from(TAGS)))),
                needs=tuple(draw(st.lists(needs(), max_size=2))),
            )
        )
    return Problem(offers=tuple(offers), households=tuple(households))
