"""An offline geopy geocoder for Chinese addresses, answering from the gazetteer.

``OfflineGeocoder().geocode("黑龙江省哈尔滨市呼兰区康金街道")`` returns a geopy ``Location`` at
the most specific division the address names, whose ``raw`` carries ``code``, ``level``,
``name``, ``full_name``, ``parent`` and ``coord_source``. It never guesses:

* an address whose leading names fit no division raises :class:`UnknownAddressError`;
* one that fits several divisions equally well (朝阳区: Beijing's and Changchun's) raises
  :class:`AmbiguousAddressError` with the candidates (``exactly_one=False`` returns them instead);
* one whose next name lies outside what came before (辽宁省朝阳区) raises
  :class:`ConflictingAddressError`.

How an address is read: after normalising (NFKC, no spaces or punctuation, no leading 中国 or
postcode) it must start with a division's name; each following name, written right after the
previous one, must lie under it (levels may be skipped: 黑龙江呼兰区). Of all such readings the
ones that read furthest into the text win; if one winner contains all the others (辽宁朝阳:
朝阳市 and its 朝阳县) it is the answer, otherwise the address is ambiguous. The rest of the text
(street, village, house number) is ignored. A short form (呼兰) followed by a suffix
(路, 街, 村, 区, 县 …) is read as another name (呼兰路, 辽宁省朝阳区), never as the division.
Point coordinates are WGS-84.

``reverse(point)`` answers the county-level unit whose seat is nearest by great-circle distance
(the one distance of :mod:`matching.geo`), within :data:`MAX_REVERSE_KM`. Near a county border
the nearest seat may belong to the neighbour: the gazetteer has points, not boundaries.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from geopy.adapters import BaseSyncAdapter
from geopy.exc import GeocoderQueryError, GeocoderServiceError
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location
from geopy.point import Point
from scipy.spatial import cKDTree

from matching.geo import chord_for_km, great_circle_km, unit_vectors
from nuanxin.regions.gazetteer import Division, Gazetteer, load_gazetteer

__all__ = (
    "MAX_REVERSE_KM",
    "AddressError",
    "AmbiguousAddressError",
    "ConflictingAddressError",
    "OfflineGeocoder",
    "UnknownAddressError",
    "location_of",
    "normalise_address",
)

MAX_REVERSE_KM = 300.0
"""A point farther than this from every county seat is outside the gazetteer."""

_NOISE = re.compile(r"[\s,，、.。;；:：\-—_·()（）\[\]【】\"'“”‘’#/\\|]+")
_PREFIX = re.compile(r"^(中华人民共和国|中国)?\d*")
_NOT_AFTER_SHORT = (*"省市区县旗州盟镇乡村屯路街道巷弄号", "胡同")
"""After a short form (呼兰), these mean the text names something else: 呼兰路, 朝阳区."""


class AddressError(GeocoderQueryError):  # type: ignore[misc]
    """The offline geocoder will not place this address; ``candidates`` are what it saw."""

    def __init__(self, message: str, *, query: str, candidates: Sequence[Division] = ()) -> None:
        super().__init__(message)
        self.query = query
        self.candidates = tuple(candidates)


class UnknownAddressError(AddressError):
    """The address does not start with the name of any division."""


class AmbiguousAddressError(AddressError):
    """The address fits several divisions equally well; ``candidates`` lists them."""


class ConflictingAddressError(AddressError):
    """The address names a division that does not lie under the one before it."""


def normalise_address(query: str) -> str:
    """NFKC, no whitespace or punctuation, no leading 中国 or postcode."""
    text = _NOISE.sub("", unicodedata.normalize("NFKC", query))
    return _PREFIX.sub("", text)


def location_of(division: Division) -> Location:
    """A geopy ``Location`` for a division, with the division in ``raw``."""
    raw = {
        "code": division.code,
        "level": division.level,
        "name": division.name,
        "full_name": division.full_name,
        "parent": division.parent,
        "coord_source": division.coord_source,
    }
    return Location(division.full_name, Point(division.lat, division.lon), raw)


@dataclass(frozen=True, slots=True)
class _Reading:
    end: int
    codes: tuple[str, ...]


class _NoNetwork(BaseSyncAdapter):  # type: ignore[misc]
    """The offline geocoder's adapter: any attempt to reach a network is a bug."""

    def __init__(self, *, proxies: Any, ssl_context: Any) -> None:
        super().__init__(proxies=proxies, ssl_context=ssl_context)

    def get_json(self, url: str, *, timeout: Any, headers: Any) -> Any:
        raise GeocoderServiceError(f"the offline geocoder does not fetch {url}")

    def get_text(self, url: str, *, timeout: Any, headers: Any) -> str:
        raise GeocoderServiceError(f"the offline geocoder does not fetch {url}")


