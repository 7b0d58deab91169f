"""Exact cosine nearest neighbours, a block of rows at a time (never an N x N matrix)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from albumfinder.atlas.jobs import JobCancelled

#: rows compared at once: a block's similarities are BLOCK_ROWS x N float32 (100k: 400 MB
#: at 1024; 100 MB at 256), so memory stays linear in N
BLOCK_ROWS = 256


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """``matrix`` as float32 rows of length 1 (a zero row stays zero)."""
    rows = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: np.ndarray = rows / np.maximum(norms, 1e-12)
    return unit


def nearest(
    queries: np.ndarray,
    reference: np.ndarray,
    k: int,
    *,
    same_rows: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` reference rows most like each query row, most alike first:
    (indices (Q, k), cosine similarities (Q, k)). Rows must be unit length.

    ``same_rows``: the queries are the reference rows themselves, and a row is not its own
    neighbour. ``should_stop`` is asked between blocks (a job being cancelled)."""
    n_ref = reference.shape[0]
    k = min(k, n_ref - 1 if same_rows else n_ref)
    count = queries.shape[0]
    indices = np.zeros((count, max(k, 0)), dtype=np.int64)
    sims = np.zeros((count, max(k, 0)), dtype=np.float32)
    if k <= 0:
        return indices, sims
    for start in range(0, count, BLOCK_ROWS):
        if should_stop is not None and should_stop():
            raise JobCancelled()
        stop = min(start + BLOCK_ROWS, count)
        block = queries[start:stop] @ reference.T
        if same_rows:
            block[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        best = np.argpartition(-block, k - 1, axis=1)[:, :k]
        best_sims = np.take_along_axis(block, best, axis=1)
        order = np.argsort(-best_sims, axis=1, kind="stable")
        indices[start:stop] = np.take_along_axis(best, order, axis=1)
        sims[start:stop] = np.take_along_axis(best_sims, order, axis=1)
    return indices, sims
