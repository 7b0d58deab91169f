"""Candidate pairs: a k-nearest-neighbour graph over the stored vectors, never N×N.

Vectors are L2-normalised, so cosine is a dot product. Up to :data:`EXACT_LIMIT` photos the
graph is exact: blocks of rows times the whole matrix (float32 BLAS, one block in memory
at a time), each row keeping its ``k`` best neighbours at or above ``floor``. Above it, an
inverted-file index: spherical k-means on a sample gives ~√(2N) centroids, each photo is
listed under its nearest centroid and compared with the lists of its four nearest (a copy,
cosine ≥ 0.8, lies in one of its original's four nearest lists almost always;
``bench_grouping.py`` measures the recall). Time grows as N·√N, memory as N.
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
_PROBES = 4  # lists each photo is compared with in the inverted file
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
    """Each list holds the photos whose nearest centroid it is; it is compared with every
    photo that has it among its :data:`_PROBES` nearest centroids."""
    n = matrix.shape[0]
    centroids = _spherical_kmeans(matrix, max(16, int(np.sqrt(2 * n))), should_stop)
    nearest = _assign(matrix, centroids, should_stop)
    members_by_list = _split(nearest[:, 0], len(centroids))
    probes_by_list = _split(nearest.ravel(), len(centroids), per_row=_PROBES)
    parts = []
    total = len(centroids)
    for c in range(total):
        _check(should_stop)
        members, queries = members_by_list[c], probes_by_list[c]
        if len(members) and len(queries):
            columns = matrix[members].astype(np.float32)
            for start in range(0, len(queries), _BLOCK):
                block = queries[start : start + _BLOCK]
                scores = matrix[block].astype(np.float32) @ columns.T
                scores[block[:, None] == members[None, :]] = -2.0  # not its own neighbour
                parts.append(_best_per_row(scores, block, members, floor, k))
        if c % 64 == 0:
            _tell(progress, c, total)
    return _joined(parts)


def _split(lists: np.ndarray, count: int, per_row: int = 1) -> list[np.ndarray]:
    """The rows in each of ``count`` lists (``lists``: each row's list, ``per_row`` each)."""
    order = np.argsort(lists, kind="stable")
    bounds = np.searchsorted(lists[order], np.arange(count + 1))
    rows = order // per_row
    return [rows[bounds[c] : bounds[c + 1]] for c in range(count)]


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
    result: np.ndarray = centroids
    return result


def _assign(matrix: np.ndarray, centroids: np.ndarray, should_stop: ShouldStop) -> np.ndarray:
    """(N, _PROBES) the nearest centroids of each row."""
    out = np.empty((matrix.shape[0], _PROBES), dtype=np.int64)
    step = 8 * _BLOCK
    for start in range(0, matrix.shape[0], step):
        _check(should_stop)
        scores = matrix[start : start + step].astype(np.float32) @ centroids.T
        best = np.argpartition(-scores, _PROBES - 1, axis=1)[:, :_PROBES]
        nearest_first = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1)
        out[start : start + step] = np.take_along_axis(best, nearest_first, axis=1)
    return out


def _best_per_row(
    scores: np.ndarray, rows: np.ndarray, columns: np.ndarray, floor: float, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` best columns per row of ``scores`` at or above ``floor`` (most rows have
    fewer than ``k`` there: only the others are partitioned)."""
    passing = scores >= floor
    crowded = np.flatnonzero(np.count_nonzero(passing, axis=1) > k)
    out_rows, out_columns, out_values = [], [], []
    if len(crowded):
        dense = scores[crowded]
        best = np.argpartition(-dense, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(dense, best, axis=1)
        keep = values >= floor
        out_rows.append(np.repeat(rows[crowded], k).reshape(-1, k)[keep])
        out_columns.append(columns[best[keep]])
        out_values.append(values[keep])
        passing[crowded] = False
    hit_rows, hit_columns = np.nonzero(passing)
    out_rows.append(rows[hit_rows])
    out_columns.append(columns[hit_columns])
    out_values.append(scores[hit_rows, hit_columns])
    return (
        np.concatenate(out_rows),
        np.concatenate(out_columns),
        np.concatenate(out_values).astype(np.float32),
    )


def _joined(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32)
    a, b, c = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return a, b, c


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


#: pHash candidates: 4 chunks of 16 bits (a pair at most 3 bits apart shares one chunk)
_HASH_CHUNKS = 4
_HASH_CHUNK_BITS = 16
#: a chunk value shared by more photos than this is a blank picture's, no evidence
_HASH_BUCKET_LIMIT = 64
TURNED_MAX_BITS = _HASH_CHUNKS - 1


def turned_pairs(hashes: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (a, b) where a turned or mirrored orientation of ``a`` is at most
    :data:`TURNED_MAX_BITS` bits from ``b`` upright, from ``hashes`` (N, 8) uint64 pHashes
    (``known``: rows that have them). The embedding misses these (a rotated photo is
    another picture to it); the hashes do not, and a sort-join on 16-bit chunks finds
    them without comparing all pairs."""
    rows = np.flatnonzero(known)
    if len(rows) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    table = hashes[rows]
    found_a, found_b = [], []
    mask = np.uint64((1 << _HASH_CHUNK_BITS) - 1)
    for chunk in range(_HASH_CHUNKS):
        shift = np.uint64(chunk * _HASH_CHUNK_BITS)
        upright = (table[:, 0] >> shift) & mask
        order = np.argsort(upright, kind="stable")
        keys = upright[order]
        for turn in range(1, table.shape[1]):
            turned = (table[:, turn] >> shift) & mask
            first = np.searchsorted(keys, turned, side="left")
            last = np.searchsorted(keys, turned, side="right")
            count = last - first
            usable = np.flatnonzero((count > 0) & (count <= _HASH_BUCKET_LIMIT))
            if not len(usable):
                continue
            a = np.repeat(usable, count[usable])
            starts = np.repeat(first[usable], count[usable])
            offsets = np.arange(len(a)) - np.repeat(
                np.cumsum(count[usable]) - count[usable], count[usable]
            )
            b = order[starts + offsets]
            close = set_bits(table[a, turn] ^ table[b, 0]) <= TURNED_MAX_BITS
            close &= a != b
            found_a.append(rows[a[close]])
            found_b.append(rows[b[close]])
    if not found_a:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    a, b = np.concatenate(found_a), np.concatenate(found_b)
    return np.minimum(a, b), np.maximum(a, b)


def set_bits(x: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (SWAR: numpy before 2.0 has no bitwise_count)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    counts: np.ndarray = ((x * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)
    return counts


def with_pairs(edges: Edges, a: np.ndarray, b: np.ndarray, matrix: np.ndarray) -> Edges:
    """``edges`` and the pairs (a, b), their cosines computed, without repeats."""
    if not len(a):
        return edges
    cos = np.einsum("ij,ij->i", matrix[a].astype(np.float32), matrix[b].astype(np.float32)).astype(
        np.float32
    )
    return _undirected(
        np.concatenate([edges.a, a]),
        np.concatenate([edges.b, b]),
        np.concatenate([edges.cos, cos]),
        matrix.shape[0],
    )
