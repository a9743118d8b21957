"""A seeded generator of realistic instances in northern China, until ``nuanxin.synthetic``.

Households cluster at village points around county seats (most geocoded to the village
point itself, some to their own address nearby); offers sit at warehouses in county
seats with radii of 20-80 km. Six kinds; an electric blanket requires ``electricity``
and coal requires ``coal_stove``.
"""

from __future__ import annotations

import math

import numpy as np

from matching import Household, Need, Offer, Problem

__all__ = ("KINDS", "generate")

KINDS = ("coal", "coat_adult", "coat_child", "quilt", "electric_blanket", "stove")
REQUIRES = {"coal": frozenset({"coal_stove"}), "electric_blanket": frozenset({"electricity"})}
_KM_PER_DEG = 111.195


def generate(households: int, offers: int, seed: int = 2026) -> Problem:
    """An instance with the given numbers of households and offers."""
    rng = np.random.default_rng(seed)
    counties = max(10, households // 1000)
    seat_lat = rng.uniform(35.0, 47.0, counties)
    seat_lon = rng.uniform(103.0, 128.0, counties)
    villages = max(counties, households // 30)
    village_county = rng.integers(0, counties, villages)
    lat, lon = _around(rng, seat_lat[village_county], seat_lon[village_county], 30.0)
    home = rng.integers(0, villages, households)
    h_lat, h_lon = lat[home].copy(), lon[home].copy()
    own = rng.random(households) < 0.3
    h_lat[own], h_lon[own] = _around(rng, h_lat[own], h_lon[own], 1.5)
    electricity = rng.random(households) < 0.85
    coal_stove = rng.random(households) < 0.5
    vulnerability = rng.integers(1, 6, households)
    made_households = [
        Household(
            id=f"h{h}",
            lat=round(float(h_lat[h]), 6),
            lon=round(float(h_lon[h]), 6),
            tags=frozenset(
                tag
                for tag, has in (("electricity", electricity[h]), ("coal_stove", coal_stove[h]))
                if has
            ),
            needs=_needs(rng, int(vulnerability[h])),
        )
        for h in range(households)
    ]
    warehouses = counties * 2
    w_county = np.arange(warehouses) % counties
    w_lat, w_lon = _around(rng, seat_lat[w_county], seat_lon[w_county], 3.0)
    o_house = rng.integers(0, warehouses, offers)
    kinds = rng.integers(0, len(KINDS), offers)
    radius = rng.choice([20.0, 30.0, 40.0, 50.0, 60.0, 80.0], offers)
    quantity = rng.integers(1, 120, offers)
    made_offers = [
        Offer(
            id=f"o{i}",
            kind=KINDS[kinds[i]],
            quantity=int(quantity[i]),
            lat=round(float(w_lat[o_house[i]]), 6),
            lon=round(float(w_lon[o_house[i]]), 6),
            radius_km=float(radius[i]),
            requires=REQUIRES.get(KINDS[kinds[i]], frozenset()),
        )
        for i in range(offers)
    ]
    return Problem(offers=tuple(made_offers), households=tuple(made_households))


def _around(
    rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, km: float
) -> tuple[np.ndarray, np.ndarray]:
    """Points scattered around the given ones, within about ``km``."""
    distance = km * np.sqrt(rng.random(len(lat)))
    bearing = rng.uniform(0.0, 2.0 * math.pi, len(lat))
    d_lat = distance * np.cos(bearing) / _KM_PER_DEG
    d_lon = distance * np.sin(bearing) / (_KM_PER_DEG * np.cos(np.radians(lat)))
    return lat + d_lat, lon + d_lon


def _needs(rng: np.random.Generator, vulnerability: int) -> tuple[Need, ...]:
    count = int(rng.integers(1, 4))
    chosen = rng.choice(len(KINDS), size=count, replace=False)
    needs: list[Need] = []
    for k in sorted(chosen.tolist()):
        quantity = int(rng.integers(1, 4))
        base = float(vulnerability) + 0.5 * float(rng.integers(0, 2))
        if quantity > 1 and rng.random() < 0.5:
            weights = tuple(round(base * 0.6**unit, 3) for unit in range(quantity))
            needs.append(Need(kind=KINDS[k], quantity=quantity, weights=weights))
        else:
            needs.append(Need(kind=KINDS[k], quantity=quantity, weight=base))
    return tuple(needs)
