"""Reverse geocoding to the county, and the one distance it uses (geopy's great_circle)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from geopy.distance import great_circle
from geopy.location import Location
from geopy.point import Point

from matching.geo import great_circle_km
from nuanxin.regions.geocoder import OfflineGeocoder, UnknownAddressError


@pytest.fixture(scope="module")
def geocoder() -> OfflineGeocoder:
    return OfflineGeocoder()


def test_every_county_seat_reverses_to_its_county(geocoder: OfflineGeocoder) -> None:
    seats = [d for d in geocoder.gazetteer if d.level == "county"]
    shared = Counter((d.lat, d.lon) for d in seats)
    checked = 0
    for seat in seats:
        if shared[(seat.lat, seat.lon)] > 1:
            continue  # a few new counties still share their prefecture's point
        location = geocoder.reverse((seat.lat, seat.lon))
        assert isinstance(location, Location)
        assert location.raw["code"] == seat.code
        checked += 1
    assert checked > 2800


def test_a_point_near_a_seat_reverses_to_that_county(geocoder: OfflineGeocoder) -> None:
    # 3 km north-east of 呼兰区's seat
    location = geocoder.reverse(Point(45.887580 + 0.02, 126.581966 + 0.02))
    assert isinstance(location, Location)
    assert location.raw["full_name"] == "黑龙江省哈尔滨市呼兰区"
    assert location.raw["level"] == "county"
    listed = geocoder.reverse("45.9, 126.6", exactly_one=False)
    assert isinstance(listed, list)
    assert listed[0].raw["code"] == "230111"


def test_a_city_without_counties_stands_for_its_county(geocoder: OfflineGeocoder) -> None:
    location = geocoder.reverse((23.02, 113.75))
    assert isinstance(location, Location)
    assert location.raw["full_name"] == "广东省东莞市"


def test_a_point_far_from_china_is_refused(geocoder: OfflineGeocoder) -> None:
    with pytest.raises(UnknownAddressError):
        geocoder.reverse((0.0, 0.0))


def test_counties_within_a_radius_come_nearest_first(geocoder: OfflineGeocoder) -> None:
    around = geocoder.counties_within(Point(45.88758, 126.581966), 40.0)
    assert around[0].code == "230111"
    distances = [great_circle((45.88758, 126.581966), (d.lat, d.lon)).km for d in around]
    assert distances == sorted(distances)
    assert max(distances) <= 40.0


def test_the_vectorised_distance_agrees_with_geopy_to_1e9(geocoder: OfflineGeocoder) -> None:
    rng = np.random.default_rng(20261129)
    lat1, lat2 = rng.uniform(-89.0, 89.0, 500), rng.uniform(-89.0, 89.0, 500)
    lon1, lon2 = rng.uniform(-180.0, 180.0, 500), rng.uniform(-180.0, 180.0, 500)
    # and short hops between neighbouring county seats, the distances radius checks use
    seats = [d for d in geocoder.gazetteer if d.level == "county"][:500]
    lat1 = np.concatenate([lat1, [s.lat for s in seats]])
    lon1 = np.concatenate([lon1, [s.lon for s in seats]])
    lat2 = np.concatenate([lat2, [s.lat + 0.01 for s in seats]])
    lon2 = np.concatenate([lon2, [s.lon - 0.02 for s in seats]])
    ours = great_circle_km(lat1, lon1, lat2, lon2)
    theirs = np.array(
        [great_circle((a, b), (c, d)).km for a, b, c, d in zip(lat1, lon1, lat2, lon2, strict=True)]
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=0.0)
