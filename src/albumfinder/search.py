"""Exact cosine top-N over the vectors held in memory.

Vectors are L2-normalised, so cosine is a dot product: one matrix-vector product and a
top-k. The matrix is kept as float16: half the RAM of float32, and half the memory
traffic, which is what bounds the speed of this search.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from albumfinder.report import SearchHit
from albumfinder.scan import under


@dataclass
class VectorMatrix:
    """All vectors of one model, with the path of each row."""

    paths: list[str]
    matrix: np.ndarray  # (N, dim) float16, rows L2-normalised
    _rows_cache: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def nbytes(self) -> int:
        return int(self.matrix.nbytes)

    def rows_under(self, folders: list[str]) -> np.ndarray | None:
        """Indices of rows whose path lies under one of ``folders`` (None: all rows)."""
        if not folders:
            return None
        key = tuple(sorted(folders))
        if key in self._rows_cache:  # a matrix never changes: the GUI asks again and again
            return self._rows_cache[key]
        keep = under(folders).select(self.paths)
        rows = self._rows_cache[key] = np.asarray(keep, dtype=np.int64)
        return rows


def top_k(
    matrix: np.ndarray, query: np.ndarray, k: int, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best rows of ``matrix`` for ``query``: (row indices, scores), best first.

    torch's float16 matrix-vector product reads the half-size matrix once (numpy would first
    convert it to float32, which is 100x slower); ``rows`` restricts the candidates. When
    torch is not loaded (a CLI search of indexed photos needs no model), numpy answers
    instead: importing torch would cost more than the conversion.
    """
    n_rows = matrix.shape[0] if rows is None else len(rows)
    k = min(k, n_rows)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    if "torch" not in sys.modules:
        return _top_k_numpy(matrix, query, k, rows)
    import torch  # the embedder has loaded it already; kept lazy so `--help` stays instant

    table = torch.from_numpy(np.ascontiguousarray(matrix))
    vector = torch.from_numpy(np.asarray(query, dtype=np.float32).reshape(-1)).to(table.dtype)
    with torch.inference_mode():
        scores = torch.mv(table, vector).float()
        if rows is not None:
            scores = scores[torch.from_numpy(rows)]
        best, found = torch.topk(scores, k)
    index: np.ndarray = found.numpy()
    return (index if rows is None else rows[index]), best.numpy()


def _top_k_numpy(
    matrix: np.ndarray, query: np.ndarray, k: int, rows: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    candidates = matrix if rows is None else matrix[rows]
    scores = candidates.astype(np.float32) @ np.asarray(query, dtype=np.float32).reshape(-1)
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.argsort(-scores[best], kind="stable")]
    return (best if rows is None else rows[best]), scores[best]


def search_vectors(
    vectors: VectorMatrix,
    query: np.ndarray,
    n: int,
    folders: list[str] | None = None,
    exclude_file: str | None = None,
    exists: Callable[[str], os.stat_result | None] | None = None,
    exclude_folders: list[str] | None = None,
) -> list[SearchHit]:
    """Top ``n`` photos for ``query``; the query file itself, vanished files and files under
    ``exclude_folders`` are left out.

    An identical copy of the query at another path is a result (it is another photo file).
    """
    if n <= 0 or not len(vectors):
        return []
    stat = exists or _stat_or_none
    excluded = _identity(exclude_file) if exclude_file else None
    excluded_folders = under(exclude_folders or [])
    rows = vectors.rows_under(folders or [])
    want = n + 4
    while True:
        index, scores = top_k(vectors.matrix, query, want, rows)
        hits: list[SearchHit] = []
        for i, score in zip(index, scores, strict=True):
            path = vectors.paths[int(i)]
            if path in excluded_folders:
                continue
            info = stat(path)
            if info is None:  # deleted since it was indexed: never shown
                continue
            if excluded is not None and (info.st_dev, info.st_ino) == excluded:
                continue
            hits.append(SearchHit(path, float(np.clip(score, -1.0, 1.0))))
            if len(hits) == n:
                return hits
        if len(index) < want:  # nothing more to look at
            return hits
        want *= 4


def _stat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _identity(path: str) -> tuple[int, int] | None:
    info = _stat_or_none(path)
    return (info.st_dev, info.st_ino) if info else None
