"""What a user hits on the command line: typos, result pictures inside the album, an
unwritable output folder, `status` agreeing with `index`, logs that end where the run did,
and Ctrl+C during `index`."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from albumfinder.cli import main
from albumfinder.cli.progress import ProgressPrinter
from albumfinder.report import IndexProgress
from albumfinder.scan import OUTPUT_MARKER, scan

from cli_support import run_json
from photo_factory import make_album, make_photo, save_photo


@pytest.fixture
def album(tmp_path):
    folder = tmp_path / "Pictures"
    make_album(folder, 6)
    query = tmp_path / "query.jpg"
    make_photo(42, (640, 480)).save(query, quality=95)
    return folder, query


@pytest.mark.parametrize(
    "argv",
    [
        ["-q", "{missing}", "-d", "{album}"],
        ["-q", "{missing}", "-d", "{album}", "--json"],
        ["search", "{missing}"],
        ["search", "{missing}", "--json"],
        ["embed", "{missing}", "--json"],
    ],
)
def test_a_missing_query_is_one_error_line_before_any_work(
    tmp_path, capsys, album, album_home, argv
):
    folder, query = album
    missing = tmp_path / "no such photo.jpg"
    names = {"missing": str(missing), "album": str(folder), "query": str(query)}
    argv = [a.format(**names) for a in argv] + ["--model", "builtin"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    what = "photo" if argv[0] == "embed" else "query"
    assert captured.err.strip().splitlines() == [
        f"albumfinder-cli: error: {what} not found: {missing}"
    ]
    if "--json" in argv:  # exactly one JSON object, saying what went wrong
        assert captured.out.count("\n") == 1
        data = json.loads(captured.out)
        assert data["error"] == f"{what} not found: {missing}"
        assert data.get("queries", []) == []
    else:
        assert captured.out == ""  # nothing was searched
    # nothing slow happened: the database was not indexed
    assert not (album_home / "data" / "index.sqlite3").exists()


def test_a_broken_link_as_query_says_so(tmp_path, capsys, album):
    folder, _ = album
    link = tmp_path / "link.jpg"
    link.symlink_to(tmp_path / "gone.jpg")
    assert main(["-q", str(link), "-d", str(folder), "--model", "builtin"]) == 1
    assert "query is a broken symbolic link" in capsys.readouterr().err


def test_result_pictures_written_inside_the_album_never_become_photos(
    tmp_path, capsys, album, monkeypatch
):
    """`albumfinder-cli -q Q -d .` run in the photo folder writes ./output/... inside the
    database: the next run must not index those pictures nor return them as results."""
    folder, query = album
    monkeypatch.chdir(folder)
    argv = ["-q", str(query), "-d", ".", "-n", "50", "--model", "builtin", "--json"]
    first = run_json(capsys, *argv)
    picture = Path(first["queries"][0]["picture"])
    assert picture.is_file() and picture.is_relative_to(folder / "output")
    second = run_json(capsys, *argv)
    paths = [r["path"] for r in second["queries"][0]["results"]]
    assert len(paths) == 6  # the album's photos, and nothing else
    assert not any(p.startswith(str(folder / "output")) for p in paths)
    report = run_json(capsys, "index", str(folder), "--model", "builtin", "--json")
    assert report["added"] + report["unchanged"] == 6

    # a folder of queries that holds the result pictures does not query them either
    make_photo(7, (320, 240)).save(folder / "output" / "another query.jpg")
    third = run_json(
        capsys, "-q", str(folder / "output"), "-d", str(folder), "--model", "builtin", "--json"
    )
    assert [b["query"] for b in third["queries"]] == [str(folder / "output" / "another query.jpg")]


def test_scan_skips_a_result_picture_folder_unless_it_is_the_root(tmp_path):
    save_photo(tmp_path / "a.jpg", 1)
    results = tmp_path / "output" / "Pictures" / "dinov2_vits14"
    save_photo(results / "a_output.jpg", 2)
    (results / OUTPUT_MARKER).write_text("")
    assert sorted(scan([tmp_path]).files) == [str(tmp_path / "a.jpg")]
    assert sorted(scan([results]).files) == [str(results / "a_output.jpg")]


def test_an_unwritable_output_root_is_a_clear_error(tmp_path, capsys, album, album_home):
    folder, query = album
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    argv = ["-q", str(query), "-d", str(folder), "--model", "builtin"]
    # the output root itself is a file: refused before any work
    assert main([*argv, "-o", str(blocker)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"albumfinder-cli: error: -o/--output-root is not a folder: {blocker}"
    )
    # a path under a file: refused before any work too (not after indexing the database)
    assert main([*argv, "-o", str(blocker / "out"), "--json"]) == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data == {"error": f"-o/--output-root cannot be written: {blocker / 'out'} ({blocker})"}
    assert captured.err.strip() == f"albumfinder-cli: error: {data['error']}"
    assert not (album_home / "data" / "index.sqlite3").exists()  # nothing was indexed


def test_status_lists_what_index_skipped_including_broken_links(tmp_path, capsys, album):
    folder, _ = album
    (folder / "broken.jpg").symlink_to(folder / "gone.jpg")
    (folder / "garbage.jpg").write_bytes(b"not a photo")
    report = run_json(capsys, "index", str(folder), "--model", "builtin", "--json")
    reported = {s["path"]: s["reason"] for s in report["skipped"]}
    assert set(reported) == {str(folder / "broken.jpg"), str(folder / "garbage.jpg")}
    status = run_json(capsys, "status", "--json")
    assert {s["path"]: s["reason"] for s in status["skipped"]} == reported
    [entry] = status["folders"]
    assert (entry["indexed"], entry["pending"], entry["skipped"]) == (6, 0, 2)

    assert main(["status"]) == 0
    text = capsys.readouterr().out
    assert f"  {folder / 'broken.jpg'}: broken symbolic link" in text.splitlines()
    assert "6 indexed, 0 not indexed yet, 2 skipped" in text


def test_progress_in_a_log_starts_plainly_and_ends_where_the_run_did():
    stream = io.StringIO()  # not a terminal: a line every few seconds
    printer = ProgressPrinter(stream)
    printer(IndexProgress("scanning", 0, 0))
    printer(IndexProgress("scanning", 120, 0))
    for done in range(8, 121, 8):
        printer(IndexProgress("embedding", done, 120, rate=40.0, eta_s=(120 - done) / 40))
    printer(IndexProgress("done", 120, 120))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "Scanning…"
    assert lines[-1].startswith("Indexing ") and " 120/120 " in lines[-1]


def _vector_count(index: Path) -> int:
    if not index.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{index.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:  # not created yet
        return 0


BIG = 400  # photos: enough that indexing them takes a while with the built-in model


@pytest.fixture(scope="module")
def big_album(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("big") / "many"
    for i in range(BIG):
        save_photo(folder / f"{i // 100}" / f"p{i:04d}.jpg", 1000 + i, (200, 150))
    return folder


def _cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "albumfinder.cli", *argv, "--model", "builtin"]


def _interrupt(command: list[str], ready) -> tuple[int, str, str]:
    """Run ``command``, send it SIGINT (what Ctrl+C sends) once ``ready()``, and wait."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        while process.poll() is None and not ready(process):
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, out, err


