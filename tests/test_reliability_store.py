"""Reliability, part 4: the index against unlucky files and a changing disk (issue #10,
points 1, 5, 7, 9, 10 and 13).

File times outside SQLite's 64-bit range, one folder under two spellings, a full disk
under a sound index, damaged vectors, an index deleted under a running app, two indexing
runs at once and a rescan that needs no model. Files, links, file systems and processes
are real each time.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from albumfinder.cli import main
from albumfinder.library import Library
from reliability_support import check_index, mount_small_tmpfs, permissions_enforced

from photo_factory import make_album

YEAR_2300_NS = 10_413_792_000 * 10**9  # 2300-01-01, past 2**63 ns (2262-04-11)
YEAR_1960_NS = -315_619_200 * 10**9  # before 1970: negative
YEAR_1500_NS = -14_831_769_600 * 10**9  # before 1677-09-21: below -2**63 ns


@pytest.fixture(scope="module")
def embedder():
    from albumfinder.embedding.loading import load_embedder

    return load_embedder("builtin", allow_download=False)


def _index_json(capsys, *argv: str) -> dict:
    status = main(["index", *argv, "--model", "builtin", "--json"])
    captured = capsys.readouterr()
    assert status == 0 and "Traceback" not in captured.err, captured.err
    return json.loads(captured.out)


def _set_mtime(path: Path, ns: int) -> None:
    """Give ``path`` the file time ``ns``; skip the test where the file system cannot hold
    it (XFS without bigtime and ext4 with 128-byte inodes clamp to 1901..2038)."""
    try:
        os.utime(path, ns=(ns, ns))
        kept = os.stat(path).st_mtime_ns
    except (OSError, OverflowError) as exc:
        pytest.skip(f"the file system of {path.parent} refuses the time {ns} ns ({exc})")
    if kept != ns:
        pytest.skip(
            f"the file system of {path.parent} stores {kept} ns for the time {ns} ns "
            "(it clamps far file times)"
        )


# -- 1. file times SQLite cannot hold ------------------------------------------------------
def _far_times_album(tmp_path: Path) -> tuple[Path, list[tuple[Path, int]]]:
    """An album with photos dated 2300 and 1960, and 1500 where a tmpfs can hold it."""
    album = tmp_path / "album"
    photos = make_album(album, 4)
    dated = [(photos[0], YEAR_2300_NS), (photos[1], YEAR_1960_NS)]
    old_disk = tmp_path / "old-disk"
    if mount_small_tmpfs(old_disk, 4096):  # ext4 stops at 1901; tmpfs keeps any 64-bit second
        (old_disk / "1500.jpg").write_bytes(photos[3].read_bytes())
        (album / "old").symlink_to(old_disk)
        dated.append((album / "old" / "1500.jpg", YEAR_1500_NS))
    for path, ns in dated:
        _set_mtime(path, ns)
    return album, dated


def test_photos_dated_past_2262_or_before_1677_are_indexed_found_and_rescanned(tmp_path, capsys):
    try:
        album, dated = _far_times_album(tmp_path)  # in the try: a skip unmounts the tmpfs
        total = 4 + (len(dated) == 3)
        first = _index_json(capsys, str(album))
        assert first["added"] == total and first["skipped"] == [], first
        again = _index_json(capsys)
        assert again["unchanged"] == total and again["added"] == again["updated"] == 0

        for path, _ns in dated:  # each is a query (its stored vector) and a result
            assert main(["search", str(path), "-n", "3", "--model", "builtin", "--json"]) == 0
            captured = capsys.readouterr()
            assert "Traceback" not in captured.err, captured.err
            [block] = json.loads(captured.out)["queries"]
            assert len(block["results"]) == 3
        others = [path for path, _ in dated[1:]]
        assert main(["search", str(others[0]), "-n", "9", "--model", "builtin", "--json"]) == 0
        hits = [h["path"] for h in json.loads(capsys.readouterr().out)["queries"][0]["results"]]
        assert str(dated[0][0]) in hits

        for path, ns in dated:  # a new far time is a change: the photo is embedded again
            _set_mtime(path, ns + 86_400 * 10**9)
        changed = _index_json(capsys)
        assert changed["updated"] == len(dated) and changed["unchanged"] == total - len(dated)
        assert (
            check_index(Path(os.environ["ALBUMFINDER_HOME"]) / "data" / "index.sqlite3")["vectors"]
            == total
        )
    finally:
        subprocess.run(["umount", "-l", str(tmp_path / "old-disk")], check=False)


def test_a_far_future_time_in_the_store_round_trips_and_still_detects_change(tmp_path):
    from albumfinder.index import IndexStore, NewVector, stored_vector

    store = IndexStore(tmp_path / "index.sqlite3")
    vector = [1.0, 0.0, 0.0, 0.0]
    for ns in (2**63, 2**64 + 7, -(2**63) - 1, YEAR_2300_NS):
        store.record_batch("m/p1", [NewVector(f"/a/{ns}.jpg", 5, ns, None, vector)], [])
        assert stored_vector(store, f"/a/{ns}.jpg", 5, ns, "m/p1") is not None
        assert stored_vector(store, f"/a/{ns}.jpg", 5, ns + 1, "m/p1") is None
    store.close()


# -- 5. one folder under two spellings -----------------------------------------------------
def test_one_folder_under_a_second_spelling_is_refused_with_the_name_it_has(tmp_path, capsys):
    real = tmp_path / "real"
    make_album(real, 6)
    (tmp_path / "link").symlink_to(real)
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "trip link").symlink_to(real / "trip")
    assert _index_json(capsys, str(real))["added"] == 6

    for spelling, known_as in [
        (tmp_path / "link", real),
        (tmp_path / "link" / "trip", real / "trip"),
        (tmp_path / "deep" / "trip link", real / "trip"),
    ]:
        assert main(["index", str(spelling), "--model", "builtin"]) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert f"Cannot add {spelling}: it is {known_as}, already in the album" in err, err

    library = Library()
    assert library.folders() == [str(real)]
    assert len(library.store.files_under([str(tmp_path)], "")) == 6  # no photo twice
    assert library.add_folder(real / "trip") == str(real / "trip")  # the album's own spelling
    library.close()
    again = _index_json(capsys)
    assert again["unchanged"] == 6 and again["added"] == again["removed"] == 0


# -- 7. a full disk under a sound index ----------------------------------------------------
def test_on_a_full_disk_search_status_and_a_rescan_work_and_a_write_says_the_disk_is_full(
    tmp_path, capsys, monkeypatch
):
    """A real full file system: the index on a 2 MiB tmpfs, filled to the last block."""
    disk = tmp_path / "small-disk"
    if not mount_small_tmpfs(disk, 2048):
        pytest.skip("mounting a tmpfs needs root on Linux")
    try:
        home = disk / "home"
        album, other = tmp_path / "album", tmp_path / "other"
        photos = make_album(album, 6)
        make_album(other, 2, first_seed=300)
        monkeypatch.setenv("ALBUMFINDER_HOME", str(home))
        assert _index_json(capsys, str(album))["added"] == 6
        index = home / "data" / "index.sqlite3"
        assert not Path(f"{index}-wal").exists()  # the last connection closed it
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as handle:  # every free block
            while True:
                try:
                    handle.write(b"\0" * 4096)
                except OSError:
                    break
        with pytest.raises(OSError):
            (disk / "one more").write_bytes(b"\0" * 8192)

        command = ["search", str(photos[0]), "-n", "3", "--model", "builtin", "--json"]
        assert main(command) == 0, capsys.readouterr().err
        [block] = json.loads(capsys.readouterr().out)["queries"]
        assert len(block["results"]) == 3
        assert main(["status", "--json"]) == 0, capsys.readouterr().err
        assert "6" in capsys.readouterr().out
        assert _index_json(capsys)["unchanged"] == 6  # nothing to write: a rescan works

        assert main(["index", str(other), "--model", "builtin"]) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err and "the disk is full" in err, err
        assert "Nothing was changed" in err

        filler.unlink()  # room again: the same run adds the folder
        assert _index_json(capsys, str(other))["added"] == 2
        assert check_index(index) == {"files": 8, "vectors": 8, "failures": 0}
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_in_a_read_only_index_folder_search_status_and_a_rescan_work(tmp_path, capsys):
    """What a full disk does to opening, without root or a mount: the index's folder is
    read-only, so its -wal and -shm files cannot be made; reads open the index read-only."""
    album, other = tmp_path / "album", tmp_path / "other"
    photos = make_album(album, 6)
    make_album(other, 2, first_seed=300)
    assert _index_json(capsys, str(album))["added"] == 6
    data = Path(os.environ["ALBUMFINDER_HOME"]) / "data"
    index = data / "index.sqlite3"
    assert not Path(f"{index}-wal").exists()  # the last connection closed it
    data.chmod(0o555)
    try:
        with permissions_enforced():
            with pytest.raises(PermissionError):  # really read-only to this process
                (data / "probe").write_bytes(b"")
            command = ["search", str(photos[0]), "-n", "3", "--model", "builtin", "--json"]
            assert main(command) == 0, capsys.readouterr().err
            [block] = json.loads(capsys.readouterr().out)["queries"]
            assert len(block["results"]) == 3
            assert main(["status", "--json"]) == 0, capsys.readouterr().err
            [folder] = json.loads(capsys.readouterr().out)["folders"]
            assert folder["indexed"] == 6
            assert _index_json(capsys)["unchanged"] == 6  # nothing to write: a rescan works

            assert main(["index", str(other), "--model", "builtin"]) == 1
            err = capsys.readouterr().err
            assert "Traceback" not in err and "its folder is read-only" in err, err
            assert not Path(f"{index}-wal").exists()
    finally:
        data.chmod(0o755)
    assert check_index(index) == {"files": 6, "vectors": 6, "failures": 0}


# -- 9. a vector of the wrong length -------------------------------------------------------
def test_vectors_of_the_wrong_length_are_left_out_of_search_and_embedded_again(
    tmp_path, capsys, album_home
):
    album = tmp_path / "album"
    photos = make_album(album, 6)
    assert _index_json(capsys, str(album))["added"] == 6
    index = album_home / "data" / "index.sqlite3"
    conn = sqlite3.connect(index)
    damaged = [str(photos[0]), str(photos[1])]  # too short, too long
    for path, change in zip(damaged, (lambda b: b[:14], lambda b: b + b"\x00\x3c"), strict=True):
        [(file_id, blob)] = conn.execute(
            "SELECT file_id, vector FROM vectors WHERE file_id = "
            "(SELECT id FROM files WHERE path = ?)",
            (path,),
        ).fetchall()
        conn.execute("UPDATE vectors SET vector = ? WHERE file_id = ?", (change(blob), file_id))
    assert conn.total_changes == 2
    conn.commit()
    conn.close()

    for query in (photos[0], photos[2]):  # a damaged photo as the query, and a sound one
        assert main(["search", str(query), "-n", "9", "--model", "builtin", "--json"]) == 0
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        hits = {h["path"] for h in json.loads(captured.out)["queries"][0]["results"]}
        assert not hits & set(damaged) and len(hits) == 4 - (query == photos[2])
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert "Traceback" not in json.dumps(status)

    repaired = _index_json(capsys)
    assert repaired["added"] == 2 and repaired["unchanged"] == 4
    conn = sqlite3.connect(index)
    lengths = conn.execute("SELECT DISTINCT length(vector) FROM vectors").fetchall()
    conn.close()
    assert len(lengths) == 1
    assert main(["search", str(photos[2]), "-n", "9", "--model", "builtin", "--json"]) == 0
    hits = {h["path"] for h in json.loads(capsys.readouterr().out)["queries"][0]["results"]}
    assert set(damaged) <= hits


# -- 10. the index deleted under a running app ---------------------------------------------
def _delete_index(index: Path, with_journal: bool) -> None:
    index.unlink()
    if with_journal:  # `rm index.sqlite3*`
        for side in (Path(f"{index}-wal"), Path(f"{index}-shm")):
            side.unlink(missing_ok=True)


@pytest.mark.parametrize("with_journal", [False, True], ids=["file", "file-wal-shm"])
def test_an_index_deleted_during_a_run_is_said_and_a_new_one_keeps_the_folders(
    tmp_path, embedder, with_journal
):
    from albumfinder.errors import IndexStoreError

    album = tmp_path / "album"
    make_album(album, 6)
    library = Library()
    library.add_folder(album)
    index = library.store.path

    def delete_when_embedding_starts(event) -> None:
        if event.phase == "embedding" and index.exists():
            _delete_index(index, with_journal)

    with pytest.raises(IndexStoreError, match="was deleted while Album Finder was running"):
        library.index(embedder, progress=delete_when_embedding_starts)  # not "success"
    assert index.exists()
    assert library.folders() == [str(album)]  # the same, running app goes on
    assert library.index(embedder).added == 6
    library.close()
    assert check_index(index) == {"files": 6, "vectors": 6, "failures": 0}


def test_an_index_deleted_under_the_open_app_is_said_once_then_every_action_works(
    tmp_path, embedder
):
    from albumfinder.errors import IndexStoreError

    album = tmp_path / "album"
    photos = make_album(album, 6)
    library = Library()
    library.add_folder(album)
    library.index(embedder)
    assert len(library.search(embedder, photos[0], n=3)) == 3
    _delete_index(library.store.path, with_journal=True)

    with pytest.raises(IndexStoreError, match="A new one was started with the album's 1 folder"):
        library.search(embedder, photos[0], n=3)
    assert library.search(embedder, photos[0], n=3) == []  # nothing indexed: no "no such table"
    assert library.index(embedder).added == 6
    assert len(library.search(embedder, photos[0], n=3)) == 3
    library.close()


# -- 13. two indexing runs at once; a rescan that needs no model -----------------------------
class _CountingLoader:
    """Loads the built-in model (really) and counts how often it was asked to."""

    def __init__(self, embedder) -> None:
        self.embedder, self.calls = embedder, 0

    def __call__(self):
        self.calls += 1
        return self.embedder


def test_a_second_run_at_the_same_time_skips_what_the_first_is_embedding(tmp_path, embedder):
    from albumfinder.library import LazyEmbedder

    album = tmp_path / "album"
    make_album(album, 12)
    first, second = Library(), Library()  # two runs on one index, as two windows or CLIs
    first.add_folder(album)
    second_done = threading.Event()
    result = {}

    def wait_for_the_second(event) -> None:
        if event.phase == "embedding" and event.done == 0:
            assert second_done.wait(timeout=120)

    def second_run() -> None:
        try:
            loader = _CountingLoader(embedder)
            result["report"] = second.index(LazyEmbedder("builtin", loader))
            result["loads"] = loader.calls
        finally:
            second_done.set()

    worker = threading.Thread(target=second_run)

    def start_second_once_claimed(event) -> None:
        if event.phase == "embedding" and not worker.is_alive() and "report" not in result:
            worker.start()  # the first has claimed its photos and is about to embed them
        wait_for_the_second(event)

    report = first.index(embedder, progress=start_second_once_claimed)
    worker.join(timeout=120)
    assert report.added == 12
    skipped = result["report"]
    assert skipped.elsewhere == 12 and skipped.added == skipped.updated == 0
    assert result["loads"] == 0  # nothing to embed: the model was never loaded
    assert second.index(embedder).unchanged == 12  # afterwards: done, by the first
    first.close()
    second.close()


def test_claims_of_a_killed_run_do_not_block_the_next_run(tmp_path, album_home, embedder):
    album = tmp_path / "album"
    make_album(album, 8)
    library = Library()
    library.add_folder(album)
    library.close()
    index = album_home / "data" / "index.sqlite3"
    stuck = (  # a real indexing run that hangs at its first photo, then is killed
        "import time\n"
        "from albumfinder.embedding.loading import load_embedder\n"
        "from albumfinder.library import Library\n"
        "def hang(event):\n"
        "    if event.phase == 'embedding':\n"
        "        time.sleep(600)\n"
        "Library().index(load_embedder('builtin', allow_download=False), progress=hang)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", stuck], env=dict(os.environ))
    try:
        for _ in range(600):  # until it holds its claims (bounded: 60 s)
            if _claims(index) == 8:
                break
            assert process.poll() is None, "the indexing process ended early"
            time.sleep(0.1)
        assert _claims(index) == 8
    finally:
        process.kill()
        process.wait()

    library = Library()
    report = library.index(embedder)
    assert report.added == 8 and report.elsewhere == 0
    assert _claims(index) == 0
    library.close()


def _claims(index: Path) -> int:
    conn = sqlite3.connect(index, timeout=30)
    try:
        return conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
    except sqlite3.OperationalError:  # not made yet
        return 0
    finally:
        conn.close()


def test_a_rescan_of_an_unchanged_album_never_loads_the_model(tmp_path, capsys, embedder):
    from albumfinder.library import LazyEmbedder

    album = tmp_path / "album"
    photos = make_album(album, 5)
    library = Library()
    library.add_folder(album)
    loader = _CountingLoader(embedder)
    assert library.index(LazyEmbedder("builtin", loader)).added == 5 and loader.calls == 1
    loader = _CountingLoader(embedder)
    assert library.index(LazyEmbedder("builtin", loader)).unchanged == 5 and loader.calls == 0
    photos[0].write_bytes(photos[1].read_bytes())  # one changed photo: now it is needed
    assert library.index(LazyEmbedder("builtin", loader)).updated == 1 and loader.calls == 1
    library.close()

    # the command line: a rescan imports neither torch nor the model, named or the default
    rescan = (
        "import sys\n"
        "from albumfinder.cli import main\n"
        "status = main(sys.argv[1:])\n"
        "print('torch loaded' if 'torch' in sys.modules else 'no torch')\n"
        "sys.exit(status)\n"
    )
    for argv in (["index", "--model", "builtin"], ["index"]):
        done = subprocess.run(
            [sys.executable, "-c", rescan, *argv],
            env=dict(os.environ),
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert "5 unchanged" in done.stdout and done.stdout.rstrip().endswith("no torch")


# -- connections: one per thread, none left open by a thread that is gone (issue 11.5) ----
def _index_descriptors(index: Path) -> int:
    """How many file descriptors of this process are open on the index or its -wal/-shm."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}").startswith(str(index)):
                count += 1
    return count