class OfflineGeocoder(Geocoder):  # type: ignore[misc]
    """A geopy geocoder that reads Chinese addresses against the gazetteer, offline."""

    def __init__(self, gazetteer: Gazetteer | None = None) -> None:
        super().__init__(user_agent="nuanxin-offline", adapter_factory=_NoNetwork)
        self.gazetteer = gazetteer if gazetteer is not None else load_gazetteer()
        seats = [d for d in self.gazetteer if d.level == "county" or self._is_leaf_above(d)]
        self._seats = tuple(seats)
        lat = np.array([d.lat for d in seats])
        lon = np.array([d.lon for d in seats])
        self._tree = cKDTree(unit_vectors(lat, lon))

    def _is_leaf_above(self, division: Division) -> bool:
        """A city or province with no county under it (东莞市, 香港) stands for a county."""
        if division.level not in ("province", "city"):
            return False
        kids = self.gazetteer.children.get(division.code, ())
        return all(self.gazetteer.by_code[kid].level == "township" for kid in kids)

    # -- forward ------------------------------------------------------------------------------

    def geocode(
        self, query: str, *, exactly_one: bool = True, timeout: Any = DEFAULT_SENTINEL
    ) -> Location | list[Location]:
        """The division the address names (see the module docstring for the rules).

        With ``exactly_one=False`` an ambiguous address returns every candidate instead of
        raising :class:`AmbiguousAddressError`.
        """
        try:
            return location_of(self.resolve(query))
        except AmbiguousAddressError as ambiguous:
            if exactly_one:
                raise
            return [location_of(candidate) for candidate in ambiguous.candidates]

    def resolve(self, query: str) -> Division:
        """The division the address names, or an :class:`AddressError`."""
        text = normalise_address(query)
        readings = self._readings(text, 0, ())
        if not readings:
            raise UnknownAddressError(f"no division's name starts {query!r}", query=query)
        furthest = max(reading.end for reading in readings)
        best = [reading for reading in readings if reading.end == furthest]
        ends = list(dict.fromkeys(reading.codes[-1] for reading in best))
        answer = self._containing_all(ends)
        if answer is None:
            candidates = [self.gazetteer.by_code[code] for code in ends]
            names = "、".join(candidate.full_name for candidate in candidates[:5])
            if len(candidates) > 5:
                names += f" … ({len(candidates)} in all)"
            raise AmbiguousAddressError(
                f"{query!r} could be any of {names}", query=query, candidates=candidates
            )
        self._check_rest(query, text[furthest:], answer)
        return self.gazetteer.by_code[answer]

    def _readings(self, text: str, start: int, path: tuple[str, ...]) -> list[_Reading]:
        """Every reading of ``text[start:]`` as names under ``path[-1]``; maximal ones only."""
        found: list[_Reading] = []
        above = path[-1] if path else None
        limit = min(len(text), start + self.gazetteer.longest_alias)
        for stop in range(limit, start + 1, -1):
            form = text[start:stop]
            codes = self.gazetteer.aliases.get(form)
            if not codes:
                continue
            if form not in self.gazetteer.full_names and text.startswith(_NOT_AFTER_SHORT, stop):
                continue
            for code in codes:
                if code in path or (
                    above is not None and not self.gazetteer.is_within(code, above)
                ):
                    continue
                found.extend(self._readings(text, stop, (*path, code)))
        if not found and path:
            found.append(_Reading(end=start, codes=path))
        return found

    def _containing_all(self, codes: list[str]) -> str | None:
        for code in codes:
            if all(self.gazetteer.is_within(other, code) for other in codes):
                return code
        return None

    def _check_rest(self, query: str, rest: str, answer: str) -> None:
        """Refuse an address that goes on to name a county or more outside the answer."""
        for stop in range(min(len(rest), self.gazetteer.longest_alias), 2, -1):
            form = rest[:stop]
            if form not in self.gazetteer.full_names:
                continue
            named = [
                self.gazetteer.by_code[code]
                for code in self.gazetteer.aliases[form]
                if self.gazetteer.by_code[code].level != "township"
            ]
            outside = [
                division
                for division in named
                if not self.gazetteer.is_within(answer, division.code)
                and not self.gazetteer.is_within(division.code, answer)
            ]
            if named and len(outside) == len(named):
                where = self.gazetteer.by_code[answer].full_name
                raise ConflictingAddressError(
                    f"{query!r} names {form}, which is not in {where}",
                    query=query,
                    candidates=[self.gazetteer.by_code[answer], *outside],
                )
            return

    # -- reverse ------------------------------------------------------------------------------

    def reverse(
        self, query: Any, *, exactly_one: bool = True, timeout: Any = DEFAULT_SENTINEL
    ) -> Location | list[Location]:
        """The county-level unit whose seat is nearest to the point (WGS-84)."""
        division = self.nearest_county(Point(query))
        location = location_of(division)
        return location if exactly_one else [location]

    def nearest_county(self, point: Point) -> Division:
        """The county-level unit whose seat is nearest, or :class:`UnknownAddressError`."""
        lat, lon = float(point.latitude), float(point.longitude)
        _, index = self._tree.query(unit_vectors(lat, lon), k=1)
        seat = self._seats[int(index)]
        distance = float(great_circle_km(lat, lon, seat.lat, seat.lon))
        if distance > MAX_REVERSE_KM:
            raise UnknownAddressError(
                f"({lat}, {lon}) is {distance:.0f} km from the nearest county seat",
                query=f"{lat},{lon}",
                candidates=[seat],
            )
        return seat

    def counties_within(self, point: Point, km: float) -> list[Division]:
        """County-level units whose seats lie within ``km`` of the point, nearest first."""
        lat, lon = float(point.latitude), float(point.longitude)
        indices = self._tree.query_ball_point(unit_vectors(lat, lon), float(chord_for_km(km)))
        seats = [self._seats[int(i)] for i in indices]
        return sorted(seats, key=lambda seat: float(great_circle_km(lat, lon, seat.lat, seat.lon)))
