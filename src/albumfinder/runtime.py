"""Process tuning that each entry point asks for first: nothing happens at import.

Programs that only import Album Finder's modules (the registry, say) keep their own OpenMP
and malloc behaviour; the CLI, the GUI, the benchmarks and the test suite call
:func:`tune_process` before torch is imported, so they run as users' runs do.
"""

from __future__ import annotations

import os
import threading

_lock = threading.Lock()
_malloc_tuned: bool | None = None


def tune_process() -> bool:
    """Set the process up for fast forward passes (once; later calls only answer again).
    Returns whether glibc's malloc was tuned (see :mod:`albumfinder.allocator`).

    Idle OpenMP threads sleep instead of spinning. With spinning, torch's threads fight any
    other busy thread (our own decoders, another program) for the cores and throughput
    collapses: measured on 2 cores with one kept busy, ViT-S/14 batch 1 ran at 4.2 images/s
    spinning and 6.9 passive; indexing was ~30% slower with it. It only takes effect before
    torch is loaded, so call this first. A user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT
    wins, as do their own malloc settings.
    """
    global _malloc_tuned
    with _lock:
        if _malloc_tuned is None:
            if "GOMP_SPINCOUNT" not in os.environ:
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from albumfinder.allocator import keep_freed_memory

            _malloc_tuned = keep_freed_memory()
            from albumfinder.images import register_formats

            register_formats()  # Pillow's photo types and pixel limit, before any thread runs
        return _malloc_tuned
