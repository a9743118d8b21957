"""A round's snapshot as the engine's columns, read from the database with no object per row.

A province's round reads a million households and several million needs. :func:`take_columns`
answers what ``to_arrays`` answers for ``take_snapshot(..., in_reach=True)`` (a test holds
them equal), the exclusions included, but the households and their needs come from the
database as numpy columns (:func:`nuanxin.db.select_columns`: COPY's binary format on
PostgreSQL) and every step after is numpy. Text travels as a code: a household's region as
its id, its tags and location source as the number of their pair among the distinct pairs read
just before (a household whose pair appeared between the two reads gets its own read by id).
The stock, the offers in reach, is still :func:`nuanxin.offers.stock.open_stock`'s records.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from piccolo.querystring import QueryString

import matching
from matching.arrays import no_cyclic_gc
from matching.geo import great_circle_km
from nuanxin.db import atomic, engine, select_columns
from nuanxin.households.demand import UNIT_DECAY
from nuanxin.households.vocabulary import VerificationStatus
from nuanxin.offers import stock as ledger
from nuanxin.offers.tables import Item
from nuanxin.regions.tables import Region
from nuanxin.rounds import exclusions

__all__ = ("RoundColumns", "take_columns")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundColumns:
    """The engine's problem, and what storing its proposals needs, row for row with it."""

    problem: matching.ArrayProblem
    offer_key: IntArray  # the database id of each offer of the problem
    household_key: IntArray  # ... of each household
    need_key: IntArray  # ... of each need row
    sources: tuple[str, ...]  # location sources, by their code in household_source
    household_source: IntArray  # which point each household's lat/lon is
    offers: int  # the open stock in reach, as the round's stats count it


_TAGS = "COALESCE(CAST(household.tags AS TEXT), '[]')"
_FROM = " FROM household JOIN region ON region.id = household.region"
_WHERE = (
    " WHERE household.status = {} AND household.verification_expires_at > {}"
    " AND region.code LIKE {}"
)


@dataclass(frozen=True, slots=True)
class _Rows:
    """Columns of one query, filtered and reordered together."""

    columns: tuple[npt.NDArray[Any], ...]

    def __getitem__(self, index: int) -> npt.NDArray[Any]:
        return self.columns[index]

    def take(self, which: npt.NDArray[Any]) -> _Rows:
        return _Rows(tuple(column[which] for column in self.columns))


async def take_columns(*, region_prefix: str, item_codes: Sequence[str] | None) -> RoundColumns:
    """The round's snapshot (:func:`~nuanxin.rounds.snapshot.take_snapshot`) as columns."""
    with no_cyclic_gc():
        return await _take(region_prefix, item_codes)


async def _take(region_prefix: str, item_codes: Sequence[str] | None) -> RoundColumns:
    where = (VerificationStatus.verified.value, datetime.now(UTC), region_prefix + "%")
    async with atomic():
        kinds_of_household = await _kinds_of_household(where)
        households = await _households(kinds_of_household, where)
        needs = _Rows(
            tuple(
                await select_columns(
                    "SELECT CAST(need.id AS BIGINT), CAST(need.household AS BIGINT),"
                    " CAST(need.item AS BIGINT), CAST(need.quantity AS BIGINT),"
                    " CAST(need.allocated AS BIGINT), CAST(need.weight AS DOUBLE PRECISION)"
                    " FROM need JOIN household ON household.id = need.household"
                    " JOIN region ON region.id = household.region"
                    f"{_WHERE} AND need.quantity > need.allocated",
                    *where,
                    types=("bigint", "bigint", "bigint", "bigint", "bigint", "float8"),
                )
            )
        )
        households = await _late_kinds(kinds_of_household, households)
        items = {int(row["id"]): str(row["code"]) for row in await Item.select(Item.id, Item.code)}
        regions = {
            int(row["id"]): str(row["code"])
            for row in await Region.select(Region.id, Region.code).where(
                Region.code.like(region_prefix + "%")
            )
        }
        if item_codes:
            chosen = [item for item, code in items.items() if code in set(item_codes)]
            needs = needs.take(np.isin(needs[2], chosen))
        households, needs, need_household = _joined(households, needs)
        wanted = sorted({items[item] for item in np.unique(needs[2]).tolist()})
        stock: list[ledger.StockRecord] = []
        if len(households[0]):
            reach = ledger.Reach(
                south=float(households[1].min()),
                north=float(households[1].max()),
                west=float(households[2].min()),
                east=float(households[2].max()),
            )
            stock = await ledger.open_stock(item_codes=wanted, reach=reach)
        excluded = await exclusions.rejected_pairs(region_prefix=region_prefix)
    return _columns(
        households, needs, need_household, kinds_of_household, items, regions, stock, excluded
    )


