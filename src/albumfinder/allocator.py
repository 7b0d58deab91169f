"""Keep freed tensor memory for reuse instead of handing it back to the OS (glibc only).

Each forward pass allocates and frees the same activation buffers (tens of MB). By default
glibc returns such blocks to the OS on free (mmap'd blocks, trimmed heaps, and one arena per
thread), so the next pass page-faults them in again, zero-filled by the kernel: measured
~12,000-15,000 minor faults per batch of 4 with the built-in model, which then ran at 107
photos/s instead of 157 (2 cores). Raising the mmap and trim thresholds and using one arena
keeps the blocks in the heap: 0 faults per pass after warm-up (with the thresholds alone,
~4,700 remained in a worker thread, whose own arena gave them back). Memory held is what a
pass needs anyway, and :func:`release_free_memory` returns it after an indexing run. A user's
own MALLOC_* or GLIBC_TUNABLES malloc settings, or a preloaded allocator, win.
"""

from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

# Blocks up to this size come from the heap (a batch's activations are smaller). glibc up to
# 2.34 refuses more than 32 MiB (HEAP_MAX_SIZE / 2) on 64-bit.
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 128 << 20  # free memory at the top of the heap kept for the next pass
_USER_SETTINGS = (
    "MALLOC_ARENA_MAX",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)
_OTHER_ALLOCATORS = ("jemalloc", "tcmalloc", "mimalloc")


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - glibc only (musl has no such tunables)
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def user_chose_allocator() -> bool:
    """The user set glibc's malloc up themselves, or preloads another allocator."""
    preload = os.environ.get("LD_PRELOAD", "")
    return (
        any(name in os.environ for name in _USER_SETTINGS)
        or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "")
        or any(name in preload for name in _OTHER_ALLOCATORS)
    )


def keep_freed_memory() -> bool:
    """Tune glibc's malloc as the module docstring says; True if every setting took. Call
    early, before threads allocate (a thread keeps the arena it first used)."""
    libc = _glibc()
    if libc is None or user_chose_allocator():
        return False
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    settings = (
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (_M_ARENA_MAX, 1),
    )
    results = [libc.mallopt(option, value) == 1 for option, value in settings]  # each one
    return all(results)


def release_free_memory() -> None:
    """Hand the heap's free memory back to the OS (after a long indexing run, say), since
    :func:`keep_freed_memory` keeps up to TRIM_THRESHOLD of it otherwise."""
    libc = _glibc()
    if libc is not None and not user_chose_allocator():
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
        libc.malloc_trim(0)
