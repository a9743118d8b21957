"""Chinese map datums to WGS-84: GCJ-02 (Amap, Tencent, the adcode dataset) and BD-09 (Baidu).

GCJ-02 is WGS-84 with a published, deliberately non-linear offset of a few hundred metres
inside mainland China; BD-09 adds Baidu's own rotation on top of GCJ-02. The forward offset
is a closed formula; the way back has none, so :func:`gcj02_to_wgs84` inverts the forward
formula by fixed-point iteration until the round trip agrees to about a millimetre.

Points outside mainland China's bounding box carry no offset, as the formula defines it.
Every function takes and returns ``(lat, lon)`` in degrees, geopy's order.
"""

from __future__ import annotations

import math

__all__ = (
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_mainland_box",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
)

_A = 6378245.0
"""Semi-major axis of the Krasovsky 1940 ellipsoid that the GCJ-02 formula uses (m)."""
_EE = 0.00669342162296594323
"""Its first eccentricity squared."""
_BD_FACTOR = math.pi * 3000.0 / 180.0
_TOLERANCE_DEG = 1e-8
"""About a millimetre; the inverse stops once the round trip is this close."""
_MAX_ITERATIONS = 30


def in_mainland_box(lat: float, lon: float) -> bool:
    """Whether the GCJ-02 offset applies: the published rough box around mainland China."""
    return 0.8293 <= lat <= 55.8271 and 72.004 <= lon <= 137.8347


def _offset_lat(x: float, y: float) -> float:
    out = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    out += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    out += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    out += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return out


def _offset_lon(x: float, y: float) -> float:
    out = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    out += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    out += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    out += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return out


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """The published forward GCJ-02 offset."""
    if not in_mainland_box(lat, lon):
        return lat, lon
    x, y = lon - 105.0, lat - 35.0
    rad_lat = math.radians(lat)
    magic = 1.0 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = _offset_lat(x, y) * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = _offset_lon(x, y) * 180.0 / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """Invert :func:`wgs84_to_gcj02` by iteration (sub-millimetre in a few steps)."""
    if not in_mainland_box(lat, lon):
        return lat, lon
    guess_lat, guess_lon = lat, lon
    for _ in range(_MAX_ITERATIONS):
        fwd_lat, fwd_lon = wgs84_to_gcj02(guess_lat, guess_lon)
        err_lat, err_lon = fwd_lat - lat, fwd_lon - lon
        guess_lat -= err_lat
        guess_lon -= err_lon
        if abs(err_lat) < _TOLERANCE_DEG and abs(err_lon) < _TOLERANCE_DEG:
            break
    return guess_lat, guess_lon


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """Baidu's published transform from GCJ-02 to BD-09."""
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _BD_FACTOR)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _BD_FACTOR)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """Invert :func:`gcj02_to_bd09` by iteration, as for GCJ-02."""
    guess_lat, guess_lon = lat - 0.006, lon - 0.0065
    for _ in range(_MAX_ITERATIONS):
        fwd_lat, fwd_lon = gcj02_to_bd09(guess_lat, guess_lon)
        err_lat, err_lon = fwd_lat - lat, fwd_lon - lon
        guess_lat -= err_lat
        guess_lon -= err_lon
        if abs(err_lat) < _TOLERANCE_DEG and abs(err_lon) < _TOLERANCE_DEG:
            break
    return guess_lat, guess_lon


def wgs84_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """WGS-84 to BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def bd09_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """BD-09 (Baidu's ``bd09ll`` answers) to WGS-84 (through GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))
