"""The command line: solve an instance file, write the result file.

The instance is decoded straight into numpy columns and the result written from them
(``read_instance``, ``solve_arrays``, ``write_result``): no dataclass per household.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from matching.engine import solve_arrays
from matching.instance import read_instance, write_result
from matching.memory import keep_freed_memory
from matching.model import Progress
from matching.validate import InvalidProblemError

__all__ = ("main",)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m matching", description="Match donated winter aid to households."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("solve", help="solve an instance file (see matching/README.md)")
    run.add_argument("instance", type=Path, help="instance JSON file ('-' for stdin)")
    run.add_argument("-o", "--output", type=Path, help="result JSON file (default: stdout)")
    run.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="return the best answer found by then, with its proven gap",
    )
    run.add_argument("--progress", action="store_true", help="report progress on stderr")
    run.add_argument(
        "--reports",
        action="store_true",
        help="add the marginal value of one more unit per kind and point, and the unmet "
        "need by region, to the result",
    )
    return parser


def _progress(report: Progress) -> None:
    print(f"[{report.stage}] {report.message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.time_limit is not None and not (math.isfinite(args.time_limit) and args.time_limit > 0):
        print("error: --time-limit must be a positive number of seconds", file=sys.stderr)
        return 2
    keep_freed_memory()  # this process exits after one solve
    try:
        raw = sys.stdin.buffer.read() if str(args.instance) == "-" else args.instance.read_bytes()
        instance = read_instance(raw)
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read {args.instance}: {error}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as error:
        print(f"error: {args.instance} is not valid JSON: {error}", file=sys.stderr)
        return 2
    except InvalidProblemError as error:
        print(f"error: {args.instance}: {error}", file=sys.stderr)
        return 2
    del raw
    problem = instance.problem
    if args.progress:
        households, offers = len(problem.household_id), len(problem.offer_id)
        _progress(
            Progress(
                stage="read", done=1, total=1, message=f"{households} households, {offers} offers"
            )
        )
    solution = solve_arrays(
        problem,
        time_limit=args.time_limit,
        progress=_progress if args.progress else None,
        reports=args.reports,
    )
    if args.progress:
        _progress(Progress(stage="write", done=0, total=1, message="writing the result"))
    if args.output is None:
        write_result(
            sys.stdout.buffer,
            instance.problem,
            solution,
            instance.original_ids,
            reports=args.reports,
        )
        sys.stdout.buffer.flush()
    else:
        with args.output.open("wb") as out:
            write_result(
                out, instance.problem, solution, instance.original_ids, reports=args.reports
            )
    if args.progress:
        _progress(Progress(stage="write", done=1, total=1, message="done"))
    return 0
