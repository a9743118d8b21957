"""GCJ-02 and BD-09 to WGS-84: the inverse undoes the published forward formula."""

from __future__ import annotations

import numpy as np
import pytest
from geopy.distance import great_circle

from nuanxin.regions.coords import (
    bd09_to_wgs84,
    gcj02_to_wgs84,
    in_mainland_box,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)


@pytest.fixture(scope="module")
def points() -> list[tuple[float, float]]:
    rng = np.random.default_rng(7)
    lats, lons = rng.uniform(18.0, 53.0, 300), rng.uniform(74.0, 134.0, 300)
    return [(float(lat), float(lon)) for lat, lon in zip(lats, lons, strict=True)]


def test_gcj02_round_trip_is_sub_centimetre(points: list[tuple[float, float]]) -> None:
    for lat, lon in points:
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))
        assert great_circle((lat, lon), back).m < 0.01


def test_bd09_round_trip_is_sub_centimetre(points: list[tuple[float, float]]) -> None:
    for lat, lon in points:
        back = bd09_to_wgs84(*wgs84_to_bd09(lat, lon))
        assert great_circle((lat, lon), back).m < 0.01


def test_the_offsets_are_the_known_hundreds_of_metres(points: list[tuple[float, float]]) -> None:
    for lat, lon in points:
        assert 1.0 < great_circle((lat, lon), wgs84_to_gcj02(lat, lon)).m < 1000.0
        assert great_circle((lat, lon), wgs84_to_bd09(lat, lon)).m < 2000.0


def test_harbin_moves_about_half_a_kilometre() -> None:
    shifted = wgs84_to_gcj02(45.75, 126.65)
    assert 400.0 < great_circle((45.75, 126.65), shifted).m < 600.0
    assert shifted[0] > 45.75  # GCJ-02 lies north-east of WGS-84 around Harbin
    assert shifted[1] > 126.65


def test_points_outside_the_mainland_box_are_unchanged() -> None:
    assert not in_mainland_box(48.85, 2.35)
    assert wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)
    assert gcj02_to_wgs84(48.85, 2.35) == (48.85, 2.35)
