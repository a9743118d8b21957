"""The seeded generator: :func:`generate` builds a :class:`~nuanxin.synthetic.model.Dataset`.

Every draw comes from one numpy ``Generator`` (passed in, or made from ``seed``), in a fixed
order, and every step is vectorised: a million households take a few seconds.

What it models, and the numbers it uses:

* **Where**: real county-level units of the northern provinces (黑龙江, 吉林, 辽宁, 内蒙古, 河北,
  山西, 甘肃, 新疆 by default), rural ones (县, 旗) three times as likely as city districts.
  Small datasets use a few counties so that households still share villages. Each county has
  villages, points within 35 km of its seat (8 km for a 区); on average six households share one.
* **Who**: categories in :data:`~nuanxin.synthetic.model.CATEGORY_SHARES`; household sizes by
  category (特困 households are mostly one old or disabled person); members with ages, sex,
  relation and disability; living alone = one member.
* **Heating**: ``electricity`` for ~97% (fewer in pastoral 旗), ``coal_stove`` more often the
  colder the county (its latitude stands in for the climate).
* **Needs**: coats per adult and child, quilts per bed (two people a bed), electric blankets only
  with electricity, coal (25 kg bags, 4–30) only with a coal stove, more the larger the household
  and the colder the county; a stove for some coal-heated homes.
* **Priority**: the first unit of each need weighs more for 特困, living alone, disability, the
  elderly (70+) and children (under 14); further units decay (``UNIT_DECAY``).
* **Supply**: charities with warehouses in county seats where households live; offers of the
  six kinds, radius 20–80 km, with total quantity per kind ``supply_ratio`` of the demand.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from nuanxin.regions.gazetteer import Division, Gazetteer, load_gazetteer
from nuanxin.synthetic.model import (
    CATEGORIES,
    CATEGORY_SHARES,
    GIVEN_NAMES,
    KINDS,
    SURNAMES,
    Charities,
    Dataset,
    Donors,
    Households,
    Members,
    Offers,
    Villages,
)

__all__ = ("NORTHERN_PROVINCES", "generate")

NORTHERN_PROVINCES = (
    "230000",
    "220000",
    "210000",
    "150000",
    "130000",
    "140000",
    "620000",
    "650000",
)
"""黑龙江, 吉林, 辽宁, 内蒙古, 河北, 山西, 甘肃, 新疆."""

_KM_PER_DEGREE = 6371.009 * np.pi / 180.0
_HOUSEHOLDS_PER_VILLAGE = 6.0
_SIZE_P = {  # household sizes 1..6 by category
    "dibao": (0.32, 0.28, 0.18, 0.13, 0.06, 0.03),
    "extremely_poor": (0.9, 0.1, 0.0, 0.0, 0.0, 0.0),
    "near_dibao": (0.15, 0.25, 0.25, 0.2, 0.1, 0.05),
    "temporary": (0.2, 0.2, 0.25, 0.2, 0.1, 0.05),
}
_HEAD_AGE = {
    "dibao": (58, 16),
    "extremely_poor": (72, 12),
    "near_dibao": (50, 14),
    "temporary": (42, 14),
}
_CATEGORY_WEIGHT = np.array([1.0, 2.0, 0.6, 1.2])
_OFFER_KIND_P = np.array([0.3, 0.2, 0.1, 0.2, 0.12, 0.08])

I32 = npt.NDArray[np.int32]
F64 = npt.NDArray[np.float64]


def generate(
    *,
    households: int,
    offers: int,
    seed: int | np.random.Generator = 0,
    provinces: Sequence[str] = NORTHERN_PROVINCES,
    year: int = 2026,
    supply_ratio: float = 0.5,
    gazetteer: Gazetteer | None = None,
) -> Dataset:
    """A synthetic world of ``households`` households and ``offers`` offers.

    ``seed`` is an int or a numpy ``Generator``; the same seed and arguments give the same
    dataset. ``provinces`` are province codes whose counties the households live in.
    """
    if households < 1 or offers < 0:
        raise ValueError("need at least one household and no negative number of offers")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    gaz = gazetteer if gazetteer is not None else load_gazetteer()
    counties = _pick_counties(gaz, provinces, households, rng)
    villages, hh_county, hh_village = _place(counties, households, rng)
    homes = _households(counties, villages, hh_county, hh_village, year, rng)
    household_rows, members = homes
    charities, offer_rows = _supply(counties, household_rows, offers, supply_ratio, rng)
    donors = Donors(
        amount_cny=np.maximum(10, rng.lognormal(5.3, 1.0, max(5, offers // 10))).astype(np.int32)
    )
    return Dataset(
        seed=None if isinstance(seed, np.random.Generator) else seed,
        year=year,
        counties=counties,
        villages=villages,
        households=household_rows,
        members=members,
        charities=charities,
        offers=offer_rows,
        donors=donors,
    )


def _pick_counties(
    gaz: Gazetteer, provinces: Sequence[str], households: int, rng: np.random.Generator
) -> tuple[Division, ...]:
    prefixes = tuple(code[:2] for code in provinces)
    pool = [d for d in gaz if d.level == "county" and d.code.startswith(prefixes)]
    if not pool:
        raise ValueError(f"no counties in provinces {list(provinces)}")
    rural = np.array([3.0 if d.name.endswith(("县", "旗")) else 1.0 for d in pool])
    wanted = int(np.clip(households // 200, 4, len(pool)))
    chosen = np.sort(rng.choice(len(pool), size=wanted, replace=False, p=rural / rural.sum()))
    return tuple(pool[i] for i in chosen)


def _place(
    counties: tuple[Division, ...], n: int, rng: np.random.Generator
) -> tuple[Villages, I32, I32]:
    rural = np.array([3.0 if d.name.endswith(("县", "旗")) else 1.0 for d in counties])
    weight = rural * rng.gamma(2.0, 0.5, len(counties))
    hh_county = rng.choice(len(counties), size=n, p=weight / weight.sum()).astype(np.int32)
    per_county = np.bincount(hh_county, minlength=len(counties))
    n_villages = np.maximum(1, np.ceil(per_county / _HOUSEHOLDS_PER_VILLAGE)).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(n_villages)[:-1]])
    village_county = np.repeat(np.arange(len(counties), dtype=np.int32), n_villages)
    number = (np.arange(len(village_county)) - start[village_county] + 1).astype(np.int32)
    seat_lat = np.array([d.lat for d in counties])
    seat_lon = np.array([d.lon for d in counties])
    reach = np.array([8.0 if d.name.endswith("区") else 35.0 for d in counties])
    r_km = reach[village_county] * np.sqrt(rng.uniform(0.01, 1.0, len(village_county)))
    bearing = rng.uniform(0.0, 2.0 * np.pi, len(village_county))
    lat = seat_lat[village_county] + r_km * np.cos(bearing) / _KM_PER_DEGREE
    lon = seat_lon[village_county] + r_km * np.sin(bearing) / (
        _KM_PER_DEGREE * np.cos(np.radians(seat_lat[village_county]))
    )
    villages = Villages(
        county=village_county, number=number, lat=np.round(lat, 6), lon=np.round(lon, 6)
    )
    pick = np.floor(rng.uniform(0.0, 1.0, n) * n_villages[hh_county]).astype(np.int64)
    hh_village = (start[hh_county] + pick).astype(np.int32)
    return villages, hh_county, hh_village


def _households(
    counties: tuple[Division, ...],
    villages: Villages,
    hh_county: I32,
    hh_village: I32,
    year: int,
    rng: np.random.Generator,
) -> tuple[Households, Members]:
    n = len(hh_county)
    category = rng.choice(len(CATEGORIES), size=n, p=CATEGORY_SHARES).astype(np.int8)
    size = np.zeros(n, dtype=np.int8)
    head_age = np.zeros(n)
    for c, name in enumerate(CATEGORIES):
        mask = category == c
        count = int(mask.sum())
        size[mask] = rng.choice(np.arange(1, 7), size=count, p=_SIZE_P[name])
        mean, sd = _HEAD_AGE[name]
        head_age[mask] = rng.normal(mean, sd, count)
    head_age = np.clip(np.round(head_age), 22, 96)
    members, ages, disability = _members(category, size, head_age, year, rng)
    members_start = np.concatenate([[0], np.cumsum(size, dtype=np.int64)])
    starts = members_start[:-1]
    oldest = np.maximum.reduceat(ages, starts)
    adults = np.add.reduceat((ages >= 14).astype(np.int32), starts)
    children = size - adults
    worst = np.maximum.reduceat(disability, starts)

    seat_lat = np.array([d.lat for d in counties])
    cold = np.clip((seat_lat[hh_county] - 34.0) / 16.0, 0.05, 1.0)
    pastoral = np.array([d.name.endswith("旗") for d in counties])[hh_county]
    electricity = rng.uniform(size=n) < np.where(pastoral, 0.9, 0.975)
    coal_stove = rng.uniform(size=n) < 0.35 + 0.45 * cold
    beds = (size.astype(np.int64) + 1) // 2
    frail = (oldest >= 70) | (worst > 0)

    quantity = np.zeros((n, len(KINDS)), dtype=np.int16)
    bags = (6.0 + 16.0 * cold) * (1.0 + 0.12 * (size - 1)) * rng.uniform(0.8, 1.2, n)
    quantity[:, 0] = np.where(coal_stove, np.clip(np.round(bags), 4, 30), 0)
    quantity[:, 1] = rng.binomial(adults, 0.3 + 0.5 * cold)
    quantity[:, 2] = rng.binomial(children, 0.5 + 0.4 * cold)
    quantity[:, 3] = rng.binomial(beds, 0.35 + 0.45 * cold)
    quantity[:, 4] = np.where(electricity, rng.binomial(beds, np.where(frail, 0.5, 0.2)), 0)
    quantity[:, 5] = (coal_stove & (rng.uniform(size=n) < 0.06 + 0.08 * cold)).astype(np.int16)

    lives_alone = size == 1
    reasons = (
        (category == CATEGORIES.index("extremely_poor")).astype(np.uint8)
        | (lives_alone.astype(np.uint8) << 1)
        | ((worst > 0).astype(np.uint8) << 2)
        | ((oldest >= 70).astype(np.uint8) << 3)
        | ((children > 0).astype(np.uint8) << 4)
    )
    base = (
        _CATEGORY_WEIGHT[category]
        + 0.5 * lives_alone
        + 0.2 * worst
        + 0.5 * (oldest >= 70)
        + 0.3 * (children > 0)
    )
    weight = np.repeat(base[:, None], len(KINDS), axis=1)
    weight[:, 2] += 0.3  # a child's coat
    weight[:, 4] += 0.3 * frail  # warmth in bed for the old and the disabled
    households = Households(
        county=hh_county,
        village=hh_village,
        house_number=rng.integers(1, 200, n, dtype=np.int32),
        lat=villages.lat[hh_village],
        lon=villages.lon[hh_village],
        category=category,
        size=size,
        lives_alone=lives_alone,
        coal_stove=coal_stove,
        electricity=electricity,
        surname=rng.integers(0, len(SURNAMES), n, dtype=np.int16),
        given_name=rng.integers(0, len(GIVEN_NAMES), n, dtype=np.int16),
        member_start=members_start,
        need_quantity=quantity,
        need_weight=np.round(weight, 3),
        priority_reasons=reasons,
    )
    return households, members


def _members(
    category: npt.NDArray[np.int8],
    size: npt.NDArray[np.int8],
    head_age: F64,
    year: int,
    rng: np.random.Generator,
) -> tuple[Members, npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    n = len(size)
    total = int(size.sum(dtype=np.int64))
    household = np.repeat(np.arange(n, dtype=np.int32), size)
    start = np.concatenate([[0], np.cumsum(size, dtype=np.int64)[:-1]])
    position = np.arange(total) - start[household]
    draw = rng.uniform(size=total)
    # relation: 0 self, 1 spouse, 2 child, 3 parent
    relation = np.where(
        position == 0,
        0,
        np.where(
            position == 1,
            np.select([draw < 0.65, draw < 0.95], [1, 2], 3),
            np.where(draw < 0.85, 2, 3),
        ),
    ).astype(np.int8)
    head = head_age[household]
    raw_age = np.select(
        [relation == 0, relation == 1, relation == 2],
        [head, head + rng.normal(0.0, 4.0, total), head - rng.uniform(20.0, 38.0, total)],
        head + rng.uniform(20.0, 32.0, total),
    )
    age: npt.NDArray[np.int64] = np.clip(np.round(raw_age), 0, 100).astype(np.int64)
    head_sex = rng.uniform(size=n) < 0.55
    sex = np.where(
        relation == 0,
        head_sex[household],
        np.where(relation == 1, ~head_sex[household], rng.uniform(size=total) < 0.5),
    ).astype(np.int8)
    extremely_poor = category[household] == CATEGORIES.index("extremely_poor")
    p_disabled = 0.06 + 0.1 * (age >= 75) + 0.34 * (extremely_poor & (relation == 0))
    disability = np.where(
        rng.uniform(size=total) < p_disabled, rng.integers(1, 5, total), 0
    ).astype(np.int8)
    members = Members(
        household=household,
        relation=relation,
        birth_year=(year - age).astype(np.int16),
        sex=sex,
        disability_level=disability,
    )
    return members, age, disability


def _supply(
    counties: tuple[Division, ...],
    households: Households,
    offers: int,
    supply_ratio: float,
    rng: np.random.Generator,
) -> tuple[Charities, Offers]:
    n_charities = max(2, -(-offers // 200))
    per_charity = rng.integers(1, 4, n_charities)
    warehouse_charity = np.repeat(np.arange(n_charities, dtype=np.int32), per_charity)
    lived_in = np.bincount(households.county, minlength=len(counties)).astype(np.float64)
    warehouse_county = rng.choice(
        len(counties), size=len(warehouse_charity), p=lived_in / lived_in.sum()
    ).astype(np.int32)
    seat_lat = np.array([d.lat for d in counties])
    seat_lon = np.array([d.lon for d in counties])
    charities = Charities(
        count=n_charities,
        warehouse_charity=warehouse_charity,
        warehouse_county=warehouse_county,
        warehouse_lat=seat_lat[warehouse_county],
        warehouse_lon=seat_lon[warehouse_county],
    )
    warehouse = rng.integers(0, len(warehouse_charity), offers, dtype=np.int32)
    kind = rng.choice(len(KINDS), size=offers, p=_OFFER_KIND_P).astype(np.int8)
    demand = households.need_quantity.sum(axis=0, dtype=np.int64)
    per_kind = np.maximum(1, np.bincount(kind, minlength=len(KINDS)))
    mean = supply_ratio * demand / per_kind
    spread = rng.lognormal(0.0, 0.6, offers) / np.exp(0.18)
    quantity = np.maximum(1, np.round(mean[kind] * spread)).astype(np.int32)
    offer_rows = Offers(
        warehouse=warehouse,
        kind=kind,
        quantity=quantity,
        lat=charities.warehouse_lat[warehouse],
        lon=charities.warehouse_lon[warehouse],
        radius_km=np.round(rng.uniform(20.0, 80.0, offers), 1),
    )
    return charities, offer_rows
