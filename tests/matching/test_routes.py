"""The order of a courier's day: OR-Tools' round trip against the nearest-neighbour baseline."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from geopy.distance import great_circle

from matching import (
    InvalidRouteError,
    RouteProblem,
    Stop,
    nearest_neighbour_route,
    plan_route,
)
from matching.routes import route_length_km

DEPOT = (45.53, 126.62)  # a warehouse in 呼兰区


def _instance(n: int, seed: int, *, detour: float = 1.3) -> RouteProblem:
    rng = np.random.default_rng(seed)
    stops = tuple(
        Stop(
            id=f"v{i}",
            lat=float(DEPOT[0] + rng.uniform(-0.35, 0.35)),
            lon=float(DEPOT[1] + rng.uniform(-0.5, 0.5)),
        )
        for i in range(n)
    )
    return RouteProblem(depot_lat=DEPOT[0], depot_lon=DEPOT[1], stops=stops, detour_factor=detour)


@pytest.mark.parametrize("n", [3, 20, 50, 80])
def test_the_route_visits_every_stop_exactly_once(n: int) -> None:
    problem = _instance(n, seed=7)
    route = plan_route(problem, time_limit_s=0.5, improve="descent")
    assert sorted(route.stops) == sorted(s.id for s in problem.stops)
    assert len(set(route.stops)) == n
    assert len(route.legs_km) == n + 1


def test_the_route_starts_and_ends_at_the_depot_and_its_legs_are_great_circle_times_detour() -> (
    None
):
    problem = _instance(12, seed=3, detour=1.3)
    route = plan_route(problem, time_limit_s=0.5)
    at = {s.id: (s.lat, s.lon) for s in problem.stops}
    path = [DEPOT, *(at[s] for s in route.stops), DEPOT]
    expected = [great_circle(a, b).km * 1.3 for a, b in itertools.pairwise(path)]
    assert route.legs_km == pytest.approx(expected, rel=1e-9)
    assert route.total_km == pytest.approx(math.fsum(expected), rel=1e-9)
    assert route.total_km == pytest.approx(route_length_km(problem, route.stops), rel=1e-12)


@pytest.mark.parametrize("n", [20, 50, 80])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_route_is_never_longer_than_nearest_neighbours(n: int, seed: int) -> None:
    problem = _instance(n, seed)
    baseline = nearest_neighbour_route(problem)
    descent = plan_route(problem, time_limit_s=2.0, improve="descent")
    guided = plan_route(problem, time_limit_s=0.3, improve="guided")
    assert descent.total_km <= baseline.total_km
    assert guided.total_km <= baseline.total_km
    assert descent.method == "ortools"


def test_the_route_is_shorter_than_nearest_neighbours_on_a_day_of_fifty_stops() -> None:
    problem = _instance(50, seed=11)
    assert plan_route(problem, time_limit_s=0.5).total_km < (
        0.97 * nearest_neighbour_route(problem).total_km
    )


def test_no_stops_is_an_empty_route_of_no_length() -> None:
    problem = RouteProblem(depot_lat=DEPOT[0], depot_lon=DEPOT[1], stops=())
    for route in (plan_route(problem), nearest_neighbour_route(problem)):
        assert route.stops == ()
        assert route.legs_km == ()
        assert route.total_km == 0.0
        assert route.method == "trivial"


def test_one_stop_is_there_and_back() -> None:
    stop = Stop(id="only", lat=45.6, lon=126.7)
    problem = RouteProblem(depot_lat=DEPOT[0], depot_lon=DEPOT[1], stops=(stop,), detour_factor=1.5)
    route = plan_route(problem)
    one_way = great_circle(DEPOT, (45.6, 126.7)).km * 1.5
    assert route.stops == ("only",)
    assert route.legs_km == pytest.approx((one_way, one_way), rel=1e-9)
    assert route.method == "trivial"


def test_a_stop_at_the_depot_itself_costs_nothing() -> None:
    problem = RouteProblem(
        depot_lat=DEPOT[0], depot_lon=DEPOT[1], stops=(Stop(id="here", lat=DEPOT[0], lon=DEPOT[1]),)
    )
    assert plan_route(problem).total_km == 0.0


@pytest.mark.parametrize("limit", [0.2, 0.5])
def test_the_time_limit_is_respected(limit: float) -> None:
    problem = _instance(80, seed=5)
    started = time.perf_counter()
    route = plan_route(problem, time_limit_s=limit, improve="guided")
    elapsed = time.perf_counter() - started
    assert elapsed < limit + 0.5  # the solver stops at the limit; the margin is for a busy machine
    assert route.seconds <= elapsed
    assert len(route.stops) == 80


def test_descent_gives_the_same_order_every_time() -> None:
    problem = _instance(30, seed=9)
    first = plan_route(problem, time_limit_s=5.0, improve="descent")
    assert plan_route(problem, time_limit_s=5.0, improve="descent").stops == first.stops


def test_the_input_is_not_changed() -> None:
    problem = _instance(10, seed=4)
    before = tuple(problem.stops)
    plan_route(problem, time_limit_s=0.2)
    assert problem.stops == before


@pytest.mark.parametrize(
    ("problem", "words"),
    [
        (RouteProblem(depot_lat=91.0, depot_lon=0.0, stops=()), "depot"),
        (RouteProblem(depot_lat=math.nan, depot_lon=0.0, stops=()), "depot"),
        (
            RouteProblem(
                depot_lat=45.0,
                depot_lon=126.0,
                stops=(Stop(id="a", lat=45.1, lon=126.1), Stop(id="a", lat=45.2, lon=126.2)),
            ),
            "unique",
        ),
        (
            RouteProblem(depot_lat=45.0, depot_lon=126.0, stops=(Stop(id="a", lat=45, lon=181),)),
            "stop a",
        ),
        (RouteProblem(depot_lat=45.0, depot_lon=126.0, stops=(), detour_factor=0.9), "detour"),
    ],
)
def test_a_malformed_problem_is_refused_with_its_reason(problem: RouteProblem, words: str) -> None:
    with pytest.raises(InvalidRouteError, match=words):
        plan_route(problem)
    with pytest.raises(InvalidRouteError, match=words):
        nearest_neighbour_route(problem)


def test_a_time_limit_that_is_not_positive_is_refused() -> None:
    with pytest.raises(InvalidRouteError, match="time_limit_s"):
        plan_route(_instance(5, seed=1), time_limit_s=0)
