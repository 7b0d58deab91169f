"""Issue 13 in the core: several photos as one query, a region of a photo, photos a query is
not like, and filters inside the top-k search (built-in model, images the tests make)."""

from __future__ import annotations

import datetime
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from albumfinder.library import Library
from albumfinder.regions import QueryError
from albumfinder.report import CombinedQuery, Crop, QueryPart, SearchFilter
from albumfinder.search import VectorMatrix, combine_vectors, filter_rows, search_vectors

from photo_factory import exif_bytes, make_album, make_photo

#: colour casts: what two shots of one subject differ by besides the view
CASTS = {"red": (1.25, 0.7, 0.6), "blue": (0.6, 0.75, 1.3)}
SUBJECTS = (1, 4)  # two subjects, so that no single lucky picture decides the test


def cast(image: Image.Image, colour: str) -> Image.Image:
    pixels = np.asarray(image, np.float32) * np.array(CASTS[colour], np.float32)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def view(subject: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    return subject.crop(box).resize((640, 480), Image.Resampling.BICUBIC)


def with_strip_of(image: Image.Image, other: Image.Image, left: bool) -> Image.Image:
    """``image`` with a strip of ``other`` (15 % of the width) on its right (``left``:
    on its left): a look-alike of ``image`` that shows nothing else of its subject."""
    out = image.copy()
    box = (544, 0, 640, 480) if not left else (0, 0, 96, 480)
    out.paste(other.crop(box), box[:2])
    return out


def make_subject_shots(seed: int, queries: Path, photos: Path) -> None:
    """Three shots of one scene (seed ``500 + seed``, 800 x 600): two outside the album (the
    top left view with a red cast, the bottom right one with a blue cast), the whole scene in
    it; and in it, a look-alike of each of the two that is not of the subject."""
    scene = make_photo(500 + seed, (800, 600))
    a = cast(view(scene, (0, 0, 640, 480)), "red")
    b = cast(view(scene, (160, 120, 800, 600)), "blue")
    a.save(queries / f"subject{seed}_a.jpg", quality=90)
    b.save(queries / f"subject{seed}_b.jpg", quality=90)
    view(scene, (0, 0, 800, 600)).save(photos / f"subject{seed}_c.jpg", quality=90)
    other_a, other_b = cast(make_photo(600 + seed), "red"), cast(make_photo(700 + seed), "blue")
    with_strip_of(a, other_a, left=False).save(photos / f"like{seed}_a.jpg", quality=90)
    with_strip_of(b, other_b, left=True).save(photos / f"like{seed}_b.jpg", quality=90)


@pytest.fixture(scope="module")
def album(tmp_path_factory):
    """An indexed album: distinct photos, shots of two subjects (with look-alikes that are
    not of them), a photo planted in the corner of another, and look-alikes of those."""
    root = tmp_path_factory.mktemp("queries")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALBUMFINDER_HOME", str(root / "home"))
        photos = root / "album"
        make_album(photos / "other", 12, first_seed=300)
        queries = root / "queries"
        queries.mkdir()
        for seed in SUBJECTS:
            make_subject_shots(seed, queries, photos)
        # a photo (seed 7) placed into the top left quarter of an unrelated one (seed 8),
        # stored sideways with an EXIF orientation, as a camera held upright writes it
        planted = make_photo(8)
        planted.paste(make_photo(7).resize((320, 240)), (0, 0))
        planted.rotate(90, expand=True).save(
            queries / "planted.jpg", quality=92, exif=exif_bytes(orientation=6)
        )
        make_photo(7).save(photos / "target.jpg", quality=90)
        make_photo(8).resize((600, 450)).save(photos / "unrelated_copy.jpg", quality=85)
        # a photo of two halves (seeds 810, 811), a copy of each whole photo in the album,
        # and one of them outside it: what the query is "not like"
        halves = make_photo(810)
        halves.paste(make_photo(811).crop((320, 0, 640, 480)), (320, 0))
        halves.save(queries / "halves.jpg", quality=90)
        make_photo(810).resize((600, 450)).save(photos / "left_copy.jpg", quality=85)
        make_photo(811).resize((600, 450)).save(photos / "right_copy.jpg", quality=85)
        make_photo(811).save(queries / "unwanted.jpg", quality=90)
        library = Library(root / "index.sqlite3")
        library.add_folder(photos)
        embedder = Library.embedder("builtin")
        library.index(embedder)
        yield library, embedder, photos, queries
        library.close()


def ranking(album, query, **kwargs) -> list[str]:
    library, embedder, _, _ = album
    return [Path(h.path).name for h in library.search(embedder, query, n=100, **kwargs)]


def score_of(album, query, name: str) -> float:
    library, embedder, _, _ = album
    hits = library.search(embedder, query, n=100)
    return next(h.score for h in hits if Path(h.path).name == name)


# -- a region of a photo ------------------------------------------------------------------
def test_a_region_query_finds_the_photo_placed_in_that_corner_and_the_whole_photo_does_not(
    album,
):
    planted = str(album[3] / "planted.jpg")
    whole = ranking(album, planted)
    region = ranking(album, QueryPart(planted, crop=Crop(0, 0, 0.5, 0.5)))
    assert region[0] == "target.jpg"
    assert whole[0] == "unrelated_copy.jpg" and whole[0] != "target.jpg"
    assert region.index("unrelated_copy.jpg") > 0
    # the region is of the upright photo: the stored (sideways) top left is another place
    sideways = ranking(album, QueryPart(planted, crop=Crop(0.5, 0, 0.5, 0.5)))
    assert sideways[0] != "target.jpg"


def test_a_region_of_an_indexed_photo_is_embedded_anew_not_its_stored_vector(album):
    library, embedder, photos, _ = album
    photo = str(photos / "subject1_c.jpg")
    whole = library.query_vector(embedder, photo)
    part = library.query_vector(embedder, QueryPart(photo, crop=Crop(0.5, 0.5, 0.5, 0.5)))
    assert float(whole @ part) < 0.99
    same = library.query_vector(embedder, QueryPart(photo, crop=Crop(0, 0, 1, 1)))
    assert float(whole @ same) > 0.99  # the whole photo as a region: the same look


@pytest.mark.parametrize(
    "crop",
    [Crop(0.6, 0, 0.5, 0.5), Crop(0, 0, 0, 0.5), Crop(-0.1, 0, 0.5, 0.5), Crop(0, 0, 1.5, 1)],
)
def test_a_region_outside_the_photo_is_refused_with_its_reason(album, crop):
    library, embedder, photos, _ = album
    with pytest.raises(QueryError, match="is no region"):
        library.search(embedder, QueryPart(str(photos / "target.jpg"), crop=crop))


# -- several photos, and photos the query is not like --------------------------------------
@pytest.mark.parametrize("seed", SUBJECTS)
def test_two_photos_of_one_subject_together_rank_a_third_higher_than_either_alone(album, seed):
    queries = album[3]
    a, b = str(queries / f"subject{seed}_a.jpg"), str(queries / f"subject{seed}_b.jpg")
    together = CombinedQuery((QueryPart(a), QueryPart(b)))
    third = f"subject{seed}_c.jpg"
    rank_a, rank_b = ranking(album, a).index(third), ranking(album, b).index(third)
    rank_together = ranking(album, together).index(third)
    assert rank_together < rank_a and rank_together < rank_b
    assert rank_together == 0


def test_a_negative_pushes_its_look_alikes_down_and_no_query_photo_is_a_result(album):
    library, embedder, photos, queries = album
    halves = str(queries / "halves.jpg")
    unwanted = QueryPart(str(queries / "unwanted.jpg"))
    plain = ranking(album, halves)
    assert plain.index("left_copy.jpg") <= 2 and plain.index("right_copy.jpg") <= 2
    without = ranking(album, CombinedQuery((QueryPart(halves),), (unwanted,)))
    assert without[0] == "left_copy.jpg"
    assert without.index("right_copy.jpg") > plain.index("right_copy.jpg") + 3
    # album photos as parts and as negatives: none of them is ever a result
    parts = (QueryPart(str(photos / "subject1_c.jpg")), QueryPart(str(photos / "target.jpg")))
    negatives = (QueryPart(str(photos / "like1_a.jpg")),)
    names = ranking(album, CombinedQuery(parts, negatives))
    assert not {"subject1_c.jpg", "target.jpg", "like1_a.jpg"} & set(names)
    assert len(names) == len(library.vectors(embedder.model_key)) - 3


def test_weights_pull_the_combined_query_towards_the_heavier_part(album):
    library, embedder, photos, _ = album
    a, b = str(photos / "target.jpg"), str(photos / "subject1_c.jpg")
    va, vb = library.query_vector(embedder, a), library.query_vector(embedder, b)
    heavy_a = library.query_vector(embedder, CombinedQuery((QueryPart(a, 3.0), QueryPart(b))))
    assert float(heavy_a @ va) > float(heavy_a @ vb)
    assert abs(float(np.linalg.norm(heavy_a)) - 1) < 1e-5


def test_combine_vectors_is_the_normalised_mean_minus_the_weighted_negatives():
    x, y, z = np.eye(3, dtype=np.float32)
    mean = combine_vectors([x, y], [1, 1])
    np.testing.assert_allclose(mean, (x + y) / np.sqrt(2), atol=1e-6)
    minus = combine_vectors([x, y], [1, 1], [z], [1], negative_weight=0.5)
    expected = (x + y) / np.sqrt(2) - 0.5 * z
    np.testing.assert_allclose(minus, expected / np.linalg.norm(expected), atol=1e-6)


# -- filters inside the top-k --------------------------------------------------------------
def test_a_folder_filter_keeps_the_answer_n_long(album):
    library, embedder, photos, _ = album
    query = str(photos / "target.jpg")
    plain = library.search(embedder, query, n=5)
    assert any("/other/" not in h.path for h in plain)  # the plain answer is not all "other"
    only = library.search(
        embedder, query, n=5, filters=SearchFilter(under=(str(photos / "other"),))
    )
    assert len(only) == 5 and all("/other/" in h.path for h in only)


def test_excluding_the_query_folder_leaves_out_its_photos_and_its_subfolders(album):
    library, embedder, photos, _ = album
    query = str(photos / "other" / "photo_000.jpg")  # "other/trip" is its subfolder
    hits = library.search(embedder, query, n=6, filters=SearchFilter(exclude_query_folders=True))
    own = str(photos / "other")
    assert len(hits) == 6 and not any(os.path.dirname(h.path) == own for h in hits)
    # its subfolders are not its folder: a query in the album's top folder still finds
    top = library.search(
        embedder, str(photos / "target.jpg"), n=6, filters=SearchFilter(exclude_query_folders=True)
    )
    assert len(top) == 6 and not any(os.path.dirname(h.path) == str(photos) for h in top)


def test_a_minimum_score_ends_the_answer(album):
    library, embedder, photos, _ = album
    query = str(photos / "target.jpg")
    plain = library.search(embedder, query, n=100)
    cut = plain[3].score
    hits = library.search(embedder, query, n=100, filters=SearchFilter(min_score=cut))
    assert hits == [h for h in plain if h.score >= cut] and len(hits) >= 4


def test_a_bad_filter_is_refused_with_its_reason(album):
    library, embedder, photos, _ = album
    backwards = SearchFilter(
        taken_after=datetime.date(2024, 5, 2), taken_before=datetime.date(2024, 5, 1)
    )
    with pytest.raises(QueryError, match="after the last day"):
        library.search(embedder, str(photos / "target.jpg"), filters=backwards)
    with pytest.raises(QueryError, match="between -1 and 1"):
        library.search(embedder, str(photos / "target.jpg"), filters=SearchFilter(min_score=2))


def _local_ns(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1e9)


def test_dates_taken_filter_by_exif_else_mtime_and_unread_facts_by_the_indexed_mtime(tmp_path):
    photos = tmp_path / "dated"
    photos.mkdir()
    dated = {  # name -> EXIF DateTimeOriginal
        "june.jpg": "2023:06:30 23:59:59",
        "july_first.jpg": "2023:07:01 00:00:00",
        "july_last.jpg": "2023:07:31 23:59:59",
        "august.jpg": "2023:08:01 00:00:00",
    }
    for seed, (name, taken) in enumerate(dated.items()):
        make_photo(400 + seed).save(photos / name, quality=90, exif=exif_bytes(taken=taken))
    for seed, name in enumerate(("no_exif_july.jpg", "no_exif_may.jpg", "no_facts_july.jpg")):
        make_photo(410 + seed).save(photos / name, quality=90)
    for name, day in (("no_exif_july", 12), ("no_exif_may", -50), ("no_facts_july", 20)):
        when = datetime.datetime(2023, 7, 1, 12) + datetime.timedelta(days=day)
        os.utime(photos / f"{name}.jpg", ns=(_local_ns(when), _local_ns(when)))
    index = tmp_path / "index.sqlite3"
    library = Library(index)
    library.add_folder(photos)
    embedder = Library.embedder("builtin")
    library.index(embedder)
    library.close()
    with sqlite3.connect(index) as db:  # an index from before facts were read, for one photo
        db.execute(
            "DELETE FROM photo_facts WHERE file_id = (SELECT id FROM files WHERE path LIKE ?)",
            ("%no_facts_july.jpg",),
        )
    library = Library(index)
    assert "no_facts_july.jpg" not in {Path(p).name for p in library.photo_facts()}
    july = SearchFilter(
        taken_after=datetime.date(2023, 7, 1), taken_before=datetime.date(2023, 7, 31)
    )
    query = make_photo(999)
    names = {Path(h.path).name for h in library.search(embedder, query, n=3, filters=july)}
    assert names <= {"july_first.jpg", "july_last.jpg", "no_exif_july.jpg", "no_facts_july.jpg"}
    assert len(names) == 3  # n long: three of the four photos taken in July
    everything = {Path(h.path).name for h in library.search(embedder, query, n=9, filters=july)}
    assert everything == {
        "july_first.jpg",
        "july_last.jpg",
        "no_exif_july.jpg",
        "no_facts_july.jpg",
    }
    after = SearchFilter(taken_after=datetime.date(2023, 7, 31))
    names = {Path(h.path).name for h in library.search(embedder, query, n=9, filters=after)}
    assert names == {"july_last.jpg", "august.jpg"}
    before = SearchFilter(taken_before=datetime.date(2023, 6, 30))
    names = {Path(h.path).name for h in library.search(embedder, query, n=9, filters=before)}
    assert names == {"june.jpg", "no_exif_may.jpg"}
    library.close()


def test_filter_rows_narrows_the_candidates_before_the_top_k(tmp_path):
    paths = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        for i in range(50):
            path = tmp_path / folder / f"{i}.jpg"
            path.write_bytes(b"x")
            paths.append(str(path))
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(100, 8)).astype(np.float32)
    matrix[50:] *= 0.1
    matrix[50:, 0] += 1.0  # "b" all alike, far from the query
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    vectors = VectorMatrix(paths, matrix.astype(np.float16))
    query = matrix[0].copy()
    keep = filter_rows(vectors, SearchFilter(under=(str(tmp_path / "b"),)))
    hits = search_vectors(vectors, query, 30, keep=keep)
    assert len(hits) == 30 and all("/b/" in h.path for h in hits)
