"""The reasons of assignment and unmet rows, Chinese first, made from the solution's columns.

Texts are formatted once per distinct priority group and radius; only the distance is
formatted per row.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from matching.model import ArrayProblem, ArraySolution

__all__ = ("assignment_reasons", "unmet_reasons")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def assignment_reasons(problem: ArrayProblem, solution: ArraySolution) -> list[str]:
    """The reason of every assignment row: how far, within which radius, which priorities.

    Rows of one radius and one priority text share everything but the distance: the rest is
    made once per such pair (a province has millions of rows and a few thousand pairs).
    """
    starts = solution.assignment_priority_start
    priority, texts = _row_priorities(
        np.diff(starts), solution.priority_weight, solution.priority_first, solution.priority_stop
    )
    radius = np.asarray(problem.offer_radius_km, dtype=np.float64)[solution.assignment_offer]
    radii, radius_of = np.unique(radius, return_inverse=True)
    pairs, pair_of = np.unique(
        radius_of.reshape(-1) * max(len(texts), 1) + priority, return_inverse=True
    )
    middles, ends = [], []
    for pair in pairs.tolist():
        r = f"{radii[pair // max(len(texts), 1)]:g}"
        zh, en = texts[pair % max(len(texts), 1)]
        middles.append(f" km（服务半径 {r} km 内）；优先级 {zh} / ")
        ends.append(f" km away (within {r} km); priority {en}")
    which = pair_of.reshape(-1)
    return [
        f"距离 {k}{middle}{k}{end}"
        for k, middle, end in zip(
            (f"{d:.1f}" for d in solution.assignment_km.tolist()),
            np.array(middles, dtype=object)[which].tolist(),
            np.array(ends, dtype=object)[which].tolist(),
            strict=True,
        )
    ]


def unmet_reasons(solution: ArraySolution) -> list[str]:
    """The reason of every unmet row."""
    return [
        _why(c, w)
        for c, w in zip(solution.unmet_cause.tolist(), solution.unmet_weight.tolist(), strict=True)
    ]


def _row_priorities(
    groups_of_row: IntArray, weight: FloatArray, first: IntArray, stop: IntArray
) -> tuple[IntArray, list[tuple[str, str]]]:
    """The priority half of each row's reason, as an index into its texts: rows with the same
    one group share it, and so do rows with the same several."""
    starts = np.cumsum(groups_of_row) - groups_of_row
    of_row = np.zeros(len(starts), dtype=np.int64)
    single = np.flatnonzero(groups_of_row == 1)
    at = starts[single]
    order, which = _groups_of(weight[at], first[at], stop[at])
    heads = order[np.flatnonzero(np.diff(np.concatenate([[-1], which[order]])))]
    texts = [
        _priority(((w, a, b),))
        for w, a, b in zip(
            weight[at][heads].tolist(),
            first[at][heads].tolist(),
            stop[at][heads].tolist(),
            strict=True,
        )
    ]
    of_row[single] = which
    code: dict[tuple[str, str], int] = {}
    g_weight, g_first, g_stop = weight.tolist(), first.tolist(), stop.tolist()
    for row in np.flatnonzero(groups_of_row != 1).tolist():
        a, b = int(starts[row]), int(starts[row] + groups_of_row[row])
        text = _priority(tuple(zip(g_weight[a:b], g_first[a:b], g_stop[a:b], strict=True)))
        if text not in code:
            code[text] = len(texts)
            texts.append(text)
        of_row[row] = code[text]
    return of_row, texts


def _groups_of(*keys: npt.NDArray[np.generic]) -> tuple[IntArray, IntArray]:
    """(sort order, group of each row) for rows grouped by equal keys."""
    order = np.lexsort(keys)
    change = np.zeros(len(order), dtype=np.bool_)
    if len(order):
        change[0] = True
    for key in keys:
        ordered = key[order]
        change[1:] |= ordered[1:] != ordered[:-1]
    which = np.empty(len(order), dtype=np.int64)
    which[order] = np.cumsum(change) - 1
    return order, which


@functools.lru_cache(maxsize=65536)
def _priority(groups: tuple[tuple[float, int, int], ...]) -> tuple[str, str]:
    """The priority half of a reason: the weight of each group of units, Chinese and English."""
    shown, more = groups[:3], len(groups) > 3
    zh = "、".join(f"{w:g}（第{_span(a, b, '–')}件）" for w, a, b in shown)
    en = ", ".join(
        f"{w:g} ({'unit' if b - a == 1 else 'units'} {_span(a, b, '–')})" for w, a, b in shown
    )
    tail_zh, tail_en = ("等", " etc.") if more else ("", "")
    return zh + tail_zh, en + tail_en


def _span(first: int, end: int, dash: str) -> str:
    return f"{first + 1}" if end - first == 1 else f"{first + 1}{dash}{end}"


@functools.lru_cache(maxsize=4096)
def _why(category: int, weight: float) -> str:
    if category == 0:
        return (
            f"暂无此类物资的捐赠（优先级 {weight:g}）/ no offer of this kind (priority {weight:g})"
        )
    if category == 1:
        return (
            f"服务半径内没有符合条件的捐赠（优先级 {weight:g}）/ "
            f"no eligible offer within reach (priority {weight:g})"
        )
    return (
        f"附近的捐赠已分给优先级更高或更近的需求（优先级 {weight:g}）/ "
        f"offers in reach went to higher-priority or nearer needs (priority {weight:g})"
    )
