"""The worker keeps the memory it frees (glibc), so its next large task does not fault it in from the host."""

from __future__ import annotations

import ctypes.util
import sys

import pytest

from tepat.memory import keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux") or not ctypes.util.find_library("c"), reason="glibc only")
def test_the_allocator_is_told_once_and_large_arrays_still_work() -> None:
    import numpy as np

    assert keep_freed_memory() is True
    assert keep_freed_memory() is True  # once per process; asking again changes nothing
    big = np.ones(40_000_000 // 8)  # above glibc's largest mmap threshold: now from the heap
    assert float(big.sum()) == len(big)
