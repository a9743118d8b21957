"""``make bench``: the engine against a greedy baseline, HiGHS' LP and networkx.

Each size runs in its own process so that peak memory is its own. Default sizes finish in
a few minutes; ``--province`` adds 1,000,000 households x 50,000 offers (about three
minutes more, several GiB), or give ``--sizes 10000x500,100000x5000,1000000x50000``.

"quick s" is when the progress callback received the feasible interim answer, with its
proven gap; "= before" compares both objectives with the exact optimum the engine found
before its performance work (commit 8b0d489), where that finished.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.baselines import highs_lp, network_simplex, plain_pairs
from bench.generate import generate
from matching import Progress, solve
from matching.engine import _solution
from matching.greedy import greedy_part
from matching.network import build_network

DEFAULT_SIZES = "10000x500,100000x5000"
PROVINCE = "1000000x50000"
BEFORE = {
    # (weighted units, unit-km) of the exact optimum at commit 8b0d489, same generator.
    "10000x500": (85780.08, 493387.64375935035),
    "100000x5000": (891586.64, 5735504.899681562),
}
LP_MAX_HOUSEHOLDS = 10_000
NX_MAX_HOUSEHOLDS = 10_000


class _Sampler:
    """The largest resident memory of this process and its worker processes together.

    ``ru_maxrss`` of children is no use here: a child forked from a large parent counts
    the parent's pages until it execs. So /proc is sampled (Linux): this process's VmRSS
    plus that of every child, every 0.1 s; elsewhere the peak of this process only.
    """

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.peak_kib = max(self.peak_kib, own)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            try:
                self.peak_kib = max(self.peak_kib, self._total_kib())
            except OSError:
                return

    @staticmethod
    def _total_kib() -> int:
        pids = ["self"]
        for task in Path("/proc/self/task").iterdir():
            pids.extend((task / "children").read_text().split())
        total = 0
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue  # a worker that just ended
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total


def measure(households: int, offers: int) -> dict[str, Any]:
    """Every figure for one size."""
    problem = generate(households, offers)
    row: dict[str, Any] = {"size": f"{households}x{offers}"}
    started = time.perf_counter()
    feasible_at: list[float] = []

    def seen(report: Progress) -> None:
        if report.interim is not None and not feasible_at:
            feasible_at.append(time.perf_counter() - started)
            row["quick_gap"] = report.interim.stats.relative_gap

    with _Sampler() as sampler:
        solution = solve(problem, progress=seen)
    row["engine_s"] = time.perf_counter() - started
    row["candidates_s"] = solution.stats.seconds["candidates"]
    row["solve_s"] = solution.stats.seconds["solve"]
    row["quick_s"] = feasible_at[0] if feasible_at else math.nan
    row["pairs"] = solution.stats.candidate_pairs
    row["weighted"] = solution.totals.weighted_units
    row["unit_km"] = solution.totals.unit_km
    row["optimal"] = solution.stats.optimal
    row["resolution_km"] = solution.stats.distance_resolution_km
    # Greedy baseline: the same candidates, highest priority first, nearest first.
    mark = time.perf_counter()
    network = build_network(problem)
    flows = [greedy_part(part) for part in network.parts]
    greedy = _solution(problem, network, flows, [False] * len(flows), {})
    row["greedy_s"] = time.perf_counter() - mark
    row["greedy_weighted"] = greedy.totals.weighted_units
    row["greedy_unit_km"] = greedy.totals.unit_km
    if households <= LP_MAX_HOUSEHOLDS:
        mark = time.perf_counter()
        plain = plain_pairs(problem)
        row["plain_pairs"] = len(plain.offer)
        row["plain_pairs_s"] = time.perf_counter() - mark
        mark = time.perf_counter()
        row["lp_weighted"], row["lp_unit_km"] = highs_lp(problem, plain)
        row["lp_s"] = time.perf_counter() - mark
        if households <= NX_MAX_HOUSEHOLDS:
            mark = time.perf_counter()
            row["nx_weighted"], row["nx_unit_km"] = network_simplex(problem, plain)
            row["nx_s"] = time.perf_counter() - mark
    row["peak_mib"] = sampler.peak_kib / 1024  # the engine's solve, workers included
    return row


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| size | pairs | cand s | solve s | engine s | quick s (gap) | peak MiB | weighted | "
        "unit-km | = before | greedy s | greedy weighted | greedy unit-km | LP s | = LP | "
        "nx s | = nx |",
        "|" + "---|" * 17,
    ]
    for r in rows:
        lp = r.get("lp_weighted")
        same_lp = (
            "-"
            if lp is None
            else str(
                math.isclose(r["weighted"], lp, rel_tol=1e-9)
                and math.isclose(r["unit_km"], r["lp_unit_km"], rel_tol=1e-6)
            )
        )
        nx = r.get("nx_weighted")
        same_nx = (
            "-"
            if nx is None
            else str(
                math.isclose(r["weighted"], nx, rel_tol=1e-9)
                and math.isclose(r["unit_km"], r["nx_unit_km"], rel_tol=1e-7)
            )
        )
        before = BEFORE.get(r["size"])
        same_before = (
            "-"
            if before is None
            else str(
                r["weighted"] == before[0] and math.isclose(r["unit_km"], before[1], rel_tol=1e-9)
            )
        )
        lines.append(
            f"| {r['size']} | {r['pairs']} | {r['candidates_s']:.2f} | {r['solve_s']:.2f} | "
            f"{r['engine_s']:.2f} | {r['quick_s']:.2f} ({r.get('quick_gap', math.nan):.2%}) | "
            f"{r['peak_mib']:.0f} | {r['weighted']:.2f} | {r['unit_km']:.1f} | {same_before} | "
            f"{r['greedy_s']:.2f} | {r['greedy_weighted']:.2f} "
            f"({r['greedy_weighted'] / r['weighted']:.4f}x) | {r['greedy_unit_km']:.1f} | "
            f"{r.get('lp_s', math.nan):.2f} ({r.get('lp_s', math.nan) / r['engine_s']:.1f}x) | "
            f"{same_lp} | {r.get('nx_s', math.nan):.2f} "
            f"({r.get('nx_s', math.nan) / r['engine_s']:.1f}x) | {same_nx} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="e.g. 10000x500,100000x5000")
    parser.add_argument(
        "--province", action="store_true", help=f"also {PROVINCE} (minutes, several GiB)"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        households, offers = (int(x) for x in args.one.split("x"))
        print(json.dumps(measure(households, offers)))
        return 0
    rows = []
    sizes = args.sizes.split(",") + ([PROVINCE] if args.province else [])
    for size in sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--one", size], capture_output=True, text=True, check=True
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    print(_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
