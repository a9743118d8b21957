"""``make bench-routes``: a courier's day ordered by OR-Tools against nearest-neighbour.

For 20, 50 and 80 stops and several seeded instances each (stops spread uniformly over a
county-size box, about 78 x 78 km, around a warehouse in 呼兰区; detour factor 1.3), in this one
process:

* **length**: the OR-Tools round trip's km over the nearest-neighbour round trip's km
  (below 1 is shorter), for ``descent`` (stop at the first local optimum) and ``guided``
  (guided local search until the time limit, the platform's default);
* **time**: each solve's wall-clock time over the nearest-neighbour solve's time on the same
  instance (the baseline is timed as the best of 5 runs, the solvers once).

Prints one row per size and method: the mean, lowest and highest ratio over the seeds.
``--seeds 10 --time-limit 2`` for a longer run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "matching" / "src"))

from matching import RouteProblem, Stop, nearest_neighbour_route, plan_route
from matching.routes import DEFAULT_DETOUR_FACTOR, Improve

DEPOT = (45.90, 126.62)
SIZES = (20, 50, 80)
METHODS: tuple[Improve, ...] = ("descent", "guided")


def instance(n: int, seed: int) -> RouteProblem:
    rng = np.random.default_rng(seed)
    stops = tuple(
        Stop(
            id=str(i),
            lat=float(DEPOT[0] + rng.uniform(-0.35, 0.35)),
            lon=float(DEPOT[1] + rng.uniform(-0.5, 0.5)),
        )
        for i in range(n)
    )
    return RouteProblem(
        depot_lat=DEPOT[0], depot_lon=DEPOT[1], stops=stops, detour_factor=DEFAULT_DETOUR_FACTOR
    )


def _best_of(problem: RouteProblem, runs: int = 5) -> tuple[float, float]:
    """The nearest-neighbour tour's km and its best time of ``runs``."""
    best, km = float("inf"), 0.0
    for _ in range(runs):
        started = time.perf_counter()
        km = nearest_neighbour_route(problem).total_km
        best = min(best, time.perf_counter() - started)
    return km, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="instances per size (seeds 1..N)")
    parser.add_argument("--time-limit", type=float, default=1.0, help="seconds per guided solve")
    args = parser.parse_args()
    print(
        f"route order: {args.seeds} seeded instances per size, detour factor "
        f"{DEFAULT_DETOUR_FACTOR}, guided local search for {args.time_limit:g} s"
    )
    header = (
        f"{'stops':>5}  {'method':<8}  {'km ratio mean (min-max)':<24}  "
        f"{'time ratio mean (min-max)':<30}  {'NN km':>8}  {'km':>8}  {'s':>6}"
    )
    print(header)
    print("-" * len(header))
    for n in SIZES:
        rows: dict[str, list[tuple[float, float, float, float, float]]] = {
            "descent": [],
            "guided": [],
        }
        for seed in range(1, args.seeds + 1):
            problem = instance(n, seed)
            nn_km, nn_s = _best_of(problem)
            for improve in METHODS:
                started = time.perf_counter()
                route = plan_route(problem, time_limit_s=args.time_limit, improve=improve)
                seconds = time.perf_counter() - started
                assert route.total_km <= nn_km, (n, seed, improve)
                rows[improve].append(
                    (route.total_km / nn_km, seconds / nn_s, nn_km, route.total_km, seconds)
                )
        for method, found in rows.items():
            km = [r[0] for r in found]
            times = [r[1] for r in found]
            print(
                f"{n:>5}  {method:<8}  "
                f"{statistics.fmean(km):.3f} ({min(km):.3f}-{max(km):.3f}){'':<6}  "
                f"{statistics.fmean(times):>9,.0f} ({min(times):,.0f}-{max(times):,.0f}){'':<4}  "
                f"{statistics.fmean(r[2] for r in found):>8.1f}  "
                f"{statistics.fmean(r[3] for r in found):>8.1f}  "
                f"{statistics.fmean(r[4] for r in found):>6.3f}"
            )


if __name__ == "__main__":
    main()
