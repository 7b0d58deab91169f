"""The map's and the odd ones out's parts on vectors made here (no model): exact blocked
neighbours, the folder-normalised score, the groups and their labels."""

from __future__ import annotations

from collections import Counter

import numpy as np

from albumfinder.atlas import clusters, neighbours
from albumfinder.atlas.outliers import Group, folder_groups, rank_outliers, reason


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _blob(rng, centre: np.ndarray, count: int, spread: float) -> np.ndarray:
    return _unit(centre + rng.normal(scale=spread, size=(count, len(centre))))


def test_nearest_matches_brute_force_across_blocks():
    rng = np.random.default_rng(0)
    vectors = _unit(rng.normal(size=(neighbours.BLOCK_ROWS * 2 + 37, 24)))
    index, sims = neighbours.nearest(vectors, vectors, 5, same_rows=True)
    full = vectors @ vectors.T
    np.fill_diagonal(full, -np.inf)
    expected = np.argsort(-full, axis=1, kind="stable")[:, :5]
    assert (index == expected).all()
    assert np.allclose(sims, np.take_along_axis(full, expected, axis=1), atol=1e-6)
    assert not (index == np.arange(len(vectors))[:, None]).any()  # never itself
    few, _ = neighbours.nearest(vectors[:3], vectors[:3], 10, same_rows=True)
    assert few.shape == (3, 2)


def test_the_score_is_normalised_for_each_folder(tmp_path):
    """A mild stranger in a tight folder is odder than the usual photos of a loose one,
    though they sit farther from their neighbours."""
    rng = np.random.default_rng(1)
    dim = 64
    tight_centre, loose_centre = _unit(rng.normal(size=(2, dim)))
    tight = _blob(rng, tight_centre, 30, 0.01)
    mild = _blob(rng, tight_centre + rng.normal(scale=0.45 / np.sqrt(dim), size=dim), 1, 0.0)
    loose = _blob(rng, loose_centre, 30, 0.07)
    matrix = np.vstack([tight, mild, loose]).astype(np.float16)
    paths = [str(tmp_path / "tight" / f"t{i}.jpg") for i in range(31)]
    paths += [str(tmp_path / "loose" / f"l{i}.jpg") for i in range(30)]
    for path in paths:
        (tmp_path / path).parent.mkdir(exist_ok=True)
        open(path, "wb").close()
    raw_mild = 1 - float((matrix[30].astype(np.float32) @ tight.T).max())
    raw_loose = [
        1 - float(np.sort(matrix[31 + i].astype(np.float32) @ loose.T)[-2]) for i in range(30)
    ]
    assert raw_mild < np.median(raw_loose)  # by raw distance the mild one would hide

    groups = folder_groups(paths, np.arange(len(paths)))
    assert [g.name for g in groups] == ["loose", "tight"]
    found = rank_outliers(paths, matrix, groups, n=3)
    assert found[0].path == paths[30]
    assert found[0].reason.startswith("unlike the other 30 photos in tight; closest is t")


def test_too_few_photos_have_no_outliers(tmp_path):
    paths = [str(tmp_path / f"{i}.jpg") for i in range(2)]
    for path in paths:
        open(path, "wb").close()
    matrix = _unit(np.eye(2, 8)).astype(np.float16)
    assert rank_outliers(paths, matrix, [Group(np.arange(2), "x")], n=5) == []


def test_reason_wording():
    assert reason(143, "Holidays 2024", "IMG_0412", 0.3141) == (
        "unlike the other 143 photos in Holidays 2024; closest is IMG_0412 at 31 %"
    )
    assert reason(1, "x", "a", 1.2).endswith("other 1 photo in x; closest is a at 100 %")


def test_groups_are_the_islands_of_the_layout_largest_first():
    rng = np.random.default_rng(2)
    islands = [rng.normal(loc=c, scale=0.3, size=(n, 2)) for c, n in [(0, 40), (10, 25), (20, 60)]]
    xy = np.vstack(islands + [np.array([[5.0, 5.0]])])  # and a lone point between them
    found = clusters.find_clusters(xy)
    assert (
        Counter(found.tolist()) == {0: 60, 1: 40, 2: 26}
        or Counter(found.tolist())
        == {
            0: 61,
            1: 40,
            2: 25,
        }
        or Counter(found.tolist()) == {0: 60, 1: 41, 2: 25}
    )
    assert len(set(found[:40])) == len(set(found[40:65])) == len(set(found[65:125])) == 1
    assert clusters.join_nearest(np.array([[20.1, 20.0]]), xy, found).tolist() == [0]


def test_group_labels_name_a_folder_only_when_it_holds_most():
    assert clusters.cluster_label(143, Counter({"Holidays 2024": 100, "x": 43})) == (
        "Holidays 2024 · 143"
    )
    assert clusters.cluster_label(10, Counter({"a": 4, "b": 3, "c": 3})) == "10 photos"
    assert clusters.cluster_label(1, Counter({"": 1})) == "1 photo"
