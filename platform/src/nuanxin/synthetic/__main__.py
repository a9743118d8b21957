"""``python -m nuanxin.synthetic --households N --offers M --seed S --out DIR [--format ...]``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from nuanxin.synthetic.generate import NORTHERN_PROVINCES, generate
from nuanxin.synthetic.writers import FORMATS, write

__all__ = ("main",)


def main(argv: Sequence[str] | None = None) -> int:
    """Generate a dataset and write it; prints what it wrote and how long it took."""
    parser = argparse.ArgumentParser(
        prog="python -m nuanxin.synthetic", description="Write a seeded synthetic dataset."
    )
    parser.add_argument("--households", type=int, default=300)
    parser.add_argument("--offers", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    parser.add_argument(
        "--format",
        action="append",
        choices=sorted(FORMATS),
        help="instance, csv or jsonl (repeatable; default: instance and csv)",
    )
    parser.add_argument(
        "--province",
        action="append",
        help=f"province code to place households in (repeatable; default: {NORTHERN_PROVINCES})",
    )
    args = parser.parse_args(argv)
    if args.households < 1 or args.offers < 0:
        parser.error("--households must be at least 1 and --offers not negative")
    started = time.perf_counter()
    dataset = generate(
        households=args.households,
        offers=args.offers,
        seed=args.seed,
        provinces=tuple(args.province or NORTHERN_PROVINCES),
    )
    generated = time.perf_counter()
    formats = tuple(args.format or ("instance", "csv"))
    write(dataset, args.out, formats)
    done = time.perf_counter()
    print(
        f"{len(dataset.households)} households, {len(dataset.members)} members, "
        f"{len(dataset.offers)} offers in {len(dataset.counties)} counties -> {args.out} "
        f"({', '.join(formats)}): generated in {generated - started:.1f} s, "
        f"written in {done - generated:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
