"""The answer's columns say what the flows mean: which units each row serves and at which
priority, what is left unmet and why, and the totals. Each is checked against rules derived
from the problem itself (brute force over the dataclasses) and against the LP optimum, never
against a stored answer (issue 19: the sharp tests of ``matching.assemble``)."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import pytest

import matching.assemble
from matching import Household, Need, Offer, Problem, problem_to_arrays, solve
from matching.engine import solve_arrays
from matching.geo import great_circle_km
from matching.model import ArrayProblem, ArraySolution, Progress
from matching.reference import feasibility_errors, lp_optimum, random_problem

DEPOT = (39.90, 116.40)


def _east(km: float) -> tuple[float, float]:
    return DEPOT[0], DEPOT[1] + km / (111.32 * math.cos(math.radians(DEPOT[0])))


def _offer(name: str, quantity: int, *, at: tuple[float, float] = DEPOT, **kw: object) -> Offer:
    fields: dict[str, object] = {"kind": "coal", "radius_km": 50.0, "requires": frozenset()}
    fields.update(kw)
    return Offer(id=name, quantity=quantity, lat=at[0], lon=at[1], **fields)  # type: ignore[arg-type]


def _household(
    name: str, at: tuple[float, float], *needs: Need, tags: Iterable[str] = ()
) -> Household:
    return Household(id=name, lat=at[0], lon=at[1], tags=frozenset(tags), needs=needs)


def _km(offer: Offer, household: Household) -> float:
    return float(great_circle_km(offer.lat, offer.lon, household.lat, household.lon))


def _eligible(offer: Offer, household: Household) -> bool:
    return offer.requires <= household.tags and _km(offer, household) <= offer.radius_km


def _cause(problem: Problem, household: Household, need: Need) -> int:
    """0: no offer of the kind has stock; 1: none with stock is eligible; 2: others came first."""
    stocked = [o for o in problem.offers if o.kind == need.kind and o.quantity > 0]
    if not stocked:
        return 0
    return 2 if any(_eligible(o, household) for o in stocked) else 1


_INTEGER_COLUMNS = (
    "assignment_offer",
    "assignment_household",
    "assignment_kind",
    "assignment_quantity",
    "assignment_priority_start",
    "priority_first",
    "priority_stop",
    "need_served",
    "unmet_need",
    "unmet_household",
    "unmet_kind",
    "unmet_quantity",
    "unmet_cause",
)


def read_back_errors(problem: Problem, arrays: ArrayProblem, columns: ArraySolution) -> list[str]:
    """Every way the columns break a rule they encode (empty when they read back right).

    The problems given here have at most one need per household and kind, so a row's
    priority groups belong to that need.
    """
    errors: list[str] = []
    for name in _INTEGER_COLUMNS:
        if getattr(columns, name).dtype != np.int64:
            errors.append(f"{name}: {getattr(columns, name).dtype}, not int64")
    needs = [
        (h, need) for h, household in enumerate(problem.households) for need in household.needs
    ]
    need_of = {(h, need.kind): i for i, (h, need) in enumerate(needs)}
    spans: dict[int, list[tuple[int, int, float, float]]] = defaultdict(list)  # first, stop, w, km
    keys = []
    start = columns.assignment_priority_start.tolist()
    for r, (o, h, k, q, km) in enumerate(
        zip(
            columns.assignment_offer.tolist(),
            columns.assignment_household.tolist(),
            columns.assignment_kind.tolist(),
            columns.assignment_quantity.tolist(),
            columns.assignment_km.tolist(),
            strict=True,
        )
    ):
        offer, household, kind = problem.offers[o], problem.households[h], arrays.kinds[k]
        keys.append((h, kind, o))
        if offer.kind != kind or (h, kind) not in need_of:
            errors.append(f"row {r}: {kind} from an offer of {offer.kind} or to no such need")
            continue
        if km != _km(offer, household) or not _eligible(offer, household):
            errors.append(f"row {r}: {km} km, not eligible or not the distance")
        groups = [
            (
                int(columns.priority_first[g]),
                int(columns.priority_stop[g]),
                float(columns.priority_weight[g]),
            )
            for g in range(start[r], start[r + 1])
        ]
        if not groups or sum(stop - first for first, stop, _ in groups) != q or q <= 0:
            errors.append(f"row {r}: {q} units but groups {groups}")
        if groups != sorted(groups):
            errors.append(f"row {r}: groups out of order {groups}")
        for (_, stop, weight), (first, _, next_weight) in itertools.pairwise(groups):
            if stop == first and weight == next_weight:
                errors.append(f"row {r}: one run of weight {weight} read as two groups")
        spans[need_of[(h, kind)]].extend((f, s, w, km) for f, s, w in groups)
    if keys != sorted(set(keys)):
        errors.append(f"rows not one per (household, kind, offer) in that order: {keys}")
    served = columns.need_served.tolist()
    unit_km: dict[tuple[int, int], float] = {}
    for i, (_, need) in enumerate(needs):
        units = sorted(spans[i])
        covered = [u for first, stop, _, _ in units for u in range(first, stop)]
        if covered != list(range(served[i])) or served[i] > need.quantity:
            errors.append(f"need {i}: serves units {covered}, says {served[i]}")
        for first, stop, weight, km in units:
            for u in range(first, stop):
                unit_km[(i, u)] = km
                if u < need.quantity and need.unit_weight(u) != weight:
                    errors.append(f"need {i} unit {u}: weight {weight}")
        kms = [unit_km.get((i, u), 0.0) for u in range(served[i])]
        if kms != sorted(kms):
            errors.append(f"need {i}: a later unit has nearer stock {kms}")
    errors.extend(_node_errors(problem, needs, served, unit_km))
    short = [i for i, (_, need) in enumerate(needs) if served[i] < need.quantity]
    expected = [
        (
            i,
            h,
            arrays.kinds.index(need.kind),
            need.quantity - served[i],
            _cause(problem, problem.households[h], need),
            need.unit_weight(served[i]),
        )
        for i, (h, need) in enumerate(needs)
        if i in short
    ]
    got = list(
        zip(
            columns.unmet_need.tolist(),
            columns.unmet_household.tolist(),
            columns.unmet_kind.tolist(),
            columns.unmet_quantity.tolist(),
            columns.unmet_cause.tolist(),
            columns.unmet_weight.tolist(),
            strict=True,
        )
    )
    if got != expected:
        errors.append(f"unmet {got}, expected {expected}")
    weights = [needs[i][1].unit_weight(u) for i in range(len(needs)) for u in range(served[i])]
    totals = columns.totals
    if totals.units != sum(served) or totals.units != int(columns.assignment_quantity.sum()):
        errors.append(f"units {totals.units}, served {sum(served)}")
    if totals.weighted_units != math.fsum(weights):
        errors.append(f"weighted units {totals.weighted_units}, fsum {math.fsum(weights)}")
    row_km = (columns.assignment_quantity * columns.assignment_km).tolist()
    if totals.unit_km != math.fsum(row_km):
        errors.append(f"unit-km {totals.unit_km}, fsum {math.fsum(row_km)}")
    return errors


_Node = tuple[float, float, frozenset[str], str]
"""Needs of one kind at one point with the same tags: one demand node."""


def _node_errors(
    problem: Problem,
    needs: list[tuple[int, Need]],
    served: list[int],
    unit_km: dict[tuple[int, int], float],
) -> list[str]:
    """Needs of one kind at one point with the same tags share their offers: there a unit of
    higher weight is served first and gets the nearer stock, and between equal weights the
    need listed first goes first (weight, then need, then unit)."""
    errors: list[str] = []
    units: dict[_Node, list[tuple[float, int, int, bool, float]]] = defaultdict(list)
    for i, (h, need) in enumerate(needs):
        household = problem.households[h]
        at = (household.lat, household.lon, household.tags, need.kind)
        for u in range(need.quantity):
            km = unit_km.get((i, u), math.inf)  # (-weight, need, unit, served, km)
            units[at].append((-need.unit_weight(u), i, u, u < served[i], km))
    for node, listed in units.items():
        listed.sort(key=lambda x: x[:3])
        flags = [x[3] for x in listed]
        if flags != sorted(flags, reverse=True):
            errors.append(f"{node}: served out of (weight, need, unit) order")
        kms = [x[4] for x in listed if x[3]]
        if kms != sorted(kms):
            errors.append(f"{node}: nearer stock went past a unit that comes first {kms}")
    return errors


def _assert_reads_back(problem: Problem) -> ArraySolution:
    arrays = problem_to_arrays(problem)
    columns = solve_arrays(arrays)
    assert read_back_errors(problem, arrays, columns) == []
    solution = solve(problem)
    assert feasibility_errors(problem, solution) == []
    best = lp_optimum(problem)
    assert math.isclose(columns.totals.weighted_units, best.weighted_units, abs_tol=1e-9)
    assert math.isclose(columns.totals.unit_km, best.unit_km, rel_tol=1e-7, abs_tol=1e-6)
    return columns


@pytest.mark.parametrize("seed", range(6))
def test_random_rounds_read_back_their_rows_groups_unmet_and_totals(seed: int) -> None:
    rng = np.random.default_rng(seed)
    _assert_reads_back(random_problem(rng, offers=8, households=24, spread_km=15.0))


def test_households_sharing_a_point_are_served_by_weight_then_in_the_order_listed() -> None:
    home = _east(2.0)
    problem = Problem(
        offers=(_offer("near", 3, at=_east(1.5)), _offer("far", 3, at=_east(9.0))),
        households=(
            _household("a", home, Need(kind="coal", quantity=3, weights=(4.0, 2.0, 2.0))),
            _household("b", home, Need(kind="coal", quantity=3, weights=(5.0, 2.0, 1.0))),
            _household("c", home, Need(kind="coal", quantity=2, weight=2.0)),
        ),
    )
    columns = _assert_reads_back(problem)
    # 6 units: 5 and 4 first, then the 2s of a, b and c in that order (5 of them) until
    # the stock runs out; the nearest stock to the heaviest units.
    assert columns.need_served.tolist() == [3, 2, 1]


def test_a_need_served_from_three_offers_continues_unit_by_unit_nearest_first() -> None:
    problem = Problem(
        offers=(
            _offer("far", 2, at=_east(7.0)),
            _offer("near", 1, at=_east(1.0)),
            _offer("mid", 2, at=_east(4.0)),
        ),
        households=(
            _household("h", _east(1.2), Need(kind="coal", quantity=6, weights=(9, 8, 8, 5, 5, 5))),
        ),
    )
    columns = _assert_reads_back(problem)
    assert columns.need_served.tolist() == [5]
    assert columns.unmet_weight.tolist() == [5.0]


def test_offers_at_one_point_give_their_stock_widest_radius_last() -> None:
    # One chain of three radii: the far household reaches only the wide offer, the middle
    # one the wide and the mid; by priority each gets the stock of the offer it alone has.
    problem = Problem(
        offers=(
            _offer("wide", 2, radius_km=20.0),
            _offer("narrow", 2, radius_km=3.0),
            _offer("mid", 2, radius_km=8.0),
        ),
        households=(
            _household("close", _east(1.0), Need(kind="coal", quantity=3, weight=1.0)),
            _household("middle", _east(6.0), Need(kind="coal", quantity=2, weight=2.0)),
            _household("far", _east(15.0), Need(kind="coal", quantity=2, weight=3.0)),
        ),
    )
    columns = _assert_reads_back(problem)
    assert columns.need_served.tolist() == [2, 2, 2]


@pytest.mark.parametrize("others_first", [False, True])
def test_two_needs_of_one_kind_share_a_row_and_list_their_groups_by_first_unit(
    others_first: bool,
) -> None:
    home = _east(1.0)
    household = _household(
        "h",
        home,
        Need(kind="coal", quantity=2, weight=5.0),
        Need(kind="coal", quantity=1, weights=(3.0,)),
    )
    others = (_household("g", _east(3.0), Need(kind="coal", quantity=1, weight=9.0)),)
    problem = Problem(
        offers=(_offer("o", 5),),
        households=(*others, household) if others_first else (household,),
    )
    columns = solve_arrays(problem_to_arrays(problem))
    row = len(columns.assignment_offer) - 1  # h's row comes last
    assert columns.assignment_household[row] == len(problem.households) - 1
    assert columns.assignment_quantity[row] == 3
    start = columns.assignment_priority_start.tolist()
    groups = [
        (
            int(columns.priority_first[g]),
            int(columns.priority_stop[g]),
            float(columns.priority_weight[g]),
        )
        for g in range(start[row], start[row + 1])
    ]
    # The first need's two units of 5 and the second's unit of 3, both from unit 1: runs of
    # two needs are never joined, and they are listed by first unit, then size, then weight.
    assert sorted(groups) == [(0, 1, 3.0), (0, 2, 5.0)]
    assert groups == sorted(groups, key=lambda g: (g[0], g[1] - g[0], g[2]))


def test_two_needs_of_one_kind_keep_their_own_groups_where_one_continues_the_other() -> None:
    # The second need's units of 7 come first and take the near offer; the far offer then
    # gives the first need's units 1-2 and the second need's unit 3, all of priority 5: a
    # group of each need, never one group of "units 1-3".
    household = _household(
        "h",
        _east(1.0),
        Need(kind="coal", quantity=2, weight=5.0),
        Need(kind="coal", quantity=3, weights=(7.0, 7.0, 5.0)),
    )
    problem = Problem(
        offers=(_offer("near", 2, at=_east(1.5)), _offer("far", 3, at=_east(4.0))),
        households=(household,),
    )
    columns = solve_arrays(problem_to_arrays(problem))
    start = columns.assignment_priority_start.tolist()
    groups = {
        problem.offers[o].id: [
            (
                int(columns.priority_first[g]),
                int(columns.priority_stop[g]),
                float(columns.priority_weight[g]),
            )
            for g in range(start[r], start[r + 1])
        ]
        for r, o in enumerate(columns.assignment_offer.tolist())
    }
    assert groups == {"near": [(0, 2, 7.0)], "far": [(0, 2, 5.0), (2, 3, 5.0)]}
    assert columns.need_served.tolist() == [2, 3]


def test_a_combined_key_orders_rows_exactly_while_every_key_fits_in_int64() -> None:
    # Largest values 2**31 - 1 and 2**32 - 1: the largest key is 2**63 - 1, the largest
    # int64. Keys a unit apart there (as float64 they would be equal), from columns of any
    # integer dtype.
    high = np.array([2**31 - 1, 2**31 - 1, 2**31 - 1, 0], dtype=np.int32)
    low = np.array([2**32 - 1, 2**32 - 3, 2**32 - 2, 5], dtype=np.int64)
    key = matching.assemble._combined_key((high, low))
    assert key is not None
    assert key.dtype == np.int64
    assert key.tolist() == [
        h * 2**32 + lo for h, lo in zip(high.tolist(), low.tolist(), strict=True)
    ]
    assert np.argsort(key).tolist() == np.lexsort((low, high)).tolist() == [3, 1, 2, 0]


def test_a_combined_key_of_three_columns_orders_by_each_in_turn() -> None:
    columns = (np.array([1, 0, 1, 0, 1]), np.array([2, 2, 0, 2, 0]), np.array([0, 3, 1, 1, 0]))
    key = matching.assemble._combined_key(columns)
    assert key is not None
    assert key.tolist() == [(a * 3 + b) * 4 + c for a, b, c in zip(*columns, strict=True)]
    assert np.argsort(key).tolist() == np.lexsort(columns[::-1]).tolist() == [3, 1, 4, 2, 0]


def test_no_combined_key_is_made_that_could_pass_the_largest_int64() -> None:
    high = np.array([2**31 - 1, 0], dtype=np.int64)
    assert matching.assemble._combined_key((high, np.array([2**32, 0]))) is None
    assert matching.assemble._combined_key((np.array([2**62, 0]), np.array([2, 1]))) is None


def test_a_column_of_zeros_widens_no_stride_of_the_combined_key() -> None:
    key = matching.assemble._combined_key((np.array([2, 0, 1]), np.zeros(3, dtype=np.int64)))
    assert key is not None
    assert key.tolist() == [2, 0, 1]


def test_no_rows_have_an_empty_combined_key() -> None:
    empty = np.empty(0, dtype=np.int64)
    key = matching.assemble._combined_key((empty, empty))
    assert key is not None
    assert key.tolist() == []


@pytest.mark.parametrize("limit", [matching.assemble.KEY_LIMIT, 0])
def test_the_stable_order_of_columns_is_their_lexsort_ties_kept_in_place(
    limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the limit at 0 no combined key is made: the columns are lexsorted instead.
    monkeypatch.setattr(matching.assemble, "KEY_LIMIT", limit)
    rng = np.random.default_rng(7)
    columns = tuple(rng.integers(0, 3, 200) for _ in range(3))  # many ties
    expected = np.lexsort(columns[::-1]).tolist()
    order = matching.assemble._stable_order(columns).tolist()
    assert order == expected
    # tied rows keep their order of input: the same order whatever sort runs underneath
    rows = [tuple(int(c[i]) for c in columns) for i in order]
    assert rows == sorted(rows)
    ties = [i for i in range(len(rows) - 1) if rows[i] == rows[i + 1]]
    assert ties
    assert all(order[i] < order[i + 1] for i in ties)


def test_the_column_sorts_give_the_same_answer_as_the_integer_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problems = [
        random_problem(np.random.default_rng(400 + seed), offers=8, households=24)
        for seed in range(3)
    ]
    problems.append(_one_point_three_radii())
    keyed = [solve_arrays(problem_to_arrays(p)) for p in problems]
    monkeypatch.setattr(matching.assemble, "KEY_LIMIT", 0)
    for problem, by_key in zip(problems, keyed, strict=True):
        arrays = problem_to_arrays(problem)
        by_columns = solve_arrays(arrays)
        assert read_back_errors(problem, arrays, by_columns) == []
        for name in (
            "assignment_offer",
            "assignment_household",
            "assignment_quantity",
            "priority_first",
            "priority_stop",
            "priority_weight",
            "need_served",
        ):
            assert getattr(by_columns, name).tolist() == getattr(by_key, name).tolist(), name


def test_rows_follow_household_then_kind_name_whatever_order_the_columns_list_kinds_in() -> None:
    home = _east(1.0)
    problem = Problem(
        offers=(
            _offer("q", 2, kind="quilt"),
            _offer("c", 2),
            _offer("s", 1, kind="stove"),
        ),
        households=(
            _household(
                "h",
                home,
                Need(kind="stove", quantity=1, weight=1.0),
                Need(kind="quilt", quantity=1, weight=1.0),
                Need(kind="coal", quantity=1, weight=1.0),
            ),
            _household("g", home, Need(kind="coal", quantity=1, weight=1.0)),
        ),
    )
    arrays = problem_to_arrays(problem)
    # The same problem with its kinds listed in reverse name order.
    reverse = {code: len(arrays.kinds) - 1 - code for code in range(len(arrays.kinds))}
    recoded = dataclasses.replace(
        arrays,
        kinds=tuple(reversed(arrays.kinds)),
        offer_kind=np.array([reverse[k] for k in arrays.offer_kind.tolist()]),
        need_kind=np.array([reverse[k] for k in arrays.need_kind.tolist()]),
    )
    plain, listed = solve_arrays(arrays), solve_arrays(recoded)
    names = [recoded.kinds[k] for k in listed.assignment_kind.tolist()]
    assert names == [arrays.kinds[k] for k in plain.assignment_kind.tolist()]
    assert names == ["coal", "quilt", "stove", "coal"]
    assert listed.assignment_offer.tolist() == plain.assignment_offer.tolist() == [1, 0, 2, 1]


def test_unmet_units_say_whether_no_offer_of_the_kind_none_in_reach_or_others_came_first() -> None:
    problem = Problem(
        offers=(
            _offer("coal", 1, radius_km=5.0),
            _offer("quilts", 0, kind="quilt"),
            _offer("stoves", 1, kind="stove", requires=frozenset({"coal_stove"})),
        ),
        households=(
            _household(
                "near",
                _east(1.0),
                Need(kind="coal", quantity=2, weight=2.0),
                Need(kind="quilt", quantity=1, weight=1.0),
                Need(kind="stove", quantity=1, weight=1.0),
            ),
            _household("far", _east(30.0), Need(kind="coal", quantity=1, weight=3.0)),
        ),
    )
    columns = _assert_reads_back(problem)
    assert sorted(set(columns.unmet_cause.tolist())) == [0, 1, 2]


@pytest.mark.parametrize("seed", range(4))
def test_the_greedy_interim_answer_reads_back_as_well(seed: int) -> None:
    problem = random_problem(
        np.random.default_rng(300 + seed), offers=8, households=24, spread_km=15.0
    )
    arrays = problem_to_arrays(problem)
    interim: list[ArraySolution] = []

    def keep(update: Progress) -> None:
        if update.interim_arrays is not None:
            interim.append(update.interim_arrays)

    solve_arrays(arrays, progress=keep, reports=False)
    (greedy,) = interim
    assert read_back_errors(problem, arrays, greedy) == []


def test_a_round_in_which_nobody_can_be_served_has_empty_integer_columns() -> None:
    problem = Problem(
        offers=(_offer("o", 3, radius_km=1.0),),
        households=(_household("h", _east(5.0), Need(kind="coal", quantity=2, weight=1.0)),),
    )
    columns = _assert_reads_back(problem)
    for name in ("offer", "household", "kind", "quantity"):
        column = getattr(columns, f"assignment_{name}")
        assert (len(column), column.dtype) == (0, np.int64), name
    for name in ("first", "stop"):
        column = getattr(columns, f"priority_{name}")
        assert (len(column), column.dtype) == (0, np.int64), name
    assert columns.assignment_priority_start.tolist() == [0]
    assert columns.assignment_priority_start.dtype == np.int64
    assert (columns.totals.units, columns.totals.weighted_units) == (0, 0.0)


def _one_point_three_radii() -> Problem:
    """One point, three radii: the far household reaches only the wide offer, the middle
    one the wide and the mid one; most of the stock is left over."""
    return Problem(
        offers=(
            _offer("narrow", 4, radius_km=3.0),
            _offer("wide", 1, radius_km=20.0),
            _offer("mid", 3, radius_km=8.0),
        ),
        households=(
            _household("far", _east(15.0), Need(kind="coal", quantity=1, weight=1.0)),
            _household("middle", _east(6.0), Need(kind="coal", quantity=1, weight=1.0)),
            _household("close", _east(1.0), Need(kind="coal", quantity=1, weight=1.0)),
        ),
    )


def test_stock_left_over_never_moves_a_household_beyond_the_radius_of_its_offer() -> None:
    columns = _assert_reads_back(_one_point_three_radii())
    assert columns.need_served.tolist() == [1, 1, 1]


def test_offers_in_reach_that_give_nothing_keep_their_stock() -> None:
    # The near offer serves both households; three offers farther east are left alone.
    problem = Problem(
        offers=(
            _offer("near", 4, at=_east(1.0)),
            *(_offer(f"far{i}", 1, at=_east(5.0 + i)) for i in range(3)),
        ),
        households=(
            _household("a", _east(1.2), Need(kind="coal", quantity=2, weight=1.0)),
            _household("b", _east(0.8), Need(kind="coal", quantity=2, weight=1.0)),
        ),
    )
    columns = _assert_reads_back(problem)
    assert columns.assignment_offer.tolist() == [0, 0]


def test_households_sharing_a_point_and_a_priority_are_served_in_the_order_listed() -> None:
    home = _east(2.0)
    problem = Problem(
        offers=(_offer("o", 2),),
        households=(
            _household("a", home, Need(kind="coal", quantity=1, weight=2.0)),
            _household("b", home, Need(kind="coal", quantity=3, weight=2.0)),
            _household("c", home, Need(kind="coal", quantity=2, weight=2.0)),
        ),
    )
    columns = _assert_reads_back(problem)
    assert columns.need_served.tolist() == [1, 1, 0]


def test_rows_stay_in_household_order_when_kinds_outnumber_offers() -> None:
    # Four kinds, two of them offered: the kind codes run past the offer numbers.
    problem = Problem(
        offers=(_offer("coal", 1), _offer("stoves", 1, kind="stove")),
        households=(
            _household("h0", _east(1.0), Need(kind="stove", quantity=1, weight=1.0)),
            _household(
                "h1",
                _east(2.0),
                Need(kind="coal", quantity=1, weight=1.0),
                Need(kind="quilt", quantity=1, weight=1.0),
                Need(kind="coat", quantity=1, weight=1.0),
            ),
        ),
    )
    columns = _assert_reads_back(problem)
    assert columns.assignment_household.tolist() == [0, 1]


def test_chains_at_three_nearby_points_each_reach_the_households_they_serve() -> None:
    # Three points 100 m apart, each with offers of radius 1 km ... 8 km (a chain each),
    # and a household every 250 m: every unit is needed, so every arc into a chain must
    # take the stock of its own offers, widest radius last, in the order the arcs came.
    problem = Problem(
        offers=tuple(
            _offer(f"r{c}-{i}", 1, at=_east(0.1 * c), radius_km=float(i + 1))
            for c in range(3)
            for i in range(8)
        ),
        households=tuple(
            _household(f"h{i}", _east(0.25 * i + 0.05), Need(kind="coal", quantity=1, weight=1.0))
            for i in range(24)
        ),
    )
    columns = _assert_reads_back(problem)
    assert columns.need_served.tolist() == [1] * 24


@pytest.mark.parametrize("listed_first", [False, True])
def test_a_priority_served_in_part_at_a_shared_point_never_takes_the_next_households_units(
    listed_first: bool,
) -> None:
    # a and b share a point: 4 units of priority 5 between them, 3 served (c's 9 comes
    # first); a's third unit (3) is not. c, 5 km east, gets the fourth unit of the offer.
    home = _east(1.0)
    shared = (
        _household("a", home, Need(kind="coal", quantity=3, weights=(5.0, 5.0, 3.0))),
        _household("b", home, Need(kind="coal", quantity=2, weight=5.0)),
    )
    c = _household("c", _east(5.0), Need(kind="coal", quantity=1, weight=9.0))
    problem = Problem(
        offers=(_offer("o", 4, at=_east(0.0)),),
        households=(c, *shared) if listed_first else (*shared, c),
    )
    columns = _assert_reads_back(problem)
    assert columns.need_served.tolist() == ([1, 2, 1] if listed_first else [2, 1, 1])
