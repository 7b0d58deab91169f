"""Candidate pairs: a k-nearest-neighbour graph over the stored vectors, never N×N.

Vectors are L2-normalised, so cosine is a dot product. Up to :data:`EXACT_LIMIT` photos the
graph is exact: blocks of rows times the whole matrix (float32 BLAS, one block in memory
at a time), each row keeping its ``k`` best neighbours at or above ``floor``. Above it, an
inverted-file index: spherical k-means on a sample gives ~2·√N centroids, each photo is
put in the lists of its two nearest centroids, and each list is compared with itself
(a copy, cosine ≥ 0.8, shares one of its two nearest centroids with its original almost
always; ``bench_grouping.py`` measures the recall). Time and memory grow as N·√N and N.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from albumfinder.errors import GroupingCancelled
from albumfinder.report import JobProgress

#: up to this many photos the graph is exact (blocked all rows × all rows)
EXACT_LIMIT = 20_000
_BLOCK = 1024
_ASSIGN = 2  # lists per photo in the inverted file
_KMEANS_ROUNDS = 6
_SAMPLE_PER_CENTROID = 16

Progress = Callable[[JobProgress], None] | None
ShouldStop = Callable[[], bool] | None


@dataclass(frozen=True)
class Edges:
    """Undirected pairs (``a`` < ``b``, rows of the matrix) and their cosines."""

    a: np.ndarray  # int64
    b: np.ndarray  # int64
    cos: np.ndarray  # float32

    def __len__(self) -> int:
        return len(self.a)

    @staticmethod
    def empty() -> Edges:
        return Edges(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))


def knn_edges(
    matrix: np.ndarray,
    floor: float,
    k: int,
    queries: np.ndarray | None = None,
    progress: Progress = None,
    should_stop: ShouldStop = None,
) -> Edges:
    """Each row's (or each of ``queries``' rows') ``k`` nearest rows with cosine ≥ ``floor``,
    as undirected pairs without repeats."""
    n = matrix.shape[0]
    if n < 2:
        return Edges.empty()
    if queries is None and n > EXACT_LIMIT:
        found = _inverted_file(matrix, floor, k, progress, should_stop)
    else:
        rows = np.arange(n) if queries is None else np.asarray(queries, dtype=np.int64)
        found = _exact(matrix, rows, floor, k, progress, should_stop)
    return _undirected(*found, n)


def _exact(
    matrix: np.ndarray,
    rows: np.ndarray,
    floor: float,
    k: int,
    progress: Progress,
    should_stop: ShouldStop,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    full = matrix.astype(np.float32, copy=False)
    for start in range(0, len(rows), _BLOCK):
        _check(should_stop)
        block = rows[start : start + _BLOCK]
        scores = full[block] @ full.T
        scores[np.arange(len(block)), block] = -2.0  # not its own neighbour
        parts.append(_best_per_row(scores, block, np.arange(full.shape[0]), floor, k))
        _tell(progress, start + len(block), len(rows))
    return _joined(parts)


def _inverted_file(
    matrix: np.ndarray, floor: float, k: int, progress: Progress, should_stop: ShouldStop
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = matrix.shape[0]
    centroids = _spherical_kmeans(matrix, max(16, int(2 * np.sqrt(n))), should_stop)
    lists = _assign(matrix, centroids, should_stop)
    order = np.argsort(lists.ravel(), kind="stable")
    members_of = order // _ASSIGN
    bounds = np.searchsorted(lists.ravel()[order], np.arange(len(centroids) + 1))
    parts = []
    total = len(centroids)
    for c in range(total):
        _check(should_stop)
        members = members_of[bounds[c] : bounds[c + 1]]
        if len(members) > 1:
            for start in range(0, len(members), _BLOCK):
                block = members[start : start + _BLOCK]
                scores = matrix[block].astype(np.float32) @ matrix[members].astype(np.float32).T
                scores[np.arange(len(block)), np.arange(start, start + len(block))] = -2.0
                parts.append(_best_per_row(scores, block, members, floor, k))
        if c % 64 == 0:
            _tell(progress, c, total)
    return _joined(parts)


def _spherical_kmeans(matrix: np.ndarray, count: int, should_stop: ShouldStop) -> np.ndarray:
    rng = np.random.default_rng(0)
    n = matrix.shape[0]
    sample = matrix[np.sort(rng.choice(n, min(n, count * _SAMPLE_PER_CENTROID), replace=False))]
    sample = sample.astype(np.float32)
    centroids = sample[rng.choice(len(sample), count, replace=False)].copy()
    for _ in range(_KMEANS_ROUNDS):
        _check(should_stop)
        nearest = np.argmax(sample @ centroids.T, axis=1)
        sums = np.zeros_like(centroids)
        np.add.at(sums, nearest, sample)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        empty = norms[:, 0] == 0
        sums[empty] = centroids[empty]  # an empty list keeps its centroid
        norms[empty] = 1.0
        centroids = sums / norms
    return centroids


def _assign(matrix: np.ndarray, centroids: np.ndarray, should_stop: ShouldStop) -> np.ndarray:
    """(N, _ASSIGN) the nearest centroids of each row."""
    out = np.empty((matrix.shape[0], _ASSIGN), dtype=np.int64)
    step = 8 * _BLOCK
    for start in range(0, matrix.shape[0], step):
        _check(should_stop)
        scores = matrix[start : start + step].astype(np.float32) @ centroids.T
        out[start : start + step] = np.argpartition(-scores, _ASSIGN - 1, axis=1)[:, :_ASSIGN]
    return out


def _best_per_row(
    scores: np.ndarray, rows: np.ndarray, columns: np.ndarray, floor: float, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` best columns per row of ``scores`` at or above ``floor``."""
    width = scores.shape[1]
    if width > k:
        best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(scores, best, axis=1)
    else:
        best = np.broadcast_to(np.arange(width), scores.shape)
        values = scores
    keep = values >= floor
    row_index = np.broadcast_to(rows[:, None], best.shape)[keep]
    return row_index, columns[best[keep]], values[keep].astype(np.float32)


def _joined(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, ...]:
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32)
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


def _undirected(a: np.ndarray, b: np.ndarray, cos: np.ndarray, n: int) -> Edges:
    low, high = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    keys = low * n + high
    keys, first = np.unique(keys, return_index=True)
    return Edges(keys // n, keys % n, cos[first].astype(np.float32))


def _check(should_stop: ShouldStop) -> None:
    if should_stop is not None and should_stop():
        raise GroupingCancelled("Grouping was cancelled; nothing was changed.")


def _tell(progress: Progress, done: int, total: int) -> None:
    if progress is not None:
        progress(JobProgress(done, total, "Comparing photos"))
