"""Keep freed memory for reuse in a process that solves one large instance.

A province's solve makes and drops arrays of tens of megabytes by the hundred. glibc's malloc
serves each one of 32 MiB or more by a fresh ``mmap`` and returns it to the kernel when it is
freed, so every such array is faulted in and zeroed page by page again: at 1M households
that is seconds of system time. :func:`keep_freed_memory` asks malloc (``mallopt(3)``) to
serve every block from its heap and not to give freed memory back, so that later arrays reuse
pages already mapped. What is kept can raise the peak (at 1M, the feasible step's from 3.3 to
3.8 GiB): freed blocks are reused only where the next ones fit.

What is kept would count against the peak while the exact solve's worker processes run, so
the engine gives it back (:func:`give_back_freed_memory`, ``malloc_trim(3)``) before it starts
them. Only for a process that exits after its solve (the command line): a long-lived server
would keep its largest heap between solves. Elsewhere than glibc both do nothing.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

__all__ = ("give_back_freed_memory", "keep_freed_memory")

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_NEVER_TRIM = 2**31 - 1
"""The largest value mallopt takes (an int): freed memory at the heap's top is kept."""


def _libc_function(name: str) -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


def keep_freed_memory() -> bool:
    """Serve large blocks from the heap and keep freed ones; True when malloc agreed."""
    mallopt = _libc_function("mallopt")
    if mallopt is None:
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt answers 1 when it took the value (glibc); musl's answers 0 and does nothing
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM))


def give_back_freed_memory() -> None:
    """Return the heap's free pages to the kernel (all of them, not only at the top)."""
    malloc_trim = _libc_function("malloc_trim")
    if malloc_trim is not None:
        malloc_trim.argtypes = (ctypes.c_size_t,)
        malloc_trim.restype = ctypes.c_int
        malloc_trim(0)
