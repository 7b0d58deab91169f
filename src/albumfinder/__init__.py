"""Album Finder: find look-alike photos in your own photo album."""

import os

# Idle OpenMP threads sleep instead of spinning. With spinning, torch's threads fight any
# other busy thread (our own decoders, another program) for the cores and throughput
# collapses: measured on 2 cores with one kept busy, ViT-S/14 batch 1 ran at 4.2 images/s
# spinning and 6.9 passive; indexing was ~30% slower with it. It only takes effect before
# torch is loaded, hence here, where any import of Album Finder passes first. A user's own
# OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
if "GOMP_SPINCOUNT" not in os.environ:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from albumfinder.allocator import keep_freed_memory  # noqa: E402 - after the OpenMP setting

MALLOC_TUNED = keep_freed_memory()

__version__ = "0.1.0"
