"""The desktop app through its real widgets, real events and the real core (built-in model)."""

from __future__ import annotations

import os
import re
import threading

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QImage

from albumfinder import paths
from albumfinder.gui import main_window
from albumfinder.gui.engine import model_key
from albumfinder.gui.library_panel import STATS_ROLE
from albumfinder.gui.main_window import MainWindow
from albumfinder.gui.result_strip import IMAGE_ROLE, format_score
from albumfinder.gui.settings import Settings
from albumfinder.library import Library

from gui_support import (
    drop_files,
    drop_mime,
    index_folder,
    index_one_while_adding_another,
    window_on_recovered_index,
)
from local_server import serve
from photo_factory import make_album, make_photo


@pytest.fixture
def album_with_copy(tmp_path):
    """12 photos plus a half-size copy of a 13th; the full-size original is the query."""
    album = tmp_path / "album"
    make_album(album, 12)
    original = make_photo(7, (800, 600))
    original.resize((400, 300)).save(album / "half_size.jpg", quality=85)
    query = tmp_path / "query.jpg"
    original.save(query, quality=95)
    return album, query, original


def test_add_folder_indexes_it_with_progress_in_order(qtbot, window, tmp_path):
    album = tmp_path / "album"
    make_album(album, 10)
    (album / "notes.jpg").write_bytes(b"not a photo at all")
    (album / "gone.jpg").symlink_to(album / "deleted-long-ago.jpg")  # a broken link
    events = []
    window.engine.indexProgress.connect(events.append)
    report = index_folder(qtbot, window, album)

    assert (report.added, report.cancelled) == (10, False)
    phases = [e.phase for e in events]
    assert phases[0] == "scanning" and phases[-1] == "done"
    assert phases.index("embedding") > phases.index("scanning")
    embedding = [e for e in events if e.phase == "embedding"]
    assert all(a.done <= b.done for a, b in zip(embedding, embedding[1:], strict=False))
    assert events[-1].done == events[-1].total == 11
    assert "Index up to date" in window.status_label.text()
    assert not window.progress.isVisible() and not window.cancel_button.isVisible()
    panel = window.library_panel
    qtbot.waitUntil(lambda: panel.folders() == [str(album)], timeout=10_000)
    qtbot.waitUntil(
        lambda: "10 indexed" in (panel.item_for(str(album)).data(STATS_ROLE) or ""), timeout=10_000
    )
    assert "2 skipped" in panel.item_for(str(album)).data(STATS_ROLE)
    assert panel.skipped_button.isEnabled()
    window.show_skipped()
    qtbot.waitUntil(lambda: getattr(window, "skipped_dialog", None) is not None, timeout=10_000)
    tree = window.skipped_dialog.tree
    rows = {
        os.path.basename(tree.topLevelItem(i).text(0)): tree.topLevelItem(i).text(1)
        for i in range(tree.topLevelItemCount())
    }
    assert set(rows) == {"notes.jpg", "gone.jpg"} and all(rows.values())
    window.skipped_dialog.close()


def test_folder_counts_rise_while_indexing(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(main_window, "FOLDER_REFRESH_S", 0.0)  # refresh on every progress
    album = tmp_path / "album"
    make_album(album, 48)
    panel = window.library_panel
    shown: list[str] = []

    def record(_statuses) -> None:  # after the panel's own slot: what the user sees now
        item = panel.item_for(str(album))
        if item is not None:
            shown.append(item.data(STATS_ROLE))

    window.engine.foldersChanged.connect(record)
    index_folder(qtbot, window, album)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] == "48 indexed", timeout=10_000)
    # while it ran, the panel said how far it had got and how much was left
    counts = [re.fullmatch(r"(\d+) indexed · (\d+) pending", text) for text in shown]
    midway = [(int(m[1]), int(m[2])) for m in counts if m and 0 < int(m[1]) < 48]
    assert midway and all(done + left == 48 for done, left in midway), shown


def test_drop_a_file_shows_look_alikes_with_scores(qtbot, window, album_with_copy):
    album, query, _ = album_with_copy
    index_folder(qtbot, window, album)
    with qtbot.waitSignal(window.searchFinished, timeout=60_000) as hits:
        assert drop_files(window.drop_zone, query)
    assert hits.args[0], "no results"
    strip = window.strip
    assert strip.count() == 10  # N defaults to 10
    assert strip.paths()[0] == str(album / "half_size.jpg")
    scores = strip.scores()
    assert scores == sorted(scores, reverse=True)
    first = strip.item(0)
    assert first.text() == "half_size.jpg"
    assert str(album / "half_size.jpg") in first.toolTip()
    assert f"Similarity {format_score(scores[0])}" in first.toolTip()
    assert format_score(0.873) == "87%"
    qtbot.waitUntil(lambda: window.drop_zone.has_photo, timeout=20_000)
    qtbot.waitUntil(lambda: first.data(IMAGE_ROLE) is not None, timeout=20_000)  # thumbnail


def test_fewer_results_when_n_is_lowered(qtbot, window, album_with_copy):
    album, query, _ = album_with_copy
    index_folder(qtbot, window, album)
    with qtbot.waitSignal(window.searchFinished, timeout=60_000):
        drop_files(window.drop_zone, query)
    with qtbot.waitSignal(window.searchFinished, timeout=60_000):
        window.n_spin.setValue(3)
    assert window.strip.count() == 3
    assert window.strip.paths()[0] == str(album / "half_size.jpg")
    assert Settings().n == 3  # remembered


def test_dropping_something_that_is_not_a_photo_says_so(qtbot, window, tmp_path):
    text = tmp_path / "letter.jpg"
    text.write_bytes(b"Dear Sir, this is not a JPEG.")
    with qtbot.waitSignal(window.searchFinished, timeout=60_000):
        drop_files(window.drop_zone, text)
    assert window.banner.isVisible()
    assert "letter.jpg" in window.banner.message()
    assert "not a photo" in window.banner.message()
    assert window.strip.count() == 0
    drop_files(window.drop_zone, tmp_path)  # a folder
    assert "is a folder" in window.banner.message()


def test_a_drop_that_carries_no_photo_is_refused(window):
    mime = QMimeData()
    mime.setText("just some words")
    assert not drop_mime(window.drop_zone, mime)


def test_browser_drag_of_a_web_address_fetches_the_photo(
    qtbot, window, album_with_copy, monkeypatch
):
    album, query, _ = album_with_copy
    index_folder(qtbot, window, album)
    monkeypatch.delenv("ALBUMFINDER_OFFLINE")
    with serve({"photos/holiday.jpg": query.read_bytes()}) as (address, _):
        port = int(address.rsplit(":", 1)[1])  # loopback is refused, except this one server
        monkeypatch.setattr("albumfinder.fetch.ALLOWED_PRIVATE", {("127.0.0.1", port)})
        mime = QMimeData()
        mime.setUrls([QUrl(f"{address}/photos/holiday.jpg")])  # a link, no image data
        with qtbot.waitSignal(window.searchFinished, timeout=60_000) as hits:
            assert drop_mime(window.drop_zone, mime)
        assert hits.args[0][0].path == str(album / "half_size.jpg")
        mime.setUrls([QUrl(f"{address}/photos/missing.jpg")])
        drop_mime(window.drop_zone, mime)
        qtbot.waitUntil(window.banner.isVisible, timeout=30_000)
    assert "Could not get the photo" in window.banner.message()
    assert "404" in window.banner.message()


def test_browser_drag_with_image_data_searches_it(qtbot, window, album_with_copy):
    album, _, original = album_with_copy
    index_folder(qtbot, window, album)
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/photos/original.jpg")])
    mime.setImageData(QImage(original.tobytes(), 800, 600, 2400, QImage.Format.Format_RGB888))
    with qtbot.waitSignal(window.searchFinished, timeout=60_000):
        assert drop_mime(window.drop_zone, mime)
    assert window.strip.paths()[0] == str(album / "half_size.jpg")


def test_paste_an_image(qtbot, window, album_with_copy):
    album, _, original = album_with_copy
    index_folder(qtbot, window, album)
    image = QImage(original.tobytes(), 800, 600, 2400, QImage.Format.Format_RGB888).copy()
    QGuiApplication.clipboard().setImage(image)
    with qtbot.waitSignal(window.searchFinished, timeout=60_000):
        window.paste_action.trigger()
    assert window.strip.paths()[0] == str(album / "half_size.jpg")
    qtbot.waitUntil(lambda: window.drop_zone.has_photo, timeout=20_000)


def test_paste_a_copied_file(qtbot, window, album_with_copy):
    album, query, _ = album_with_copy
    index_folder(qtbot, window, album)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(query))])
    clipboard = QGuiApplication.clipboard()
    clipboard.setMimeData(mime)
    try:
        with qtbot.waitSignal(window.searchFinished, timeout=60_000):
            window.paste_action.trigger()
    finally:
        # PySide6 (offscreen) crashes at exit if the clipboard still holds a QMimeData
        # made in Python; the app itself only ever puts text there.
        clipboard.clear()
    assert window.strip.paths()[0] == str(album / "half_size.jpg")


def test_cancel_keeps_what_was_done_and_rescan_embeds_only_the_rest(qtbot, window, tmp_path):
    album = tmp_path / "album"
    make_album(album, 40)
    reports, events = [], []
    window.engine.indexFinished.connect(reports.append)

    def on_progress(event):
        events.append(event)
        if event.phase == "embedding" and event.done > 0 and window.cancel_button.isEnabled():
            window.cancel_button.click()

    window.engine.indexProgress.connect(on_progress)
    window.add_folder(str(album))
    qtbot.waitUntil(lambda: bool(reports) and not window.engine.is_indexing, timeout=120_000)
    first = reports[-1]
    assert first.cancelled
    kept = first.added
    assert 0 < kept < 40
    assert "cancelled" in window.status_label.text().lower()
    window.engine.indexProgress.disconnect(on_progress)

    window.library_panel.rescan_button.click()
    qtbot.waitUntil(lambda: len(reports) == 2 and not window.engine.is_indexing, timeout=120_000)
    second = reports[-1]
    assert not second.cancelled
    assert second.added == 40 - kept and second.unchanged == kept


def test_query_during_indexing_is_answered_from_what_is_indexed(qtbot, window, tmp_path):
    first = index_one_while_adding_another(qtbot, window, tmp_path, 6)
    hits = []
    window.searchFinished.connect(hits.append)
    drop_files(window.drop_zone, first / "photo_000.jpg")
    qtbot.waitUntil(lambda: bool(hits), timeout=60_000)
    assert window.engine.is_indexing, "the query waited for the whole index run"
    assert hits[0] and not any(h.path == str(first / "photo_000.jpg") for h in hits[0])
    window.engine.cancel_index()
    qtbot.waitUntil(lambda: not window.engine.is_indexing, timeout=60_000)


def test_recovered_index_is_announced(qtbot, tmp_path):
    index = paths.index_path()
    index.write_bytes(np.random.default_rng(7).bytes(50_000))  # not a database at all
    win, library = window_on_recovered_index(qtbot)
    assert win.banner.isVisible()
    assert "moved aside" in win.banner.message()
    win.close()
    library.close()


def test_settings_and_geometry_are_remembered(qtbot, warm_model):
    library = Library()
    win = MainWindow(library)
    qtbot.addWidget(win)
    win.show()
    win.move(40, 30)
    win.resize(win.minimumSizeHint())
    size = win.size()
    win.n_spin.setValue(7)
    win.close()
    ini = paths.config_dir() / "albumfinder.ini"
    assert ini.is_file() and "geometry" in ini.read_text()
    again = MainWindow(library)
    qtbot.addWidget(again)
    assert again.n_spin.value() == 7
    assert again.size() == size
    assert size.width() < 790  # not the default size, clamped to the offscreen screen
    again.close()
    library.close()


def test_dinov2_without_weights_offline_says_so_and_keeps_the_model(qtbot, window, tmp_path):
    from albumfinder.gui.model_dialog import WeightsDialog

    dialog = WeightsDialog(window.engine, "dinov2-small", window)
    qtbot.addWidget(dialog)
    assert not dialog.download_button.isEnabled()  # ALBUMFINDER_OFFLINE=1 in the tests
    assert "offline" in dialog.status.text()
    dialog.accept_file(str(tmp_path / "missing.pth"))
    assert "No weights file" in dialog.status.text() and dialog.result() == 0

    album = tmp_path / "album"
    make_album(album, 4)
    index_folder(qtbot, window, album)
    failures = []
    window.engine.indexFailed.connect(failures.append)
    window.select_model("dinov2-small")  # as if its weights were there
    qtbot.waitUntil(lambda: bool(failures) and not window.engine.is_indexing, timeout=60_000)
    assert "no weights for dinov2-small" in failures[0]
    assert window.engine.model == "builtin"
    assert window.model_combo.currentData() == "builtin"
    assert "Indexing stopped" in window.banner.message()
    with qtbot.waitSignal(window.searchFinished, timeout=60_000) as hits:
        drop_files(window.drop_zone, album / "photo_000.jpg")
    assert len(hits.args[0]) == 3  # the old model still answers


def test_f5_rescans_and_ctrl_q_quits(qtbot, window, tmp_path):
    album = tmp_path / "album"
    make_album(album, 3)
    index_folder(qtbot, window, album)
    make_photo(77).save(album / "new.jpg", quality=90)  # added behind the app's back
    reports = []
    window.engine.indexFinished.connect(reports.append)
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: bool(reports) and not window.engine.is_indexing, timeout=60_000)
    assert (reports[-1].added, reports[-1].unchanged) == (1, 3)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)


def test_removing_a_folder_while_it_is_indexed_leaves_none_of_its_photos(qtbot, window, tmp_path):
    keep, drop = tmp_path / "keep", tmp_path / "drop"
    make_album(keep, 4)
    make_album(drop, 200, first_seed=500)
    index_folder(qtbot, window, keep)
    window.engine.library.add_folder(drop)
    window.engine.start_index()
    qtbot.waitUntil(lambda: window.engine.is_indexing, timeout=10_000)
    # both interactive threads busy (a big folder scan, thumbnails...) when Remove is clicked
    busy = threading.Event()
    for _ in range(2):
        window.engine.pools.interactive_task(lambda _p, _s: busy.wait(60))
    window.engine.remove_folder(str(drop))
    progress = []
    window.engine.indexProgress.connect(progress.append)
    window.engine.start_index()  # F5 right after: the next run must not bring them back
    qtbot.waitUntil(lambda: window.engine.is_indexing, timeout=10_000)
    # that run is under way when the interactive threads free up
    qtbot.waitUntil(lambda: bool(progress), timeout=60_000)
    busy.set()
    qtbot.waitUntil(lambda: not window.engine.is_indexing, timeout=120_000)
    qtbot.waitUntil(lambda: window.engine.pools.wait(0), timeout=60_000)  # nothing queued
    store = window.engine.library.store
    assert store.files_under([str(drop)], "") == {}
    kept = store.load_vectors(model_key("builtin"))[0]
    assert len(kept) == 4 and all(p.startswith(str(keep)) for p in kept)


def test_the_skipped_list_is_the_one_status_gives(qtbot, window, tmp_path):
    """A photo the index recorded as unreadable that is now a broken link: the window lists
    it with the reason ``Library.status`` gives (the scan's, the newer), not the old one."""
    album = tmp_path / "album"
    make_album(album, 3)
    (album / "notes.jpg").write_bytes(b"not a photo at all")
    index_folder(qtbot, window, album)
    (album / "notes.jpg").unlink()
    (album / "notes.jpg").symlink_to(album / "deleted-long-ago.jpg")  # now a broken link
    panel = window.library_panel
    window.engine.refresh_folders()
    qtbot.waitUntil(lambda: any(s.scan_problems for s in panel.statuses), timeout=10_000)
    window.show_skipped()
    qtbot.waitUntil(lambda: getattr(window, "skipped_dialog", None) is not None, timeout=10_000)
    tree = window.skipped_dialog.tree
    rows = [tree.topLevelItem(i).text(1) for i in range(tree.topLevelItemCount())]
    window.skipped_dialog.close()
    assert rows == [s.reason for s in window.engine.library.status().skipped]
    assert len(rows) == 1 and "link" in rows[0]


@pytest.mark.parametrize("mime_type", ["image/heic", "image/avif", "image/tiff"])
def test_dropped_photo_data_of_every_supported_kind_is_a_query(qtbot, mime_type):
    """A browser drag may carry only the photo's bytes, typed HEIC, AVIF or TIFF too."""
    from albumfinder.gui.drop_zone import QueryKind, source_from_mime

    data = b"\0\0\0\x18ftypheic"  # what the content is, is decoding's business
    mime = QMimeData()
    mime.setData(mime_type, data)
    source = source_from_mime(mime)
    assert source is not None and (source.kind, source.value) == (QueryKind.BYTES, data)


def test_both_faces_word_a_time_left_with_the_one_formatter():
    """The window says "about 2 min 05 s left", the command line "ETA 2:05"; a time left
    not known (infinite: no photo done yet) is left out, not a crash."""
    import io

    from albumfinder.cli.progress import ProgressPrinter
    from albumfinder.gui.status_text import embedding_text
    from albumfinder.report import IndexProgress, Phase

    def progress(eta):
        return IndexProgress(Phase.EMBEDDING, 10, 100, rate=2.0, eta_s=eta)

    assert embedding_text(progress(125.4)).endswith(" · about 2 min 05 s left")
    assert embedding_text(progress(3725)).endswith(" · about 1 h 02 min left")
    assert embedding_text(progress(float("inf"))) == "Indexing 10 of 100 photos · 2.0 photos/s"
    stream = io.StringIO()
    ProgressPrinter(stream)(progress(125.4))
    assert "2.0 photos/s, ETA 2:05" in stream.getvalue()
