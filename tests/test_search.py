import os

import numpy as np

from albumfinder.search import VectorMatrix, search_vectors, top_k


def _matrix(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    m = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return (m / np.linalg.norm(m, axis=1, keepdims=True)).astype(np.float16)


def test_top_k_matches_brute_force():
    matrix = _matrix(1000)
    query = matrix[123].astype(np.float32)
    index, scores = top_k(matrix, query, 10)
    exact = matrix.astype(np.float32) @ query
    expected = np.argsort(-exact, kind="stable")[:10]
    np.testing.assert_allclose(scores, exact[expected], atol=1e-3)
    assert set(index[:5]) == set(expected[:5])
    assert index[0] == 123 and abs(scores[0] - 1.0) < 2e-3
    assert all(scores[i] >= scores[i + 1] for i in range(9))
    rows = np.arange(500, 1000)
    index, _ = top_k(matrix, query, 5, rows)
    assert all(i >= 500 for i in index)


def test_query_file_is_excluded_but_a_copy_is_not_and_deleted_files_vanish(tmp_path):
    files = []
    for i in range(6):
        path = tmp_path / f"{i}.jpg"
        path.write_bytes(b"x" * (i + 1))
        files.append(str(path))
    copy = tmp_path / "copy_of_0.jpg"
    copy.write_bytes(b"x")
    files.append(str(copy))
    matrix = _matrix(6)
    matrix = np.vstack([matrix, matrix[0:1]])  # the copy has the same vector
    vectors = VectorMatrix(files, matrix)
    hits = search_vectors(vectors, matrix[0].astype(np.float32), 3, exclude_file=files[0])
    assert files[0] not in [h.path for h in hits]
    assert hits[0].path == str(copy) and hits[0].score > 0.99

    os.remove(copy)
    hits = search_vectors(vectors, matrix[0].astype(np.float32), 3, exclude_file=files[0])
    assert str(copy) not in [h.path for h in hits] and len(hits) == 3


def test_folder_filter(tmp_path):
    a, b = tmp_path / "a", tmp_path / "ab"
    a.mkdir()
    b.mkdir()
    paths = []
    for i in range(4):
        folder = a if i < 2 else b
        (folder / f"{i}.jpg").write_bytes(b"x")
        paths.append(str(folder / f"{i}.jpg"))
    vectors = VectorMatrix(paths, _matrix(4))
    hits = search_vectors(vectors, _matrix(4)[3].astype(np.float32), 10, folders=[str(a)])
    assert sorted(h.path for h in hits) == paths[:2]  # "ab" is not under "a"
