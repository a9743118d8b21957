"""A worker process for ``matching.workers``: read (index, part), write (index, flow)."""

from __future__ import annotations

import pickle
import sys

from matching.flow import PartFlow, solve_part

__all__ = ()


def _serve() -> None:
    """The worker loop: read (index, part), write (index, flow), until stdin closes."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            index, part = pickle.load(stdin)
        except EOFError:
            return
        answer: PartFlow | Exception
        try:
            answer = solve_part(part)
        except Exception as error:  # handed to the parent, which raises it
            answer = error
        pickle.dump((index, answer), stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()


if __name__ == "__main__":
    _serve()
