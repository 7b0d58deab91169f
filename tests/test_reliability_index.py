"""Reliability, part 3: the index itself (issue #4, points 3, 4, 5 and 7).

A corrupt index is moved aside and rebuilt from the photos, and the user is told; an index
from a newer version is left untouched; two indexers at once (a GUI thread and other
processes) do not corrupt it; a full disk or a read-only data folder gives one clear error
and leaves nothing half-written; a deleted or moved photo is handled before and after a
rescan. The storage is real each time: a real tmpfs, a real file-size limit, real
permission bits (see reliability_support.permissions_enforced for how root is handled).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from albumfinder.cli import main
from albumfinder.index import SCHEMA_VERSION
from albumfinder.library import Library
from reliability_support import Zygote, check_index, mount_small_tmpfs, permissions_enforced

from photo_factory import make_album


@pytest.fixture(scope="module")
def embedder():
    from albumfinder.embedding.loading import load_embedder

    return load_embedder("builtin", allow_download=False)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def one_error_line(err: str) -> str:
    """The one error line of a failed command (other lines may be model-loading notes)."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("albumfinder-cli: error: ")]
    assert len(lines) == 1 and err.rstrip().endswith(lines[0]), err
    return lines[0]


# -- 3. a corrupt index --------------------------------------------------------------------
def _garbage(path: Path) -> None:
    path.write_bytes(np.random.default_rng(7).bytes(50_000))


