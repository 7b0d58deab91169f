"""Shared helpers of the GUI tests: a real window over a real Library, and real events."""

from __future__ import annotations

import warnings
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

INDEX_TIMEOUT_MS = 120_000


def drop_mime(widget, mime: QMimeData) -> bool:
    """Drag ``mime`` over ``widget`` and drop it, as a file manager or a browser does:
    a QDragEnterEvent (Qt delivers a drop only to the widget that accepted the drag), then
    a QDropEvent, both sent with QApplication.sendEvent."""
    center = QPointF(widget.width() / 2, widget.height() / 2)
    with warnings.catch_warnings():  # PySide marks the QPoint constructor deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(
            QPoint(int(center.x()), int(center.y())),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(
        center,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def drop_files(widget, *paths: Path) -> bool:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return drop_mime(widget, mime)


def index_folder(qtbot, window, folder: Path, timeout: int = INDEX_TIMEOUT_MS):
    """Add ``folder`` through the window and wait for its index run to finish."""
    reports = []
    window.engine.indexFinished.connect(reports.append)
    window.add_folder(str(folder))
    qtbot.waitUntil(lambda: bool(reports) and not window.engine.is_indexing, timeout=timeout)
    window.engine.indexFinished.disconnect(reports.append)
    return reports[-1]


def index_one_while_adding_another(qtbot, window, tmp_path: Path, photos: int) -> Path:
    """Index an album of ``photos`` photos through the window, then add a second of 60 and
    wait until it is being embedded: the window is busy indexing. The first album's folder."""
    from photo_factory import make_album

    first = tmp_path / "first"
    make_album(first, photos)
    index_folder(qtbot, window, first)
    second = tmp_path / "second"
    make_album(second, 60, first_seed=500)
    embedding = []
    window.engine.indexProgress.connect(
        lambda p: embedding.append(p) if p.phase == "embedding" else None
    )
    window.add_folder(str(second))
    qtbot.waitUntil(lambda: bool(embedding), timeout=60_000)
    return first


def window_on_recovered_index(qtbot):
    """The real window over a Library that has just moved a damaged index aside (the test
    damaged it first), shown and with its index open."""
    from albumfinder.gui.main_window import MainWindow
    from albumfinder.library import Library

    library = Library()
    assert library.recovered_from is not None
    win = MainWindow(library)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.engine.is_open, timeout=10_000)  # told once the index is open
    return win, library
