"""Issue 12 point 2: the candidate pairs of duplicate grouping (the kNN graph over the
stored float16 vectors), on both of its paths (exact blocks, and the inverted file above
``EXACT_LIMIT``), checked against all pairs computed the naive way."""

from __future__ import annotations

import numpy as np
import pytest

from albumfinder.duplicates.candidates import (
    EXACT_LIMIT,
    TURNED_MAX_BITS,
    knn_edges,
    set_bits,
    turned_pairs,
)
from albumfinder.errors import GroupingCancelled

FLOOR, K = 0.5, 12


def _album(n: int, dim: int, copies: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, dim) float16 unit rows in clusters of ~50 (cosine ~0.6 within one); the last
    ``copies`` rows are near copies (cosine ~0.97) of earlier ones: (matrix, planted pairs)."""
    rng = np.random.default_rng(seed)
    places = rng.standard_normal((n // 50, dim)).astype(np.float32)
    rows = places[rng.integers(0, len(places), n)] * 1.2
    rows += rng.standard_normal((n, dim)).astype(np.float32) / np.sqrt(dim)
    originals = rng.choice(n - copies, copies, replace=False)
    noise = rng.standard_normal((copies, dim)) * (0.25 / np.sqrt(dim))
    rows[n - copies :] = rows[originals] + noise
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows.astype(np.float16), np.stack([originals, np.arange(n - copies, n)], axis=1)


def _exact_cosines(matrix: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    full = matrix.astype(np.float32)
    return np.einsum("ij,ij->i", full[a], full[b])


def _check_graph(matrix: np.ndarray, edges) -> None:
    """Pairs once each, low row first, no photo paired with itself, each with its exact
    cosine (the one the verdicts read) at or above the floor."""
    assert np.all(edges.a < edges.b)
    keys = edges.a * matrix.shape[0] + edges.b
    assert len(np.unique(keys)) == len(keys)
    np.testing.assert_allclose(edges.cos, _exact_cosines(matrix, edges.a, edges.b), atol=1e-5)
    assert np.all(edges.cos >= FLOOR - 1e-6)


@pytest.fixture(scope="module")
def large():
    """Above the exact limit: the inverted file is used."""
    return _album(EXACT_LIMIT + 4_000, 48, copies=300)


def test_inverted_file_finds_the_planted_copies_with_their_exact_cosines(large):
    matrix, planted = large
    edges = knn_edges(matrix, FLOOR, K)
    _check_graph(matrix, edges)
    found = set(zip(edges.a.tolist(), edges.b.tolist(), strict=True))
    missed = [(a, b) for a, b in planted.tolist() if (min(a, b), max(a, b)) not in found]
    assert len(missed) <= len(planted) // 100


def test_inverted_file_keeps_each_rows_nearest(large):
    """For a sample of rows, the graph holds the row's nearest neighbour (all pairs computed
    the naive way) whenever that one is at or above the floor."""
    matrix, _planted = large
    edges = knn_edges(matrix, FLOOR, K)
    neighbours = {}
    for a, b in zip(edges.a.tolist(), edges.b.tolist(), strict=True):
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    rows = np.random.default_rng(1).choice(len(matrix), 300, replace=False)
    scores = matrix[rows].astype(np.float32) @ matrix.astype(np.float32).T
    scores[np.arange(len(rows)), rows] = -2.0
    nearest = scores.argmax(axis=1)
    wanted = [
        (r, n) for r, n, s in zip(rows, nearest, scores.max(axis=1), strict=True) if s >= FLOOR
    ]
    kept = sum(int(n) in neighbours.get(int(r), set()) for r, n in wanted)
    assert wanted and kept >= 0.97 * len(wanted)


def test_exact_graph_is_all_pairs_cut_to_the_k_best(tmp_path):
    matrix, _planted = _album(3_000, 32, copies=50)
    edges = knn_edges(matrix, FLOOR, K)
    _check_graph(matrix, edges)
    full = matrix.astype(np.float32)
    scores = full @ full.T
    np.fill_diagonal(scores, -2.0)
    best = np.argsort(-scores, axis=1)[:, :K]
    wanted = set()
    for row, columns in enumerate(best):
        for column in columns:
            if scores[row, column] >= FLOOR:
                wanted.add((min(row, int(column)), max(row, int(column))))
    found = set(zip(edges.a.tolist(), edges.b.tolist(), strict=True))
    assert found == wanted


def test_many_identical_photos_keep_k_neighbours_each():
    """Ties at the k-th value (200 identical vectors: a blank picture saved many times) do
    not make every identical photo a neighbour of every other."""
    matrix, _planted = _album(EXACT_LIMIT + 2_000, 32, copies=0)
    matrix[:200] = matrix[0]
    edges = knn_edges(matrix, FLOOR, K)
    among = np.count_nonzero(edges.b < 200)  # pairs of two identical photos (a < b)
    assert 200 * K // 2 <= among <= 200 * K  # not all 19,900 pairs


def test_new_rows_are_compared_with_every_row():
    matrix, planted = _album(2_000, 32, copies=40)
    copies = planted[:, 1]
    edges = knn_edges(matrix, FLOOR, K, queries=copies)
    _check_graph(matrix, edges)
    found = set(zip(edges.a.tolist(), edges.b.tolist(), strict=True))
    assert all((min(a, b), max(a, b)) in found for a, b in planted.tolist())


def test_progress_reaches_the_end_and_never_goes_back(large):
    matrix, _planted = large
    events = []
    knn_edges(matrix, FLOOR, K, progress=events.append)
    done = [e.done for e in events]
    assert done == sorted(done)
    assert events[-1].done == events[-1].total > 0


def test_cancel_stops_the_inverted_file_part_way(large):
    matrix, _planted = large
    events = []

    def stop_after_some_progress() -> bool:
        return len(events) >= 2

    with pytest.raises(GroupingCancelled):
        knn_edges(matrix, FLOOR, K, progress=events.append, should_stop=stop_after_some_progress)
    assert events and events[-1].done < events[-1].total


def _turned_album(n: int, seed: int = 2) -> tuple[np.ndarray, set[tuple[int, int]]]:
    """(n, 8) random pHashes; some photos are turned copies of others: their upright hash
    is the other's turned one, 0-3 bits moved (found), or 4-6 bits moved (not found)."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**64, (n, 8), dtype=np.uint64, endpoint=False)
    wanted = set()
    for copy in range(0, n // 4, 2):
        original, turn, moved = copy + 1, int(rng.integers(1, 8)), int(rng.integers(0, 7))
        bits = rng.choice(64, moved, replace=False)
        flip = np.uint64(sum(1 << int(b) for b in bits))
        hashes[copy, 0] = hashes[original, turn] ^ flip
        if moved <= TURNED_MAX_BITS:
            wanted.add((copy, original))
    return hashes, wanted


def _all_turned_pairs(hashes: np.ndarray) -> set[tuple[int, int]]:
    """The naive way: every turned hash against every upright one."""
    out = set()
    for turn in range(1, 8):
        bits = set_bits(hashes[:, turn, None] ^ hashes[None, :, 0])
        np.fill_diagonal(bits, 64)
        a, b = np.nonzero(bits <= TURNED_MAX_BITS)
        out |= {(min(x, y), max(x, y)) for x, y in zip(a.tolist(), b.tolist(), strict=True)}
    return out


def test_turned_pairs_are_all_pairs_within_three_bits():
    """The pHash join finds every turned pair the naive comparison finds, and nothing else."""
    hashes, planted = _turned_album(1_500)
    known = np.ones(len(hashes), dtype=bool)
    known[-10:] = False  # photos without hashes take no part
    a, b = turned_pairs(hashes, known)
    found = set(zip(a.tolist(), b.tolist(), strict=True))
    assert planted <= found
    assert found == {(x, y) for x, y in _all_turned_pairs(hashes) if known[x] and known[y]}


def test_many_new_rows_in_a_large_album_go_through_the_inverted_file(large):
    """An incremental pass with more new photos than the inverted file's lists cost (here
    900 of 24,000) compares them through the lists: each pair found has a new photo, the
    planted copies among them are found, and each new photo keeps its nearest photo."""
    matrix, planted = large
    rng = np.random.default_rng(3)
    others = rng.choice(len(matrix) - len(planted), 600, replace=False)
    new = np.concatenate([planted[:, 1], others])
    events = []
    edges = knn_edges(matrix, FLOOR, K, queries=new, progress=events.append)
    _check_graph(matrix, edges)
    assert np.all(np.isin(edges.a, new) | np.isin(edges.b, new))
    assert events[-1].done == events[-1].total > 0
    found = set(zip(edges.a.tolist(), edges.b.tolist(), strict=True))
    missed = [(a, b) for a, b in planted.tolist() if (min(a, b), max(a, b)) not in found]
    assert len(missed) <= len(planted) // 100
    scores = matrix[new].astype(np.float32) @ matrix.astype(np.float32).T
    scores[np.arange(len(new)), new] = -2.0
    nearest = scores.argmax(axis=1)
    pairs = [(min(a, b), max(a, b)) for a, b in zip(new.tolist(), nearest.tolist(), strict=True)]
    wanted = [p for p, s in zip(pairs, scores.max(axis=1), strict=True) if s >= FLOOR]
    assert wanted and sum(p in found for p in wanted) >= 0.97 * len(wanted)
