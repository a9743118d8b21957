"""Solve parts in worker processes that can be abandoned at a deadline.

OR-Tools holds the GIL while it solves, so parallel parts need processes. Workers are
plain ``python -m matching.worker`` children talking pickles over their pipes: unlike
``multiprocessing`` they never re-import the caller's main module (so a caller needs no
``if __name__ == "__main__"`` guard), and they are killed outright when time is up.
"""

from __future__ import annotations

import pickle
import selectors
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import BinaryIO

from matching.flow import PartFlow
from matching.network import Part

__all__ = ("expected_work", "solve_in_workers")


def solve_in_workers(
    parts: Sequence[Part],
    workers: int,
    deadline: float | None,
    on_done: Callable[[int], None],
) -> list[PartFlow | None]:
    """Exact flows by part index; None where the deadline came first."""
    results: list[PartFlow | None] = [None] * len(parts)
    queue = sorted(range(len(parts)), key=lambda i: -expected_work(parts[i]))
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "matching.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for _ in range(min(workers, len(parts)))
    ]
    selector = selectors.DefaultSelector()
    busy: dict[int, int] = {}
    try:
        for number, child in enumerate(children):
            assert child.stdout is not None
            selector.register(child.stdout, selectors.EVENT_READ, number)
            _feed(child, number, queue, parts, busy)
        while busy:
            timeout = None if deadline is None else deadline - time.perf_counter()
            if timeout is not None and timeout <= 0:
                break
            for key, _ in selector.select(timeout):
                number = key.data
                stream: BinaryIO = key.fileobj  # type: ignore[assignment]
                index, flow = pickle.load(stream)
                if isinstance(flow, BaseException):
                    raise flow
                results[index] = flow
                del busy[number]
                on_done(index)
                _feed(children[number], number, queue, parts, busy)
    finally:
        selector.close()
        for child in children:
            child.kill()
            child.wait()
            for pipe in (child.stdin, child.stdout):
                if pipe is not None:
                    pipe.close()
    return results


def expected_work(part: Part) -> int:
    """What a part's exact solve is expected to cost, to start the dearest parts first.

    Phase one takes one maximum flow per halving of the part's priority levels, each over
    its arcs (``matching.cuts``), and the parts with more levels have taken longer in phase
    two as well: arcs times the halvings of the range of ranks. At 1M households the coal
    part (hundreds of levels) takes longer than the other kinds' parts of as many arcs, and
    started third when parts were ordered by arcs alone.
    """
    ranks = part.level_rank
    levels = int(ranks.max()) - int(ranks.min()) + 1 if len(ranks) else 1
    return part.arcs * max(1, levels.bit_length())


def _feed(
    child: subprocess.Popen[bytes],
    number: int,
    queue: list[int],
    parts: Sequence[Part],
    busy: dict[int, int],
) -> None:
    if not queue:
        return
    index = queue.pop(0)
    assert child.stdin is not None
    pickle.dump((index, parts[index]), child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
    child.stdin.flush()
    busy[number] = index
