"""The banner and the main window's layout, through the real window: plain text only, the
same colour for the same message, honest wording after a damaged index, and nothing that
overlaps at the window's minimum size (light and dark palettes)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QWidget

from albumfinder import paths
from albumfinder.gui.drop_zone import QuerySource
from albumfinder.gui.main_window import MainWindow
from albumfinder.library import Library

from gui_support import (
    drop_files,
    index_folder,
    index_one_while_adding_another,
    window_on_recovered_index,
)
from photo_factory import make_album, make_photo

HOSTILE_NAME = "<font color=red size=7>ALL PHOTOS DELETED</font>.jpg"


def _hostile_file(tmp_path):
    """A file whose path ends in ``HOSTILE_NAME`` (a name cannot hold "/", a path can)."""
    head, tail = HOSTILE_NAME.split("/", 1)
    folder = tmp_path / head
    folder.mkdir()
    hostile = folder / tail
    hostile.write_bytes(b"not a photo at all")
    assert str(hostile).endswith(HOSTILE_NAME)
    return hostile


def test_markup_in_a_path_is_shown_as_text_in_the_banner(qtbot, window, tmp_path):
    hostile = _hostile_file(tmp_path)
    window.add_folder(str(hostile))  # a file, not a folder: the error names it
    qtbot.waitUntil(window.banner.isVisible, timeout=10_000)
    label = window.banner.text
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert HOSTILE_NAME in label.text()


def test_markup_in_a_dropped_name_is_shown_as_text(qtbot, window, tmp_path):
    hostile = _hostile_file(tmp_path)
    with qtbot.waitSignal(window.searchFinished, timeout=60_000):
        window.find(QuerySource("path", str(hostile), HOSTILE_NAME))
    assert window.banner.text.textFormat() == Qt.TextFormat.PlainText
    assert f"“{HOSTILE_NAME}” is not a photo" in window.banner.message()


def _painted_background(banner) -> QColor:
    """The colour the banner is painted with, read from a grab of it."""
    return banner.grab().toImage().pixelColor(banner.width() // 2, 3)


def test_the_same_message_always_has_the_same_colour(qtbot, window):
    window.banner.show_message("info", "The clipboard holds no photo.")
    first = _painted_background(window.banner)
    window.banner.show_message("error", "Indexing stopped: disk full")
    error = _painted_background(window.banner)
    window.banner.show_message("info", "The clipboard holds no photo.")
    again = _painted_background(window.banner)
    assert error != first
    assert again == first


@pytest.mark.parametrize("folders_survive", [False, True])
def test_a_damaged_index_says_what_the_user_has_to_do(qtbot, tmp_path, folders_survive):
    album = tmp_path / "album"
    album.mkdir()
    if folders_survive:
        library = Library()
        library.add_folder(album)
        library.store.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        library.close()
        index = paths.index_path()
        data = index.read_bytes()
        index.write_bytes(data[:-4096])  # its last page lost: damaged, the folder list readable
    else:
        paths.index_path().parent.mkdir(parents=True, exist_ok=True)
        paths.index_path().write_bytes(np.random.default_rng(7).bytes(50_000))
    win, library = window_on_recovered_index(qtbot)
    text = win.banner.message()
    assert str(library.recovered_from) in text
    if folders_survive:
        assert library.folders() == [str(album)]
        assert "indexed again" in text and "add your folders again" not in text
    else:
        assert "add your folders again" in text and "indexed again" not in text
    win.close()
    library.close()


@pytest.mark.parametrize(
    ("key", "modifier"),
    [
        (Qt.Key.Key_F5, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier),
    ],
)
def test_f5_and_ctrl_r_both_rescan(qtbot, window, tmp_path, key, modifier):
    """Explicit keys, whatever the platform theme maps QKeySequence.Refresh to."""
    album = tmp_path / "album"
    make_album(album, 2)
    index_folder(qtbot, window, album)
    make_photo(77).save(album / "new.jpg", quality=90)
    reports = []
    window.engine.indexFinished.connect(reports.append)
    window.activateWindow()
    window.setFocus()
    qtbot.keyClick(window, key, modifier)
    qtbot.waitUntil(lambda: bool(reports) and not window.engine.is_indexing, timeout=60_000)
    assert reports[-1].added == 1


# What PySide writes for a Python object it pickled (here a class from another program):
# reading it back raises, as PySide refuses to unpickle anything but builtin types.
PICKLED = (
    r"@Variant(\0\0\0\x7f\0\0\0\x18PySide::PyObjectWrapper\0\0\0\0$\x80\x4\x95\x19\0\0\0\0\0\0"
    r"\0\x8c\b__main__\x94\x8c\x5Thing\x94\x93\x94)\x81\x94.)"
)


def test_a_pickled_setting_is_reset_and_the_app_starts(qtbot, warm_model):
    ini = paths.config_dir() / "albumfinder.ini"
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_text(f"[General]\nmodel={PICKLED}\nresults=7\npending_model={PICKLED}\n")
    library = Library()
    win = MainWindow(library)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(win.banner.isVisible, timeout=10_000)
    text = win.banner.message()
    assert "could not be read" in text and "model" in text and str(ini) in text
    assert win.engine.model == "builtin" and win.n_spin.value() == 7  # the rest is kept
    win.close()
    library.close()
    assert "PyObjectWrapper" not in ini.read_text()  # reset: the next start is clean


LONG_ERROR = (
    "Indexing stopped: Cannot write the index /home/someone/.local/share/albumfinder/"
    "index.sqlite3: the disk is full. Free some space and press Rescan; what was indexed is kept."
)


def _window_rect(widget: QWidget) -> QRect:
    return QRect(widget.mapTo(widget.window(), QPoint(0, 0)), widget.size())


def _laid_out_parts(win) -> dict[str, QWidget]:
    parts = {
        "toolbar": win.findChild(QWidget, "mainToolbar"),
        "folders": win.library_panel,
        "banner": win.banner,
        "drop zone": win.drop_zone,
        "title": win.results_title,
        "note": win.results_note,
        "show": win.n_spin,
        "strip": win.strip,
        "status": win.statusBar(),
    }
    return {name: w for name, w in parts.items() if w.isVisible()}


def assert_nothing_overlaps(win) -> None:
    for _ in range(5):  # layout requests come as posted events, one level at a time
        QApplication.processEvents()
    parts = _laid_out_parts(win)
    inside = win.rect()
    rects = {name: _window_rect(w) for name, w in parts.items()}
    for name, rect in rects.items():
        assert inside.contains(rect), f"{name} {rect} outside the window {inside}"
        hint = parts[name].minimumSizeHint()
        assert rect.height() >= min(hint.height(), parts[name].minimumHeight() or hint.height()), (
            f"{name} squeezed to {rect.height()} px"
        )
    note = win.results_note  # one line: shortened with "…", never cut off mid-letter
    assert note.fontMetrics().horizontalAdvance(note.shown_text()) <= note.width()
    names = list(rects)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not rects[a].intersects(rects[b]), f"{a} {rects[a]} overlaps {b} {rects[b]}"


@pytest.mark.parametrize("with_banner", [False, True])
def test_nothing_overlaps_at_the_minimum_size(qtbot, window, with_banner):
    if with_banner:
        window.banner.show_message("error", LONG_ERROR, [("Copy Path", lambda: None)])
    window.resize(200, 200)  # as small as the window lets itself be made
    qtbot.waitUntil(lambda: window.size() == window.minimumSize(), timeout=5_000)
    assert window.minimumWidth() >= 760 and window.minimumHeight() >= 560
    assert_nothing_overlaps(window)
    window.resize(1200, 760)
    qtbot.waitUntil(lambda: window.width() == 1200, timeout=5_000)
    assert_nothing_overlaps(window)


def test_results_found_while_indexing_say_they_may_change(qtbot, window, tmp_path):
    first = index_one_while_adding_another(qtbot, window, tmp_path, 4)
    with qtbot.waitSignal(window.searchFinished, timeout=60_000):
        drop_files(window.drop_zone, first / "photo_000.jpg")
    assert window.engine.is_indexing
    assert "still indexing: results may change" in window.results_note.text()
    window.engine.cancel_index()
    qtbot.waitUntil(lambda: not window.engine.is_indexing, timeout=60_000)
    assert "still indexing" not in window.results_note.text()
    assert "most alike" in window.results_note.text()


def test_removing_a_folder_takes_its_photos_and_counts_out_at_once(qtbot, window, tmp_path):
    keep, drop = tmp_path / "keep", tmp_path / "drop"
    make_album(keep, 3)
    make_album(drop, 3, first_seed=100)
    index_folder(qtbot, window, keep)
    index_folder(qtbot, window, drop)
    with qtbot.waitSignal(window.searchFinished, timeout=60_000):
        drop_files(window.drop_zone, keep / "photo_000.jpg")
    assert any(p.startswith(str(drop)) for p in window.strip.paths())
    qtbot.waitUntil(lambda: len(window.library_panel.statuses) == 2, timeout=10_000)
    window.library_panel.removeRequested.emit(str(drop))  # as the Remove button does
    # at once: no event loop turn, no index work has run yet
    assert window.strip.paths() and not any(p.startswith(str(drop)) for p in window.strip.paths())
    assert [s.path for s in window.library_panel.statuses] == [str(keep)]
    assert window.status_label.text() == f"Removed {drop} from the album"
    assert f"{len(window.strip.paths())} most alike" in window.results_note.text()
    qtbot.waitUntil(lambda: window.engine.library.folders() == [str(keep)], timeout=10_000)


MARKUP_FOLDER = "<h1>ALL PHOTOS DELETED"  # a folder name: no "/" in it


def _as_shown(text: str, text_format=Qt.TextFormat.AutoText) -> str:
    """What a user reads where Qt shows ``text`` in ``text_format`` (a tooltip is always
    AutoText): Qt renders what looks like rich text as HTML."""
    from PySide6.QtGui import Qt as QtGui
    from PySide6.QtGui import QTextDocument

    rich = text_format == Qt.TextFormat.RichText or (
        text_format == Qt.TextFormat.AutoText and QtGui.mightBeRichText(text)
    )
    if not rich:
        return text
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def test_markup_in_folder_and_file_names_is_shown_as_text_everywhere(qtbot, window, tmp_path):
    """Status line, folder and result tooltips, the Skipped dialog: each shows a folder
    named like markup as it is named (issue 10.8)."""
    album = tmp_path / MARKUP_FOLDER
    make_album(album, 3)
    (album / "<b>broken.jpg").write_bytes(b"not a photo")
    index_folder(qtbot, window, album)

    def folder_tooltip() -> str:  # the counts arrive with the next foldersChanged
        return _as_shown(window.library_panel.item_for(str(album)).toolTip())

    qtbot.waitUntil(lambda: folder_tooltip().startswith(f"{album}\n3 indexed"), timeout=30_000)

    with qtbot.waitSignal(window.searchFinished, timeout=60_000) as found:
        drop_files(window.drop_zone, album / "photo_000.jpg")
    first = window.strip.item(0)
    assert _as_shown(first.toolTip()) == (
        f"{found.args[0][0].path}\nSimilarity {round(found.args[0][0].score * 100)}%"
    )

    window.show_skipped()
    qtbot.waitUntil(lambda: getattr(window, "skipped_dialog", None) is not None, timeout=30_000)
    row = window.skipped_dialog.tree.topLevelItem(0)
    assert _as_shown(row.toolTip(0)) == str(album / "<b>broken.jpg")
    window.skipped_dialog.reject()

    window.remove_folder(str(album))
    label = window.status_label
    assert _as_shown(label.text(), label.textFormat()) == f"Removed {album} from the album"


def test_markup_in_error_texts_is_shown_as_text_in_dialogs(qtbot, window, tmp_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QLabel

    from albumfinder.gui import app, crash
    from albumfinder.gui.model_dialog import WeightsDialog

    hostile = tmp_path / MARKUP_FOLDER / "index.sqlite3"
    seen: list[str] = []

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        seen.extend(_as_shown(lb.text(), lb.textFormat()) for lb in box.findChildren(QLabel))
        box.done(0)

    QTimer.singleShot(0, read_and_close)
    app._say_not_opened(OSError(f"cannot open {hostile}"))
    assert any(f"cannot open {hostile}" in text for text in seen), seen

    seen.clear()
    QTimer.singleShot(0, read_and_close)
    crash.CrashHandler().show(f"ValueError: {MARKUP_FOLDER}", str(hostile))
    assert any(f"ValueError: {MARKUP_FOLDER}" in text for text in seen), seen
    assert any(str(hostile) in text for text in seen), seen

    dialog = WeightsDialog(window.engine, "dinov2-small", window)
    qtbot.addWidget(dialog)
    chosen = tmp_path / MARKUP_FOLDER / "weights.pth"
    dialog.accept_file(str(chosen))
    status = dialog.status
    assert str(chosen) in _as_shown(status.text(), status.textFormat())
