"""Candidate pairs: a k-nearest-neighbour graph over the stored vectors, never N×N.

Vectors are L2-normalised, so cosine is a dot product. Up to :data:`EXACT_LIMIT` photos the
graph is exact: blocks of rows times the whole matrix (float32 BLAS, one block in memory
at a time), each row keeping its ``k`` best neighbours at or above ``floor``. Above it, an
inverted-file index: spherical k-means on a sample gives ~√(2N) centroids, each photo is
listed under its nearest centroid and compared with the lists of its four nearest (a copy,
cosine ≥ 0.8, lies in one of its original's four nearest lists almost always;
``bench_grouping.py`` measures the recall). Time grows as N·√N, memory as N. New photos
of an incremental pass are compared with every photo, or, when there are many of them in a
large album, through the lists they probe.

The work is many small products (a list by a list, a block by the matrix), run on one
thread a core with BLAS held to one thread (:func:`_in_parallel`); the stored cosines are
those of the float32 products of the stored vectors, as the verdicts read them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from albumfinder.errors import GroupingCancelled
from albumfinder.report import JobProgress

#: up to this many photos the graph is exact (blocked all rows × all rows)
EXACT_LIMIT = 20_000
_BLOCK = 1024
_BLOCK_SCORES = 1 << 24  # most scores one block of the exact graph holds (64 MiB)
_PROBES = 4  # lists each photo is compared with in the inverted file
_KMEANS_ROUNDS = 6
_SAMPLE_PER_CENTROID = 16

Progress = Callable[[JobProgress], None] | None
ShouldStop = Callable[[], bool] | None
_T = TypeVar("_T")
_Found = tuple[np.ndarray, np.ndarray, np.ndarray]  # rows, columns, cosines


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
    asked = None if queries is None else np.asarray(queries, dtype=np.int64)
    if n > EXACT_LIMIT and (asked is None or len(asked) > 2 * _list_count(n)):
        found = _inverted_file(matrix, floor, k, progress, should_stop, asked)
    else:
        rows = np.arange(n) if asked is None else asked
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
    full = matrix.astype(np.float32, copy=False)
    every = np.arange(full.shape[0])
    step = max(1, min(_BLOCK, _BLOCK_SCORES // full.shape[0]))  # a block's scores bounded

    def block_of(i: int) -> _Found:
        block = rows[i * step : (i + 1) * step]
        scores = full[block] @ full.T
        scores[np.arange(len(block)), block] = -2.0  # not its own neighbour
        return _best_per_row(scores, block, every, floor, k)

    return _joined(_in_parallel(block_of, -(-len(rows) // step), progress, should_stop))


def _list_count(n: int) -> int:
    """Lists of the inverted file: ~√(2N). Comparing Q new photos with every photo costs
    Q·N; the inverted file's lists (every photo compared with the centroids) cost about
    N·√(2N), so it is cheaper from Q ≈ 2·√(2N) on (in a million photos, 2,800 new ones)."""
    return max(16, int(np.sqrt(2 * n)))


def _inverted_file(
    matrix: np.ndarray,
    floor: float,
    k: int,
    progress: Progress,
    should_stop: ShouldStop,
    asked: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each list holds the photos whose nearest centroid it is; it is compared with every
    photo that has it among its :data:`_PROBES` nearest centroids (``asked``: with those of
    these rows only, the new photos of an incremental pass).

    A list's members are gathered and converted to float32 once, and compared with
    themselves without a mask (their own column is the diagonal); only the photos probing
    the list from other lists are gathered again, in row order (one sweep through memory).
    No copy of the matrix is made."""
    n = matrix.shape[0]
    count = _list_count(n)
    centroids = _spherical_kmeans(matrix, count, should_stop)
    nearest = _assign(matrix, centroids, should_stop)
    order = np.argsort(nearest[:, 0], kind="stable").astype(_index_type(n))  # half the edges
    bounds = np.searchsorted(nearest[order, 0], np.arange(count + 1))
    wanted = np.ones(n, dtype=bool)
    if asked is not None:
        wanted[:] = False
        wanted[asked] = True
    visitors = _visitors(nearest, count, wanted)

    def one_list(c: int) -> list[_Found]:
        members = order[bounds[c] : bounds[c + 1]]
        if not len(members):
            return []
        columns = matrix[members].astype(np.float32)
        across = np.ascontiguousarray(columns.T)  # not columns.T: numpy's syrk is slow
        if asked is None:
            own = columns @ across
            np.fill_diagonal(own, -2.0)  # not its own neighbour
            found = [_best_per_row(own, members, members, floor, k)]
        else:
            mine = np.flatnonzero(wanted[members])
            own = columns[mine] @ across
            own[np.arange(len(mine)), mine] = -2.0
            found = [_best_per_row(own, members[mine], members, floor, k)]
        guests = visitors[c]
        for start in range(0, len(guests), _BLOCK):
            block = guests[start : start + _BLOCK]
            scores = matrix[block].astype(np.float32) @ across
            found.append(_best_per_row(scores, block, members, floor, k))
        return found

    lists = _in_parallel(one_list, count, progress, should_stop)
    return _joined([found for parts in lists for found in parts])


