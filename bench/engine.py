"""``make bench``: the engine step by step, with ratios against baselines run in the same process.

Each size runs in its own process. Instances come from ``nuanxin.synthetic`` (seed 1),
written as the engine's ``instance.json`` into a temporary directory. For each size:

* **command line**: ``python -m matching solve instance.json -o result.json --progress``
  in a child process; each step (read, candidates, feasible answer, exact solve, write)
  is timed by the progress lines as they arrive, and the resident memory of the child and
  its worker processes is sampled from /proc every 0.1 s and charged to the step then
  running. "peak" is the largest total. Then once more without ``--progress``: the exact
  answer alone, with no feasible answer made first (end to end, CPU, peak, and whether
  the totals are the same).
* **ratios** in this process: the plain JSON reader (``json.loads`` + ``parse_instance``
  into dataclasses) against ``read_instance`` (msgspec into columns); ``solve`` on the
  dataclasses against ``solve_arrays`` on the columns (time to the feasible answer, and
  to the exact one up to ``EXACT_RATIO_MAX``); ``json.dumps(solution_to_json(...))``
  against ``write_result``. Both solve paths must give the same totals.
* at up to ``LP_MAX_HOUSEHOLDS``, HiGHS' LP checks the optimum (networkx' network
  simplex, in the tests, took 225 s at 10k on these instances: it is left out here).

Default sizes finish in a few minutes; ``--province`` adds 1,000,000 households x 50,000
offers (several minutes, a few GiB), or give ``--sizes 10000x500,100000x5000``.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.baselines import highs_lp, plain_pairs
from matching import (
    ArrayProblem,
    ArraySolution,
    Progress,
    parse_instance,
    solution_from_arrays,
    solution_to_json,
    solve,
    solve_arrays,
    what_if_radius,
    what_if_stock,
)
from matching.instance import read_instance, write_result
from nuanxin.synthetic import generate, write_instance

DEFAULT_SIZES = "10000x500,100000x5000"
PROVINCE = "1000000x50000"
LP_MAX_HOUSEHOLDS = 10_000
EXACT_RATIO_MAX = 100_000
"""Above this many households, the two solve paths are compared up to the feasible answer
only (the exact solve after it is the same code on the same columns)."""
STEPS = ("read", "candidates", "feasible", "exact", "assemble", "write")


class _Sampler:
    """Resident memory of a process and its children, sampled from /proc every 0.1 s and
    charged to the step named in ``step`` at the time of the sample."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.step = STEPS[0]
        self.peak_kib: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            total = _tree_kib(self.pid)
            if total:
                step = self.step
                self.peak_kib[step] = max(self.peak_kib.get(step, 0), total)


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants, living or reaped."""
    pids, total = [str(pid)], 0
    while pids:
        current = pids.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pids.extend((task / "children").read_text().split())
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime, stime, of reaped children too
    return total / os.sysconf("SC_CLK_TCK")


def _tree_kib(pid: int) -> int:
    pids = [str(pid)]
    total = 0
    while pids:
        current = pids.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pids.extend((task / "children").read_text().split())
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue  # a worker that just ended
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def command_line(instance: Path, result: Path, progress: bool = True) -> dict[str, Any]:
    """Run the command line once; seconds and peak MiB per step, from its progress lines.

    Without ``progress`` there are no lines (and no feasible answer is made first): only
    the whole run's seconds, CPU seconds and peak are meaningful.
    """
    started = time.perf_counter()
    flags = ["--progress"] if progress else []
    child = subprocess.Popen(
        [sys.executable, "-m", "matching", "solve", str(instance), "-o", str(result), *flags],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stderr is not None
    marks: dict[str, float] = {}
    cpu: dict[str, float] = {}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with _Sampler(child.pid) as sampler:
        for line in child.stderr:
            now = time.perf_counter() - started
            cpu[sampler.step] = _tree_cpu_s(child.pid)
            if line.startswith("[read]"):
                marks["read"], sampler.step = now, "candidates"
            elif line.startswith("[candidates]") and "parts" in line:
                marks["candidates"], sampler.step = now, "feasible"
            elif line.startswith("[feasible]"):
                marks["feasible"], sampler.step = now, "exact"
                marks["gap"] = float(line.rsplit(" ", 1)[-1].rstrip("%\n")) / 100
            elif line.startswith("[exact]"):
                marks["exact"] = now
                done, total = line.split()[1].split("/")
                if done == total:
                    sampler.step = "assemble"
            elif line.startswith("[write] writing"):
                marks["assemble"], sampler.step = now, "write"
        child.wait()
        marks["write"] = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu["write"] = (children.ru_utime - children_before.ru_utime) + (
        children.ru_stime - children_before.ru_stime
    )
    if child.returncode != 0:
        raise RuntimeError(f"the command line failed with status {child.returncode}")
    seconds, previous = {}, 0.0
    for step in STEPS:
        if step in marks:
            seconds[step] = marks[step] - previous
            previous = marks[step]
    peaks = {step: kib / 1024 for step, kib in sampler.peak_kib.items()}
    cpu_seconds, previous = {}, 0.0
    for step in STEPS:
        if step in cpu:
            cpu_seconds[step] = cpu[step] - previous
            previous = cpu[step]
    return {
        "cli_cpu_s": cpu["write"],
        "cli_step_cpu_s": cpu_seconds,
        "cli_s": marks["write"],
        "cli_feasible_s": marks.get("feasible", math.nan),
        "cli_gap": marks.get("gap", math.nan),
        "cli_step_s": seconds,
        "cli_step_peak_mib": peaks,
        "cli_peak_mib": max(peaks.values(), default=math.nan),
    }


def _feasible_clock(started: float, seen: dict[str, float]) -> Any:
    def on_progress(report: Progress) -> None:
        interim = report.interim_arrays or report.interim
        if interim is not None and "feasible_s" not in seen:
            seen["feasible_s"] = time.perf_counter() - started
            seen["gap"] = interim.stats.relative_gap

    return on_progress


def measure(households: int, offers: int) -> dict[str, Any]:
    """Every figure for one size."""
    row: dict[str, Any] = {"size": f"{households}x{offers}"}
    with tempfile.TemporaryDirectory() as tmp:
        instance_path, result_path = Path(tmp) / "instance.json", Path(tmp) / "result.json"
        dataset = generate(households=households, offers=offers, seed=1)
        write_instance(dataset, instance_path)
        # Regions (county codes) for the reports: the instance file carries none.
        county_codes = tuple(division.code for division in dataset.counties)
        household_county = dataset.households.county.astype(np.int64)
        del dataset
        row["instance_mib"] = instance_path.stat().st_size / 2**20
        row |= command_line(instance_path, result_path)
        result = json.loads(result_path.read_bytes())
        row["weighted"] = result["totals"]["weighted_units"]
        row["unit_km"] = result["totals"]["unit_km"]
        row["optimal"] = result["stats"]["optimal"]
        row["pairs"] = result["stats"]["candidate_pairs"]
        # The exact answer alone: no --progress, so no feasible answer is made first.
        alone = command_line(instance_path, result_path, progress=False)
        row["alone_s"], row["alone_cpu_s"] = alone["cli_s"], alone["cli_cpu_s"]
        row["alone_peak_mib"] = alone["cli_peak_mib"]
        row["alone_same"] = json.loads(result_path.read_bytes())["totals"] == result["totals"]
        del result
        raw = instance_path.read_bytes()
    # Reading: the plain reader into dataclasses against msgspec into columns.
    mark = time.perf_counter()
    problem = parse_instance(json.loads(raw)).problem
    row["old_read_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    arrays = read_instance(raw).problem
    regions, region_of = np.unique(np.asarray(county_codes)[household_county], return_inverse=True)
    arrays = dataclasses.replace(
        arrays, regions=tuple(regions.tolist()), household_region=region_of.astype(np.int64)
    )
    row["new_read_s"] = time.perf_counter() - mark
    del raw
    # Solving: the dataclass face against the array face (the same core underneath).
    exact = households <= EXACT_RATIO_MAX
    limit = None if exact else 1e-9  # past the deadline once the feasible answer is made
    seen: dict[str, float] = {}
    mark = time.perf_counter()
    by_dataclasses = solve(problem, time_limit=limit, progress=_feasible_clock(mark, seen))
    row["dataclass_s"] = time.perf_counter() - mark
    row["dataclass_feasible_s"], row["dataclass_gap"] = seen["feasible_s"], seen["gap"]
    row["dataclass_totals"] = [by_dataclasses.totals.weighted_units, by_dataclasses.totals.unit_km]
    del by_dataclasses
    seen = {}
    mark = time.perf_counter()
    solution = solve_arrays(arrays, time_limit=limit, progress=_feasible_clock(mark, seen))
    row["array_s"] = time.perf_counter() - mark
    row["array_feasible_s"], row["array_gap"] = seen["feasible_s"], seen["gap"]
    row["array_totals"] = [solution.totals.weighted_units, solution.totals.unit_km]
    row["same_totals"] = row["dataclass_totals"] == row["array_totals"]
    row["exact_compared"] = exact
    # Writing: json.dumps of the dataclass document against write_result from columns.
    mark = time.perf_counter()
    dataclass_solution = solution_from_arrays(arrays, solution)
    row["to_dataclasses_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    old = json.dumps(solution_to_json(dataclass_solution), ensure_ascii=False, indent=1)
    row["old_write_s"] = time.perf_counter() - mark
    del old, dataclass_solution
    mark = time.perf_counter()
    write_result(io.BytesIO(), arrays, solution)
    row["new_write_s"] = time.perf_counter() - mark
    if exact:
        row |= reports(arrays, solution)
    if households <= LP_MAX_HOUSEHOLDS:
        plain = plain_pairs(problem)
        mark = time.perf_counter()
        row["lp_weighted"], row["lp_unit_km"] = highs_lp(problem, plain)
        row["lp_s"] = time.perf_counter() - mark
    return row


def reports(arrays: ArrayProblem, solution: ArraySolution) -> dict[str, Any]:
    """What the reports add to an exact solve, and what the "what if" answers take: one more
    stock at the point where a unit is worth most, and the offer there reaching 20 km more."""
    row: dict[str, Any] = {}
    mark = time.perf_counter()
    plain = solve_arrays(arrays, reports=False)
    row["plain_solve_s"] = time.perf_counter() - mark
    row["reports_s"] = solution.stats.seconds["reports"]
    row["marginal_rows"] = len(solution.marginal_offer)
    row["region_rows"] = len(solution.region_unmet_units)
    assert plain.totals == solution.totals
    best = int(solution.marginal_offer[int(np.argmax(solution.marginal_weight))])
    kind = arrays.kinds[int(arrays.offer_kind[best])]
    requires = arrays.offer_requires[
        arrays.offer_requires_start[best] : arrays.offer_requires_start[best + 1]
    ]
    stock = what_if_stock(
        arrays,
        solution,
        kind=kind,
        lat=float(arrays.offer_lat[best]),
        lon=float(arrays.offer_lon[best]),
        quantity=10,
        radius_km=float(arrays.offer_radius_km[best]),
        requires=tuple(arrays.tags[t] for t in requires.tolist()),
    )
    wider = what_if_radius(
        arrays,
        solution,
        offer=arrays.offer_id[best],
        radius_km=float(arrays.offer_radius_km[best]) + 20.0,
    )
    row["what_if_stock"] = {
        "kind": kind,
        "households": stock.households_served,
        "weighted": stock.weighted_units,
        "unit_km": stock.unit_km,
        "s": stock.seconds,
    }
    row["what_if_radius"] = {
        "households": wider.households_served,
        "weighted": wider.weighted_units,
        "unit_km": wider.unit_km,
        "s": wider.seconds,
    }
    return row


def _upto(row: dict[str, Any]) -> str:
    return "" if row["exact_compared"] else " to feasible"


def _same(a: float, b: float | None, tol: float) -> str:
    return "-" if b is None else str(math.isclose(a, b, rel_tol=tol))


def _tables(rows: list[dict[str, Any]]) -> str:
    steps = " | ".join(f"{s} s (MiB)" for s in STEPS)
    lines = [
        f"| size | {steps} | end to end s (CPU s) | peak MiB | feasible after s (gap) | optimal "
        "| without --progress: end to end s (CPU s), peak MiB, same totals |",
        "|" + "---|" * (len(STEPS) + 6),
    ]
    for r in rows:
        cells = " | ".join(
            f"{r['cli_step_s'].get(s, math.nan):.2f} ({r['cli_step_peak_mib'].get(s, 0):.0f})"
            for s in STEPS
        )
        lines.append(
            f"| {r['size']} | {cells} | {r['cli_s']:.1f} ({r['cli_cpu_s']:.1f}) | "
            f"{r['cli_peak_mib']:.0f} | "
            f"{r['cli_feasible_s']:.1f} ({r['cli_gap']:.2%}) | {r['optimal']} | "
            f"{r['alone_s']:.1f} ({r['alone_cpu_s']:.1f}), {r['alone_peak_mib']:.0f}, "
            f"{r['alone_same']} |"
        )
    lines += [
        "",
        "| size | read: plain / msgspec s | feasible: dataclasses / arrays s (gap) | "
        "solve: dataclasses / arrays s | same totals | write: json / msgspec s | "
        "= LP |",
        "|" + "---|" * 7,
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['old_read_s']:.2f} / {r['new_read_s']:.2f} "
            f"({r['old_read_s'] / r['new_read_s']:.1f}x) | "
            f"{r['dataclass_feasible_s']:.2f} / {r['array_feasible_s']:.2f} "
            f"({r['dataclass_feasible_s'] / r['array_feasible_s']:.1f}x, "
            f"{r['array_gap']:.2%}) | "
            f"{r['dataclass_s']:.2f} / {r['array_s']:.2f} "
            f"({r['dataclass_s'] / r['array_s']:.1f}x{_upto(r)}) | {r['same_totals']} | "
            f"{r['old_write_s']:.2f} / {r['new_write_s']:.2f} "
            f"({r['old_write_s'] / r['new_write_s']:.1f}x) | "
            f"{_same(r['weighted'], r.get('lp_weighted'), 1e-9)} |"
        )
    lines += [
        "",
        "| size | solve without / with reports s | reports s | marginal rows | region rows | "
        "what if +10 units s | what if +20 km s |",
        "|" + "---|" * 7,
    ]
    for r in rows:
        if "reports_s" in r:
            lines.append(
                f"| {r['size']} | {r['plain_solve_s']:.2f} / {r['array_s']:.2f} | "
                f"{r['reports_s']:.2f} | {r['marginal_rows']} | {r['region_rows']} | "
                f"{r['what_if_stock']['s']:.2f} | {r['what_if_radius']['s']:.2f} |"
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
    print(_tables(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
