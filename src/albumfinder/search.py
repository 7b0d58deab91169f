"""Exact cosine top-N over the vectors held in memory.

Vectors are L2-normalised, so cosine is a dot product: one matrix-vector product and a
top-k. The matrix is kept as float16: half the RAM of float32, and half the memory
traffic, which is what bounds the speed of this search.
"""

from __future__ import annotations

import datetime
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from albumfinder.photo_facts import wall_clock_ns
from albumfinder.report import SearchFilter, SearchHit
from albumfinder.scan import under

#: ``VectorMatrix.taken_ns`` of a photo whose date is not known
NO_DATE = np.iinfo(np.int64).min


@dataclass
class VectorMatrix:
    """All vectors of one model, with the path of each row."""

    paths: list[str]
    matrix: np.ndarray  # (N, dim) float16, rows L2-normalised
    _rows_cache: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict, repr=False)
    #: wall-clock ns each row's photo was taken (:data:`NO_DATE`: not known), filled on first use
    taken_ns: np.ndarray | None = field(default=None, repr=False)

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
    *,
    exclude_files: Sequence[str] = (),
    keep: np.ndarray | None = None,
    min_score: float | None = None,
) -> list[SearchHit]:
    """Top ``n`` photos for ``query``; the query file itself (and each of ``exclude_files``:
    the photos of a combined query), vanished files and files under ``exclude_folders`` are
    left out. ``keep`` (a bool per row, see :func:`filter_rows`) narrows the candidates before
    the top-k, so the answer stays ``n`` long when enough rows pass; hits scoring under
    ``min_score`` end the list.

    An identical copy of the query at another path is a result (it is another photo file).
    """
    if n <= 0 or not len(vectors):
        return []
    stat = exists or _stat_or_none
    excluded = {
        identity
        for path in ([exclude_file] if exclude_file else []) + list(exclude_files)
        if (identity := _identity(path)) is not None
    }
    excluded_folders = under(exclude_folders or [])
    rows = _narrowed(vectors.rows_under(folders or []), keep)
    want = n + 4 + len(excluded)
    while True:
        index, scores = top_k(vectors.matrix, query, want, rows)
        hits: list[SearchHit] = []
        for i, score in zip(index, scores, strict=True):
            if min_score is not None and score < min_score:
                return hits  # best first: the rest score lower still
            path = vectors.paths[int(i)]
            if path in excluded_folders:
                continue
            info = stat(path)
            if info is None:  # deleted since it was indexed: never shown
                continue
            if (info.st_dev, info.st_ino) in excluded:
                continue
            hits.append(SearchHit(path, float(np.clip(score, -1.0, 1.0))))
            if len(hits) == n:
                return hits
        if len(index) < want:  # nothing more to look at
            return hits
        want *= 4


def _narrowed(rows: np.ndarray | None, keep: np.ndarray | None) -> np.ndarray | None:
    if keep is None:
        return rows
    if rows is None:
        return np.flatnonzero(keep)
    narrowed: np.ndarray = rows[keep[rows]]
    return narrowed


def combine_vectors(
    parts: Sequence[np.ndarray],
    weights: Sequence[float],
    negatives: Sequence[np.ndarray] = (),
    negative_weights: Sequence[float] = (),
    negative_weight: float = 0.5,
) -> np.ndarray:
    """One query vector of several: the normalised weighted mean of the ``parts``, minus
    ``negative_weight`` times the normalised weighted mean of the ``negatives`` (as rclip
    subtracts a ``-`` term), renormalised. Every input is a unit vector."""
    query = _unit_mean(parts, weights)
    if len(negatives):
        query = query - negative_weight * _unit_mean(negatives, negative_weights)
    return _unit(query)


def _unit_mean(vectors: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    stacked = np.stack([np.asarray(v, dtype=np.float32).reshape(-1) for v in vectors])
    w = np.asarray(weights, dtype=np.float32).reshape(-1, 1)
    return _unit((stacked * w).sum(axis=0))


def _unit(vector: np.ndarray) -> np.ndarray:
    out: np.ndarray = (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)
    return out


def filter_rows(
    vectors: VectorMatrix, filters: SearchFilter, query_files: Sequence[str] = ()
) -> np.ndarray | None:
    """Which rows pass ``filters`` (a bool per row; None: all of them): under its folders,
    not in a query photo's folder, taken within its days (``vectors.taken_ns`` must be
    filled for a date filter; a row with no date, :data:`NO_DATE`, fails a date filter)."""
    keep: np.ndarray | None = None

    def narrow(mask: np.ndarray) -> None:
        nonlocal keep
        keep = mask if keep is None else keep & mask

    if filters.under:
        narrow(_mask(len(vectors), under(filters.under).select(vectors.paths)))
    if filters.exclude_query_folders and query_files:
        # the very folder: its subfolders stay (a query in the album's top folder would
        # otherwise leave nothing to find)
        folders = {os.path.dirname(path) for path in query_files}
        narrow(
            np.fromiter(
                (os.path.dirname(p) not in folders for p in vectors.paths), bool, len(vectors)
            )
        )
    if filters.taken_after is not None or filters.taken_before is not None:
        if vectors.taken_ns is None:
            raise ValueError("a date filter needs vectors.taken_ns")
        taken = vectors.taken_ns
        mask = taken != NO_DATE
        if filters.taken_after is not None:
            mask &= taken >= _day_start_ns(filters.taken_after)
        if filters.taken_before is not None:
            mask &= taken < _day_start_ns(filters.taken_before + datetime.timedelta(days=1))
        narrow(mask)
    return keep


def _mask(length: int, rows: Sequence[int]) -> np.ndarray:
    mask = np.zeros(length, dtype=bool)
    mask[np.asarray(rows, dtype=np.int64)] = True
    return mask


def _day_start_ns(day: datetime.date) -> int:
    return wall_clock_ns(datetime.datetime(day.year, day.month, day.day))


def _stat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _identity(path: str) -> tuple[int, int] | None:
    info = _stat_or_none(path)
    return (info.st_dev, info.st_ino) if info else None
