"""The command line: solve an instance file, write the result file."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from matching.engine import solve
from matching.instance import parse_instance, solution_to_json
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
    return parser


def _progress(report: Progress) -> None:
    print(f"[{report.stage}] {report.message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.time_limit is not None and not (math.isfinite(args.time_limit) and args.time_limit > 0):
        print("error: --time-limit must be a positive number of seconds", file=sys.stderr)
        return 2
    try:
        text = sys.stdin.read() if str(args.instance) == "-" else args.instance.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read {args.instance}: {error}", file=sys.stderr)
        return 2
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        print(f"error: {args.instance} is not valid JSON: {error}", file=sys.stderr)
        return 2
    try:
        instance = parse_instance(data)
    except InvalidProblemError as error:
        print(f"error: {args.instance}: {error}", file=sys.stderr)
        return 2
    solution = solve(
        instance.problem,
        time_limit=args.time_limit,
        progress=_progress if args.progress else None,
    )
    result = json.dumps(
        solution_to_json(solution, instance.original_ids), ensure_ascii=False, indent=1
    )
    if args.output is None:
        print(result)
    else:
        args.output.write_text(result + "\n", encoding="utf-8")
    return 0
