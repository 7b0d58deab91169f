"""Issue 12, the verdicts: a crop is told from a resize and a light edit from a re-encode
(one photo decoded small and searched for in the other), the keeper of an edited copy
re-saved at a lower quality is the original, and crops whose cosine falls just under the
near-duplicate threshold are near-duplicates all the same, while different shots of one
scene and unrelated photos stay apart."""

from __future__ import annotations

import os
from itertools import combinations
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance

from albumfinder.duplicates.thresholds import thresholds_for
from albumfinder.library import Library
from albumfinder.report import GroupKind
from duplicate_album import SIZE, pairs_of, scene_view

from photo_factory import make_photo

W, H = SIZE
#: windows keeping ~70 % of the area (84 % of each side), in each corner and the centre,
#: and a milder one
SIDE_W, SIDE_H = int(W * 0.84), int(H * 0.84)
CROPS = {
    "top left": (0, 0, SIDE_W, SIDE_H),
    "bottom right": (W - SIDE_W, H - SIDE_H, W, H),
    "top right": (W - SIDE_W, 0, W, SIDE_H),
    "bottom left": (0, H - SIDE_H, SIDE_W, H),
    "centre": ((W - SIDE_W) // 2, (H - SIDE_H) // 2, (W + SIDE_W) // 2, (H + SIDE_H) // 2),
    "centre, 90 %": (W // 20, H // 20, W - W // 20, H - H // 20),  # 81 % of the area
}


def _save(image: Image.Image, path: Path, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)
    return path


def _key(path: Path):
    from albumfinder.duplicates.alignment import FileKey

    stat = os.stat(path)
    return FileKey(str(path), stat.st_size, stat.st_mtime_ns)


class Album:
    """Originals (Camera roll) and their copies (Edits), by what was done to them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.original: dict[str, Path] = {}
        self.copy: dict[str, Path] = {}

    def plant(self, name: str, seed: int, change, quality=88, original_quality=92, **options):
        image = make_photo(seed, SIZE)
        original = self.root / "Camera roll" / f"IMG_{seed}.jpg"
        self.original[name] = _save(image, original, quality=original_quality, optimize=True)
        target = self.root / "Edits" / f"{name.replace(' ', '_')}.jpg"
        self.copy[name] = _save(change(image), target, quality=quality, **options)


def _make_album(root: Path) -> tuple[Album, list[tuple[str, str]]]:
    album = Album(root)
    for number, (corner, box) in enumerate(CROPS.items()):
        album.plant(f"crop {corner}", 1300 + number, lambda im, box=box: im.crop(box))
    album.plant("shrunk", 1320, lambda im: im.resize((W // 4, H // 4), Image.Resampling.LANCZOS))
    album.plant("brighter q75", 1321, lambda im: ImageEnhance.Brightness(im).enhance(1.25), 75)
    album.plant(  # the edit's file is the larger one: 4:4:4 chroma, more contrast
        "contrast q75",
        1322,
        lambda im: ImageEnhance.Contrast(im).enhance(1.4),
        75,
        original_quality=85,
        subsampling=0,
    )
    album.plant("colours", 1323, lambda im: ImageEnhance.Color(im).enhance(0.4))
    album.plant(
        "cropped and brighter",
        1324,
        lambda im: ImageEnhance.Brightness(im.crop(CROPS["centre"])).enhance(1.25),
    )
    shots = [  # different shots of one scene (a step aside, a zoom to ~30 %): never copies
        _save(scene_view(1330, box), root / "Trip" / f"shot_{n}.jpg", quality=90)
        for n, box in enumerate(
            [(0.0, 0.0, 0.6, 0.45), (0.25, 0.15, 0.85, 0.6), (0.3, 0.25, 0.62, 0.49)]
        )
    ]
    for number in range(4):
        _save(make_photo(1340 + number, SIZE), root / "misc" / f"misc_{number}.jpg", quality=90)
    for number, path in enumerate(sorted(p for p in root.rglob("*") if p.is_file())):
        os.utime(path, (1_600_000_000 + number * 3600,) * 2)  # hours apart: no bursts
    return album, [(str(a), str(b)) for a, b in combinations(shots, 2)]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, warm_model):
    root = tmp_path_factory.mktemp("verdicts")
    album, apart = _make_album(root / "album")
    library = Library(root / "index.sqlite")
    library.add_folder(album.root)
    embedder = Library.embedder("builtin")
    library.index(embedder)
    vectors = library.vectors(embedder.model_key)
    groups = library.duplicate_groups(embedder)
    library.close()
    at = {p: i for i, p in enumerate(vectors.paths)}
    matrix = vectors.matrix.astype("float32")

    def cos(a: Path, b: Path) -> float:
        return float(matrix[at[str(a)]] @ matrix[at[str(b)]])

    return album, apart, groups, cos, embedder.model_key


def _group_of(groups, path: Path):
    return next((g for g in groups if any(m.path == str(path) for m in g.members)), None)


def _why(groups, path: Path) -> str | None:
    group = _group_of(groups, path)
    return next((m.why for m in group.members if m.path == str(path)), None) if group else None


def test_crops_under_the_near_threshold_are_near_duplicates(indexed):
    album, apart, groups, cos, model_key = indexed
    near = thresholds_for(model_key).near(0.5)
    crops = [name for name in album.copy if name.startswith("crop ")]
    assert any(cos(album.original[n], album.copy[n]) < near for n in crops)  # the band is met
    for name in crops:
        group = _group_of(groups, album.copy[name])
        assert group is not None and group.kind is GroupKind.NEAR_DUPLICATE, name
        assert str(album.original[name]) in [m.path for m in group.members], name
    planted = {frozenset((str(album.original[n]), str(album.copy[n]))) for n in album.copy}
    copies = pairs_of(groups, "near-duplicate") | pairs_of(groups, "exact")
    assert copies == planted  # every copy found, nothing else: not the shots, not misc
    assert not copies & {frozenset(pair) for pair in apart}


@pytest.mark.parametrize("corner", list(CROPS))
def test_a_crop_keeping_the_aspect_is_cropped_not_smaller(indexed, corner):
    album, _apart, groups, _cos, _key_ = indexed
    assert _why(groups, album.copy[f"crop {corner}"]) == "cropped"


def test_a_shrunk_copy_is_smaller_not_cropped(indexed):
    album, _apart, groups, _cos, _key_ = indexed
    assert _why(groups, album.copy["shrunk"]) == "same picture, 75 % smaller"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("brighter q75", "edited (brighter), re-encoded (JPEG q75)"),
        ("contrast q75", "edited (contrast), re-encoded (JPEG q75)"),
        ("colours", "edited (colours)"),
        ("cropped and brighter", "cropped, edited (brighter)"),
    ],
)
def test_a_light_edit_says_edited_not_just_re_encoded(indexed, name, why):
    album, _apart, groups, _cos, _key_ = indexed
    assert _why(groups, album.copy[name]) == why


def test_the_original_is_kept_over_an_edit_re_saved_at_a_lower_quality(indexed):
    album, _apart, groups, _cos, _key_ = indexed
    original, edit = album.original["contrast q75"], album.copy["contrast q75"]
    assert os.path.getsize(edit) > os.path.getsize(original)  # the file size would pick it
    group = _group_of(groups, edit)
    assert group.members[0].path == str(original) and group.members[0].keep
    assert group.reason == "kept: JPEG q85 vs q75"


def test_alignment_finds_the_window_and_tells_unrelated_photos(tmp_path):
    from albumfinder.duplicates.alignment import align

    image = make_photo(1350, SIZE)
    original = _save(image, tmp_path / "original.jpg", quality=92)
    box = CROPS["bottom right"]
    crop = _save(image.crop(box), tmp_path / "crop.jpg", quality=85)
    darker = _save(ImageEnhance.Brightness(image).enhance(0.75), tmp_path / "darker.jpg")
    other = _save(make_photo(1351, SIZE), tmp_path / "other.jpg", quality=92)
    found = align(_key(crop), _key(original))
    assert found is not None and found.same_picture and found.cropped and not found.edited
    expected = (box[0] / W, box[1] / H, (box[2] - box[0]) / W, (box[3] - box[1]) / H)
    assert found.window == pytest.approx(expected, abs=0.02)
    assert align(_key(darker), _key(original)).edits == ("darker",)
    assert align(_key(original), _key(darker)).edits == ("brighter",)
    assert not align(_key(other), _key(original)).same_picture
    (tmp_path / "broken.jpg").write_bytes(b"not a photo")
    assert align(_key(tmp_path / "broken.jpg"), _key(original)) is None


def test_decoded_checks_are_kept_in_the_index_across_restarts_and_moves(tmp_path, warm_model):
    """A pair decoded once is not decoded again: not by a new process (the in-memory
    caches emptied, as at a start), not after its photos were moved (same contents)."""
    import shutil

    from albumfinder.duplicates import alignment

    folder = tmp_path / "album"
    for number, box in enumerate(list(CROPS.values())[:3]):
        image = make_photo(1400 + number, SIZE)
        _save(image, folder / f"IMG_{number}.jpg", quality=92)
        _save(image.crop(box), folder / "copies" / f"crop_{number}.jpg", quality=88)

    def restart() -> None:
        with alignment._known_lock:
            alignment._known.clear()
            alignment._fresh.clear()
        alignment._align.cache_clear()
        alignment._decoded.cache_clear()

    def grouped() -> tuple[int, list]:
        """Group as a new process would: the in-memory caches empty, the index opened anew."""
        restart()
        with Library(tmp_path / "index.sqlite") as library:
            groups = library.duplicate_groups(Library.embedder("builtin"))
        return alignment._decoded.cache_info().misses, groups

    with Library(tmp_path / "index.sqlite") as library:
        library.add_folder(folder)
        library.index(Library.embedder("builtin"))
    decoded, first = grouped()
    assert decoded > 0 and len(first) == 3  # each crop found, by decoding
    decoded, again = grouped()
    assert decoded == 0 and [g.members for g in again] == [g.members for g in first]
    shutil.move(folder / "copies", folder / "moved")
    with Library(tmp_path / "index.sqlite") as library:
        library.index(Library.embedder("builtin"))
    decoded, moved = grouped()
    assert decoded == 0 and len(moved) == 3
    assert {m.why for g in moved for m in g.members if not m.keep} == {"cropped"}


def test_a_file_edited_since_its_rescan_leaves_no_stored_check(tmp_path, warm_model):
    """The index still has the old hash of a file edited in place: what its new pixels
    say must not be stored under that hash (a byte copy of the old file would be served it)."""
    import sqlite3

    folder = tmp_path / "album"
    image = make_photo(1450, SIZE)
    _save(image, folder / "IMG_0.jpg", quality=92)
    crop = _save(image.crop(CROPS["centre"]), folder / "copies" / "crop.jpg", quality=88)
    with Library(tmp_path / "index.sqlite") as library:
        library.add_folder(folder)
        library.index(Library.embedder("builtin"))
        make_photo(1451, SIZE).crop(CROPS["centre"]).save(crop, quality=88)  # edited in place
        os.utime(crop, ns=(os.stat(crop).st_atime_ns, os.stat(crop).st_mtime_ns + 10**9))
        library.duplicate_groups(Library.embedder("builtin"))
    with sqlite3.connect(tmp_path / "index.sqlite") as db:
        rows = db.execute("SELECT count(*) FROM duplicate_alignments").fetchone()[0]
    assert rows == 0