def _indexed_library(tmp_path: Path, embedder) -> tuple[Library, list[Path]]:
    photos = make_album(tmp_path / "album", 3)
    library = Library()
    library.add_folder(tmp_path / "album")
    assert library.index(embedder).added == 3
    return library, photos


needs_proc_fd = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc/self/fd"
)


@needs_proc_fd
def test_searches_on_threads_that_end_leave_no_connection_open(tmp_path, album_home, embedder):
    library, photos = _indexed_library(tmp_path, embedder)
    index = library.store.path

    def search_on_a_thread_of_its_own(photo: Path) -> None:
        worker = threading.Thread(target=library.search, args=(embedder, photo, 2))
        worker.start()
        worker.join()

    # (SQLite may keep one descriptor of a closed connection for the next one to reuse)
    search_on_a_thread_of_its_own(photos[0])
    held = _index_descriptors(index)
    for photo in photos * 3:
        search_on_a_thread_of_its_own(photo)
    assert _index_descriptors(index) == held  # before: two or three more for each search
    assert library.store.open_connections() == 1  # the main thread's
    library.close()
    assert _index_descriptors(index) == 0


@needs_proc_fd
def test_gui_pool_tasks_leave_no_connection_open(tmp_path, album_home, embedder, qapp):
    """A Qt pool thread gets a new Python thread state for each task (PySide), so each task
    opens a connection: it is closed when the task ends, not kept until the app quits."""
    from albumfinder.gui.workers import Task, make_pool

    library, photos = _indexed_library(tmp_path, embedder)
    index = library.store.path
    pool = make_pool("test-searches", 1)

    def search_on_the_pool(photo: Path) -> None:
        task = Task(lambda _progress, _stop: library.search(embedder, photo, n=2))
        pool.start(task)
        assert task.done.wait(60)

    search_on_the_pool(photos[0])
    pool.waitForDone()  # the task's thread state (and its connection) ends after done is set
    held = _index_descriptors(index)
    for photo in photos * 3:
        search_on_the_pool(photo)
    pool.waitForDone()
    assert _index_descriptors(index) == held
    assert library.store.open_connections() == 1
    library.close()
    assert _index_descriptors(index) == 0


