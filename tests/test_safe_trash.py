"""Safe actions (issue 12 point 6): photos go to the system trash (here a freedesktop trash
in the test's own folder), one undo step per action, the index follows at once, "Put back"
restores file and index rows without embedding again, nothing is ever overwritten, and what
cannot be moved is reported and left alone."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from albumfinder import safe_trash
from albumfinder.errors import (
    IndexUnavailableError,
    NothingToPutBackError,
    UnknownTrashActionError,
)
from albumfinder.library import Library
from albumfinder.report import Skipped
from reliability_support import check_index, mount_small_tmpfs, permissions_enforced

from cli_support import run_json
from photo_factory import make_album, save_photo
from trash_support import redirect_trash, trash_entries, trash_notes

#: runs the CLI in a fresh process and says on stderr whether torch was imported
CLI_IN_A_FRESH_PROCESS = (
    "import json, sys\n"
    "from albumfinder.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "print(json.dumps({'status': status, 'torch': 'torch' in sys.modules}), file=sys.stderr)\n"
)


@pytest.fixture
def trash(tmp_path, monkeypatch):
    return redirect_trash(tmp_path, monkeypatch)


@pytest.fixture
def album(tmp_path, warm_model):
    """An indexed album of six photos: (library, photos)."""
    photos = make_album(tmp_path / "Pictures", 6)
    library = Library()
    library.add_folder(tmp_path / "Pictures")
    library.index(Library.embedder("builtin"))
    yield library, [str(p) for p in photos]
    library.close()


def _results(library: Library, query: str) -> dict[str, float]:
    hits = library.search(Library.embedder("builtin"), query, n=50)
    return {h.path: h.score for h in hits}


def _blob(library: Library, path: str) -> bytes | None:
    info = os.stat(path)
    return library.store.stored_blob(path, info.st_size, info.st_mtime_ns, _model_key())


def _model_key() -> str:
    return Library.embedder("builtin").model_key


def _fresh_cli(*argv: str) -> tuple[dict, dict]:
    done = subprocess.run(
        [sys.executable, "-c", CLI_IN_A_FRESH_PROCESS, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
        timeout=300,
    )
    return json.loads(done.stdout), json.loads(done.stderr.strip().splitlines()[-1])


def test_a_trashed_photo_leaves_the_results_and_put_back_restores_it_unembedded(
    album, trash, tmp_path
):
    library, photos = album
    victim, query = photos[0], photos[1]
    content, vector = Path(victim).read_bytes(), _blob(library, victim)
    before = _results(library, query)
    assert victim in before and vector is not None

    action = library.trash([victim])
    assert action.trashed == [victim] and action.refused == [] and action.id
    assert not os.path.lexists(victim)
    assert trash_entries(trash) == {"photo_000.jpg": content}  # in the trash, whole
    assert f"Path={victim}\n" in trash_notes(trash)[0]
    assert victim not in _results(library, query)  # at once, in the same Library
    counts = check_index(library.store.path)  # and for anyone who opens the index now
    assert counts["files"] == counts["vectors"] == 5

    # put back in a fresh process: the model (and torch) never loads
    answer, process = _fresh_cli("put-back", "--json")
    assert process == {"status": 0, "torch": False}
    assert answer == {"action": action.id, "restored": [victim], "skipped": []}
    assert Path(victim).read_bytes() == content
    assert trash_entries(trash) == {} and trash_notes(trash) == []
    assert _blob(library, victim) == vector  # the very vector, not a new one
    assert _results(library, query) == before
    report = library.index(Library.embedder("builtin"))  # a rescan finds nothing to do
    assert (report.added, report.updated, report.unchanged) == (0, 0, 6)


def test_put_back_never_overwrites_what_is_at_the_place_now(album, trash):
    library, photos = album
    victim = photos[2]
    content = Path(victim).read_bytes()
    action = library.trash([victim])
    save_photo(Path(victim), seed=999)  # another photo took its place meanwhile
    newcomer = Path(victim).read_bytes()

    done = library.put_back()
    assert done.restored == []
    assert done.refused == [Skipped(victim, safe_trash.place_taken(victim))]
    assert Path(victim).read_bytes() == newcomer  # untouched
    assert list(trash_entries(trash).values()) == [content]  # still in the trash
    assert _blob(library, victim) is None  # the old vector did not come back for it
    with pytest.raises(NothingToPutBackError, match=f"1 photo of the move {action.id} stayed"):
        library.put_back()  # tried once: the next undo would go further back; it says so

    os.rename(victim, f"{victim}.new.jpg")  # the place is free again: asked by id, it goes
    assert library.put_back(action.id).restored == [victim]
    assert Path(victim).read_bytes() == content
    with pytest.raises(NothingToPutBackError, match="put back already"):
        library.put_back(action.id)


def test_a_photo_in_a_read_only_folder_is_refused_and_stays(album, trash):
    library, photos = album
    locked, free = next(p for p in photos if "/trip/" in p), photos[0]
    folder = os.path.dirname(locked)
    os.chmod(folder, 0o555)
    try:
        with permissions_enforced():
            action = library.trash([locked, free])
    finally:
        os.chmod(folder, 0o755)
    assert action.trashed == [free]
    assert action.refused == [Skipped(locked, safe_trash.folder_locked(folder))]
    assert os.path.exists(locked) and _blob(library, locked) is not None
    assert locked in _results(library, photos[1])  # still a result
    assert len(trash_notes(trash)) == 1  # and no note of it was left in the trash


def test_what_cannot_go_is_reported_and_nothing_is_logged(album, trash, tmp_path):
    library, photos = album
    outside = save_photo(tmp_path / "Elsewhere" / "x.jpg", seed=5)
    link = tmp_path / "Pictures" / "link.jpg"
    link.symlink_to(photos[0])
    gone = tmp_path / "Pictures" / "gone.jpg"
    folder = tmp_path / "Pictures" / "trip"

    action = library.trash([outside, link, gone, folder])
    assert action.id == "" and action.trashed == []
    assert [s.reason for s in action.refused] == [
        safe_trash.NOT_IN_ALBUM,
        safe_trash.A_LINK,
        safe_trash.GONE,
        safe_trash.A_FOLDER,
    ]
    assert outside.exists() and link.is_symlink() and folder.is_dir()
    assert trash_entries(trash) == {} and library.trash_history() == []
    with pytest.raises(NothingToPutBackError):
        library.put_back()
    with pytest.raises(UnknownTrashActionError, match="No move to the trash has the id nope"):
        library.put_back("nope")


def test_one_undo_step_per_action_newest_first(album, trash):
    library, photos = album
    first = library.trash(photos[0:2])
    second = library.trash(photos[2:3] + photos[0:1])  # photos[0] is gone already
    assert second.trashed == photos[2:3]
    assert second.refused == [Skipped(photos[0], safe_trash.GONE)]
    history = library.trash_history()
    assert [a.id for a in history] == [second.id, first.id]
    assert history[1].trashed == photos[0:2] and history[0].put_back_ns is None

    assert library.put_back().restored == photos[2:3]  # the last action first
    assert library.put_back().restored == photos[0:2]
    with pytest.raises(NothingToPutBackError):
        library.put_back()
    assert all(a.put_back_ns is not None for a in library.trash_history())
    assert all(os.path.exists(p) for p in photos)


def test_same_names_from_two_folders_each_go_back_to_their_own_place(trash, tmp_path):
    a = save_photo(tmp_path / "Pictures" / "a" / "IMG_0001.jpg", seed=1)
    b = save_photo(tmp_path / "Pictures" / "b" / "IMG_0001.jpg", seed=2)
    contents = {a: a.read_bytes(), b: b.read_bytes()}
    with Library() as library:
        library.add_folder(tmp_path / "Pictures")
        action = library.trash([a, b])
        assert sorted(trash_entries(trash)) == ["IMG_0001 1.jpg", "IMG_0001.jpg"]
        # where each went is found again from the trash's notes (Path= and DeletionDate),
        # also when the log could not say where it went
        with sqlite3.connect(library.store.path) as conn:
            conn.execute("UPDATE trash_members SET trashed_to = NULL, info_file = NULL")
        assert sorted(library.put_back(action.id).restored) == sorted([str(a), str(b)])
    assert {p: p.read_bytes() for p in contents} == contents
    assert trash_entries(trash) == {} and trash_notes(trash) == []


def test_the_cli_says_when_there_is_nothing_to_put_back(capsys, trash):
    from albumfinder.cli import main

    assert main(["put-back", "--json"]) == 1
    out = capsys.readouterr().out
    assert json.loads(out) == {"error": "Nothing to put back: no move to the trash is waiting."}


def test_the_cli_puts_back_the_action_named(album, trash, capsys):
    library, photos = album
    first = library.trash(photos[:1])
    library.trash(photos[1:2])
    answer = run_json(capsys, "put-back", first.id, "--json")
    assert answer == {"action": first.id, "restored": photos[:1], "skipped": []}
    assert not os.path.exists(photos[1])  # the later action is still in the trash


def test_a_photo_on_another_disk_goes_to_that_disk_s_trash_and_comes_back(trash, tmp_path):
    """A removable disk: its own .Trash-$UID, with Path= relative to the disk; then the same
    disk mounted read-only: refused with that reason."""
    disk = tmp_path / "usb"
    if not mount_small_tmpfs(disk, 8192):
        pytest.skip("mounting a tmpfs needs root on Linux")
    try:
        photos = [str(p) for p in make_album(disk / "Pictures", 3)]
        content = Path(photos[0]).read_bytes()
        with Library() as library:
            library.add_folder(disk / "Pictures")
            action = library.trash(photos[:1])
            assert action.trashed == photos[:1]
            volume_trash = disk / f".Trash-{os.getuid()}"
            assert trash_entries(volume_trash) == {"photo_000.jpg": content}
            assert "Path=Pictures/photo_000.jpg\n" in trash_notes(volume_trash)[0]
            assert trash_entries(trash) == {}  # not the home's trash
            assert library.put_back().restored == photos[:1]
            assert Path(photos[0]).read_bytes() == content

            subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
            refused = library.trash(photos[1:2])
            assert refused.refused == [Skipped(photos[1], safe_trash.READ_ONLY_DISK)]
            assert os.path.exists(photos[1])
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_where_the_trash_cannot_be_read_put_back_says_to_use_the_recycle_bin(
    album, trash, monkeypatch
):
    library, photos = album
    action = library.trash(photos[0])  # one path: that photo (not its letters)
    assert action.trashed == photos[:1]
    with monkeypatch.context() as windows:
        windows.setattr(sys, "platform", "win32")
        done = library.put_back()
    assert done.refused == [Skipped(photos[0], safe_trash.RECYCLE_BIN)]
    assert not os.path.exists(photos[0]) and len(trash_entries(trash)) == 1
    assert library.put_back(action.id).restored == photos[:1]  # back on Linux: it goes


def test_an_action_larger_than_a_batch_is_still_one_undo_step(trash, tmp_path):
    folder = tmp_path / "Pictures"
    folder.mkdir()
    files = []
    for i in range(safe_trash.BATCH + 6):  # logged in two transactions
        path = folder / f"IMG_{i:04d}.jpg"
        path.write_bytes(b"x" * (i + 1))
        files.append(str(path))
    with Library() as library:
        library.add_folder(folder)
        action = library.trash(files)
        assert action.trashed == files and len(trash_entries(trash)) == len(files)
        assert [a.trashed for a in library.trash_history()] == [files]
        assert library.put_back().restored == files
    assert [Path(p).stat().st_size for p in files] == list(range(1, len(files) + 1))


def test_when_the_index_cannot_log_the_action_its_photos_are_put_back_at_once(
    trash, tmp_path, monkeypatch, warm_model
):
    """The index on a real full disk (a 2 MiB tmpfs filled to the last block)."""
    disk = tmp_path / "small-disk"
    if not mount_small_tmpfs(disk, 2048):
        pytest.skip("mounting a tmpfs needs root on Linux")
    try:
        monkeypatch.setenv("ALBUMFINDER_HOME", str(disk / "home"))
        photos = [str(p) for p in make_album(tmp_path / "Pictures", 3)]
        contents = [Path(p).read_bytes() for p in photos]
        with Library() as library:
            library.add_folder(tmp_path / "Pictures")
            library.index(Library.embedder("builtin"))
        with open(disk / "filler", "wb", buffering=0) as handle:  # every free block
            while True:
                try:
                    handle.write(b"\0" * 4096)
                except OSError:
                    break
        with Library() as library:
            with pytest.raises(IndexUnavailableError, match="disk is full.*Nothing was changed"):
                library.trash(photos[:2])
            assert library.trash_history() == []
            assert len(_results(library, photos[2])) == 2  # still found
        assert [Path(p).read_bytes() for p in photos] == contents
        assert (trash / "files").is_dir()  # they went to the trash, and came back from it
        assert trash_entries(trash) == {} and trash_notes(trash) == []
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_photo_whose_folder_is_gone_stays_in_the_trash_until_it_is_back(album, trash):
    library, photos = album
    victim = next(p for p in photos if "/trip/" in p)
    folder = os.path.dirname(victim)
    action = library.trash([victim])
    os.rename(folder, f"{folder}-away")  # unplugged, or moved
    assert library.put_back().refused == [Skipped(victim, safe_trash.folder_gone(folder))]
    assert len(trash_entries(trash)) == 1  # no folder was made for it
    os.rename(f"{folder}-away", folder)
    assert library.put_back(action.id).restored == [victim]