def test_ctrl_c_during_index_keeps_a_consistent_index(big_album, album_home):
    index = album_home / "data" / "index.sqlite3"
    command = _cli("index", str(big_album))
    code, out, err = _interrupt(command, lambda _p: _vector_count(index) > 0)  # a batch is in
    assert code == 130, err
    assert out == ""
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if "interrupted" in line] == [
        "albumfinder-cli: interrupted; what was indexed so far is kept."
    ]
    conn = sqlite3.connect(index)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    kept = conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
    conn.close()
    assert 0 < kept < BIG
    again = subprocess.run(
        [*command, "--json"], capture_output=True, text=True, env=os.environ.copy(), check=True
    )
    report = json.loads(again.stdout)
    assert (report["added"], report["unchanged"], report["skipped"]) == (BIG - kept, kept, [])


def test_ctrl_c_with_disable_cache_does_not_claim_to_keep_anything(tmp_path, big_album, album_home):
    query = big_album / "0" / "p0000.jpg"
    command = _cli("-q", str(query), "-d", str(big_album), "--disable-cache", "-o", str(tmp_path))

    def indexing(process) -> bool:  # the progress log's first line: the scan has begun
        return process.stderr.readline().startswith("Scanning")

    code, out, err = _interrupt(command, indexing)
    assert code == 130, err
    assert out == "" and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "albumfinder-cli: interrupted."
    assert not (album_home / "data" / "index.sqlite3").exists()


def test_index_with_a_missing_folder_adds_none_of_them(tmp_path, capsys, album):
    folder, _ = album
    missing = tmp_path / "Pictures 2"
    assert main(["index", str(folder), str(missing), "--model", "builtin"]) == 1
    assert capsys.readouterr().err.strip() == f"albumfinder-cli: error: folder not found: {missing}"
    status = run_json(capsys, "status", "--json")
    assert status["folders"] == []


def test_missing_weights_say_how_to_get_them_on_the_command_line(capsys, album):
    """The core names the model and hints "get its weights"; the command line words how
    (this advice used to be part of the core's message, and the window's too)."""
    folder, query = album
    assert main(["search", str(query), "--model", "dinov2-base", "--json"]) == 1
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert error.startswith("no weights for dinov2-base found")
    assert "albumfinder-cli models --download dinov2-base" in error and "-p PATH" in error
    assert captured.err.strip() == f"albumfinder-cli: error: {error}"


def test_the_cli_words_the_advice_for_each_hint():
    from albumfinder.cli.output import error_text
    from albumfinder.errors import Hint, IndexUnavailableError, WeightsError

    missing = WeightsError("no weights for dinov2-base found", model="dinov2-base")
    assert error_text(missing) == "no weights for dinov2-base found"  # no hint: no advice
    missing.hint = Hint.GET_WEIGHTS
    assert error_text(missing) == (
        "no weights for dinov2-base found. "
        "Run `albumfinder-cli models --download dinov2-base` or pass -p PATH."
    )
    full = IndexUnavailableError("Cannot write the index: the disk is full.")
    full.hint = Hint.FREE_DISK
    assert error_text(full) == "Cannot write the index: the disk is full."


@pytest.mark.parametrize("argv", [["embed", "{query}"], ["-q", "{query}", "-d", "{album}"]])
def test_a_device_that_is_not_here_is_one_error_line(capsys, monkeypatch, album, album_home, argv):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # no NVIDIA GPU here
    folder, query = album
    names = {"album": str(folder), "query": str(query)}
    argv = [a.format(**names) for a in argv] + ["--model", "builtin", "--device", "cuda"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        "albumfinder-cli: error: CUDA was asked for, but torch finds no usable NVIDIA GPU"
    )


def test_without_dinov2_weights_the_cli_says_how_to_get_them(capsys, album, album_home):
    """The core says why the built-in model is used and hints "get its weights"; the command
    line words how (that advice was once part of the core's words)."""
    folder, query = album
    assert main(["embed", str(query)]) == 0  # no --model: the default model
    err = capsys.readouterr().err
    assert "DINOv2 weights not found" in err and "using the built-in model" in err
    assert "Run `albumfinder-cli models --download dinov2-small` or pass -p PATH." in err
