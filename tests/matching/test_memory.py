"""The command line's allocator settings (matching.memory), seen in the resident memory of a
child process: a freed array's pages are kept for reuse, then given back before the workers."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the settings are glibc's",
)

_SCRIPT = """
import os, sys
import numpy as np
from matching.memory import give_back_freed_memory, keep_freed_memory

def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

agreed = keep_freed_memory() if sys.argv[1] == "keep" else None
base = resident()
block = np.ones(96 << 20, dtype=np.uint8)  # 96 MiB, every page touched
held = resident() - base
del block
freed = resident() - base
again = np.ones(96 << 20, dtype=np.uint8)
reused = resident() - base
del again
give_back_freed_memory()
print(agreed, held >> 20, freed >> 20, reused >> 20, (resident() - base) >> 20)
"""


def _resident_mib(mode: str) -> tuple[str, int, int, int, int]:
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode], check=True, capture_output=True, text=True
    ).stdout.split()
    return out[0], int(out[1]), int(out[2]), int(out[3]), int(out[4])


def test_kept_memory_is_reused_by_the_next_array_then_given_back() -> None:
    agreed, held, freed, reused, given_back = _resident_mib("keep")
    assert agreed == "True"
    assert held >= 90
    assert freed >= 90  # kept, not returned to the kernel
    assert reused < 130  # the second array took the kept pages, not 96 MiB more
    assert given_back < 16


def test_by_default_a_large_freed_array_goes_back_to_the_kernel_at_once() -> None:
    agreed, held, freed, _, given_back = _resident_mib("default")
    assert agreed == "None"
    assert held >= 90
    assert freed < 16
    assert given_back < 16
