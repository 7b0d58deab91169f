"""Issue 12: groups of exact copies, near-duplicates, bursts and look-alikes over the real
index and the built-in model; the keeper rule; decisions that survive rescans and moves;
incremental grouping; resolving a group through the system trash."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

from albumfinder.library import Library
from albumfinder.report import GroupKind, KeeperRule
from duplicate_album import (
    make_planted_album,
    make_small_album,
    pairs_of,
    precision_recall,
)

from trash_support import redirect_trash

ALL_KINDS = [k.value for k in GroupKind]
#: pair precision and recall every copy kind must reach on the planted album
FLOOR = {"exact": (1.0, 1.0), "near-duplicate": (1.0, 1.0), "burst": (1.0, 1.0)}


@pytest.fixture(scope="module")
def planted(tmp_path_factory, warm_model):
    """The planted album, indexed once for the module (tests copy the index to change it)."""
    root = tmp_path_factory.mktemp("planted")
    album = make_planted_album(root / "album")
    index = root / "index.sqlite"
    library = Library(index)
    library.add_folder(album.root)
    library.index(Library.embedder("builtin"))
    library.close()
    return album, index


def _library(planted, tmp_path) -> Library:
    _album, index = planted
    copy = tmp_path / "index.sqlite"
    shutil.copyfile(index, copy)
    return Library(copy)


def _groups(library: Library, **options):
    return library.duplicate_groups(Library.embedder("builtin"), **options)


def _group_of(groups, path):
    return next(g for g in groups if any(m.path == str(path) for m in g.members))


def test_planted_copies_come_out_as_their_kind(planted, tmp_path):
    album, _ = planted
    with _library(planted, tmp_path) as library:
        groups = _groups(library, kinds=ALL_KINDS)
    figures = {}
    for kind in ALL_KINDS:
        figures[kind] = precision_recall(pairs_of(groups, kind), album.truth(kind))
    print("pair precision / recall per kind:", figures)
    for kind, (precision, recall) in FLOOR.items():
        assert figures[kind][0] >= precision and figures[kind][1] >= recall, (kind, figures)
    copies = pairs_of(groups, "exact") | pairs_of(groups, "near-duplicate")
    for a, b in album.apart:  # different shots of one scene are never copies
        assert frozenset((a, b)) not in copies
    seen = [m.path for g in groups for m in g.members]
    assert len(seen) == len(set(seen))  # each photo in at most one group


def test_each_member_says_why(planted, tmp_path):
    album, _ = planted
    with _library(planted, tmp_path) as library:
        groups = _groups(library)
    why = {m.path: m.why for g in groups for m in g.members if not m.keep}
    expected = {
        "IMG-2020-WA0001.jpg": "identical file",
        "scan_01.png": "same pixels",
        "00_resaved.png": "re-encoded (PNG)",
        "01_resized.jpg": "same picture, 50 % smaller",
        "02_q60.jpg": "re-encoded (JPEG q60)",
        "03_cropped.jpg": "cropped",
        "04_rotated90.jpg": "rotated 90°",
        "05_rotated180.jpg": "rotated 180°",
        "06_mirrored.jpg": "mirrored",
        "07_brighter.jpg": "edited (brighter)",
        "08_contrast.jpg": "edited (contrast)",
        "09_filter.jpg": "edited (colours)",
        "10_watermark.jpg": "edited",
        "11_shrunk.jpg": "same picture, 75 % smaller",
        "12_corner.jpg": "cropped",
        "IMG_1201.jpg": "burst, 0.4 s apart",
    }
    by_name = {os.path.basename(p): text for p, text in why.items()}
    assert {name: by_name.get(name) for name in expected} == expected


def test_keeper_rule_order_and_folder_priority(planted, tmp_path):
    album, _ = planted
    root = album.root
    with _library(planted, tmp_path) as library:
        groups = _groups(library)
        resized = _group_of(groups, root / "WhatsApp" / "01_resized.jpg")
        assert resized.reason == "kept: 0.48 MP vs 0.12 MP"
        assert resized.members[0].path == str(root / "Camera roll" / "IMG_1101.jpg")
        assert resized.members[0].keep and resized.members[0].score == 1.0
        png = _group_of(groups, root / "WhatsApp" / "00_resaved.png")
        assert png.reason == "kept: JPEG over PNG"  # same pixels count: the format decides
        copy = _group_of(groups, root / "WhatsApp" / "IMG-2020-WA0001.jpg")
        assert copy.reason.startswith("kept: older file")
        assert copy.reclaimable == os.path.getsize(root / "WhatsApp" / "IMG-2020-WA0001.jpg")

        whatsapp = str(root / "WhatsApp")
        library.set_keeper_rule(KeeperRule(("folder", "pixels"), folder_priority=(whatsapp,)))
        rule = library.keeper_rule()
        assert rule.steps[:2] == ("folder", "pixels") and len(rule.steps) == 7
        groups = _groups(library)
        copy = _group_of(groups, root / "WhatsApp" / "IMG-2020-WA0001.jpg")
        assert copy.members[0].path == str(root / "WhatsApp" / "IMG-2020-WA0001.jpg")
        assert copy.reason == f"kept: in {whatsapp} (folder priority)"
        resized = _group_of(groups, root / "WhatsApp" / "01_resized.jpg")
        assert resized.members[0].path.endswith("01_resized.jpg")  # the folder comes first
    with Library(tmp_path / "index.sqlite") as again:
        assert again.keeper_rule().folder_priority == (whatsapp,)  # kept in the index


def test_strictness_moves_the_near_duplicate_boundary(planted, tmp_path):
    album, _ = planted
    cropped = str(album.root / "WhatsApp" / "03_cropped.jpg")
    with _library(planted, tmp_path) as library:
        loose = _group_of(_groups(library, kinds=ALL_KINDS, strictness=0.0), cropped)
        strict = _groups(library, kinds=ALL_KINDS, strictness=1.0)
        loosest = _groups(library, strictness=0.0)
    assert loose.kind is GroupKind.NEAR_DUPLICATE
    assert _group_of(strict, cropped).kind is GroupKind.LOOK_ALIKE
    shots = {p for pair in album.apart for p in pair}  # even the loosest keeps them apart
    assert not shots & {m.path for g in loosest for m in g.members}


@pytest.fixture
def small(tmp_path, warm_model):
    album = make_small_album(tmp_path / "album")
    library = Library(tmp_path / "index.sqlite")
    library.add_folder(album.root)
    library.index(Library.embedder("builtin"))
    yield album, library
    library.close()


def test_decisions_survive_a_rescan_and_a_move(small, tmp_path):
    album, library = small
    model = Library.embedder("builtin")
    group = _group_of(_groups(library), album.copy)
    assert group.kind is GroupKind.NEAR_DUPLICATE  # the byte copy and the resized one
    library.keep_all(group)
    assert not any(album.copy.name in m.path for g in _groups(library) for m in g.members)
    library.index(model)  # a rescan
    assert all(g.id != group.id for g in _groups(library))
    moved = album.root / "misc" / "renamed copy.jpg"
    os.rename(album.copy, moved)  # a move and a rename
    library.index(model)
    assert all(str(moved) not in [m.path for m in g.members] for g in _groups(library))
    joined = album.root / "misc" / "another copy.jpg"
    shutil.copyfile(album.original, joined)
    library.index(model)  # a new member joins: the group is shown again, with it
    again = _group_of(_groups(library), joined)
    assert {m.path for m in again.members} == {
        str(album.original),
        str(moved),
        str(joined),
        str(album.resized),
    }

    burst = _group_of(_groups(library), album.frames[0])
    library.not_duplicates(burst)
    left = _groups(library, kinds=ALL_KINDS)
    assert all(str(album.frames[0]) not in [m.path for m in g.members] for g in left)


def test_grouping_compares_only_new_photos(small):
    album, library = small
    model = Library.embedder("builtin")
    events = []
    first = _groups(library, progress=events.append)
    assert [e.total for e in events if e.text.startswith("Comparing") and e.done == 0] == [8]
    events.clear()
    assert [g.id for g in _groups(library, progress=events.append)] == [g.id for g in first]
    assert not [e for e in events if e.text.startswith("Comparing")]  # all from the cache
    resized_again = album.root / "misc" / "smaller still.jpg"
    from PIL import Image

    Image.open(album.original).resize((320, 240)).save(resized_again, quality=85)
    library.index(model)
    events.clear()
    groups = _groups(library, progress=events.append)
    assert [e.total for e in events if e.text.startswith("Comparing") and e.done == 0] == [1]
    assert str(resized_again) in [m.path for m in _group_of(groups, album.original).members]


def test_cancel_stops_grouping(small):
    from albumfinder.errors import GroupingCancelled

    _album, library = small
    with pytest.raises(GroupingCancelled):
        _groups(library, should_stop=lambda: True)


def test_resolve_moves_non_keepers_to_the_trash(small, tmp_path, monkeypatch):
    album, library = small
    trash = redirect_trash(tmp_path, monkeypatch)
    group = _group_of(_groups(library), album.copy)
    action = library.resolve([group])
    assert sorted(action.trashed) == sorted(m.path for m in group.members if not m.keep)
    assert album.original.exists() and not album.copy.exists() and not album.resized.exists()
    assert len(list((trash / "files").iterdir())) == 2
    assert all(g.id != group.id for g in _groups(library))
    library.put_back(action.id)
    assert album.copy.exists() and album.resized.exists()
    library.index(Library.embedder("builtin"))  # reads their photo facts again
    assert any(g.id == group.id for g in _groups(library))  # the undo shows it again


def test_a_folder_outside_the_album_says_what_to_do(small, tmp_path):
    from albumfinder.errors import FolderError

    _album, library = small
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.raises(FolderError, match="not in the album"):
        _groups(library, folders=[outside])


def test_the_index_keeps_decisions_by_content(small):
    album, library = small
    library.keep_all(_group_of(_groups(library), album.copy))
    with sqlite3.connect(library.store.path) as conn:
        (members,) = conn.execute("SELECT members FROM duplicate_decisions").fetchone()
    assert str(album.root) not in members and len(members.split()) == 3


@pytest.mark.parametrize(
    ("names", "kind"),
    [
        (["DSC_0041.jpg", "DSC_0042.jpg", "DSC_0043.jpg"], GroupKind.BURST),
        (["beach.jpg", "sea.jpg", "sand.jpg"], GroupKind.NEAR_DUPLICATE),  # no sequence
    ],
)
def test_a_burst_without_exif_goes_by_file_time_and_name_sequence(
    names, kind, tmp_path, warm_model
):
    from PIL import ImageDraw

    from duplicate_album import scene_view

    folder = tmp_path / "album"
    folder.mkdir()
    for frame, name in enumerate(names):
        view = scene_view(900, (0.2 + 0.015 * frame, 0.2, 0.7 + 0.015 * frame, 0.575))
        ImageDraw.Draw(view).ellipse(
            (120 + 90 * frame, 300, 220 + 90 * frame, 400), fill=(250, 40, 40)
        )
        view.save(folder / name, quality=90)  # no EXIF: the file's time is the date taken
        when = 1_700_000_000 + frame * 0.5
        os.utime(folder / name, (when, when))
    with Library(tmp_path / "index.sqlite") as library:
        library.add_folder(folder)
        library.index(Library.embedder("builtin"))
        groups = _groups(library)
    assert [(g.kind, len(g.members)) for g in groups] == [(kind, 3)]
    if kind is GroupKind.BURST:
        assert {m.why for m in groups[0].members if not m.keep} == {"burst, 0.5 s apart"}


def test_exact_copies_asked_alone_are_their_own_groups(planted, tmp_path):
    """With near-duplicates asked too, a picture's byte copy and resized copy are one group
    (its byte copy says "identical file"); asked for exact copies alone, every exact pair
    is found, whatever else copies the picture."""
    album, _ = planted
    with _library(planted, tmp_path) as library:
        exact = _groups(library, kinds=["exact"])
    assert exact and all(g.kind is GroupKind.EXACT for g in exact)
    assert precision_recall(pairs_of(exact, "exact"), album.truth("exact")) == (1.0, 1.0)


def test_the_keeper_of_a_burst_is_its_sharpest_frame_not_its_largest_file(tmp_path, warm_model):
    """Camera shake blurs two frames of three; saved at a higher JPEG quality, they are the
    larger files, which the file-size step would keep, and their quality is no re-save's:
    among a camera's frames it is not the format step's business."""
    from PIL import ImageDraw, ImageFilter

    from duplicate_album import scene_view

    from photo_factory import exif_bytes

    folder = tmp_path / "album"
    folder.mkdir()
    paths = []
    for frame in range(3):
        view = scene_view(910, (0.2 + 0.01 * frame, 0.2, 0.7 + 0.01 * frame, 0.575))
        ImageDraw.Draw(view).ellipse((120 + 60 * frame, 300, 220 + 60 * frame, 400), fill="red")
        sharp = frame == 1
        if not sharp:
            view = view.filter(ImageFilter.GaussianBlur(2.5))
        path = folder / f"IMG_{3000 + frame}.jpg"
        view.save(
            path,
            quality=70 if sharp else 98,
            exif=exif_bytes(taken="2024:07:01 09:30:05", subsec=f"{frame * 3}", make="Sony"),
        )
        paths.append(path)
    assert min(paths[0].stat().st_size, paths[2].stat().st_size) > paths[1].stat().st_size
    with Library(tmp_path / "index.sqlite") as library:
        library.add_folder(folder)
        library.index(Library.embedder("builtin"))
        groups = _groups(library)
    assert [(g.kind, len(g.members)) for g in groups] == [(GroupKind.BURST, 3)]
    keeper = groups[0].members[0]
    assert keeper.keep and keeper.path == str(paths[1])
    assert groups[0].reason.startswith("kept: sharpest frame")


def test_a_rule_saved_before_a_step_existed_gets_it_in_its_default_place():
    from albumfinder.duplicates.keeper import KEEPER_STEPS, checked_rule

    old = KeeperRule(("folder", "pixels", "format", "metadata", "file size", "age"), ("/a",))
    rule = checked_rule(old)
    assert rule.steps == (
        "folder", "pixels", "format", "metadata", "sharpness", "file size", "age"
    )  # fmt: skip
    assert rule.folder_priority == ("/a",)
    assert set(checked_rule(KeeperRule(("age",))).steps) == set(KEEPER_STEPS)


def test_cancel_is_heard_while_pairs_are_verified(small):
    """A second grouping reuses the stored graph (nothing new to compare): what is left is
    the verdict of each pair, which decodes some of them; a cancel stops it there too."""
    from albumfinder.errors import GroupingCancelled

    _album, library = small
    assert _groups(library)  # the graph is stored
    with pytest.raises(GroupingCancelled):
        _groups(library, should_stop=lambda: True)


def test_checking_pairs_says_how_far_it_has_come(small):
    """The verdicts (some decode photos) report done of total, ending at the total."""
    _album, library = small
    events = []
    _groups(library, progress=events.append)
    checking = [(e.done, e.total) for e in events if e.text == "Checking pairs"]
    assert checking and all(total > 0 for _done, total in checking)
    assert checking[-1][0] == checking[-1][1]
    assert [done for done, _total in checking] == sorted(done for done, _total in checking)