def test_close_closes_the_connection_of_a_thread_still_running(tmp_path, album_home, embedder):
    library, photos = _indexed_library(tmp_path, embedder)
    used, closed, asked = threading.Event(), threading.Event(), {}

    def search_then_wait() -> None:
        asked["hits"] = library.search(embedder, photos[0], n=2)
        asked["conn"] = library.store.connection()  # the one this thread's search used
        used.set()
        closed.wait(60)
        try:
            asked["conn"].execute("SELECT 1")
        except sqlite3.ProgrammingError as exc:
            asked["error"] = str(exc)

    worker = threading.Thread(target=search_then_wait)
    worker.start()
    assert used.wait(60)
    library.close()  # from the main thread
    closed.set()
    worker.join(60)
    assert len(asked["hits"]) == 2
    assert "closed database" in asked.get("error", "still open")


def test_folder_problems_are_album_finder_errors_naming_the_folder(tmp_path, album_home):
    """A face needs one ``except AlbumFinderError`` for add_folder and forget (the old
    ``except OSError`` / ``except ValueError`` still work)."""
    from albumfinder.errors import AlbumFinderError, FolderError, Hint

    make_album(tmp_path / "album", 2)
    (tmp_path / "a file").write_bytes(b"x")
    library = Library()
    try:
        missing = tmp_path / "gone"
        with pytest.raises(FileNotFoundError) as info:
            library.add_folder(missing)
        assert isinstance(info.value, AlbumFinderError)
        assert info.value.path == str(missing)
        with pytest.raises(FolderError) as info:
            library.add_folder(tmp_path / "a file")
        assert info.value.path == str(tmp_path / "a file")
        library.add_folder(tmp_path / "album")
        with pytest.raises(ValueError) as info:
            library.forget(tmp_path / "album")
        assert isinstance(info.value, FolderError)
        assert info.value.path == str(tmp_path / "album")
        assert info.value.hint is Hint.REMOVE_FOLDER and "window" not in str(info.value)
    finally:
        library.close()