async def _kinds_of_household(where: tuple[Any, ...]) -> list[tuple[str, str]]:
    """The distinct (tags as JSON text, location source) pairs of the households."""
    rows = await engine().run_querystring(
        QueryString(
            f"SELECT DISTINCT {_TAGS} AS tags, household.location_source AS source{_FROM}{_WHERE}",
            *where,
        )
    )
    return [(str(row["tags"]), str(row["source"])) for row in rows]


async def _households(
    kinds_of_household: Sequence[tuple[str, str]], where: tuple[Any, ...]
) -> _Rows:
    """id, lat, lon, region id and kind (the index of its (tags, source) pair; -1: not read)."""
    if not kinds_of_household:  # no household at the first read: none in this snapshot
        return _Rows(
            tuple(
                np.zeros(0, kind) for kind in (np.int64, np.float64, np.float64, np.int64, np.int64)
            )
        )
    pairs = list(kinds_of_household)
    known = ", ".join("({}, {}, " + str(code) + ")" for code in range(len(pairs)))
    columns = await select_columns(
        f"WITH kinds(tags, source, code) AS (VALUES {known})"
        " SELECT CAST(household.id AS BIGINT), CAST(household.lat AS DOUBLE PRECISION),"
        " CAST(household.lon AS DOUBLE PRECISION), CAST(household.region AS BIGINT),"
        " CAST(COALESCE(kinds.code, -1) AS BIGINT)"
        f"{_FROM} LEFT JOIN kinds ON kinds.tags = {_TAGS}"
        f" AND kinds.source = household.location_source{_WHERE}",
        *(value for pair in pairs for value in pair),
        *where,
        types=("bigint", "float8", "float8", "bigint", "bigint"),
    )
    return _Rows(tuple(columns))


async def _late_kinds(kinds_of_household: list[tuple[str, str]], households: _Rows) -> _Rows:
    """Households whose (tags, source) pair was not read before theirs get it read by id."""
    late = np.flatnonzero(households[4] < 0)
    if not len(late):
        return households
    kind = households[4].copy()
    code = {pair: index for index, pair in enumerate(kinds_of_household)}
    for start in range(0, len(late), 500):
        ids = households[0][late[start : start + 500]].tolist()
        rows = await engine().run_querystring(
            QueryString(
                f"SELECT household.id AS id, {_TAGS} AS tags, household.location_source AS source"
                f" FROM household WHERE household.id IN ({', '.join('{}' for _ in ids)})",
                *ids,
            )
        )
        for row in rows:
            pair = (str(row["tags"]), str(row["source"]))
            if pair not in code:
                code[pair] = len(kinds_of_household)
                kinds_of_household.append(pair)
            kind[np.flatnonzero(households[0] == int(row["id"]))] = code[pair]
    return _Rows((*households.columns[:4], kind))


def _joined(households: _Rows, needs: _Rows) -> tuple[_Rows, _Rows, IntArray]:
    """Households (by id) with at least one need, their needs (by household, then id) and the
    household of each need (an index)."""
    households = households.take(np.argsort(households[0], kind="stable"))
    needs = needs.take(np.lexsort((needs[0], needs[1])))
    ids = households[0]
    at = np.minimum(np.searchsorted(ids, needs[1]), max(len(ids) - 1, 0))
    found = ids[at] == needs[1] if len(ids) else np.zeros(len(at), dtype=np.bool_)
    needs, at = needs.take(found), at[found]
    has = np.zeros(len(ids), dtype=np.bool_)
    has[at] = True
    return households.take(has), needs, (np.cumsum(has) - 1)[at]


def _columns(
    households: _Rows,
    needs: _Rows,
    need_household: IntArray,
    kinds_of_household: Sequence[tuple[str, str]],
    items: dict[int, str],
    regions: dict[int, str],
    stock: Sequence[ledger.StockRecord],
    excluded: frozenset[tuple[int, int]],
) -> RoundColumns:
    household_id, lat, lon, region, kind = households.columns
    need_id, _, need_item, quantity, allocated, weight = needs.columns
    n_h = len(household_id)

    item_ids = np.unique(need_item)
    kinds = tuple(sorted(items[item] for item in item_ids.tolist()))
    kind_code = {code: index for index, code in enumerate(kinds)}
    by_item = np.array([kind_code[items[item]] for item in item_ids.tolist()], dtype=np.int64)
    need_kind = by_item[np.searchsorted(item_ids, need_item)]

    offers = [offer for offer in stock if offer.item_code in kind_code]
    extra_households, extra_tags, requires = _exclusions(
        offers, excluded, household_id, lat, lon, need_household, need_kind, kind_code
    )

    used, kind_of = np.unique(kind, return_inverse=True)
    tag_sets = [
        frozenset(str(tag) for tag in json.loads(kinds_of_household[k][0]) or ())
        for k in used.tolist()
    ]
    tags = tuple(sorted(set().union(*tag_sets, extra_tags, *(set(r) for r in requires))))
    tag_code = {tag: index for index, tag in enumerate(tags)}
    household_tags_start, household_tags = _household_tags(
        [sorted(tag_code[t] for t in tag_set) for tag_set in tag_sets],
        kind_of.reshape(-1),
        extra_households,
        [tag_code[t] for t in extra_tags],
        len(tags),
    )

    sources = tuple(sorted({kinds_of_household[k][1] for k in used.tolist()}))
    source_of_kind = np.array(
        [sources.index(kinds_of_household[k][1]) for k in used.tolist()], dtype=np.int64
    )
    region_ids, region_of = np.unique(region, return_inverse=True)
    codes = [regions[r] for r in region_ids.tolist()]
    ordered = tuple(sorted(codes))
    rank = np.array([ordered.index(code) for code in codes], dtype=np.int64)

    unmet = quantity - allocated
    weights_start = np.zeros(len(unmet) + 1, dtype=np.int64)
    np.cumsum(unmet, out=weights_start[1:])
    unit = np.arange(weights_start[-1], dtype=np.int64) - np.repeat(weights_start[:-1], unmet)
    power = unit + np.repeat(allocated, unmet)
    decays = np.array(
        [UNIT_DECAY**n for n in range(int(power.max()) + 1 if len(power) else 0)],
        dtype=np.float64,
    )
    requires_start = np.zeros(len(offers) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in requires], out=requires_start[1:])
    problem = matching.ArrayProblem(
        kinds=kinds,
        tags=tags,
        offer_id=tuple(str(offer.offer_id) for offer in offers),
        offer_kind=np.array([kind_code[o.item_code] for o in offers], dtype=np.int64),
        offer_quantity=np.array([o.available for o in offers], dtype=np.int64),
        offer_lat=np.array([o.lat for o in offers], dtype=np.float64),
        offer_lon=np.array([o.lon for o in offers], dtype=np.float64),
        offer_radius_km=np.array([o.radius_km for o in offers], dtype=np.float64),
        offer_requires_start=requires_start,
        offer_requires=np.array([tag_code[t] for r in requires for t in r], dtype=np.int64),
        household_id=tuple(map(str, household_id.tolist())),
        household_lat=lat,
        household_lon=lon,
        household_tags_start=household_tags_start,
        household_tags=household_tags,
        need_household=need_household.astype(np.int64),
        need_kind=need_kind,
        need_quantity=unmet,
        need_weights_start=weights_start,
        need_weights=np.repeat(weight, unmet) * decays[power],
        regions=ordered,
        household_region=rank[region_of.reshape(-1)] if n_h else None,
    )
    return RoundColumns(
        problem=problem,
        offer_key=np.array([offer.offer_id for offer in offers], dtype=np.int64),
        household_key=household_id,
        need_key=need_id,
        sources=sources,
        household_source=source_of_kind[kind_of.reshape(-1)],
        offers=len(stock),
    )