def _truncated_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _header_only(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def _scribbled_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    data[2 * page : 3 * page] = np.random.default_rng(8).bytes(page)  # the third page
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "folders_survive"),
    [(_garbage, False), (_header_only, False), (_truncated_half, True), (_scribbled_page, True)],
    ids=["garbage", "header-only", "truncated", "scribbled-page"],
)
def test_corrupt_index_is_moved_aside_rebuilt_from_the_photos_and_the_user_told(
    tmp_path, capsys, embedder, damage, folders_survive
):
    album = tmp_path / "album"
    make_album(album, 6)
    library = Library()
    library.add_folder(album)
    library.index(embedder)
    index = library.store.path
    library.store.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    library.close()
    damage(index)
    damaged = index.read_bytes()

    # the user just runs a rescan of the album
    status = main(["index", "--model", "builtin", "--json"])
    captured = capsys.readouterr()
    told = [line for line in captured.err.splitlines() if "damaged" in line]
    assert len(told) == 1, captured.err
    aside = re.compile(r"index\.sqlite3\.corrupt-\d{8}-\d{6}")  # with a timestamp
    [moved] = [p for p in index.parent.iterdir() if aside.fullmatch(p.name)]
    assert str(moved) in told[0] and "rebuilt" in told[0]
    # what to do next, in the window's words: nothing, or add the folders again
    assert ("add your folders again" in told[0]) != folders_survive, told[0]
    assert ("their photos will be indexed again" in told[0]) == folders_survive, told[0]
    assert moved.read_bytes() == damaged  # kept as it was
    if folders_survive:  # the album's folder list was read back from the damaged copy
        assert status == 0, captured.err
        report = json.loads(captured.out)
    else:  # nothing readable: the user is asked to add the folder again, and does
        assert status == 1 and "no folders in the album yet" in captured.err
        assert main(["index", str(album), "--model", "builtin", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
    assert report["folders"] == [str(album)]
    assert report["added"] == 6 and report["skipped"] == []
    assert check_index(index) == {"files": 6, "vectors": 6, "failures": 0}
    library = Library()  # the next start finds a sound index: nothing more to recover
    assert library.recovered_from is None
    library.close()


def test_newer_index_is_left_untouched_with_a_clear_message(tmp_path, capsys, album_home):
    album = tmp_path / "album"
    make_album(album, 2)
    data = album_home / "data"
    data.mkdir(parents=True)
    conn = sqlite3.connect(data / "index.sqlite3")
    conn.execute("PRAGMA journal_mode = WAL")  # a newer version would use WAL too
    conn.execute("CREATE TABLE files_v9 (anything)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = snapshot(album_home)

    for argv in (
        ["index", str(album), "--model", "builtin"],
        ["status"],
        ["search", str(album / "photo_000.jpg"), "--model", "builtin"],
        ["-q", str(album / "photo_000.jpg"), "-d", str(album), "--model", "builtin"],
    ):
        assert main(argv) == 1, argv
        line = one_error_line(capsys.readouterr().err)
        assert "newer Album Finder" in line and "left untouched" in line
    assert snapshot(album_home) == before  # not a byte changed, no -wal or -shm created


# -- 5. read-only data folder, full disk ---------------------------------------------------
def _home_not_creatable(home: Path) -> None:
    home.mkdir(parents=True)
    home.chmod(0o555)


def _data_folder_read_only(home: Path) -> None:
    (home / "data").mkdir(parents=True)
    (home / "data").chmod(0o555)


def _data_folder_read_only_with_index(home: Path) -> None:
    Library().close()
    (home / "data").chmod(0o555)


def _index_file_read_only(home: Path) -> None:
    Library().close()
    (home / "data" / "index.sqlite3").chmod(0o444)


@pytest.mark.parametrize(
    "make_read_only",
    [
        _home_not_creatable,
        _data_folder_read_only,
        _data_folder_read_only_with_index,
        _index_file_read_only,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_read_only_data_folder_gives_one_clear_error_and_changes_nothing(
    tmp_path, capsys, album_home, make_read_only
):
    album = tmp_path / "album"
    make_album(album, 3)
    make_read_only(album_home)
    before = snapshot(album_home)
    try:
        with permissions_enforced():
            status = main(["index", str(album), "--model", "builtin"])
            err = capsys.readouterr().err
    finally:
        for folder in [album_home, *album_home.rglob("*")]:
            folder.chmod(0o755 if folder.is_dir() else 0o644)
    assert status == 1
    line = one_error_line(err)
    assert "read-only" in line or "Permission denied" in line or "cannot be opened" in line
    assert "Nothing was changed" in line
    after = snapshot(album_home)
    # SQLite may leave its (empty) WAL and shared-memory files beside a read-only index
    wal = after.pop("data/index.sqlite3-wal", b"")
    after.pop("data/index.sqlite3-shm", None)
    assert after == before and wal == b""


def test_full_disk_stops_with_a_clear_error_and_keeps_every_whole_batch(
    tmp_path, capsys, monkeypatch, embedder
):
    """A real full file system: a 2 MiB tmpfs (root on Linux; otherwise the next test's
    file-size limit covers the same path with another errno)."""
    disk = tmp_path / "small-disk"
    if not mount_small_tmpfs(disk, 2048):
        pytest.skip("mounting a tmpfs needs root on Linux (the file-size-limit test still runs)")
    try:
        home = disk / "home"
        album = tmp_path / "album"
        make_album(album, 40)
        monkeypatch.setenv("ALBUMFINDER_HOME", str(home))
        library = Library()
        library.add_folder(album)
        library.close()
        # room for SQLite's shared-memory file (32 KiB), the run's claims on its photos
        # (~16 KiB for 40) and about one and a half batches in the write-ahead log (a batch
        # appends ~16 KiB + ~6 KiB per photo of b-tree pages)
        room = (32 + 16) * 1024 + 3 * (16 + 6 * embedder.batch_size) * 1024 // 2
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        (disk / "filler").write_bytes(b"\0" * max(0, free - room))
        assert main(["index", "--model", "builtin"]) == 1
        line = one_error_line(capsys.readouterr().err)
        counts = check_index(home / "data" / "index.sqlite3")
        assert 0 < counts["vectors"] == counts["files"] < 40  # whole batches only
        assert "the disk is full" in line and "Nothing was changed" not in line  # issue 10.7
        assert f"the {counts['vectors']} photos indexed before that are kept" in line

        (disk / "filler").unlink()  # space again: the next run finishes the job
        assert main(["index", "--model", "builtin", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["added"] == 40 - counts["vectors"] and report["unchanged"] == counts["files"]
        assert check_index(home / "data" / "index.sqlite3")["vectors"] == 40
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="no RLIMIT_FSIZE here")
def test_file_size_limit_stops_with_a_clear_error_and_keeps_every_whole_batch(
    tmp_path, capsys, album_home, embedder
):
    """Any user, any POSIX system: the indexing process may not grow a file past a limit
    (RLIMIT_FSIZE), so SQLite's writes fail part-way as on a full disk (with EFBIG)."""
    album = tmp_path / "album"
    make_album(album, 40)
    library = Library()
    library.add_folder(album)
    library.close()
    # the write-ahead log may hold the claims and about one and a half batches (see above)
    limit = (32 + 16) * 1024 + 3 * (16 + 6 * embedder.batch_size) * 1024 // 2
    result = subprocess.run(
        [sys.executable, "-m", "albumfinder.cli", "index", "--model", "builtin"],
        env={**os.environ, "ALBUMFINDER_HOME": str(album_home)},
        capture_output=True,
        text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)),
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    line = one_error_line(result.stderr)
    index = album_home / "data" / "index.sqlite3"
    counts = check_index(index)
    assert 0 < counts["vectors"] == counts["files"] < 40  # whole batches only
    assert "could not be written" in line and "Nothing was changed" not in line
    assert f"the {counts['vectors']} photos indexed before that are kept" in line

    assert main(["index", "--model", "builtin", "--json"]) == 0  # no limit: it finishes
    report = json.loads(capsys.readouterr().out)
    assert report["added"] == 40 - counts["vectors"] and report["unchanged"] == counts["files"]
    assert check_index(index)["vectors"] == 40


# -- 4. two at once ------------------------------------------------------------------------
def test_gui_thread_and_two_processes_indexing_at_once(tmp_path, album_home):
    """A fresh index: two processes (CLI-like) and a thread (as the GUI runs its indexer)
    create it and index the same album at the same moment; all finish, nothing is lost
    or doubled, and the index is sound."""
    album = tmp_path / "album"
    photos = make_album(album, 48)
    (album / "broken.jpg").write_bytes(b"not a photo")
    go = tmp_path / "go"
    zygote = Zygote({**os.environ, "ALBUMFINDER_HOME": str(album_home)})
    try:
        jobs = [
            {
                "home": str(album_home),
                "folders": [str(album)],
                "report": str(tmp_path / f"report {i}.json"),
                "go_file": str(go),
            }
            for i in range(2)
        ]
        pids = [zygote.start(**job) for job in jobs]
        from albumfinder.embedding.loading import load_embedder

        embedder = load_embedder("builtin", allow_download=False)
        result = {}

        def gui_worker() -> None:
            library = Library()
            try:
                result["report"] = library.index(embedder, [album])
            except Exception as exc:  # noqa: BLE001 - reported below
                result["error"] = exc
            finally:
                library.close()

        thread = threading.Thread(target=gui_worker)
        go.touch()  # all three at once
        thread.start()
        thread.join(timeout=240)
        statuses = [zygote.wait(pid) for pid in pids]
    finally:
        zygote.close()
    assert "error" not in result, result.get("error")
    assert statuses == [0, 0]
    reports = [json.loads(Path(job["report"]).read_text()) for job in jobs]
    reports.append(result["report"].to_json())
    for report in reports:  # each accounts for every file; the other runs' are "elsewhere"
        assert {s["path"] for s in report["skipped"]} <= {str(album / "broken.jpg")}
        done = report["added"] + report["updated"] + report["unchanged"] + report["elsewhere"]
        assert done + len(report["skipped"]) == len(photos) + 1
    assert sum(r["added"] for r in reports) == len(photos)  # each photo embedded once
    assert sum(len(r["skipped"]) for r in reports) >= 1
    index = album_home / "data" / "index.sqlite3"
    assert check_index(index) == {"files": 49, "vectors": 48, "failures": 1}

    library = Library()  # and afterwards it is an ordinary, complete index
    again = library.index(embedder, [album])
    assert again.unchanged == 48 and again.added == again.updated == 0
    library.close()


# -- 7. moves and deletions ----------------------------------------------------------------
def test_deleted_photo_never_appears_and_moved_photo_keeps_its_vector(tmp_path, embedder):
    album = tmp_path / "album"
    photos = make_album(album, 10)
    copies = [album / "copy a.jpg", album / "copy b.jpg"]
    for copy in copies:
        shutil.copy(photos[4], copy)
    library = Library()
    library.add_folder(album)
    library.index(embedder)
    vectors_before = dict(zip(*library.store.load_vectors(embedder.model_key), strict=True))

    # deleted, no rescan yet: never a result, and the other copy still is
    os.remove(copies[0])
    hits = library.search(embedder, photos[4], n=10)
    paths = [h.path for h in hits]
    assert str(copies[0]) not in paths and str(photos[4]) not in paths
    assert paths[0] == str(copies[1]) and len(hits) == 10  # n results: the list is refilled
    # a whole folder gone, no rescan yet
    shutil.rmtree(album / "trip")
    assert not any("/trip/" in h.path for h in library.search(embedder, photos[0], n=20))

    # moved and renamed, touched (mtime changed), into a new subfolder: no re-embedding
    target = album / "2024" / "renamed.jpg"
    target.parent.mkdir()
    shutil.move(copies[1], target)
    os.utime(target, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    report = library.index(embedder)
    assert report.moved == 1 and report.added == 0 and report.updated == 0
    paths, matrix = library.store.load_vectors(embedder.model_key)
    after = dict(zip(paths, matrix, strict=True))
    assert str(copies[1]) not in after
    np.testing.assert_array_equal(after[str(target)], vectors_before[str(copies[1])])
    # the query is never its own hit, whatever way its path is spelled
    os.symlink(album, tmp_path / "album link")
    for spelling in (
        tmp_path / "album link" / "2024" / "renamed.jpg",
        Path(os.path.relpath(target)),
        album / "2024" / ".." / "2024" / "renamed.jpg",
    ):
        hits = library.search(embedder, spelling, n=3)
        assert str(target) not in [h.path for h in hits], spelling
    library.close()


# -- 5 and 6: weights downloads that are cut short -----------------------------------------
class _SlowWeights(http.server.BaseHTTPRequestHandler):
    """Serves 3 MB of bytes in small pieces, slowly enough to be interrupted."""

    body = np.random.default_rng(9).bytes(3_000_000)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        try:
            for start in range(0, len(self.body), 64 * 1024):
                self.wfile.write(self.body[start : start + 64 * 1024])
                time.sleep(0.02)
        except ConnectionError:
            self.close_connection = True

    def log_message(self, *args) -> None:
        pass


def test_weights_download_cut_by_a_full_disk_or_a_kill_leaves_nothing_in_place(
    tmp_path, album_home
):
    from albumfinder.models.registry import get_spec
    from albumfinder.models.weights import find_weights

    spec = get_spec("dinov2-small")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowWeights)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/{spec.weights_filename}"
    command = [sys.executable, "-m", "albumfinder.cli", "models", "--download", spec.name]
    env = {**os.environ, "ALBUMFINDER_HOME": str(album_home)}
    weights = album_home / "cache" / "weights"
    try:
        # the disk fills up at 1 MiB (a file-size limit: EFBIG, as ENOSPC on a full disk)
        result = subprocess.run(
            [*command, "--url", url],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20)),
        )
        assert result.returncode == 1
        line = one_error_line(result.stderr)
        assert spec.name in line and "broke off" in line, line
        assert list(weights.iterdir()) == []  # the partial file was removed

        # killed outright in the middle: a hidden partial file may stay, never in place
        process = subprocess.Popen([*command, "--url", url], env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            p.stat().st_size > 256 * 1024 for p in weights.glob("*.part")
        ):
            time.sleep(0.01)
        process.kill()
        process.wait()
        assert not (weights / spec.weights_filename).exists()
        assert all(p.name.startswith(".") and p.name.endswith(".part") for p in weights.iterdir())
        assert find_weights(spec) is None
    finally:
        httpd.shutdown()
        httpd.server_close()
