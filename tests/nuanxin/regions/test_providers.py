"""The configured geocoder: offline by default; online answers converted to WGS-84 and cached.

The provider's web service is the one true external edge here: a handwritten geopy adapter
stands in for it and counts the requests it gets.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from geopy.adapters import BaseSyncAdapter
from geopy.distance import great_circle
from geopy.geocoders import BaiduV3, Nominatim

from nuanxin.regions.coords import wgs84_to_bd09
from nuanxin.regions.geocoder import AmbiguousAddressError, OfflineGeocoder
from nuanxin.regions.providers import AddressGeocoder, build_geocoder
from nuanxin.regions.tables import GeocodeCache
from nuanxin.settings import Settings

HULAN_WGS84 = (45.887580, 126.581966)


class FakeBaidu(BaseSyncAdapter):  # type: ignore[misc]
    """Answers like Baidu's geocoding API v3: BD-09 points, status 0."""

    requests: ClassVar[list[str]] = []

    def __init__(self, *, proxies: Any, ssl_context: Any) -> None:
        super().__init__(proxies=proxies, ssl_context=ssl_context)

    def get_json(self, url: str, *, timeout: Any, headers: Any) -> Any:
        address = parse_qs(urlsplit(url).query)["address"][0]
        FakeBaidu.requests.append(address)
        if "呼兰" not in address:
            return {"status": 0, "result": []}
        lat, lon = wgs84_to_bd09(*HULAN_WGS84)
        return {
            "status": 0,
            "result": {"location": {"lng": lon, "lat": lat}, "precise": 0, "level": "区县"},
        }

    def get_text(self, url: str, *, timeout: Any, headers: Any) -> str:
        raise AssertionError("Baidu answers JSON")


def _settings(**changes: Any) -> Settings:
    return dataclasses.replace(Settings.from_env(), **changes)


def test_the_default_is_the_offline_geocoder() -> None:
    assert isinstance(build_geocoder(_settings()), OfflineGeocoder)
    baidu = build_geocoder(_settings(geocoder="baidu", baidu_ak="ak"), adapter_factory=FakeBaidu)
    assert isinstance(baidu, BaiduV3)
    assert isinstance(build_geocoder(_settings(geocoder="nominatim")), Nominatim)


async def test_offline_answers_directly_and_refuses_ambiguity() -> None:
    geocoder = AddressGeocoder(_settings())
    found = await geocoder.geocode("哈尔滨呼兰区")
    assert found is not None
    assert found.raw["code"] == "230111"
    with pytest.raises(AmbiguousAddressError):
        await geocoder.geocode("朝阳区")


async def test_baidu_answers_are_converted_from_bd09_and_asked_once(db: None) -> None:
    FakeBaidu.requests = []
    settings = _settings(geocoder="baidu", baidu_ak="ak", geocoder_min_delay_seconds=0.0)
    baidu = build_geocoder(settings, adapter_factory=FakeBaidu)
    geocoder = AddressGeocoder(settings, geocoder=baidu)

    first = await geocoder.geocode("黑龙江省 哈尔滨市 呼兰区")
    assert first is not None
    assert great_circle((first.latitude, first.longitude), HULAN_WGS84).m < 0.05
    assert first.raw["datum"] == "bd09ll"
    bd09 = first.raw["provider_point"]
    assert great_circle(bd09, HULAN_WGS84).m > 500  # the raw answer was not WGS-84

    again = await geocoder.geocode("黑龙江省哈尔滨市呼兰区")
    assert again is not None
    assert again.raw["cached"] is True
    assert (again.latitude, again.longitude) == (first.latitude, first.longitude)
    assert FakeBaidu.requests == ["黑龙江省哈尔滨市呼兰区"]


async def test_nothing_found_is_cached_too(db: None) -> None:
    FakeBaidu.requests = []
    settings = _settings(geocoder="baidu", baidu_ak="ak", geocoder_min_delay_seconds=0.0)
    geocoder = AddressGeocoder(
        settings, geocoder=build_geocoder(settings, adapter_factory=FakeBaidu)
    )
    assert await geocoder.geocode("火星") is None
    assert await geocoder.geocode("火星") is None
    assert FakeBaidu.requests == ["火星"]
    rows = await GeocodeCache.select().where(GeocodeCache.provider == "baidu").run()
    assert [(row["query"], row["lat"]) for row in rows] == [("火星", None)]
