"""The array helpers behind the fast paths: exact sums, segmented scans, the greedy's grants."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.greedy import _grant, _segment_cummin
from matching.sums import exact_dot, int_bincount

values = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(values, st.integers(0, 2**41)), max_size=30))
def test_exact_dot_is_the_correctly_rounded_sum_of_every_unit(
    pairs: list[tuple[float, int]],
) -> None:
    weights = np.asarray([w for w, _ in pairs], dtype=np.float64)
    counts = np.asarray([c for _, c in pairs], dtype=np.int64)
    exact = sum((Fraction(w) * c for w, c in pairs), Fraction(0))
    assert exact_dot(weights, counts) == float(exact)


def test_exact_dot_of_repeated_tenths_equals_adding_them_one_by_one() -> None:
    assert exact_dot(np.array([0.1]), np.array([3])) == math.fsum([0.1, 0.1, 0.1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-(2**61), 2**61)), max_size=40))
def test_segmented_running_minima_restart_at_each_segment(items: list[tuple[int, int]]) -> None:
    items.sort(key=lambda item: item[0])
    segment = np.asarray([s for s, _ in items], dtype=np.int64)
    value = np.asarray([v for _, v in items], dtype=np.int64)
    expected: list[int] = []
    for i, (s, v) in enumerate(items):
        previous = expected[-1] if i and items[i - 1][0] == s else None
        expected.append(v if previous is None else min(previous, v))
    assert _segment_cummin(value, segment).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 6), st.integers(0, 5)), max_size=20))
def test_grants_follow_the_chain_stock_one_claim_at_a_time(
    claims: list[tuple[int, int, int]],
) -> None:
    # Claims sorted by chain; slack must not fall within a chain in that order.
    claims.sort(key=lambda claim: (claim[0], claim[1]))
    chain = np.asarray([c for c, _, _ in claims], dtype=np.int64)
    slack = np.asarray([s for _, s, _ in claims], dtype=np.int64)
    want = np.asarray([w for _, _, w in claims], dtype=np.int64)
    expected: list[int] = []
    served = 0
    for i, (c, s, w) in enumerate(claims):
        if i == 0 or claims[i - 1][0] != c:
            served = 0
        now = min(served + w, s)
        expected.append(now - served)
        served = now
    assert _grant(chain, slack, want).tolist() == expected


def test_integer_counts_stay_exact_beyond_two_to_the_53() -> None:
    index = np.array([0, 0, 1], dtype=np.int64)
    counts = np.array([2**53, 1, 3], dtype=np.int64)
    assert int_bincount(index, counts, 3).tolist() == [2**53 + 1, 3, 0]