def _exclusions(
    offers: Sequence[ledger.StockRecord],
    excluded: frozenset[tuple[int, int]],
    household_id: IntArray,
    lat: FloatArray,
    lon: FloatArray,
    need_household: IntArray,
    need_kind: IntArray,
    kind_code: dict[str, int],
) -> tuple[list[IntArray], list[str], list[tuple[str, ...]]]:
    """:func:`nuanxin.rounds.exclusions.exclude` on columns: the households that get each
    offer's tag, the tags, and each offer's requirements with its own tag."""
    refused: dict[int, set[int]] = defaultdict(set)
    for household_key, offer_key in excluded:
        refused[offer_key].add(household_key)
    extra_households: list[IntArray] = []
    extra_tags: list[str] = []
    requires: list[tuple[str, ...]] = []
    for offer in offers:
        if offer.offer_id not in refused:
            requires.append(tuple(offer.requires))
            continue
        tag = f"{exclusions.TAG_PREFIX}{offer.offer_id}"
        requires.append((*offer.requires, tag))
        wanting = np.zeros(len(household_id), dtype=np.bool_)
        wanting[need_household[need_kind == kind_code[offer.item_code]]] = True
        reach = wanting & ~np.isin(household_id, sorted(refused[offer.offer_id]))
        reach &= great_circle_km(offer.lat, offer.lon, lat, lon) <= offer.radius_km
        extra_households.append(np.flatnonzero(reach))
        extra_tags.append(tag)
    return extra_households, extra_tags, requires


def _household_tags(
    tag_sets: Sequence[Sequence[int]],
    kind_of: IntArray,
    extra_households: Sequence[IntArray],
    extra_tags: Sequence[int],
    n_tags: int,
) -> tuple[IntArray, IntArray]:
    """Each household's tag codes (CSR, ascending): its kind's, and the exclusions' it gets."""
    set_length = np.array([len(s) for s in tag_sets], dtype=np.int64)
    set_start = np.zeros(len(tag_sets) + 1, dtype=np.int64)
    np.cumsum(set_length, out=set_start[1:])
    flat = np.array([tag for s in tag_sets for tag in s], dtype=np.int64)
    length = set_length[kind_of] if len(kind_of) else np.zeros(0, np.int64)
    start = np.zeros(len(kind_of) + 1, dtype=np.int64)
    np.cumsum(length, out=start[1:])
    at = np.repeat(set_start[:-1][kind_of] - start[:-1], length) + np.arange(start[-1])
    tags = flat[at] if len(at) else np.zeros(0, np.int64)
    if not extra_households:
        return start, tags
    owner = np.concatenate([np.repeat(np.arange(len(kind_of)), length), *extra_households])
    tag = np.concatenate(
        [
            tags,
            *(
                np.full(len(h), t, np.int64)
                for h, t in zip(extra_households, extra_tags, strict=True)
            ),
        ]
    )
    pairs = np.unique(owner * n_tags + tag)
    start = np.zeros(len(kind_of) + 1, dtype=np.int64)
    np.cumsum(np.bincount(pairs // n_tags, minlength=len(kind_of)), out=start[1:])
    return start, pairs % n_tags
