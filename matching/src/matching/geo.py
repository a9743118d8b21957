"""The one distance of the project: great-circle distance on the mean Earth sphere.

It is the distance geopy's ``great_circle`` computes (radius 6371.009 km), in a vectorised
form for bulk work. ``tests/matching/test_geo.py`` holds it to geopy's answer within 1e-9
relative.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = (
    "EARTH_RADIUS_KM",
    "chord_for_km",
    "great_circle_km",
    "great_circle_km_between",
    "unit_vectors",
)

EARTH_RADIUS_KM = 6371.009
"""Mean Earth radius in kilometres, as geopy's ``great_circle`` uses it."""

FloatArray = npt.NDArray[np.float64]


def great_circle_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in km between points given in degrees (broadcasting).

    Uses the same atan2 form of the Vincenty special case for the sphere as geopy, which
    stays accurate for tiny and for antipodal distances.
    """
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dlon = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    sin1, cos1 = np.sin(phi1), np.cos(phi1)
    sin2, cos2 = np.sin(phi2), np.cos(phi2)
    sin_d, cos_d = np.sin(dlon), np.cos(dlon)
    y = np.hypot(cos2 * sin_d, cos1 * sin2 - sin1 * cos2 * cos_d)
    x = sin1 * sin2 + cos1 * cos2 * cos_d
    return np.asarray(EARTH_RADIUS_KM * np.arctan2(y, x), dtype=np.float64)


def great_circle_km_between(
    lat1: FloatArray,
    lon1: FloatArray,
    lat2: FloatArray,
    lon2: FloatArray,
    first: npt.NDArray[np.int64],
    second: npt.NDArray[np.int64],
) -> FloatArray:
    """``great_circle_km(lat1[first], lon1[first], lat2[second], lon2[second])``, bit for bit.

    The sines and cosines of the latitudes are taken once per point instead of once per
    pair; every operation on every pair is the same as in :func:`great_circle_km`.
    """
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    sin1, cos1 = np.sin(phi1)[first], np.cos(phi1)[first]
    sin2, cos2 = np.sin(phi2)[second], np.cos(phi2)[second]
    dlon = np.radians(lon2[second] - lon1[first])
    sin_d, cos_d = np.sin(dlon), np.cos(dlon)
    y = np.hypot(cos2 * sin_d, cos1 * sin2 - sin1 * cos2 * cos_d)
    x = sin1 * sin2 + cos1 * cos2 * cos_d
    return np.asarray(EARTH_RADIUS_KM * np.arctan2(y, x), dtype=np.float64)


def unit_vectors(lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
    """Points on the unit sphere (n x 3) for a spatial index over chord lengths."""
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    cos_phi = np.cos(phi)
    return np.stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)], axis=-1)


def chord_for_km(km: npt.ArrayLike) -> FloatArray:
    """The chord length on the unit sphere that spans a great-circle distance of ``km``."""
    angle = np.minimum(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, np.pi)
    return np.asarray(2.0 * np.sin(angle / 2.0), dtype=np.float64)
