"""Grouping duplicates: the kNN graph and the groups over 100k and 1M photos' vectors.

Synthetic vectors: clustered unit vectors (photos of the same places, cosine ~0.6 within a
place) with planted near-duplicate pairs (cosine ~0.97). What is timed is what
``Library.duplicate_groups`` does with the vectors (the kNN graph of
:mod:`albumfinder.duplicates.candidates`, then the verdicts and the components), without
the index's cache (every photo is new). Baseline in the same run: the naive all-pairs
way (the full N×N cosine matrix, thresholded) at a size it can do, extrapolated
quadratically in time and memory. Every photo has facts as an indexed one does (8 pHashes,
one a turn; a copy's are its original's, a bit moved), so the pHash join of turned copies
and the per-pair hash checks are timed too. The machine is shared: wall time is what this run
got; CPU time (all threads) is what the work costs, and what the targets are read
against (on 2 idle cores the wall time is at most that, about half with two workers). Peak
memory: the kernel's high-water mark of resident memory during the call, reset before it,
less what was resident before (the input matrix not counted); tracemalloc's peak where the
mark cannot be reset (tracemalloc slows Python's allocations several-fold: times read high).
Recall: planted pairs found.
Targets: 100k in ≤ 10 s, 1M in ≤ 3 min on a 2-core machine, memory linear. Run:
    python benchmarks/bench_grouping.py [--sizes 100000 1000000] [--dims 384 1280]
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numpy as np

from albumfinder.duplicates.candidates import knn_edges
from albumfinder.duplicates.groups import Decisions, Grouping
from albumfinder.duplicates.keeper import DEFAULT_RULE
from albumfinder.duplicates.photo import Photo
from albumfinder.duplicates.thresholds import FAMILY_THRESHOLDS, KNN_NEIGHBOURS
from albumfinder.models.registry import Family
from albumfinder.photo_facts import ORIENTATIONS, PhotoFacts
from albumfinder.report import GroupKind

from common import machine, mark, print_table

TARGETS = {100_000: 10.0, 1_000_000: 180.0}
PLANTED_SHARE = 0.02  # of the photos, a near-duplicate copy each


def album_vectors(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, dim) float16 unit rows in clusters of ~50 photos; the last rows are copies of
    earlier ones: returns the matrix and the planted (original, copy) rows."""
    rng = np.random.default_rng(seed)
    copies = int(n * PLANTED_SHARE)
    places = rng.standard_normal((max(1, n // 50), dim), dtype=np.float32)
    places /= np.linalg.norm(places, axis=1, keepdims=True)
    out = np.empty((n, dim), dtype=np.float16)
    originals = n - copies
    for start in range(0, originals, 50_000):
        count = min(50_000, originals - start)
        block = places[rng.integers(0, len(places), count)] * 1.2
        block += rng.standard_normal((count, dim), dtype=np.float32) / np.sqrt(dim)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + count] = block
    source = rng.choice(originals, copies, replace=False)
    noise = rng.standard_normal((copies, dim), dtype=np.float32) * (0.25 / np.sqrt(dim))
    planted = out[source].astype(np.float32) + noise
    planted /= np.linalg.norm(planted, axis=1, keepdims=True)
    out[originals:] = planted
    return out, np.stack([source, np.arange(originals, n)], axis=1)


def album_hashes(planted: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    """(n, 8) uint64 pHashes of each photo's orientations: random, and a copy's are its
    original's with one bit moved (a resized copy's hash moves a bit or two)."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**64, (n, len(ORIENTATIONS)), dtype=np.uint64, endpoint=False)
    moved = np.left_shift(np.uint64(1), rng.integers(0, 64, len(planted)).astype(np.uint64))
    hashes[planted[:, 1]] = hashes[planted[:, 0]] ^ moved[:, None]
    return hashes


def album_photos(hashes: np.ndarray) -> dict[int, Photo]:
    """Every row a photo with the facts an indexed photo has (no EXIF time: no bursts)."""
    photos = {}
    for row, turns in enumerate(hashes.tolist()):
        facts = PhotoFacts(4000, 3000, None, None, None, False, "JPEG", 90, f"{row:016x}", turns)
        photos[row] = Photo(row, f"/album/{row:07d}.jpg", row, 2_000_000 + row, 0, facts)
    return photos


def group(
    matrix: np.ndarray, hashes: np.ndarray, floor: float
) -> tuple[int, set[tuple[int, int]], float]:
    """What grouping does with the vectors: (groups, the near-duplicate pairs grouped, wall
    seconds of the kNN graph alone)."""
    start = time.perf_counter()
    edges = knn_edges(matrix, floor, KNN_NEIGHBOURS)
    graph_s = time.perf_counter() - start
    grouping = Grouping(
        album_photos(hashes),
        matrix,
        FAMILY_THRESHOLDS[Family.DINOV2],
        0.5,
        DEFAULT_RULE,
        Decisions(),
    )
    groups = grouping.build(edges, [GroupKind.EXACT, GroupKind.NEAR_DUPLICATE])
    pairs = set()
    for g in groups:
        members = sorted(int(m.path[7:14]) for m in g.members)
        pairs |= {(a, b) for i, a in enumerate(members) for b in members[i + 1 :]}
    return len(groups), pairs, graph_s


def naive(matrix: np.ndarray, floor: float) -> int:
    """All pairs at once: the full cosine matrix, thresholded."""
    full = matrix.astype(np.float32)
    scores = full @ full.T
    np.fill_diagonal(scores, -1.0)
    return int(np.count_nonzero(np.triu(scores >= floor)))


def measured(fn, *args) -> tuple[object, float, float, float]:
    """(result, wall seconds, CPU seconds of all threads, peak MiB above the start)."""
    before = _resident_kib("VmRSS") if _reset_peak() else None
    if before is None:
        tracemalloc.start()
    start, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if before is None:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    else:
        peak = (_resident_kib("VmHWM") - before) / 1024
    return result, seconds, cpu, peak


def _reset_peak() -> bool:
    """Reset the kernel's peak resident memory of this process (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _resident_kib(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[384, 1280])
    parser.add_argument("--naive-size", type=int, default=10_000)
    args = parser.parse_args()
    floor = FAMILY_THRESHOLDS[Family.DINOV2].copy_floor  # what Library.duplicate_groups keeps
    print(f"Machine: {machine()} (shared with other work: figures are upper bounds)")
    rows = []
    for dim in args.dims:
        small, _ = album_vectors(args.naive_size, dim)
        _, _wall, naive_s, naive_mib = measured(naive, small, floor)
        for n in args.sizes:
            matrix, planted = album_vectors(n, dim)
            hashes = album_hashes(planted, n)
            load = os.getloadavg()[0]
            (count, pairs, graph_s), wall, seconds, mib = measured(group, matrix, hashes, floor)
            load = max(load, os.getloadavg()[0])
            truth = {(int(a), int(b)) for a, b in planted}
            recall = len(truth & pairs) / len(truth)
            scale = (n / args.naive_size) ** 2
            target = TARGETS.get(n)
            ok = "" if target is None else f" {mark(seconds <= target)} (≤ {target:.0f} s)"
            rows.append(
                [
                    f"{n:,}",
                    dim,
                    f"{wall:.1f} s",
                    f"{graph_s:.1f} s",
                    f"{seconds:.1f} s{ok}",
                    f"{mib:,.0f} MiB",
                    f"{recall:.3f}",
                    f"{count:,}",
                    f"{naive_s * scale:,.0f} s",
                    f"{naive_mib * scale / 1024:,.0f} GiB",
                    f"{load:.1f}",
                ]
            )
            print(rows[-1], flush=True)
            del matrix, hashes
    print_table(
        f"Grouping duplicates (naive all-pairs measured at {args.naive_size:,}, "
        "extrapolated as N²)",
        [
            "photos",
            "dim",
            "wall time",
            "of it kNN graph",
            "CPU time",
            "peak memory",
            "recall of planted pairs",
            "groups",
            "naive CPU time",
            "naive memory",
            "load (1 min, highest)",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
