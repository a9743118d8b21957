"""The maps' offline base: the approximate area of each county (or prefecture) around its seat.

No outline of China's counties with a licence that allows shipping it could be had from the
package registries this project uses (``fixtures/README.md``, "Map outlines", says what was
checked: the packages that carry polygons redistribute Amap, DataV or Tianditu data, none of
them under an open licence). So the base layer is drawn from the data we may use, the seats of
government in the gazetteer (adcode, CC BY 4.0):

* a unit's area is the set of places nearer its seat than any other seat of the same level (its
  Voronoi cell among all the country's seats of that level, so that a jurisdiction's edge is
  shaped by its neighbours outside it too);
* where no neighbour bounds it (a coast, the national border, a remote seat), the cell is cut to
  a disc around the seat whose radius grows with the distance to the nearest seats.

It is a picture of "which seat is nearest", not of legal boundaries: every map labels it as
approximate. Townships have no seat of their own in the gazetteer, so there is no township
layer. The computation is plane geometry in kilometres around each seat (equirectangular; the
error is far below what the approximation itself makes) and is cached per unit.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nuanxin.regions.gazetteer import Division, Gazetteer, Level, load_gazetteer

__all__ = ("MAX_AREAS", "Area", "Bounds", "areas_for", "cell")

#: Above this many units in view, the next level up is drawn instead (a province's ~100
#: counties are fine; a whole country's 2,800 are not).
MAX_AREAS = 400
#: The disc that bounds an open cell: a share of the largest distance to the nearest seat in
#: each of :data:`_SECTORS` directions, within limits per level (kilometres).
_REACH = 0.9
_SECTORS = 8
_RADIUS_KM: dict[Level, tuple[float, float]] = {
    "county": (6.0, 90.0),
    "city": (25.0, 250.0),
    "province": (80.0, 700.0),
}
_DISC_VERTICES = 48
_KM_PER_DEGREE_LAT = 110.574
_KM_PER_DEGREE_LON = 111.320
_GRID_DEGREES = 1.0
_DIGITS = 4  # about 10 m: far finer than the approximation

Point = tuple[float, float]  # (x, y) in km, or (lon, lat) in degrees


@dataclass(frozen=True, slots=True, kw_only=True)
class Bounds:
    """A box in WGS-84 degrees."""

    west: float
    south: float
    east: float
    north: float

    @classmethod
    def parse(cls, text: str) -> Bounds | None:
        """``"west,south,east,north"`` (as Leaflet's ``toBBoxString``), or None when malformed."""
        try:
            west, south, east, north = (float(part) for part in text.split(","))
        except ValueError:
            return None
        values = (west, south, east, north)
        if not all(math.isfinite(v) for v in values):
            return None
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            return None
        return cls(west=west, south=south, east=east, north=north)

    def padded(self, degrees: float) -> Bounds:
        return Bounds(
            west=self.west - degrees,
            south=self.south - degrees,
            east=self.east + degrees,
            north=self.north + degrees,
        )

    def contains(self, division: Division) -> bool:
        return self.west <= division.lon <= self.east and self.south <= division.lat <= self.north


@dataclass(frozen=True, slots=True, kw_only=True)
class Area:
    """One unit's approximate area: an outer ring of (lon, lat) points, closed."""

    code: str
    name: str
    level: Level
    lat: float
    lon: float
    ring: tuple[Point, ...]
    in_region: bool


class _Seats:
    """The distinct seats of one level, bucketed by whole degrees for neighbour look-ups."""

    def __init__(self, divisions: Iterable[Division]) -> None:
        self.grid: dict[tuple[int, int], list[Division]] = defaultdict(list)
        seen: set[tuple[float, float]] = set()
        for division in divisions:
            key = (round(division.lat, 5), round(division.lon, 5))
            if key in seen:  # a unit that only borrows its parent's point has no seat of its own
                continue
            seen.add(key)
            self.grid[self._cell(division.lat, division.lon)].append(division)

    @staticmethod
    def _cell(lat: float, lon: float) -> tuple[int, int]:
        return (math.floor(lat / _GRID_DEGREES), math.floor(lon / _GRID_DEGREES))

    def near(self, division: Division, km: float) -> list[Division]:
        rows = math.ceil(km / _KM_PER_DEGREE_LAT / _GRID_DEGREES)
        scale = max(math.cos(math.radians(division.lat)), 0.2)
        columns = math.ceil(km / (_KM_PER_DEGREE_LON * scale) / _GRID_DEGREES)
        row, column = self._cell(division.lat, division.lon)
        found: list[Division] = []
        for r in range(row - rows, row + rows + 1):
            for c in range(column - columns, column + columns + 1):
                found.extend(d for d in self.grid.get((r, c), ()) if d.code != division.code)
        return found


@functools.cache
def _seats(level: Level) -> _Seats:
    return _Seats(d for d in load_gazetteer() if d.level == level)


def _to_km(origin: Division, lat: float, lon: float) -> Point:
    scale = math.cos(math.radians(origin.lat))
    return (
        (lon - origin.lon) * _KM_PER_DEGREE_LON * scale,
        (lat - origin.lat) * _KM_PER_DEGREE_LAT,
    )


def _to_degrees(origin: Division, x: float, y: float) -> Point:
    scale = math.cos(math.radians(origin.lat))
    lon = origin.lon + x / (_KM_PER_DEGREE_LON * scale)
    lat = origin.lat + y / _KM_PER_DEGREE_LAT
    return (round(lon, _DIGITS), round(lat, _DIGITS))


def _clip(polygon: Sequence[Point], towards: Point) -> list[Point]:
    """The part of a convex polygon nearer the origin than ``towards`` (one Sutherland–Hodgman
    step against the perpendicular bisector of origin → towards)."""
    nx, ny = towards
    limit = (nx * nx + ny * ny) / 2.0

    def side(p: Point) -> float:
        return p[0] * nx + p[1] * ny - limit  # <= 0: on the origin's side

    kept: list[Point] = []
    for i, current in enumerate(polygon):
        previous = polygon[i - 1]
        s_current, s_previous = side(current), side(previous)
        if (s_current <= 0) != (s_previous <= 0):
            t = s_previous / (s_previous - s_current)
            kept.append(
                (
                    previous[0] + t * (current[0] - previous[0]),
                    previous[1] + t * (current[1] - previous[1]),
                )
            )
        if s_current <= 0:
            kept.append(current)
    return kept


def _radius(neighbours: Sequence[Point], smallest: float, largest: float) -> float:
    """How far an open side reaches: a share of the largest of the distances to the nearest
    seat in each of eight directions (so that a district at a city's edge, close to its sister
    districts on one side, still reaches the far counties on the other, and two neighbours'
    areas meet instead of leaving a gap between their discs)."""
    nearest: dict[int, float] = {}
    for x, y in neighbours:
        sector = int((math.atan2(y, x) + math.pi) / (2 * math.pi) * _SECTORS) % _SECTORS
        distance = math.hypot(x, y)
        nearest[sector] = min(nearest.get(sector, distance), distance)
    if len(nearest) < 2:
        return largest
    farthest = max(nearest.values())
    return min(max(_REACH * farthest, smallest), largest)


@functools.lru_cache(maxsize=8192)
def cell(code: str) -> tuple[Point, ...]:
    """The approximate area of a county, prefecture or province around its seat: a closed ring
    of (lon, lat) points; empty for a township or a unit without a seat of its own."""
    division = load_gazetteer().get(code)
    if division is None or division.level not in _RADIUS_KM:
        return ()
    smallest, largest = _RADIUS_KM[division.level]
    neighbours = [
        _to_km(division, other.lat, other.lon)
        for other in _seats(division.level).near(division, 2 * largest)
    ]
    neighbours = [p for p in neighbours if math.hypot(*p) > 1e-6]
    radius = _radius(neighbours, smallest, largest)
    polygon: list[Point] = [
        (
            radius * math.cos(2 * math.pi * i / _DISC_VERTICES),
            radius * math.sin(2 * math.pi * i / _DISC_VERTICES),
        )
        for i in range(_DISC_VERTICES)
    ]
    for point in sorted(neighbours, key=lambda p: math.hypot(*p)):
        if math.hypot(*point) > 2 * radius:
            break  # its bisector lies beyond the disc
        polygon = _clip(polygon, point)
        if len(polygon) < 3:
            return ()
    ring = [_to_degrees(division, x, y) for x, y in polygon]
    return (*ring, ring[0])


def _level_in_view(gazetteer: Gazetteer, bounds: Bounds) -> tuple[Level, list[Division]]:
    found: list[Division] = []
    for level in ("county", "city", "province"):
        found = [d for d in gazetteer if d.level == level and bounds.contains(d)]
        if len(found) <= MAX_AREAS:
            return level, found
    return "province", found


def areas_for(
    *,
    region: str | None = None,
    bounds: Bounds | None = None,
    gazetteer: Gazetteer | None = None,
) -> list[Area]:
    """The areas a map needs: the counties of a region (its prefecture's or province's counties,
    or a county's own area and its neighbours), and those whose seats lie in the map's box.

    A box wider than :data:`MAX_AREAS` counties shows prefectures, or provinces, instead.
    """
    gazetteer = gazetteer or load_gazetteer()
    chosen: dict[str, Division] = {}
    inside: set[str] = set()
    unit = gazetteer.get(region) if region else None
    if unit is not None and unit.level == "township":
        unit = gazetteer.county_of(unit.code)
    if unit is not None:
        if unit.level in ("county", "township"):
            members = [unit]
        else:
            members = [d for d in gazetteer.descendants(unit.code) if d.level == "county"]
            if len(members) > MAX_AREAS:
                members = [d for d in gazetteer.descendants(unit.code) if d.level == "city"]
        for division in members:
            chosen[division.code] = division
            inside.add(division.code)
        if unit.level == "county":  # a county alone says little: its neighbours frame it
            bounds = bounds or Bounds(
                west=unit.lon, south=unit.lat, east=unit.lon, north=unit.lat
            ).padded(0.5)
    if bounds is not None:
        level, found = _level_in_view(gazetteer, bounds.padded(0.8))
        if not chosen or level == "county" or unit is None:
            for division in found:
                chosen.setdefault(division.code, division)
    areas = []
    for division in chosen.values():
        ring = cell(division.code)
        if ring:
            areas.append(
                Area(
                    code=division.code,
                    name=division.name,
                    level=division.level,
                    lat=division.lat,
                    lon=division.lon,
                    ring=ring,
                    in_region=division.code in inside or unit is None,
                )
            )
    return sorted(areas, key=lambda a: a.code)
