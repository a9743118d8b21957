"""Correctly rounded sums of products, so totals never depend on how units were grouped."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ("exact_dot", "int_bincount", "unique_inverse")

_SPLITTER = 134217729.0  # 2**27 + 1: Veltkamp's split of a double into two 26-bit halves
_SAFE = 1e290  # below this the split cannot overflow
_LOW_BITS = 21
_GROUP_ABOVE = 4096


def exact_dot(values: npt.NDArray[np.float64], counts: npt.NDArray[np.int64]) -> float:
    """``sum(values[i] * counts[i])``, correctly rounded (as ``math.fsum`` of every unit).

    Each product is split into parts that are exact in float64: the value into two
    halves of at most 26 significant bits, the count (< 2**42) into two halves of at
    most 21 bits; ``math.fsum`` then rounds the exact total once.
    """
    values = np.asarray(values, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.int64)
    if len(values) == 0:
        return 0.0
    if len(values) > _GROUP_ABOVE and int(counts.max()) * len(values) < 2**62:
        # Few distinct values: add the counts of each first (integers, exact).
        distinct = np.unique(values)
        if len(distinct) * 8 < len(values):
            which = np.searchsorted(distinct, values)
            return exact_dot(distinct, int_bincount(which, counts, len(distinct)))
    if float(np.abs(values).max()) >= _SAFE or int(counts.max()) >= 2**42:
        return math.fsum(v * c for v, c in zip(values.tolist(), counts.tolist(), strict=True))
    scaled = values * _SPLITTER
    high = scaled - (scaled - values)
    low = values - high
    count_high = (counts >> _LOW_BITS).astype(np.float64) * float(2**_LOW_BITS)
    count_low = (counts & (2**_LOW_BITS - 1)).astype(np.float64)
    terms = np.concatenate([high * count_high, high * count_low, low * count_high, low * count_low])
    return math.fsum(terms[terms != 0.0].tolist())


def int_bincount(
    index: npt.NDArray[np.int64], counts: npt.NDArray[np.int64], minlength: int = 0
) -> npt.NDArray[np.int64]:
    """``np.bincount(index, weights=counts)`` in int64: exact beyond 2**53, unlike floats."""
    size = max(minlength, int(index.max()) + 1 if len(index) else 0)
    total = np.zeros(size, dtype=np.int64)
    np.add.at(total, index, counts)
    return total


def unique_inverse(values: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """``np.unique(values, return_inverse=True)`` by a stable sort, which is several times
    faster than the default one on long columns with many repeated values."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.ones(len(ordered), dtype=np.bool_)
    new[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse
