"""The GUI's threading contracts, through the real window, the real engine and real folders:
album changes run one at a time on one thread in the order asked; the GUI thread runs no
SQLite statement; the window shows before the index has opened."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from albumfinder.gui.engine import model_key
from albumfinder.gui.workers import SerialQueue, Task
from albumfinder.library import Library

from gui_support import drop_files, index_folder
from photo_factory import make_album

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@pytest.fixture
def statements(monkeypatch):
    """Every SQLite statement run from now on, with the thread that ran it: sqlite3.connect
    (the boundary to the SQLite library) hands out connections that trace what they run."""
    seen: list[tuple[int, str]] = []
    real_connect = sqlite3.connect

    def connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(lambda sql: seen.append((threading.get_ident(), sql)))
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    return seen


def _window(qtbot, opener=Library):
    from albumfinder.gui.main_window import MainWindow

    win = MainWindow(opener)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.engine.is_open, timeout=30_000)
    return win


def test_a_remove_then_an_add_of_the_same_folder_ends_with_the_folder_in(qtbot, window, tmp_path):
    keep, big = tmp_path / "keep", tmp_path / "big"
    make_album(keep, 3)
    make_album(big, 120, first_seed=300)
    index_folder(qtbot, window, keep)
    started = []
    window.engine.indexProgress.connect(
        lambda p: started.append(p) if p.phase == "embedding" else None
    )
    window.add_folder(str(big))  # a long index run holds the album's thread
    qtbot.waitUntil(lambda: bool(started), timeout=60_000)
    reports = []
    window.engine.indexFinished.connect(reports.append)
    window.remove_folder(str(keep))
    window.add_folder(str(keep))  # changed their mind at once
    qtbot.waitUntil(
        lambda: not window.engine.is_indexing and any(not r.cancelled for r in reports),
        timeout=120_000,
    )
    window.engine.pools.wait()  # the changes queued behind that run
    qtbot.waitUntil(lambda: not window.engine.is_indexing, timeout=120_000)
    assert sorted(window.engine.library.folders()) == sorted([str(keep), str(big)])
    assert window.engine.library.album_photo_count(model_key("builtin")) == 123  # all in


def test_the_gui_thread_runs_no_sqlite_and_album_changes_run_on_one_thread(
    qtbot, tmp_path, statements, warm_model
):
    album, other = tmp_path / "album", tmp_path / "other"
    make_album(album, 4)
    make_album(other, 2, first_seed=50)
    gui = threading.get_ident()
    window = _window(qtbot)
    index_folder(qtbot, window, album)
    index_folder(qtbot, window, other)
    with qtbot.waitSignal(window.searchFinished, timeout=60_000):
        drop_files(window.drop_zone, album / "photo_001.jpg")
    window.remove_folder(str(other))
    window.engine.start_index()  # F5
    qtbot.waitUntil(lambda: window.engine.folders == [str(album)], timeout=30_000)
    qtbot.waitUntil(lambda: not window.engine.is_indexing, timeout=60_000)
    window.show_skipped()
    qtbot.waitUntil(lambda: hasattr(window, "skipped_dialog"), timeout=30_000)
    window.close()

    on_gui = [sql for thread, sql in statements if thread == gui]
    assert on_gui == [], f"SQLite on the GUI thread: {on_gui[:5]}"
    writers = {thread for thread, sql in statements if sql.lstrip().upper().startswith(WRITES)}
    assert len(writers) == 1, f"album changes ran on {len(writers)} threads"
    assert writers == {window.engine.pools.album.thread_id}


def test_the_window_shows_before_a_slow_index_open_completes(qtbot, monkeypatch, warm_model):
    """Opening the index (with its integrity check) is held at the SQLite boundary: the
    window is up and usable meanwhile; the album's actions come on once it is open."""
    from albumfinder.gui import app

    release = threading.Event()
    callers: list[int] = []
    real_connect = sqlite3.connect

    def slow_connect(*args, **kwargs):
        callers.append(threading.get_ident())
        release.wait(30)  # a big album's check, a slow disk
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", slow_connect)
    window = app.start_window()
    qtbot.addWidget(window)
    assert window.isVisible()
    assert not window.engine.is_open and not window.add_action.isEnabled()
    qtbot.waitUntil(lambda: bool(callers), timeout=10_000)  # the open is under way...
    assert threading.get_ident() not in callers  # ...off the GUI thread
    release.set()
    qtbot.waitUntil(lambda: window.engine.is_open, timeout=30_000)
    assert window.add_action.isEnabled() and window.open_action.isEnabled()
    window.close()
    window.engine.library.close()


def test_the_serial_queue_refuses_a_second_thread(qtbot):
    queue = SerialQueue("album")
    queue.pool.setMaxThreadCount(2)  # as if someone widened it
    both = threading.Barrier(2, timeout=10)
    tasks = [Task(queue.serial(lambda _p, _s: both.wait())) for _ in range(2)]
    errors: list[BaseException] = []
    for task in tasks:
        task.signals.error.connect(errors.append)
        queue.pool.start(task)
    queue.pool.waitForDone(20_000)
    qtbot.waitUntil(lambda: bool(errors), timeout=5_000)
    assert any("second thread" in str(e) for e in errors)
