"""Time and peak memory of the synthetic generator at the largest size.

    .venv/bin/python bench/generator.py [--households 1000000] [--offers 50000] [--seed 1]

Generates, then writes each format into a temporary directory, printing the seconds of each
step, the bytes written and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from nuanxin.synthetic import FORMATS, generate


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--offers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    dataset = generate(households=args.households, offers=args.offers, seed=args.seed)
    total = generated = time.perf_counter() - started
    print(
        f"generate: {len(dataset.households):,} households, {len(dataset.members):,} members, "
        f"{len(dataset.offers):,} offers: {generated:.1f} s, peak {_peak_mib():.0f} MiB"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, writer in FORMATS.items():
            directory = Path(tmp) / name
            directory.mkdir()
            began = time.perf_counter()
            writer(dataset, directory)
            took = time.perf_counter() - began
            total += took
            size = sum(path.stat().st_size for path in directory.iterdir())
            print(f"write {name}: {took:.1f} s, {size / 2**20:.0f} MiB, peak {_peak_mib():.0f} MiB")
    print(f"total (generate + every format): {total:.1f} s, peak {_peak_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
