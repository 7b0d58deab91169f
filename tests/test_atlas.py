"""The album map and the photos that do not belong (issue #14), through the real code path:
photos the tests make, embedded by the built-in model, laid out by openTSNE."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from albumfinder.errors import FolderError
from albumfinder.index.layouts import load_layout, vector_digests
from albumfinder.library import JobCancelled, Library

from atlas_photos import receipt, save_family, save_strangers, variant
from photo_factory import make_photo


@dataclass
class Album:
    root: Path
    index: Path
    families: dict[str, list[Path]]
    strangers: list[Path]
    garden: list[Path]


@pytest.fixture(scope="module")
def album(tmp_path_factory, warm_model) -> Album:
    """Four families of 8 look-alikes and 2 strangers in "holiday", a family of 6 in
    "garden"; indexed once (the tests that change the album make their own)."""
    root = tmp_path_factory.mktemp("atlas") / "album"
    families = {f"f{k}": save_family(root / "holiday", f"f{k}", 500 + k) for k in range(4)}
    strangers = save_strangers(root / "holiday", 2)
    garden = save_family(root / "garden", "g", 600, count=6)
    index = root.parent / "index.sqlite3"
    with Library(index) as library:
        library.add_folder(root)
        library.index(warm_model)
    return Album(root, index, families, strangers, garden)


def _places(album_map) -> dict[str, np.ndarray]:
    return {p.path: np.array([p.x, p.y]) for p in album_map.points}


def _family_of(path: str) -> str:
    return Path(path).stem.split("_")[0]


# -- the map ---------------------------------------------------------------------------------
def test_families_land_together_and_apart(album, warm_model):
    with Library(album.index) as library:
        album_map = library.album_map(warm_model)
        vectors = library.vectors(warm_model.model_key)
    assert album_map.model == "builtin" and album_map.method == "openTSNE"
    places = _places(album_map)
    assert len(places) == 4 * 8 + 2 + 6
    paths = sorted(places)
    xy = np.stack([places[p] for p in paths])
    assert np.abs(xy).max() <= 1.0 + 1e-9  # the map's frame: [-1, 1]
    families = [_family_of(p) for p in paths]
    members = [i for i, f in enumerate(families) if f != "stranger"]

    # together: a photo's 4 nearest on the map are of its family
    on_map = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    np.fill_diagonal(on_map, np.inf)
    same = [
        np.mean([families[j] == families[i] for j in np.argsort(on_map[i])[:4]]) for i in members
    ]
    assert np.mean(same) >= 0.95, same

    # neighbourhood preservation: the 5 nearest by vector are the 5 nearest on the map
    row = {p: i for i, p in enumerate(vectors.paths)}
    matrix = vectors.matrix.astype(np.float32)[[row[p] for p in paths]]
    by_vector = matrix @ matrix.T
    np.fill_diagonal(by_vector, -np.inf)
    recall = [
        len(set(np.argsort(-by_vector[i])[:5]) & set(np.argsort(on_map[i])[:5])) / 5
        for i in range(len(paths))
    ]
    assert np.mean(recall) >= 0.7, np.mean(recall)

    # apart: the families' centres lie farther apart than twice any family's spread
    names = sorted({families[i] for i in members})
    centres = {n: xy[[i for i in members if families[i] == n]].mean(axis=0) for n in names}
    spread = max(
        np.linalg.norm(xy[i] - centres[families[i]]) for i in members
    )  # the farthest member from its family's centre
    gaps = [np.linalg.norm(centres[a] - centres[b]) for a in names for b in names if a < b]
    assert min(gaps) > 2 * spread, (min(gaps), spread)

    # each family is one group, and a group is labelled by its size (and folder)
    for name in names:
        groups = {p.cluster for p in album_map.points if _family_of(p.path) == name}
        assert len(groups) == 1, (name, groups)
    sizes = {c.id: c.size for c in album_map.clusters}
    assert sum(sizes.values()) == len(places)
    garden = next(c for c in album_map.clusters if c.label.startswith("garden"))
    assert garden.label == f"garden · {garden.size}"


def test_a_folder_map_shows_its_photos_where_the_album_map_has_them(album, warm_model):
    with Library(album.index) as library:
        whole = _places(library.album_map(warm_model))
        garden = library.album_map(warm_model, [album.root / "garden"])
        with pytest.raises(FolderError, match="not in the album"):
            library.album_map(warm_model, [album.root.parent / "elsewhere"])
        empty = album.root / "garden" / "nothing here"
        assert library.album_map(warm_model, [empty]).points == []  # in the album, no photos
    assert sorted(p.path for p in garden.points) == sorted(str(p) for p in album.garden)
    for point in garden.points:
        assert (point.x, point.y) == tuple(whole[point.path])
    assert [c.size for c in garden.clusters] == [6]


def test_the_map_is_computed_once_and_survives_reopening(tmp_path, warm_model):
    root = tmp_path / "album"
    for k in range(3):
        save_family(root, f"f{k}", 700 + k, count=6)
    progress = []
    with Library() as library:
        library.add_folder(root)
        library.index(warm_model)
        first = library.album_map(warm_model, progress=progress.append)
        frame, _points = load_layout(library.store, warm_model.model_key)
    assert progress and all(0 <= e.done <= e.total or e.total == 0 for e in progress)
    assert any("Laying out 18 photos" in e.text for e in progress)
    with Library() as library:  # reopened: the cached layout, not a new one
        again = library.album_map(warm_model)
        assert load_layout(library.store, warm_model.model_key)[0] == frame
    assert again.points == first.points


def test_new_photos_are_placed_and_old_ones_stay_exactly_where_they_were(tmp_path, warm_model):
    root = tmp_path / "album"
    families = {f"f{k}": save_family(root, f"f{k}", 800 + k, count=6) for k in range(3)}
    with Library() as library:
        library.add_folder(root)
        library.index(warm_model)
        before = _places(library.album_map(warm_model))
        made = load_layout(library.store, warm_model.model_key)[0]

        variant(make_photo(800), 9).save(root / "f0_new.jpg", quality=90)  # one of f0
        receipt(5).save(root / "stranger_new.png")
        library.index(warm_model)
        after_map = library.album_map(warm_model)
        frame = load_layout(library.store, warm_model.model_key)[0]
    after = _places(after_map)
    assert set(after) == set(before) | {str(root / "f0_new.jpg"), str(root / "stranger_new.png")}
    for path, place in before.items():
        assert tuple(after[path]) == tuple(place), path  # exactly, not nearly
    assert frame.made_ns == made.made_ns and frame.placed_since == 2  # placed, not recomputed

    new = after[str(root / "f0_new.jpg")]
    nearest = min(before, key=lambda p: np.linalg.norm(before[p] - new))
    assert nearest in {str(p) for p in families["f0"]}
    groups = {p.path: p.cluster for p in after_map.points}
    assert groups[str(root / "f0_new.jpg")] == groups[str(families["f0"][0])]


def test_the_cached_map_goes_stale_with_the_album(tmp_path, warm_model):
    root = tmp_path / "album"
    families = {f"f{k}": save_family(root / "a", f"f{k}", 900 + k, count=6) for k in range(3)}
    other = save_family(root / "b", "g", 950, count=4)
    with Library() as library:
        for folder in ("a", "b"):
            library.add_folder(root / folder)
        library.index(warm_model)
        before = _places(library.album_map(warm_model))
        made = load_layout(library.store, warm_model.model_key)[0].made_ns

        changed, deleted = families["f1"][0], families["f2"][0]
        receipt(9).save(changed, format="JPEG")  # same path and file id, another photo
        os.remove(deleted)
        library.remove_folder(root / "b")
        library.index(warm_model)
        after = _places(library.album_map(warm_model))
        frame, cached = load_layout(library.store, warm_model.model_key)
        vectors = library.vectors(warm_model.model_key)
        ids = {p: r.id for p, r in library.store.files_under([str(root)], "").items()}

    assert str(deleted) not in after  # left the album: off the map
    assert not {str(p) for p in other} & set(after)  # its folder was removed
    assert tuple(after[str(changed)]) != tuple(before[str(changed)])  # placed again
    # the cache holds exactly the photos on the map, each with its vector's digest now
    assert sorted(cached.file_ids.tolist()) == sorted(ids[p] for p in after)
    row = vectors.paths.index(str(changed))
    digest = vector_digests(vectors.matrix[row : row + 1])[0]
    assert cached.digests[cached.file_ids.tolist().index(ids[str(changed)])] == digest
    assert frame.made_ns == made  # one photo placed again: the layout was kept


def test_much_new_computes_the_whole_map_again(tmp_path, warm_model):
    root = tmp_path / "album"
    for k in range(2):
        save_family(root, f"f{k}", 1000 + k, count=6)
    with Library() as library:
        library.add_folder(root)
        library.index(warm_model)
        library.album_map(warm_model)
        made = load_layout(library.store, warm_model.model_key)[0].made_ns
        save_family(root, "f2", 1002, count=4)  # 4 new of 16: more than a quarter
        library.index(warm_model)
        album_map = library.album_map(warm_model)
        frame = load_layout(library.store, warm_model.model_key)[0]
    assert frame.made_ns != made and frame.placed_since == 0 and frame.full_count == 16
    assert len(album_map.points) == 16


def test_a_cancelled_map_saves_nothing(tmp_path, warm_model):
    root = tmp_path / "album"
    for k in range(2):
        save_family(root, f"f{k}", 1100 + k, count=5)
    events = []
    with Library() as library:
        library.add_folder(root)
        library.index(warm_model)
        with pytest.raises(JobCancelled):
            library.album_map(
                warm_model, progress=events.append, should_stop=lambda: len(events) > 3
            )
        assert load_layout(library.store, warm_model.model_key) is None
        assert len(library.album_map(warm_model).points) == 10  # and it can be done again


def test_tiny_and_empty_albums(tmp_path, warm_model):
    root = tmp_path / "album"
    root.mkdir()
    with Library() as library:
        library.add_folder(root)
        assert library.album_map(warm_model).points == []
        assert library.outliers(warm_model, root) == []
        for i in range(3):
            make_photo(1200 + i).save(root / f"p{i}.jpg")
            library.index(warm_model)
            album_map = library.album_map(warm_model)
            assert len(album_map.points) == i + 1
            assert all(np.isfinite([p.x, p.y]).all() for p in album_map.points)
        assert library.outliers(warm_model, root) != []  # 3 photos: one can stand out


# -- the photos that do not belong -------------------------------------------------------------
def test_planted_strangers_rank_first_with_their_reason(album, warm_model):
    with Library(album.index) as library:
        holiday = library.outliers(warm_model, album.root / "holiday", n=40)
        whole = library.outliers(warm_model, None, n=3)
    strangers = {str(p) for p in album.strangers}
    assert {o.path for o in holiday[:2]} == strangers
    assert len(holiday) == 34 and [o.score for o in holiday] == sorted(
        (o.score for o in holiday), reverse=True
    )
    assert min(o.score for o in holiday[:2]) > 3 * max(o.score for o in holiday[2:])
    for outlier in holiday[:2]:
        assert re.fullmatch(
            r"unlike the other 33 photos in holiday; closest is stranger_\d at \d{1,3} %",
            outlier.reason,
        ), outlier.reason
    assert {o.path for o in whole[:2]} == strangers  # the album: each against its folder


def test_a_deleted_photo_is_no_outlier(tmp_path, warm_model):
    root = tmp_path / "album"
    save_family(root, "f", 1300, count=6)
    stranger = save_strangers(root, 1)[0]
    with Library() as library:
        library.add_folder(root)
        library.index(warm_model)
        assert library.outliers(warm_model, root, n=1)[0].path == str(stranger)
        shutil.move(stranger, tmp_path / "moved.png")  # not indexed again yet
        assert str(stranger) not in [o.path for o in library.outliers(warm_model, root)]
