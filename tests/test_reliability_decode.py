"""Reliability, hostile and unlucky files (issue #10, points 2, 3, 6 and 11).

No file makes Album Finder run another program, no file makes a decode take unbounded
memory, a read that never returns does not hold indexing, Cancel or the end of the program,
and pipes, sockets and devices are listed as what they are. Every file is made here.
"""

from __future__ import annotations

import builtins
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import albumfinder
from albumfinder import indexer, memory_budget
from albumfinder.errors import ImageLoadError
from albumfinder.images import NOT_REGULAR_FILE, READ_TIMEOUT, open_photo
from albumfinder.library import Library
from test_reliability_files import cosine, embed, stored_vectors, write_png

from photo_factory import make_photo

SIZE = (192, 144)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def embedder():
    from albumfinder.embedding.loading import load_embedder

    return load_embedder("builtin", allow_download=False)


def _album(folder: Path, count: int, first_seed: int) -> dict[str, Image.Image]:
    folder.mkdir(parents=True, exist_ok=True)
    pictures = {}
    for i in range(count):
        image = make_photo(first_seed + i, SIZE)
        image.save(folder / f"photo {i}.png")
        pictures[str(folder / f"photo {i}.png")] = image
    return pictures


# -- 10.2: only photo formats, never an external interpreter ------------------------------
POSTSCRIPT_LOOP = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n{ } loop\n"


def _fake_ghostscript(folder: Path) -> Path:
    """A ``gs`` first on PATH that only records that it was started."""
    folder.mkdir()
    record = folder / "gs-was-run"
    script = folder / "gs"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> '{record}'\nexit 1\n")
    script.chmod(0o755)
    return record


@pytest.mark.skipif(os.name == "nt", reason="a shell script stands for gs")
def test_postscript_named_jpg_is_skipped_and_ghostscript_never_runs(
    tmp_path, monkeypatch, embedder
):
    record = _fake_ghostscript(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    from PIL import EpsImagePlugin

    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None)  # Pillow looks gs up again
    album = tmp_path / "album"
    pictures = _album(album, 2, 300)
    (album / "holiday.jpg").write_bytes(POSTSCRIPT_LOOP)

    library = Library()
    report = library.index(embedder, [album])
    assert report.added == len(pictures)
    assert {s.path: s.reason for s in report.skipped} == {
        str(album / "holiday.jpg"): "not a recognised image format"
    }
    with pytest.raises(ImageLoadError, match="not a recognised image format"):
        library.search(embedder, album / "holiday.jpg")
    assert not record.exists(), "Ghostscript was started"
    library.close()


def _fits(path: Path) -> None:
    cards = ["SIMPLE  =                    T", "BITPIX  =                    8"]
    cards += ["NAXIS   =                    2", "NAXIS1  =                   16"]
    cards += ["NAXIS2  =                   16", "END"]
    header = b"".join(card.ljust(80).encode() for card in cards).ljust(2880)
    path.write_bytes(header + bytes(range(256)).ljust(2880, b"\0"))


@pytest.mark.parametrize("fmt", ["PPM", "TGA", "PCX", "ICO", "DDS", "SGI", "FITS"])
def test_formats_no_camera_writes_are_not_opened(tmp_path, fmt):
    """A photo album needs JPEG, PNG, WebP, HEIF/AVIF, TIFF, BMP and GIF (and RAW
    previews); Pillow's other 30-odd readers (science data, game textures, icons...)
    are attack surface only."""
    path = tmp_path / "looks like a photo.jpg"
    if fmt == "FITS":
        _fits(path)
    else:
        make_photo(310, (64, 64)).save(path, format=fmt)
    with Image.open(path) as image:  # Pillow itself reads it...
        assert image.format == fmt
    with pytest.raises(ImageLoadError, match="not a recognised image format"):
        open_photo(path)  # ...Album Finder does not


# -- 10.3: memory per decode and across threads -------------------------------------------
def _gray16_png(path: Path, pixels16: np.ndarray) -> Path:
    height, width = pixels16.shape
    rows = (pixels16[y].astype(">u2").tobytes() for y in range(height))
    return write_png(path, width, height, 16, 0, rows)


