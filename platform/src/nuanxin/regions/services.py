"""Regions in the database: loading the gazetteer, and the lookups other areas need.

:func:`load_regions` upserts every division of the gazetteer into the ``region`` table, level
by level (parents first, so each row can point at its parent's id), in batches, in one
transaction. It is keyed on the official code: a second run updates rows in place and adds
none.

"A region and everything under it" is a code prefix: a province's divisions share its first
2 digits, a prefecture's its first 4, a county's its 6 (townships have 9). The gazetteer holds
to this without exception (``tests/nuanxin/regions`` checks it), so :func:`subtree_prefix`
and :func:`within` answer jurisdiction questions without walking the tree, and
:func:`descendant_ids` is one indexed ``LIKE`` query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.query import OrderByRaw

from nuanxin.db import atomic
from nuanxin.errors import Invalid
from nuanxin.identity import PREFIX_LENGTH, subtree_prefix
from nuanxin.regions.gazetteer import LEVELS, Division, Gazetteer, Level, load_gazetteer
from nuanxin.regions.tables import Region

__all__ = (
    "PREFIX_LENGTH",
    "RegionRecord",
    "children_of",
    "descendant_ids",
    "find_regions",
    "get_region",
    "get_region_by_id",
    "load_regions",
    "region_ids",
    "region_named",
    "resolve_region",
    "search_regions",
    "subtree_prefix",
    "subtree_where",
    "within",
)

"""How many leading digits of a code a division shares with everything under it."""

_BATCH = 500
_UPDATED = (Region.name, Region.full_name, Region.level, Region.parent, Region.lat, Region.lon)


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionRecord:
    """A region row as services hand it around (never the Piccolo row itself)."""

    id: int
    code: str
    name: str
    full_name: str
    level: Level
    parent_id: int | None
    lat: float
    lon: float


def within(code: str, ancestor_code: str, ancestor_level: str) -> bool:
    """Whether the division ``code`` is ``ancestor_code`` or lies under it."""
    return code.startswith(subtree_prefix(ancestor_code, ancestor_level))


async def load_regions(*, gazetteer: Gazetteer | None = None, batch_size: int = _BATCH) -> int:
    """Upsert every division of the gazetteer; returns how many it holds.

    Idempotent: rows are matched on ``code``; unchanged rows are left alone, changed ones
    (name, full name, level, parent, point) updated in place, so a second run writes nothing
    and a run after the fixture was refreshed adds nothing twice.
    """
    divisions = gazetteer if gazetteer is not None else load_gazetteer()
    async with atomic():
        existing = {
            str(row["code"]): row
            for row in await Region.select(Region.id, Region.code, *_UPDATED).run()
        }
        ids: dict[str, int] = {}
        for level in LEVELS:
            changed: list[Division] = []
            for division in (d for d in divisions if d.level == level):
                row = existing.get(division.code)
                if row is not None and _same(row, division, ids):
                    ids[division.code] = int(row["id"])
                else:
                    changed.append(division)
            for start in range(0, len(changed), batch_size):
                ids.update(await _upsert(changed[start : start + batch_size], ids))
    return len(ids)


def _same(row: dict[str, Any], division: Division, ids: dict[str, int]) -> bool:
    parent = None if division.parent is None else ids[division.parent]
    return bool(
        row["name"] == division.name
        and row["full_name"] == division.full_name
        and row["level"] == division.level
        and row["parent"] == parent
        and row["lat"] == division.lat
        and row["lon"] == division.lon
    )


async def _upsert(batch: Sequence[Division], ids: dict[str, int]) -> dict[str, int]:
    rows = [
        Region(
            code=d.code,
            name=d.name,
            full_name=d.full_name,
            level=d.level,
            parent=None if d.parent is None else ids[d.parent],
            lat=d.lat,
            lon=d.lon,
        )
        for d in batch
    ]
    answer = (
        await Region.insert(*rows)
        .on_conflict(
            target=Region.code,
            action="DO UPDATE",
            values=_UPDATED,
        )
        .returning(Region.id, Region.code)
        .run()
    )
    return {str(row["code"]): int(row["id"]) for row in answer}


def _record(row: dict[str, object]) -> RegionRecord:
    parent = row["parent"]
    return RegionRecord(
        id=int(str(row["id"])),
        code=str(row["code"]),
        name=str(row["name"]),
        full_name=str(row["full_name"]),
        level=str(row["level"]),  # type: ignore[arg-type]
        parent_id=None if parent is None else int(str(parent)),
        lat=float(str(row["lat"])),
        lon=float(str(row["lon"])),
    )


async def get_region(code: str) -> RegionRecord | None:
    """The region with this official code, if loaded."""
    row = await Region.select().where(Region.code == code).first().run()
    return None if row is None else _record(row)


async def region_ids(codes: Sequence[str]) -> dict[str, int]:
    """The ids of the loaded regions among ``codes`` (missing codes are left out)."""
    found: dict[str, int] = {}
    wanted = sorted(set(codes))
    for start in range(0, len(wanted), 1000):  # under both engines' parameter limits
        rows = (
            await Region.select(Region.id, Region.code)
            .where(Region.code.is_in(wanted[start : start + 1000]))
            .run()
        )
        found.update({str(row["code"]): int(row["id"]) for row in rows})
    return found


async def region_named(
    code: str, *, field: str, levels: Sequence[str] | None = None
) -> RegionRecord:
    """The region with this code, for an input ``field``; 400 if unknown or of another level."""
    region = await get_region(code)
    if region is None:
        raise Invalid(f"No region has the code {code}", field=field)
    if levels is not None and region.level not in levels:
        raise Invalid(f"Pick a {' or '.join(levels)}, not a {region.level}", field=field)
    return region


async def subtree_where(code: str, region_code_column: Any) -> Any:
    """A ``where`` keeping rows in the region ``code`` and below it (nothing if unknown)."""
    region = await get_region(code)
    prefix = "-" if region is None else subtree_prefix(region.code, region.level)
    return region_code_column.like(prefix + "%")


async def get_region_by_id(region_id: int) -> RegionRecord | None:
    row = await Region.select().where(Region.id == region_id).first().run()
    return None if row is None else _record(row)


async def children_of(code: str | None) -> list[RegionRecord]:
    """The regions directly under ``code`` (the provinces for ``None``), by code."""
    query = Region.select()
    if code is None:
        query = query.where(Region.parent.is_null())
    else:
        parent = await Region.select(Region.id).where(Region.code == code).first().run()
        if parent is None:
            return []
        query = query.where(Region.parent == parent["id"])
    return [_record(row) for row in await query.order_by(Region.code).run()]


async def descendant_ids(code: str, *, include_self: bool = True) -> list[int]:
    """Ids of the region ``code`` and everything under it (one ``LIKE`` on the code)."""
    region = await get_region(code)
    if region is None:
        return []
    prefix = subtree_prefix(region.code, region.level)
    query = Region.select(Region.id).where(Region.code.like(prefix + "%"))
    if not include_self:
        query = query.where(Region.id != region.id)
    return [int(row["id"]) for row in await query.run()]


SEARCH_LIMIT = 20


def _search_query(levels: Sequence[str], within: str | None) -> Any:
    query = Region.select().where(Region.level.is_in(list(levels)))
    if within:
        query = query.where(Region.code.like(within + "%"))
    return query


async def search_regions(
    text: str,
    *,
    levels: Sequence[str] = ("county", "township"),
    within: str | None = None,
    limit: int = SEARCH_LIMIT,
) -> list[RegionRecord]:
    """Regions of these levels whose name holds ``text`` (a code prefix when it is digits),
    under the code prefix ``within`` when given: exact names first, then by code."""
    text = text.strip()
    if not text:
        return []
    query = _search_query(levels, within)
    if text.isdigit():
        query = query.where(Region.code.like(text + "%"))
    else:
        query = query.where(Region.full_name.like("%" + text + "%"))
    rows = await query.order_by(Region.code).limit(limit * 5).run()
    found = [_record(row) for row in rows]
    found.sort(key=lambda r: (r.name != text and r.full_name != text, len(r.full_name), r.code))
    return found[:limit]


async def resolve_region(
    text: str,
    *,
    field: str,
    levels: Sequence[str] = ("county", "township"),
    within: str | None = None,
) -> RegionRecord:
    """The one region a form's ``text`` names: its code, its full name (as the list offers it),
    a name or part of a name no other region of these levels bears. 400 on ``field``
    otherwise, with the candidates to pick from."""
    text = text.strip()
    if not text:
        raise Invalid("Pick a region from the list", field=field, message_id="region_missing")
    if text.isdigit():
        region = await get_region(text)
        matches = [] if region is None or region.level not in levels else [region]
    else:
        query = _search_query(levels, within)
        rows = await query.where((Region.full_name == text) | (Region.name == text)).run()
        matches = [_record(row) for row in rows]
        exact = [r for r in matches if r.full_name == text]
        matches = exact or matches
        if not matches:  # part of a name, as typed without the list: one region bears it
            matches = await search_regions(text, levels=levels, within=within, limit=6)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise Invalid(
            f"No region is called {text}",
            field=field,
            message_id="region_unknown",
            params={"name": text},
        )
    names = "、".join(r.full_name for r in matches[:5])
    raise Invalid(
        f"Several regions are called {text}: {names}",
        field=field,
        message_id="region_ambiguous",
        params={"name": text, "names": names},
    )


_LIKE_SPECIALS = str.maketrans("", "", "%_\\")


async def find_regions(
    *, query: str, levels: Sequence[str] = (), limit: int, offset: int
) -> tuple[list[RegionRecord], int]:
    """Regions whose name, full name or code contains ``query`` (a page, and the total).

    Shortest names first (呼兰 finds 呼兰区 before 呼兰街道), then by code. ``levels``
    narrows to those levels. LIKE's wildcards in the query are taken out: no division's
    name or code has them.
    """
    text = query.strip().translate(_LIKE_SPECIALS)
    if not text:
        raise Invalid("Say what to look for", field="q")
    where: Any = (
        Region.name.like(f"%{text}%")
        | Region.full_name.like(f"%{text}%")
        | Region.code.like(f"{text}%")
    )
    if levels:
        where = where & Region.level.is_in(list(levels))
    rows = (
        await Region.select()
        .where(where)
        .order_by(OrderByRaw("length(name)"))
        .order_by(Region.code)
        .limit(limit)
        .offset(offset)
        .run()
    )
    total = await Region.count().where(where).run()
    return [_record(row) for row in rows], total