def _index_type(n: int) -> type[np.signedinteger]:
    """Row numbers as int32 where they fit (the found pairs, before repeats are dropped, are
    the largest arrays of the inverted file)."""
    return np.int32 if n < 2**31 else np.int64


def _in_parallel(
    task: Callable[[int], _T], count: int, progress: Progress, should_stop: ShouldStop
) -> list[_T]:
    """``[task(0), .. task(count - 1)]``, on one thread a core, BLAS held to one thread
    each: the products are small (a list by a list), and multi-threaded BLAS on small
    products spends much of its time waiting for its other thread when the machine is
    busy. A task that raises (``GroupingCancelled``) stops the others."""
    out: list[_T] = []
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(_workers()) as pool:
        futures = [pool.submit(_checked, task, i, should_stop) for i in range(count)]
        try:
            for done, future in enumerate(futures, 1):
                out.append(future.result())
                if done % max(1, count // 64) == 0 or done == count:
                    _tell(progress, done, count)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return out


def _checked(task: Callable[[int], _T], i: int, should_stop: ShouldStop) -> _T:
    check_cancelled(should_stop)
    return task(i)


def _workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _visitors(nearest: np.ndarray, count: int, wanted: np.ndarray) -> list[np.ndarray]:
    """For each list, the rows that probe it from another list (and are ``wanted``), in
    row order."""
    others = nearest[:, 1:]
    rows = np.repeat(np.arange(len(nearest), dtype=_index_type(len(nearest))), others.shape[1])
    lists = others.ravel()
    keep = wanted[rows]
    lists, rows = lists[keep], rows[keep]
    order = np.lexsort((rows, lists))
    bounds = np.searchsorted(lists[order], np.arange(count + 1))
    rows = rows[order]
    return [rows[bounds[c] : bounds[c + 1]] for c in range(count)]


def _spherical_kmeans(matrix: np.ndarray, count: int, should_stop: ShouldStop) -> np.ndarray:
    rng = np.random.default_rng(0)
    n = matrix.shape[0]
    sample = matrix[np.sort(rng.choice(n, min(n, count * _SAMPLE_PER_CENTROID), replace=False))]
    sample = sample.astype(np.float32)
    centroids = sample[rng.choice(len(sample), count, replace=False)].copy()
    for _ in range(_KMEANS_ROUNDS):
        check_cancelled(should_stop)
        nearest = _assign(sample, centroids, should_stop, probes=1)[:, 0]
        sums = _sums_by_list(sample, nearest, count)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        empty = norms[:, 0] == 0
        sums[empty] = centroids[empty]  # an empty list keeps its centroid
        norms[empty] = 1.0
        centroids = sums / norms
    result: np.ndarray = centroids
    return result


def _sums_by_list(sample: np.ndarray, lists: np.ndarray, count: int) -> np.ndarray:
    """(count, dim) the sum of the rows of ``sample`` in each list: a sparse one-hot matrix
    times the sample, one pass (``np.add.at`` is an unbuffered loop, ``np.add.reduceat``
    along rows slow too)."""
    one_hot = sparse.csr_matrix(
        (np.ones(len(lists), dtype=np.float32), (lists, np.arange(len(lists)))),
        shape=(count, len(lists)),
    )
    sums: np.ndarray = np.asarray(one_hot @ sample, dtype=np.float32)
    return sums


def _assign(
    matrix: np.ndarray, centroids: np.ndarray, should_stop: ShouldStop, probes: int = _PROBES
) -> np.ndarray:
    """(N, probes) the nearest centroids of each row, nearest first (one argmax a probe:
    much cheaper than partitioning each row of scores)."""
    step = 4 * _BLOCK

    def nearest(chunk: int) -> np.ndarray:
        scores = matrix[chunk * step : (chunk + 1) * step].astype(np.float32) @ centroids.T
        out = np.empty((len(scores), probes), dtype=np.int64)
        every = np.arange(len(scores))
        for probe in range(probes):
            out[:, probe] = best = np.argmax(scores, axis=1)
            scores[every, best] = -np.inf
        return out

    chunks = -(-matrix.shape[0] // step)
    return np.concatenate(_in_parallel(nearest, chunks, None, should_stop))


def _best_per_row(
    scores: np.ndarray, rows: np.ndarray, columns: np.ndarray, floor: float, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` best columns per row of ``scores`` at or above ``floor``. A row with more
    than ``k`` there keeps what reaches its ``k``-th best value (a partition of values,
    much cheaper than of indices); the rare row with ties at that value is cut to ``k``."""
    width = scores.shape[1]
    least = np.full(len(scores), floor, dtype=np.float32)
    crowded = np.empty(0, np.int64)
    if width > k:
        crowded = np.flatnonzero(_per_row(scores >= floor) > k)
        if len(crowded):
            least[crowded] = np.partition(scores[crowded], width - k, axis=1)[:, width - k]
    passing = scores >= least[:, None]
    if len(crowded):
        tied = crowded[_per_row(passing[crowded]) > k]
        if len(tied):
            best = np.argpartition(-scores[tied], k - 1, axis=1)[:, :k]
            passing[tied] = False
            passing[tied[:, None], best] = True
    flat = np.flatnonzero(passing)
    hit_rows, hit_columns = np.divmod(flat, width)
    return rows[hit_rows], columns[hit_columns], scores.reshape(-1)[flat].astype(np.float32)


def _per_row(passing: np.ndarray) -> np.ndarray:
    """True values in each row of a bool matrix (summed as bytes: faster than
    ``count_nonzero(axis=1)``)."""
    counts: np.ndarray = passing.view(np.uint8).sum(axis=1, dtype=np.int64)
    return counts


def _joined(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32)
    a, b, c = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return a, b, c


def _undirected(a: np.ndarray, b: np.ndarray, cos: np.ndarray, n: int) -> Edges:
    """Each pair once, low row first, sorted (a pair found from both ends keeps one of its
    two cosines, which differ at most in the last bit; an unstable sort is 3x faster)."""
    low, high = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    keys = low * n + high
    order = np.argsort(keys)
    keys = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    keys = keys[first]
    return Edges(keys // n, keys % n, cos[order[first]].astype(np.float32))


def check_cancelled(should_stop: ShouldStop) -> None:
    """Raise :class:`GroupingCancelled` once ``should_stop`` says so."""
    if should_stop is not None and should_stop():
        raise GroupingCancelled("Grouping was cancelled; nothing was changed.")


def _tell(progress: Progress, done: int, total: int) -> None:
    if progress is not None:
        progress(JobProgress(done, total, "Comparing photos"))


#: a pair of pHashes at most this many bits apart (one turned) is a turned-copy candidate
TURNED_MAX_BITS = 3
#: a key value shared by more photos than this is a blank picture's, no evidence
_HASH_BUCKET_LIMIT = 64


def turned_pairs(hashes: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (a, b) where a turned or mirrored orientation of ``a`` is at most
    :data:`TURNED_MAX_BITS` bits from ``b`` upright, from ``hashes`` (N, 8) uint64 pHashes
    (``known``: rows that have them). The embedding misses these (a rotated photo is
    another picture to it); the hashes do not, and a sort-join on keys cut from the hash
    (:func:`_hash_keys`) finds them without comparing all pairs."""
    rows = np.flatnonzero(known)
    if len(rows) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    table = hashes[rows]
    found_a, found_b = [], []
    for key in _hash_keys():
        upright = key(table[:, 0])
        order = np.argsort(upright)
        keys = upright[order]
        for turn in range(1, table.shape[1]):
            a, b = _same_key(keys, order, key(table[:, turn]))
            close = set_bits(table[a, turn] ^ table[b, 0]) <= TURNED_MAX_BITS
            close &= a != b
            found_a.append(rows[a[close]])
            found_b.append(rows[b[close]])
    a, b = np.concatenate(found_a), np.concatenate(found_b)
    low, high = np.minimum(a, b), np.maximum(a, b)
    unique = np.unique(low * len(hashes) + high)  # a pair found under several keys once
    return unique // len(hashes), unique % len(hashes)


def _hash_keys() -> list[Callable[[np.ndarray], np.ndarray]]:
    """Keys cut from a 64-bit hash such that two hashes at most :data:`TURNED_MAX_BITS` bits
    apart share at least one: the 10 pairs of its 5 chunks of 12-13 bits (3 changed bits
    leave two chunks whole). A 26-bit key is held by about one photo even in a million,
    where a 16-bit chunk (4 chunks, one left whole) is held by 15, each a pair to check."""
    chunks = [(0, 13), (13, 13), (26, 13), (39, 13), (52, 12)]
    keys = []
    for i, (shift_i, width_i) in enumerate(chunks):
        for shift_j, width_j in chunks[i + 1 :]:
            keys.append(_two_chunks(_bits(shift_i, width_i), _bits(shift_j, width_j), width_i))
    return keys


def _bits(shift: int, width: int) -> Callable[[np.ndarray], np.ndarray]:
    mask = np.uint64((1 << width) - 1)
    return lambda h: (h >> np.uint64(shift)) & mask


def _two_chunks(
    low: Callable[[np.ndarray], np.ndarray], high: Callable[[np.ndarray], np.ndarray], bits: int
) -> Callable[[np.ndarray], np.ndarray]:
    return lambda h: low(h) | (high(h) << np.uint64(bits))


def _same_key(
    keys: np.ndarray, order: np.ndarray, wanted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (a, b): ``wanted[a]`` equals ``keys[j]`` and ``b = order[j]`` (``keys``
    sorted); a key held by more than :data:`_HASH_BUCKET_LIMIT` is left out. The wanted keys
    are looked up in sorted order (memory is read in one sweep), and only those found are
    looked up a second time, for where their run ends."""
    by_key = np.argsort(wanted)
    sought = wanted[by_key]
    first = np.searchsorted(keys, sought, side="left")
    hit = np.flatnonzero(keys[np.minimum(first, len(keys) - 1)] == sought)
    first = first[hit]
    count = np.searchsorted(keys, sought[hit], side="right") - first
    usable = count <= _HASH_BUCKET_LIMIT
    hit, first, count = hit[usable], first[usable], count[usable]
    a = np.repeat(by_key[hit], count)
    starts = np.repeat(first, count)
    offsets = np.arange(len(a)) - np.repeat(np.cumsum(count) - count, count)
    return a, order[starts + offsets]


def set_bits(x: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (numpy's popcount where it has one, from 2.0, as uint8; else
    SWAR)."""
    popcount = getattr(np, "bitwise_count", None)
    if popcount is not None:
        counted: np.ndarray = popcount(x)
        return counted
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
