"""Photo facts (date taken, size, format, camera, hashes) are read at indexing time."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime

from PIL import Image

from albumfinder.embedding.loading import LazyEmbedder
from albumfinder.index.schema import MIGRATIONS
from albumfinder.library import Library
from albumfinder.models import registry
from albumfinder.photo_facts import hash_distance, wall_clock_datetime, wall_clock_ns

from photo_factory import exif_bytes, make_photo, save_photo


def test_facts_are_read_when_a_photo_is_indexed(tmp_path, warm_model):
    album = tmp_path / "album"
    exif = exif_bytes("2024:07:14 10:20:30", "25", "Canon", "Canon EOS R6", gps=True)
    shot = save_photo(album / "shot.jpg", 1, (800, 600), exif=exif, quality=60)
    copy = album / "copy of shot.jpg"
    shutil.copyfile(shot, copy)
    screenshot = save_photo(album / "screen.png", 2, (300, 200))
    turned = album / "turned.jpg"
    make_photo(3, (640, 480)).transpose(Image.Transpose.ROTATE_90).save(turned, quality=92)
    upright = album / "upright.jpg"
    make_photo(3, (640, 480)).save(upright, quality=92)
    with Library(tmp_path / "index.db") as library:
        library.add_folder(album)
        library.index(warm_model)
        facts = library.photo_facts()

    shot_facts = facts[str(shot)]
    assert (shot_facts.width, shot_facts.height, shot_facts.format) == (800, 600, "JPEG")
    assert shot_facts.taken_from == "exif"
    assert wall_clock_datetime(shot_facts.taken_ns) == datetime(2024, 7, 14, 10, 20, 30, 250000)
    assert shot_facts.camera == "Canon EOS R6"
    assert shot_facts.has_gps and shot_facts.exif_richness == 3
    assert abs(shot_facts.jpeg_quality - 60) <= 2
    assert facts[str(copy)].content_hash == shot_facts.content_hash  # a byte copy

    png = facts[str(screenshot)]
    assert (png.format, png.taken_from, png.camera, png.jpeg_quality) == ("PNG", "file", None, None)
    mtime = datetime.fromtimestamp(screenshot.stat().st_mtime)
    assert abs((wall_clock_datetime(png.taken_ns) - mtime).total_seconds()) < 1e-3
    assert png.content_hash != shot_facts.content_hash

    # the hashes of the eight orientations see a rotated copy: the turned photo upright
    # matches the upright photo turned by 90 degrees, and unrelated photos do not
    turned_hash = facts[str(turned)].orientation_hashes[0]
    rotated = facts[str(upright)].orientation_hashes
    assert len(rotated) == 8
    assert hash_distance(turned_hash, rotated[1]) <= 6
    assert hash_distance(turned_hash, rotated[0]) > 12
    assert hash_distance(turned_hash, png.orientation_hashes[0]) > 12


def test_a_changed_photo_gets_new_facts(tmp_path, warm_model):
    album = tmp_path / "album"
    photo = save_photo(album / "a.jpg", 1, (400, 300))
    with Library(tmp_path / "index.db") as library:
        library.add_folder(album)
        library.index(warm_model)
        before = library.photo_facts()[str(photo)]
        save_photo(photo, 2, (500, 300), exif=exif_bytes("2020:01:02 03:04:05"))
        library.index(warm_model)
        after = library.photo_facts()[str(photo)]
    assert (after.width, after.taken_from) == (500, "exif")
    assert after.content_hash != before.content_hash
    assert after.taken_ns == wall_clock_ns(datetime(2020, 1, 2, 3, 4, 5))


def test_an_index_from_before_facts_is_upgraded_without_embedding_again(tmp_path, warm_model):
    album = tmp_path / "album"
    photos = [save_photo(album / f"p{i}.jpg", i, (320, 240)) for i in range(3)]
    index = tmp_path / "index.db"
    with Library(index) as library:
        library.add_folder(album)
        library.index(warm_model)
        vectors_before = library.vectors(warm_model.model_key).matrix.copy()
    # make it the version-1 index an older Album Finder left: no facts table
    conn = sqlite3.connect(index)
    conn.execute("DROP TABLE photo_facts")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    assert "photo_facts" in MIGRATIONS[2]

    loads = []

    def load():
        loads.append(1)
        return warm_model.get()

    untouched = LazyEmbedder(registry.get_spec("builtin"), load)
    with Library(index) as library:
        assert library.photo_facts() == {}
        report = library.index(untouched)
        facts = library.photo_facts()
        vectors_after = library.vectors(warm_model.model_key).matrix
    assert loads == []  # the model was never needed
    assert (report.added, report.updated, report.unchanged) == (0, 0, 3)
    assert sorted(facts) == sorted(str(p) for p in photos)
    assert all(f.width == 320 and len(f.orientation_hashes) == 8 for f in facts.values())
    assert (vectors_after == vectors_before).all()


def test_a_photo_with_a_date_past_9999_is_indexed_without_a_date(tmp_path):
    from albumfinder.photo_facts import read_facts

    photo = save_photo(tmp_path / "far.png", 1, (64, 48))
    facts = read_facts(str(photo), 10**21, Image.open(photo))  # the year 33658
    assert (facts.taken_ns, facts.taken_from, facts.width) == (None, None, 64)


def test_a_moved_photo_keeps_its_facts(tmp_path, warm_model):
    import os

    album = tmp_path / "album"
    photo = save_photo(album / "a.jpg", 1, (400, 300))
    with Library(tmp_path / "index.db") as library:
        library.add_folder(album)
        library.index(warm_model)
        before = library.photo_facts()[str(photo)]
        moved = album / "sub" / "b.jpg"
        moved.parent.mkdir()
        os.rename(photo, moved)
        os.utime(moved, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
        report = library.index(warm_model)
        after = library.photo_facts()
    assert report.moved == 1
    assert after[str(moved)].content_hash == before.content_hash
