"""Reliability, part 2: indexing killed with SIGKILL at random moments (issue #4, point 2).

Each run is a separate process (forked from a zygote that has imported torch once, so a
run starts in milliseconds) that loads the model, opens the index and indexes the album,
exactly as `albumfinder-cli index` does. The test kills it at a seeded random moment,
twelve times. After every kill the index must open, pass `PRAGMA integrity_check`, hold no
vector without its file row, have lost nothing committed before, and the next run must
embed only what had not been committed (each run writes the paths it embeds to a log
before storing them).
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from albumfinder.library import Library
from reliability_support import Zygote, check_index, committed_paths

from photo_factory import save_photo

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or not hasattr(signal, "SIGKILL"), reason="needs fork and SIGKILL"
)

KILLS = 12
PHOTOS = 120


def test_killed_at_random_moments_loses_nothing_and_resumes(tmp_path, album_home):
    album = tmp_path / "album"
    for i in range(PHOTOS):
        save_photo(
            album / ("sub" if i % 4 == 0 else "") / f"photo {i:02d}.jpg", 500 + i, (320, 240)
        )
    (album / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (album / "empty.png").write_bytes(b"")
    photos = {str(p) for p in album.rglob("photo *.jpg")}
    everything = photos | {str(album / "broken.jpg"), str(album / "empty.png")}
    index = album_home / "data" / "index.sqlite3"
    logs = tmp_path / "logs"
    logs.mkdir()

    rng = random.Random(4)
    zygote = Zygote({**os.environ, "ALBUMFINDER_HOME": str(album_home)})
    committed: set[str] = set()
    progress = []
    try:
        for run in range(KILLS):
            log = logs / f"run {run}.log"
            job = {"home": str(album_home), "folders": [str(album)], "log": str(log)}
            report = logs / f"run {run}.json"
            pid = zygote.start(**job, report=str(report))
            if run % 2 == 0:  # anywhere in opening the index, scanning, decoding, embedding
                time.sleep(rng.uniform(0.0, 0.6))
            else:  # while a batch is being stored: just after the run logs what it embedded
                _wait_for_lines(log, report, timeout=30)
                time.sleep(rng.uniform(0.0, 0.03))
            os.kill(pid, signal.SIGKILL)
            status = zygote.wait(pid)
            assert status in (-signal.SIGKILL, 0), f"run {run} failed on its own ({status})"

            if not index.exists():  # killed before it created the index
                continue
            check_index(index)  # opens, integrity_check ok, no vector without its file
            now = committed_paths(index)
            assert committed <= now, f"run {run}: committed results were lost"
            embedded = _logged(log)
            assert not (embedded & committed), f"run {run} embedded again what was committed"
            assert now <= everything
            committed = now
            progress.append(len(committed))

        # the last run is not killed: it embeds exactly what is left, and everything is there
        log = logs / "final.log"
        pid = zygote.start(
            home=str(album_home), folders=[str(album)], log=str(log), report=str(logs / "f.json")
        )
        assert zygote.wait(pid) == 0
    finally:
        zygote.close()
    report = json.loads((logs / "f.json").read_text())
    left = everything - committed
    assert _logged(log) == left
    assert report["added"] == len(left & photos)
    assert report["unchanged"] == len(committed & photos)
    assert {s["path"] for s in report["skipped"]} == everything - photos
    counts = check_index(index)
    assert counts == {"files": len(everything), "vectors": len(photos), "failures": 2}
    mid_run = [n for n in progress if 0 < n < len(everything)]
    assert len(set(mid_run)) >= 3, f"kills did not land mid-run: {progress}"
    library = Library()  # and the app opens it as it is: nothing to recover
    assert library.recovered_from is None
    library.close()


def _logged(log: Path) -> set[str]:
    if not log.exists():
        return set()
    return set(log.read_text(encoding="utf-8").splitlines())


def _wait_for_lines(log: Path, report: Path, timeout: float) -> None:
    """Until the run has logged a batch it is about to store (or has finished)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not report.exists():
        if log.exists() and log.stat().st_size:
            return
        time.sleep(0.001)
