"""Indexing through the real pipeline with the built-in model: incremental behaviour."""

import os
import shutil

import pytest

from albumfinder.images import open_photo
from albumfinder.library import Library

from photo_factory import make_album, make_photo, save_photo


@pytest.fixture(scope="module")
def embedder():
    from albumfinder.embedding.loading import load_embedder

    return load_embedder("builtin", allow_download=False)


def test_incremental_add_change_delete_move(tmp_path, embedder):
    album = tmp_path / "album"
    photos = make_album(album, 8)
    (album / "broken.jpg").write_bytes(b"garbage, not a photo")
    library = Library()
    library.add_folder(album)

    first = library.index(embedder)
    assert (first.added, first.updated, first.removed, first.unchanged) == (8, 0, 0, 0)
    assert [s.path for s in first.skipped] == [str(album / "broken.jpg")]
    assert "not a recognised image format" in first.skipped[0].reason

    again = library.index(embedder)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 8)
    assert [s.path for s in again.skipped] == [str(album / "broken.jpg")]  # not retried

    save_photo(photos[0], 999)  # changed content
    os.remove(photos[1])  # deleted
    moved_to = album / "moved" / "renamed.jpg"
    moved_to.parent.mkdir()
    shutil.move(photos[2], moved_to)  # moved: keeps its vector
    save_photo(album / "new.jpg", 1234)  # added

    third = library.index(embedder)
    assert third.updated == 1
    assert third.added == 1
    assert third.removed == 1
    assert third.moved == 1
    assert third.unchanged == 6  # 5 untouched + the moved one
    paths, matrix = library.store.load_vectors(embedder.model_key)
    assert str(photos[1]) not in paths and str(photos[2]) not in paths
    assert str(moved_to) in paths and len(paths) == 8
    library.close()


def test_resized_and_recompressed_copies_are_top_hits(tmp_path, embedder):
    album = tmp_path / "album"
    make_album(album, 12)
    original = make_photo(7, (800, 600))
    original.resize((400, 300)).save(album / "half_size.jpg", quality=85)
    original.save(album / "recompressed.jpg", quality=55)
    original.crop((40, 30, 760, 570)).save(album / "cropped.jpg", quality=90)
    query = tmp_path / "query.jpg"
    original.save(query, quality=95)
    library = Library()
    library.add_folder(album)  # album searches look under the album's folders only
    library.index(embedder, [album])
    hits = library.search(embedder, query, n=3)
    assert {h.path for h in hits} == {
        str(album / n) for n in ("half_size.jpg", "recompressed.jpg", "cropped.jpg")
    }
    assert hits[0].score >= hits[1].score >= hits[2].score
    # each score is the cosine of the query's and the photo's vectors, decoded afresh here
    # (the index keeps float16 vectors: agreement to 1e-3)
    fresh = embedder.embed_images(
        [open_photo(p, min_size=embedder.decode_size) for p in [query, *(h.path for h in hits)]]
    )
    cosines = fresh[1:] @ fresh[0]
    print("scores", [round(h.score, 4) for h in hits], "cosines", cosines.round(4).tolist())
    assert max(abs(h.score - float(c)) for h, c in zip(hits, cosines, strict=True)) < 1e-3


def test_query_inside_the_album_is_never_its_own_hit_but_a_copy_is(tmp_path, embedder):
    album = tmp_path / "album"
    photos = make_album(album, 6)
    shutil.copy(photos[3], album / "copy.jpg")
    library = Library()
    library.add_folder(album)
    library.index(embedder, [album])
    hits = library.search(embedder, photos[3], n=3)
    assert str(photos[3]) not in [h.path for h in hits]
    assert hits[0].path == str(album / "copy.jpg") and hits[0].score > 0.999


def test_cancel_keeps_what_was_done_and_resumes(tmp_path, embedder):
    album = tmp_path / "album"
    make_album(album, 40)
    library = Library()
    seen = []

    def stop_after_first_batch():
        last = seen[-1] if seen else None
        return last is not None and last.phase == "embedding" and last.done >= embedder.batch_size

    report = library.index(
        embedder, [album], progress=seen.append, should_stop=stop_after_first_batch
    )
    assert report.cancelled
    kept = len(library.store.load_vectors(embedder.model_key)[0])
    assert 0 < kept < 40
    resumed = library.index(embedder, [album])
    assert resumed.added == 40 - kept and resumed.unchanged == kept


def test_progress_events_are_in_order(tmp_path, embedder):
    album = tmp_path / "album"
    make_album(album, 10)
    events = []
    Library().index(embedder, [album], progress=events.append)
    phases = [e.phase for e in events]
    assert phases[0] == "scanning" and phases[-1] == "done"
    embedding = [e for e in events if e.phase == "embedding"]
    assert embedding and all(
        a.done <= b.done for a, b in zip(embedding, embedding[1:], strict=False)
    )
    assert events[-1].done == events[-1].total == 10


def test_missing_folder_keeps_its_photos(tmp_path, embedder):
    album = tmp_path / "usb-drive"
    make_album(album, 4)
    library = Library()
    library.add_folder(album)
    library.index(embedder)
    hidden = tmp_path / "unplugged"
    os.rename(album, hidden)
    report = library.index(embedder)
    assert report.missing_folders == [str(album)] and report.removed == 0
    os.rename(hidden, album)
    assert library.index(embedder).unchanged == 4


def test_failure_for_another_model_keeps_this_models_vector(tmp_path, embedder):
    """A photo that could not be read while another model indexed it (unchanged since) is
    still found with this model, counted as indexed and not listed as skipped for it."""
    from albumfinder.index import NewFailure

    album = tmp_path / "album"
    photos = make_album(album, 4)
    library = Library()
    library.add_folder(album)
    library.index(embedder)
    target = str(photos[0])
    stat = os.stat(target)
    # what the indexer records when reading the photo fails during another model's run
    library.store.record_batch(
        "dinov2-small/fp",
        [],
        [NewFailure(target, stat.st_size, stat.st_mtime_ns, None, "permission denied")],
    )

    assert target in [hit.path for hit in library.search(embedder, photos[1], n=10)]
    status = library.folder_status(embedder.model_key)[0]
    assert (status.indexed, status.skipped) == (4, 0)
    assert library.skipped(model_key=embedder.model_key) == []
    assert [s.path for s in library.skipped(model_key="dinov2-small/fp")] == [target]
    again = library.index(embedder)
    assert (again.unchanged, again.skipped) == (4, [])

    moved_to = album / "renamed.jpg"  # a move keeps the vector (and the other model's error)
    shutil.move(target, moved_to)
    after_move = library.index(embedder)
    assert (after_move.moved, after_move.added, after_move.removed) == (1, 0, 0)
    assert str(moved_to) in [hit.path for hit in library.search(embedder, photos[1], n=10)]