def test_large_decodes_run_one_at_a_time_and_are_indexed_correctly(tmp_path, monkeypatch, embedder):
    # the real budget with a small "large" mark, so that test files can be small
    budget = memory_budget.MemoryBudget(capacity=64 * memory_budget.MIB, large=1_000_000)
    monkeypatch.setattr(memory_budget, "DECODE_BUDGET", budget)
    album = tmp_path / "album"
    album.mkdir()
    expected: dict[str, Image.Image] = {}
    for i in range(4):  # 1200×900 16-bit grey: 2.2 MB decoded each
        gray8 = make_photo(320 + i, (1200, 900)).convert("L")
        gray16 = np.asarray(gray8, np.uint16) * 257
        path = _gray16_png(album / f"deep {i}.png", gray16)
        expected[str(path)] = Image.fromarray(np.round(gray16 / 257).astype(np.uint8), "L")
    upright = make_photo(330, (1200, 900))
    exif = Image.Exif()
    exif[0x0112] = 6
    upright.transpose(Image.Transpose.ROTATE_90).save(album / "turned.png", exif=exif)
    expected[str(album / "turned.png")] = upright
    expected.update(_album(album / "small", 3, 340))

    library = Library()
    report = library.index(embedder, [album], decode_workers=4)
    assert report.skipped == [] and report.added == len(expected)
    assert budget.peak_large_holders == 1, "two large decodes ran at once"
    assert budget.in_use == 0 and budget.holders == 0  # every reservation was given back
    vectors = stored_vectors(library, embedder)
    for path, picture in expected.items():
        assert cosine(vectors[path], embed(embedder, picture)) > 0.99, path
    # and the check has teeth: the photo as stored (not turned upright) is further away
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    assert cosine(vectors[str(album / "turned.png")], embed(embedder, stored)) < 0.99
    library.close()


def test_budget_waits_while_a_large_decode_runs():
    budget = memory_budget.MemoryBudget(capacity=100, large=10)
    inside = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def large(name: str) -> None:
        with budget.reserve(50):
            order.append(f"{name} in")
            inside.set()
            release.wait(30)
            order.append(f"{name} out")

    first = threading.Thread(target=large, args=("a",))
    first.start()
    assert inside.wait(30)
    second = threading.Thread(target=large, args=("b",))
    second.start()
    with budget.reserve(5):  # a small decode fits beside the large one
        order.append("small")
    release.set()
    first.join(30)
    second.join(30)
    assert order[:3] == ["a in", "small", "a out"] and order[3:] == ["b in", "b out"]
    assert budget.peak_large_holders == 1 and budget.peak_in_use == 55


# -- 10.6: a read that never returns -------------------------------------------------------
class HungMount:
    """Opening one file never returns until released: what a hung NFS/SMB/FUSE mount or
    an online-only cloud file does (the boundary to the OS, faked: ``os.open`` and the
    built-in ``open``, for that one path)."""

    def __init__(self, monkeypatch, stuck: Path) -> None:
        self.stuck = os.fspath(stuck)
        self.entered = threading.Event()
        self.release = threading.Event()
        monkeypatch.setattr(os, "open", self._hanging(os.open))
        monkeypatch.setattr(builtins, "open", self._hanging(builtins.open))

    def _hanging(self, real_open):
        def hanging_open(path, *args, **kwargs):
            is_stuck = isinstance(path, (str, Path)) and os.fspath(path) == self.stuck
            if is_stuck and not self.release.is_set():
                self.entered.set()
                self.release.wait(600)
            return real_open(path, *args, **kwargs)

        return hanging_open


def test_a_read_that_never_returns_is_skipped_at_its_deadline_and_retried(
    tmp_path, monkeypatch, embedder
):
    album = tmp_path / "album"
    pictures = _album(album, 5, 350)
    stuck = album / "photo 2.png"
    hung = HungMount(monkeypatch, stuck)
    monkeypatch.setattr(indexer, "DECODE_DEADLINE_S", 1.0)
    library = Library()
    try:
        report = library.index(embedder, [album], decode_workers=2)
    finally:
        hung.release.set()
    assert hung.entered.is_set() and not report.cancelled
    assert {s.path: s.reason for s in report.skipped} == {str(stuck): READ_TIMEOUT}
    assert report.added == len(pictures) - 1
    again = library.index(embedder, [album])  # the mount is back: tried again
    assert again.added == 1 and again.skipped == []
    assert (
        cosine(stored_vectors(library, embedder)[str(stuck)], embed(embedder, pictures[str(stuck)]))
        > 0.999
    )
    library.close()


def test_cancel_returns_while_a_read_hangs(tmp_path, monkeypatch, embedder):
    album = tmp_path / "album"
    _album(album, 4, 360)
    hung = HungMount(monkeypatch, album / "photo 0.png")
    monkeypatch.setattr(indexer, "DECODE_DEADLINE_S", 3600.0)  # only Cancel can end it
    library = Library()
    try:
        report = library.index(embedder, [album], should_stop=hung.entered.is_set)
    finally:
        hung.release.set()
    assert report.cancelled
    library.close()


def test_a_fifo_swapped_in_after_the_scan_is_skipped(tmp_path, embedder):
    album = tmp_path / "album"
    pictures = _album(album, 4, 370)
    swapped = album / "photo 1.png"

    def swap(event):  # after the scan, before any photo is decoded
        if event.phase == "embedding" and event.done == 0 and not swapped.is_fifo():
            swapped.unlink()
            os.mkfifo(swapped)

    library = Library()
    report = library.index(embedder, [album], progress=swap)
    assert {s.path: s.reason for s in report.skipped} == {str(swapped): NOT_REGULAR_FILE}
    assert report.added == len(pictures) - 1 and not report.cancelled
    library.close()


