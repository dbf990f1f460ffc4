"""Keep freed memory inside the process for reuse (glibc malloc), because fresh pages cost more than the maths.

The native engine allocates and frees multi-megabyte numpy temporaries every sample. glibc serves blocks
above its mmap threshold with fresh mappings and hands freed memory back to the system, so every sample
pays page faults again; on virtual machines a page fault is expensive. Raising the mmap and trim thresholds
makes freed blocks stay in the heap and be reused. ``scripts/bench_allocator.py`` measures the effect side
by side (fresh interpreters with and without, alternating): the squared edge drops and Joule power of a 32x32
lattice took 5.7 ms with the defaults and 1.8 ms with the raised thresholds (3.2x) on the 2-core
development VM.

The cost: the process keeps up to ``TRIM_THRESHOLD_BYTES`` of freed memory instead of returning it.
Elsewhere than glibc (macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

MMAP_THRESHOLD_BYTES = 256 << 20
"""Blocks below this come from the heap (reusable) instead of a fresh mapping."""
TRIM_THRESHOLD_BYTES = 512 << 20
"""Freed heap memory kept before any is returned to the system."""

_M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
_M_MMAP_THRESHOLD = -3
_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds (once per process). True if the allocator took the settings."""
    global _applied
    if _applied is None:
        _applied = False
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):
            return False
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        mallopt.restype = ctypes.c_int
        _applied = bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)) and bool(
            mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        )
    return _applied
