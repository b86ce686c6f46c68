"""The background worker keeps the memory it frees, so its next large task does not fault it in again.

glibc gives each allocation above 32 MB its own mapping and returns it to the kernel when freed, and trims the heap
when its top is free. A refresh or an import of a province allocates and frees a few gigabytes of arrays; on
virtual machines that hand freed guest memory back to the host (free page reporting, ballooning), every page of
the next array is faulted in from the host again: measured on the 2-core benchmark machine, 400 MB took 1.0–1.4 s
to touch after a few seconds idle against 0.03 s when the process kept its memory, and a province's refresh spent
about 2 s of its 5.5 s of Python in such faults (docs/benchmarks.md). The worker (`tepat db_worker`) is one long
process, so it keeps what it freed for the next task; its memory stays at the peak of its largest task.
`tepat import` and `tepat demo` do the same for their one large piece of work (a million-row import measured
86–105 s either way: within the machine's noise).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1  # glibc's <malloc.h>
M_MMAP_MAX = -4
_kept: list[bool] = []


def keep_freed_memory() -> bool:
    """Tell glibc to serve large allocations from the heap and never trim it; False where there is no glibc
    (other C libraries, other systems), which changes nothing but speed."""
    if _kept:
        return _kept[0]
    ok = False
    if sys.platform.startswith("linux"):
        try:
            mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
        except (OSError, AttributeError):  # not glibc (musl has no mallopt)
            mallopt = None
        if mallopt is not None:
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            ok = mallopt(M_MMAP_MAX, 0) == 1 and mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1
    _kept.append(ok)
    return ok