_CHILD = textwrap.dedent(
    """
    import builtins, os, signal, sys, threading
    from albumfinder.embedding.loading import load_embedder
    from albumfinder.library import Library
    from PIL import Image
    album, index_file, how = sys.argv[1], sys.argv[2], sys.argv[3]
    stuck = os.path.join(album, "photo 0.png")
    entered = threading.Event()
    def hanging(real_open):
        def hanging_open(path, *args, **kwargs):
            if isinstance(path, str) and path == stuck:
                entered.set()
                threading.Event().wait()  # never returns, like a read from a hung mount
            return real_open(path, *args, **kwargs)
        return hanging_open
    os.open = hanging(os.open)
    builtins.open = hanging(builtins.open)
    if how == "ctrl-c":
        def interrupt():
            entered.wait()
            os.kill(os.getpid(), signal.SIGINT)
        threading.Thread(target=interrupt, daemon=True).start()
    library = Library(index_file)
    embedder = load_embedder("builtin", allow_download=False)
    try:
        report = library.index(embedder, [album], should_stop=
            entered.is_set if how == "cancel" else None)
        print("cancelled" if report.cancelled else "finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    """
)


@pytest.mark.skipif(not hasattr(os, "kill") or os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize(("how", "said"), [("cancel", "cancelled"), ("ctrl-c", "interrupted")])
def test_cancel_and_ctrl_c_end_the_program_with_a_thread_stuck_in_a_read(tmp_path, how, said):
    album = tmp_path / "album"
    _album(album, 3, 380)
    source = Path(albumfinder.__file__).resolve().parents[1]  # the code under test
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(source), str(ROOT / "tests")])}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(album), str(tmp_path / "index.sqlite3"), how],
            capture_output=True,
            text=True,
            env=env,
            timeout=240,  # a bound on a hang, not a speed check
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the program never ended: it waited for the stuck thread")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == said


# -- 10.11: pipes, sockets and devices ----------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX special files")
def test_special_files_are_listed_as_not_regular_files(tmp_path, embedder, capsys):
    from albumfinder.cli import main

    album = tmp_path / "album"
    pictures = _album(album, 2, 390)
    os.mkfifo(album / "pipe.jpg")
    os.symlink("/dev/null", album / "device.png")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(album / "sock.jpg"))
    try:
        library = Library()
        report = library.index(embedder, [album])
        assert report.added == len(pictures)
        assert {s.path: s.reason for s in report.skipped} == {
            str(album / name): NOT_REGULAR_FILE for name in ("pipe.jpg", "device.png", "sock.jpg")
        }
        for query in ("pipe.jpg", "device.png"):
            with pytest.raises(ImageLoadError) as info:
                library.search(embedder, album / query)
            assert info.value.reason == NOT_REGULAR_FILE
        library.close()
    finally:
        server.close()

    # the seed form with a pipe as its database fails clearly
    fifo = tmp_path / "database"
    os.mkfifo(fifo)
    query = next(iter(pictures))
    assert main(["-q", query, "-d", str(fifo), "--model", "builtin", "--disable-cache"]) != 0
    err = capsys.readouterr().err
    assert NOT_REGULAR_FILE in err and str(fifo) in err


def test_a_reservation_held_by_a_stuck_read_does_not_block_later_decodes(tmp_path, monkeypatch):
    """A read stuck in the kernel keeps its share of the budget; a later large decode (a
    query's, say) gives up after the wait with a retryable reason instead of waiting for
    ever."""
    from albumfinder.images import READ_TIMEOUT, is_retryable, open_photo

    big = tmp_path / "panorama.png"
    Image.new("RGB", (6000, 4000), (90, 120, 200)).save(big)  # 72 MB of pixels: "large"
    monkeypatch.setattr(memory_budget, "WAIT_S", 0.5)
    stuck, release = threading.Event(), threading.Event()

    def stuck_read() -> None:
        with memory_budget.DECODE_BUDGET.reserve(memory_budget.LARGE_DECODE_BYTES + 1):
            stuck.set()
            release.wait(30)

    holder = threading.Thread(target=stuck_read, daemon=True)
    holder.start()
    assert stuck.wait(30)
    outcome: list[BaseException | None] = []

    def decode() -> None:
        try:
            open_photo(big, min_size=224)
            outcome.append(None)
        except Exception as exc:  # noqa: BLE001 - the outcome is what is checked
            outcome.append(exc)

    worker = threading.Thread(target=decode, daemon=True)
    worker.start()
    worker.join(20)
    release.set()
    holder.join(30)
    assert outcome, "the decode waited for ever behind the stuck reservation"
    error = outcome[0]
    assert error is not None and getattr(error, "reason", None) == READ_TIMEOUT
    assert is_retryable(READ_TIMEOUT)
    assert open_photo(big, min_size=224).size[0] >= 224  # with room again, it decodes
