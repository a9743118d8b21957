"""Solve parts in worker processes that can be abandoned at a deadline.

OR-Tools holds the GIL while it solves, so parallel parts need processes. Workers are
plain ``python -m matching.worker`` children talking pickles over their pipes: unlike
``multiprocessing`` they never re-import the caller's main module (so a caller needs no
``if __name__ == "__main__"`` guard), and they are killed outright when time is up.
"""

from __future__ import annotations

import pickle
import queue
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import BinaryIO

from matching.flow import PartFlow
from matching.network import Part

__all__ = ("Background", "solve_in_workers")

_STOP_POLL = 0.2
"""Seconds between checks of the stop flag while waiting for workers."""


def solve_in_workers(
    parts: Sequence[Part],
    workers: int,
    deadline: float | None,
    on_done: Callable[[int], None],
    stop: threading.Event | None = None,
    release: threading.Event | None = None,
) -> list[PartFlow | None]:
    """Exact flows by part index; None where the deadline (or ``stop``) came first.

    With ``release``, only the first worker gets parts until the event is set (the caller
    has a core's worth of work of its own until then).
    """
    results: list[PartFlow | None] = [None] * len(parts)
    queue = sorted(range(len(parts)), key=lambda i: -parts[i].arcs)
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
            if number == 0 or release is None:
                _feed(child, number, queue, parts, busy)
        held = release is not None
        while busy and not (stop is not None and stop.is_set()):
            if held and release is not None and release.is_set():
                held = False
                for number, child in enumerate(children):
                    if number not in busy:
                        _feed(child, number, queue, parts, busy)
            timeout = None if deadline is None else deadline - time.perf_counter()
            if timeout is not None and timeout <= 0:
                break
            if stop is not None or held:
                timeout = _STOP_POLL if timeout is None else min(timeout, _STOP_POLL)
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


class Background:
    """:func:`solve_in_workers` on a thread, so the caller can work meanwhile.

    The worker loop only waits on pipes, so it costs the caller's thread nothing. Until
    :meth:`release`, one worker only is busy, leaving a core to the caller. Parts
    finished are queued; :meth:`wait` hands them to ``on_done`` on the caller's thread
    (callbacks never run on the background thread) and returns the flows. Leaving the
    ``with`` block early (an exception) stops the workers.
    """

    def __init__(self, parts: Sequence[Part], workers: int, deadline: float | None) -> None:
        self._done: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._release = threading.Event()
        self._results: list[PartFlow | None] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(parts, workers, deadline), name="matching-workers"
        )

    def _run(self, parts: Sequence[Part], workers: int, deadline: float | None) -> None:
        try:
            self._results = solve_in_workers(
                parts, workers, deadline, self._done.put, self._stop, self._release
            )
        except BaseException as error:  # handed to the caller's thread by wait()
            self._error = error
        finally:
            self._done.put(None)

    def __enter__(self) -> Background:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def release(self) -> None:
        """Let every worker take parts."""
        self._release.set()

    def wait(self, on_done: Callable[[int], None]) -> list[PartFlow | None]:
        """Report finished parts as they come; the flows once every part is settled."""
        self.release()
        while (index := self._done.get()) is not None:
            on_done(index)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._results
