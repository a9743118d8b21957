"""The configured geocoder: offline by default, or an online provider of geopy's, cached.

``GEOCODER`` (``Settings.geocoder``) selects it:

* ``offline`` (default): :class:`~nuanxin.regions.geocoder.OfflineGeocoder`, nothing leaves
  the machine, no cache needed (it answers in microseconds).
* ``baidu``: geopy's ``BaiduV3`` with ``BAIDU_AK``. Baidu's geocoding API v3 answers in
  **BD-09** (``ret_coordtype`` defaults to ``bd09ll`` and geopy does not set it): the point is
  converted to WGS-84 with :func:`~nuanxin.regions.coords.bd09_to_wgs84`.
* ``nominatim``: geopy's ``Nominatim`` with ``NOMINATIM_USER_AGENT`` (OpenStreetMap data is
  WGS-84: no conversion). Its usage policy allows one request a second.

Online providers are wrapped in geopy's ``RateLimiter`` (``GEOCODER_MIN_DELAY_SECONDS``
between calls, two retries on service errors, errors not swallowed) and run in a worker thread
(geopy's adapters are synchronous). Every answer, "nothing found" included, is kept in the
``geocode_cache`` table keyed by (provider, normalised query), so an address is asked once;
the cache holds the WGS-84 point, and the provider's own answer under ``response``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import BaiduV3, Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from geopy.point import Point

from nuanxin.db import atomic
from nuanxin.regions.coords import bd09_to_wgs84
from nuanxin.regions.gazetteer import Gazetteer
from nuanxin.regions.geocoder import OfflineGeocoder, normalise_address
from nuanxin.regions.tables import GeocodeCache
from nuanxin.settings import Settings

__all__ = ("DATUMS", "AddressGeocoder", "build_geocoder")

DATUMS = {"offline": "wgs84", "baidu": "bd09ll", "nominatim": "wgs84"}
"""The datum each provider answers in."""
_QUERY_LENGTH = 300  # GeocodeCache.query


def build_geocoder(
    settings: Settings,
    *,
    gazetteer: Gazetteer | None = None,
    adapter_factory: Callable[..., Any] | None = None,
) -> Geocoder:
    """The bare geopy geocoder that ``settings.geocoder`` names (no rate limit, no cache)."""
    if settings.geocoder == "offline":
        return OfflineGeocoder(gazetteer)
    if settings.geocoder == "baidu":
        return BaiduV3(
            api_key=settings.baidu_ak,
            user_agent=settings.nominatim_user_agent,
            adapter_factory=adapter_factory,
        )
    if settings.geocoder == "nominatim":
        return Nominatim(user_agent=settings.nominatim_user_agent, adapter_factory=adapter_factory)
    raise ValueError(f"unknown geocoder {settings.geocoder!r}")


class AddressGeocoder:
    """The platform's geocoder: ``await AddressGeocoder(settings).geocode("呼兰区")``.

    Answers a geopy ``Location`` with a WGS-84 point, or ``None`` when an online provider
    finds nothing; the offline geocoder raises its ``AddressError`` subclasses instead.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        geocoder: Geocoder | None = None,
        gazetteer: Gazetteer | None = None,
    ) -> None:
        self.provider = settings.geocoder
        self.geocoder = geocoder or build_geocoder(settings, gazetteer=gazetteer)
        self._ask: Callable[[str], Any] = RateLimiter(
            self.geocoder.geocode,
            min_delay_seconds=settings.geocoder_min_delay_seconds,
            max_retries=2,
            swallow_exceptions=False,
        )

    async def geocode(self, query: str) -> Location | None:
        if isinstance(self.geocoder, OfflineGeocoder):
            found = self.geocoder.geocode(query)
            assert isinstance(found, Location)
            return found
        key = normalise_address(query)[:_QUERY_LENGTH]
        cached = (
            await GeocodeCache.select()
            .where((GeocodeCache.provider == self.provider) & (GeocodeCache.query == key))
            .first()
            .run()
        )
        if cached is not None:
            return _from_cache(cached)
        answer = await asyncio.to_thread(self._ask, key)
        location = self._to_wgs84(answer)
        await self._remember(key, location)
        return location

    def _to_wgs84(self, answer: Location | None) -> Location | None:
        if answer is None:
            return None
        lat, lon = float(answer.latitude), float(answer.longitude)
        if DATUMS[self.provider] == "bd09ll":
            lat, lon = bd09_to_wgs84(lat, lon)
        raw = {
            "provider": self.provider,
            "datum": DATUMS[self.provider],
            "provider_point": [float(answer.latitude), float(answer.longitude)],
            "answer": answer.raw,
        }
        return Location(answer.address or "", Point(lat, lon), raw)

    async def _remember(self, key: str, location: Location | None) -> None:
        row = GeocodeCache(
            provider=self.provider,
            query=key,
            lat=None if location is None else location.latitude,
            lon=None if location is None else location.longitude,
            response={} if location is None else {"address": location.address, **location.raw},
            created_at=datetime.now(UTC),
        )
        async with atomic():
            await GeocodeCache.insert(row).on_conflict(action="DO NOTHING").run()


def _from_cache(row: dict[str, Any]) -> Location | None:
    if row["lat"] is None or row["lon"] is None:
        return None
    raw = row["response"]
    if isinstance(raw, str):  # Piccolo hands JSON columns back as text
        raw = json.loads(raw)
    raw = {**raw, "cached": True}
    return Location(str(raw.get("address", "")), Point(row["lat"], row["lon"]), raw)
