"""The one distance agrees with geopy's great_circle."""

from __future__ import annotations

import numpy as np
from geopy.distance import great_circle

from matching.geo import (
    EARTH_RADIUS_KM,
    chord_for_km,
    great_circle_km,
    great_circle_km_between,
    unit_vectors,
)


def test_vectorised_distance_agrees_with_geopy_to_one_part_in_a_billion() -> None:
    rng = np.random.default_rng(7)
    lat1, lat2 = rng.uniform(-90, 90, 500), rng.uniform(-90, 90, 500)
    lon1, lon2 = rng.uniform(-180, 180, 500), rng.uniform(-180, 180, 500)
    # Also tiny, village-scale and nearly antipodal distances.
    lat2[:100] = lat1[:100] + rng.normal(0, 1e-4, 100)
    lon2[:100] = lon1[:100] + rng.normal(0, 1e-4, 100)
    lat2[100:150], lon2[100:150] = -lat1[100:150], lon1[100:150] + 179.999
    ours = great_circle_km(lat1, lon1, lat2, lon2)
    for i in range(500):
        theirs = great_circle((lat1[i], lon1[i]), (lat2[i], lon2[i]), radius=EARTH_RADIUS_KM).km
        assert abs(ours[i] - theirs) <= 1e-9 * max(theirs, 1e-9)


def test_the_chord_of_a_distance_is_the_straight_line_between_unit_vectors() -> None:
    points = unit_vectors([40.0, 40.5], [116.0, 116.3])
    km = great_circle_km(40.0, 116.0, 40.5, 116.3)
    assert np.isclose(np.linalg.norm(points[0] - points[1]), chord_for_km(km), rtol=1e-12)


def test_a_point_is_at_distance_zero_from_itself() -> None:
    assert great_circle_km(45.1, 120.2, 45.1, 120.2) == 0.0


def test_the_distance_between_indexed_points_is_the_same_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    lat1, lon1 = rng.uniform(-90, 90, 50), rng.uniform(-180, 180, 50)
    lat2, lon2 = rng.uniform(-90, 90, 40), rng.uniform(-180, 180, 40)
    first, second = rng.integers(0, 50, 500), rng.integers(0, 40, 500)
    expected = great_circle_km(lat1[first], lon1[first], lat2[second], lon2[second])
    got = great_circle_km_between(lat1, lon1, lat2, lon2, first, second)
    assert np.array_equal(got, expected)
