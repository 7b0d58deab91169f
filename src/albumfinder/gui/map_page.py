"""The Map page: the album laid out by what its photos look like (:class:`MapCanvas`), with
its toolbar (Refresh, the folder filter, Odd Ones Out, the lasso, zoom), the progress of the
layout with Cancel, a bar for the lassoed photos and a side list (:class:`PhotoListView`) for
the odd ones out or the lassoed photos.

:class:`MapPage` is the view (widgets, layout, no decision); :class:`MapController` talks
to the core through ``Library.album_map`` and ``Library.outliers`` on the window's
interactive pool (never the GUI thread), and to the window for queries, opening and
revealing. :func:`attach_map_page` wires both into a main window (one call there).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui import advice, icons
from albumfinder.gui.drop_zone import QueryKind, QuerySource
from albumfinder.gui.elided_label import ElidedLabel
from albumfinder.gui.map_canvas import MapCanvas
from albumfinder.gui.outliers_view import PhotoListView
from albumfinder.gui.plain_text import PLAIN
from albumfinder.gui.thumbnails import ThumbnailLoader
from albumfinder.gui.trash_actions import TrashActions
from albumfinder.library import Library
from albumfinder.report import IndexReport, JobProgress

if TYPE_CHECKING:
    from albumfinder.gui.main_window import MainWindow
    from albumfinder.gui.workers import Task
    from albumfinder.report import AlbumMap, Outlier, PutBack, TrashAction

ALL_FOLDERS = ""  # the folder filter's "All folders" row
OUTLIERS_SHOWN = 20

# line icons on the 24 x 24 grid of gui/icons.py, drawn in the palette's text colour
_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="{c}" '
    'stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round">{body}</svg>'
)
_ICON_BODIES = {
    "zoom-in": '<circle cx="10.5" cy="10.5" r="6"/><path d="M15 15l5 5M8 10.5h5M10.5 8v5"/>',
    "zoom-out": '<circle cx="10.5" cy="10.5" r="6"/><path d="M15 15l5 5M8 10.5h5"/>',
    "zoom-fit": '<path d="M4 9V5.5A1.5 1.5 0 0 1 5.5 4H9M15 4h3.5A1.5 1.5 0 0 1 20 5.5V9'
    'M20 15v3.5a1.5 1.5 0 0 1-1.5 1.5H15M9 20H5.5A1.5 1.5 0 0 1 4 18.5V15"/>',
    "lasso": '<path d="M12 4.5c4.4 0 8 2.5 8 5.6s-3.6 5.6-8 5.6c-1.3 0-2.6-.2-3.7-.6"/>'
    '<path d="M5.4 13.6C4.5 12.6 4 11.4 4 10.1 4 7 7.6 4.5 12 4.5"/>'
    '<circle cx="6.5" cy="16" r="1.8"/><path d="M6.5 17.8c0 1.2-.6 2.2-1.6 2.7"/>',
    "map": '<circle cx="7" cy="8" r="2"/><circle cx="16.5" cy="7" r="1.6"/>'
    '<circle cx="12" cy="15.5" r="2.4"/><circle cx="18" cy="16" r="1.4"/>'
    '<circle cx="6" cy="17" r="1.2"/>',
    "odd": '<circle cx="7" cy="8" r="1.6"/><circle cx="11" cy="6.5" r="1.6"/>'
    '<circle cx="9.5" cy="11" r="1.6"/><circle cx="6" cy="13" r="1.6"/>'
    '<circle cx="17.5" cy="16.5" r="2.6"/>',
}


def map_icon(name: str) -> QIcon:
    theme = {"zoom-in": "zoom-in", "zoom-out": "zoom-out", "zoom-fit": "zoom-fit-best"}.get(name)
    if theme and QIcon.hasThemeIcon(theme):
        return QIcon.fromTheme(theme)
    svg = _SVG.format(c=icons.text_color().name(), body=_ICON_BODIES[name])
    result = QIcon()
    for size in (16, 20, 24, 32):
        result.addPixmap(icons.svg_pixmap(svg, size, 1.0))
        result.addPixmap(icons.svg_pixmap(svg, size, 2.0))
    return result


def _tool(icon: QIcon, text: str, tip: str, *, with_text: bool = True) -> QToolButton:
    button = QToolButton()
    button.setIcon(icon)
    button.setText(text)
    button.setToolTip(tip)
    button.setAutoRaise(True)
    button.setIconSize(QSize(18, 18))
    style = Qt.ToolButtonStyle
    button.setToolButtonStyle(
        style.ToolButtonTextBesideIcon if with_text else style.ToolButtonIconOnly
    )
    return button


class EmptyState(QWidget):
    """What the page shows while there is no map: what the map is, and why there is none."""

    actionRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mapEmptyState")
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel("A map of your album")
        font = self.title.font()
        font.setWeight(font.Weight.DemiBold)
        font.setPointSizeF(font.pointSizeF() * 1.35)
        self.title.setFont(font)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        self.text = QLabel()
        self.text.setObjectName("mapEmptyText")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setTextFormat(PLAIN)
        self.button = QPushButton()
        self.button.setVisible(False)
        self.button.clicked.connect(self.actionRequested)
        column = QVBoxLayout()
        column.setSpacing(10)
        column.addStretch(1)
        column.addWidget(self.picture)
        column.addWidget(self.title)
        column.addWidget(self.text)
        column.addSpacing(6)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        column.addStretch(2)
        layout = QHBoxLayout(self)  # the column as wide as its text, in the middle
        layout.setContentsMargins(8, 24, 8, 24)
        layout.addStretch(1)
        layout.addLayout(column, 6)
        layout.addStretch(1)
        self.say(
            "Every photo of the album laid out by what it shows: look-alikes gather, "
            "different ones stand apart. Add a folder of photos on the left; the map is "
            "drawn once they are indexed."
        )

    def say(self, text: str, button: str | None = None) -> None:
        faint = QColor(self.palette().color(QPalette.ColorRole.WindowText))
        faint.setAlpha(120)
        self.picture.setPixmap(
            icons.svg_pixmap(_SVG.format(c=faint.name(QColor.NameFormat.HexArgb),
                                         body=_ICON_BODIES["map"]), 72)
        )  # fmt: skip
        self.text.setText(text)
        self.button.setVisible(button is not None)
        if button is not None:
            self.button.setText(button)


class MapPage(QWidget):
    """The page's widgets; what they do is :class:`MapController`'s."""

    def __init__(self, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller: MapController | None = None  # set by attach_map_page
        self.canvas = MapCanvas(thumbnails)
        self.empty = EmptyState()
        self.list_view = PhotoListView(thumbnails)
        self.list_view.setMinimumWidth(230)
        self.list_view.setVisible(False)
        self._build_toolbar()
        self._build_selection_bar()
        self._build_status_row()

        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        framed = QFrame()
        framed.setObjectName("mapFrame")
        framed.setFrameShape(QFrame.Shape.StyledPanel)
        inner = QVBoxLayout(framed)
        inner.setContentsMargins(1, 1, 1, 1)
        inner.addWidget(self.canvas)
        self.stack.addWidget(framed)
        self.map_frame = framed

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mapSplitter")
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.list_view)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 14, 10)
        layout.setSpacing(8)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(self.status_row)
        self.show_empty()

    def _build_toolbar(self) -> None:
        self.refresh_button = _tool(
            icons.icon("rescan"), "Refresh", "Lay the map out again from what is indexed now"
        )
        self.folder_combo = QComboBox()
        self.folder_combo.setObjectName("mapFolderCombo")
        self.folder_combo.setToolTip("Show the photos of one album folder only")
        self.folder_combo.setAccessibleName("Folder shown on the map")
        self.folder_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.folder_combo.setMinimumContentsLength(9)
        self.folder_combo.setMaximumWidth(260)
        self.folder_combo.addItem("All folders", ALL_FOLDERS)
        self.odd_button = _tool(
            map_icon("odd"),
            "Odd Ones Out",
            "The photos that look least like the rest of the folder",
        )
        self.lasso_button = _tool(
            map_icon("lasso"), "Lasso", "Draw round photos to select them (or Shift+drag)"
        )
        self.lasso_button.setCheckable(True)
        self.zoom_out_button = _tool(
            map_icon("zoom-out"), "Zoom Out", "Zoom out (-)", with_text=False
        )
        self.zoom_in_button = _tool(map_icon("zoom-in"), "Zoom In", "Zoom in (+)", with_text=False)
        self.fit_button = _tool(map_icon("zoom-fit"), "Fit", "The whole map (0)", with_text=False)
        folder_label = QLabel("Show ")
        folder_label.setBuddy(self.folder_combo)
        # a tool bar: when the window is narrow, what does not fit goes to its » menu
        self.toolbar = QToolBar("Map")
        self.toolbar.setObjectName("mapToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setIconSize(QSize(18, 18))
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar.addWidget(folder_label)
        self.toolbar.addWidget(self.folder_combo)
        self.toolbar.addWidget(self.odd_button)
        self.toolbar.addWidget(self.lasso_button)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.toolbar.addWidget(spacer)
        for button in (self.zoom_out_button, self.zoom_in_button, self.fit_button):
            self.toolbar.addWidget(button)
        self.toolbar.addWidget(self.refresh_button)

    def _build_selection_bar(self) -> None:
        self.selection_bar = QFrame()
        self.selection_bar.setObjectName("mapSelectionBar")
        self.selection_label = QLabel("")
        self.selection_label.setObjectName("mapSelectionLabel")
        self.list_button = QPushButton("Show as List")
        self.list_button.setToolTip("List the selected photos beside the map")
        self.search_button = QPushButton(icons.icon("search"), "Find Look-alikes")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Select nothing (Esc)")
        row = QHBoxLayout(self.selection_bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.selection_label, 1)
        for button in (self.list_button, self.search_button, self.clear_button):
            row.addWidget(button)
        self.selection_bar.setVisible(False)

    def _build_status_row(self) -> None:
        self.status_label = ElidedLabel("")
        self.status_label.setObjectName("mapStatus")
        self.status_label.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setObjectName("mapProgress")
        self.progress.setFixedWidth(200)
        self.progress.setMaximumHeight(16)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.cancel_button = _tool(icons.icon("cancel"), "Cancel", "Stop laying out the map")
        self.cancel_button.setVisible(False)
        # as tall as the selection's buttons: the map keeps its size when they show
        row_height = max(
            self.list_button.sizeHint().height(), self.selection_bar.sizeHint().height()
        )
        self.status_label.setFixedHeight(row_height)
        self.selection_bar.setFixedHeight(row_height)
        self.status_row = QHBoxLayout()  # the selection's bar takes the status's place
        self.status_row.setSpacing(8)
        self.status_row.addWidget(self.status_label, 1)
        self.status_row.addWidget(self.selection_bar, 1)
        self.status_row.addWidget(self.progress)
        self.status_row.addWidget(self.cancel_button)

    # -- what the view shows -------------------------------------------------------------
    def show_empty(self, text: str | None = None, button: str | None = None) -> None:
        if text is not None:
            self.empty.say(text, button)
        self.stack.setCurrentWidget(self.empty)
        self._set_map_tools_enabled(False)

    def show_map(self) -> None:
        self.stack.setCurrentWidget(self.map_frame)
        self._set_map_tools_enabled(True)

    @property
    def showing_map(self) -> bool:
        return self.stack.currentWidget() is self.map_frame

    def _set_map_tools_enabled(self, enabled: bool) -> None:
        for widget in (self.lasso_button, self.zoom_in_button, self.zoom_out_button,
                       self.fit_button, self.folder_combo):  # fmt: skip
            widget.setEnabled(enabled)

    def show_busy(self, busy: bool, text: str = "", done: int = 0, total: int = 0) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.refresh_button.setEnabled(not busy)
        if busy:
            self.progress.setRange(0, max(total, 0))
            self.progress.setValue(done if total else 0)
        if text:
            self.status_label.setText(text)

    def set_folders(self, folders: Sequence[str]) -> None:
        chosen = self.folder_combo.currentData()
        self.folder_combo.blockSignals(True)
        self.folder_combo.clear()
        self.folder_combo.addItem("All folders", ALL_FOLDERS)
        for folder in folders:
            name = os.path.basename(folder.rstrip(os.sep)) or folder
            self.folder_combo.addItem(icons.icon("folder"), name, folder)
            self.folder_combo.setItemData(
                self.folder_combo.count() - 1, folder, Qt.ItemDataRole.ToolTipRole
            )
        self.folder_combo.setCurrentIndex(max(0, self.folder_combo.findData(chosen)))
        self.folder_combo.blockSignals(False)

    @property
    def folder(self) -> str:
        """The folder the map is filtered to ("" for all)."""
        return str(self.folder_combo.currentData() or ALL_FOLDERS)

    def show_selection(self, count: int) -> None:
        self.selection_bar.setVisible(count > 0)
        self.status_label.setVisible(count == 0)
        self.selection_label.setText(f"{count:,} photo{'s' if count != 1 else ''} selected")
        self.search_button.setToolTip(
            "Find the photos most like these, together"
            if count > 1
            else "Find the photos most like this one"
        )


@dataclass(frozen=True)
class MapResult:
    """An album map and, for each album folder, which of its points lie under it."""

    album_map: AlbumMap
    in_folder: dict[str, np.ndarray]


def folder_masks(paths: Sequence[str], folders: Sequence[str]) -> dict[str, np.ndarray]:
    """For each folder, which of ``paths`` lie under it (the core's rule: Library.is_under)."""
    return {f: np.array([Library.is_under(p, f) for p in paths], dtype=bool) for f in folders}


class MapController(QObject):
    """Computes the map (when the page is first shown, and again after indexing changed
    the album), filters it, answers clicks and lassoes, and finds the odd ones out."""

    mapReady = Signal(object)  # the AlbumMap shown now (tests, scripts)
    mapFailed = Signal(str)
    outliersReady = Signal(list)  # list[Outlier]

    def __init__(self, window: MainWindow, page: MapPage) -> None:
        super().__init__(page)
        self.window = window
        self.page = page
        self.engine = window.engine
        self.result: MapResult | None = None
        self._task: Task[MapResult] | None = None
        self._stale = True  # no map yet, or the album changed since it was drawn
        self._outliers_id = 0
        self._gone: set[str] = set()  # trashed (or their folder removed) since it was drawn
        self._album_folders: list[str] = []
        self.trash = TrashActions.for_window(window)  # the window's one (its Ctrl+Z)
        page.list_view.set_trash_available(True)
        self._connect()

    def _connect(self) -> None:
        page, canvas, engine = self.page, self.page.canvas, self.engine
        page.refresh_button.clicked.connect(self.compute)
        page.cancel_button.clicked.connect(self.cancel)
        page.empty.actionRequested.connect(self.compute)
        page.folder_combo.currentIndexChanged.connect(lambda _row: self._apply_filter())
        page.odd_button.clicked.connect(lambda: self.show_outliers(page.folder or None))
        page.lasso_button.toggled.connect(self._lasso_toggled)
        page.zoom_in_button.clicked.connect(canvas.zoom_in)
        page.zoom_out_button.clicked.connect(canvas.zoom_out)
        page.fit_button.clicked.connect(canvas.fit)
        page.list_button.clicked.connect(self.list_selection)
        page.search_button.clicked.connect(self._search_selection)
        page.clear_button.clicked.connect(canvas.clear_selection)
        canvas.photoClicked.connect(self.query)
        canvas.selectionChanged.connect(lambda paths: page.show_selection(len(paths)))
        lv = page.list_view
        lv.openRequested.connect(self.window.open_result)
        lv.revealRequested.connect(self.window.reveal_result)
        lv.similarRequested.connect(self.query)
        lv.closeRequested.connect(self.close_list)
        lv.trashRequested.connect(lambda paths: self.trash.trash(paths, "photos", "photo"))
        self.trash.trashed.connect(self._trashed)
        self.trash.putBack.connect(self._put_back)
        engine.opened.connect(lambda _opened: self._maybe_compute())
        engine.indexFinished.connect(self._index_finished)
        engine.indexingChanged.connect(lambda running: None if running else self._maybe_compute())
        engine.modelChanged.connect(lambda _model: self._mark_stale())
        engine.foldersChanged.connect(self._folders_changed)
        self.window.pages.currentChanged.connect(lambda _i: self._maybe_compute())

    # -- computing the map ---------------------------------------------------------------
    @property
    def is_computing(self) -> bool:
        return self._task is not None

    def _page_shown(self) -> bool:
        return self.window.pages.currentWidget() is self.page

    def _mark_stale(self) -> None:
        self._stale = True
        self._maybe_compute()

    def _index_finished(self, report: IndexReport) -> None:
        if report.added or report.updated or report.removed or report.moved:
            self._stale = True

    def _folders_changed(self, statuses: list) -> None:
        folders = [s.path for s in statuses]
        removed = [f for f in self._album_folders if f not in folders]
        self._album_folders = folders
        if removed and self.result is not None:  # its photos leave the map at once
            shown = [p.path for p in self.result.album_map.points]
            for folder in removed:
                self._gone.update(Library.leaving_with(folder, shown, folders + [folder]))
            self._apply_filter()
            self._stale = True
        self.page.set_folders(folders)
        if self.result is None and not self.is_computing:
            self._say_why_empty(statuses)

    def _say_why_empty(self, statuses: list) -> None:
        if not statuses:
            self.page.show_empty(
                "Every photo of the album laid out by what it shows: look-alikes gather, "
                "different ones stand apart. Add a folder of photos on the left; the map is "
                "drawn once they are indexed."
            )
        elif not any(s.indexed for s in statuses):
            self.page.show_empty(
                "Every photo of the album laid out by what it shows: look-alikes gather, "
                "different ones stand apart. It is drawn as soon as the photos are indexed."
            )

    def _maybe_compute(self) -> None:
        """Compute the map if the page is in view and the map is missing or out of date
        (not while indexing: the map is drawn once the index has settled)."""
        if not self._page_shown() or not self._stale or self.is_computing:
            return
        if self.engine.is_open and not self.engine.folders:  # nothing to lay out
            self._say_why_empty([])
            return
        if not self.engine.is_open or self.engine.is_indexing:
            if self.result is None:
                self.page.status_label.setText(
                    "The map is drawn once indexing is done." if self.engine.is_indexing else ""
                )
            return
        self.compute()

    def compute(self) -> None:
        """Lay out every indexed photo, off the GUI thread (Cancel stops it)."""
        if self.is_computing or not self.engine.is_open or self.engine.library is None:
            return
        library, folders = self.engine.library, list(self.engine.folders)
        name, path = self.engine.model, self.engine.model_path
        self._stale = False

        def work(progress: Callable[[Any], None], should_stop: Callable[[], bool]) -> MapResult:
            album_map = library.album_map(
                Library.embedder(name, path), progress=progress, should_stop=should_stop
            )
            paths = [p.path for p in album_map.points]
            return MapResult(album_map, folder_masks(paths, folders))

        self.page.show_busy(True, "Laying out the map…", 0, 0)
        if self.result is None:
            self.page.show_empty(
                "Every photo of the album laid out by what it shows: look-alikes gather, "
                "different ones stand apart. Laying it out now…"
            )
        self._task = self.engine.pools.job_task(
            work,
            on_progress=self._progress,
            on_result=self._map_done,
            on_error=self._map_failed,
        )

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.page.cancel_button.setEnabled(False)

    def _progress(self, event: object) -> None:
        if isinstance(event, JobProgress):
            self.page.show_busy(True, event.text, event.done, event.total)

    def _map_done(self, result: MapResult) -> None:
        self._task = None
        self.page.show_busy(False)
        self.result = result
        self._gone.clear()  # laid out from the index as it is now
        album_map = result.album_map
        if not album_map.points:
            self.page.show_empty(
                "No photo is indexed yet: add a folder of photos on the left, and the map "
                "is drawn once they are indexed."
            )
            self.page.status_label.setText("")
            self.mapReady.emit(album_map)
            return
        self.page.canvas.set_points(album_map.points, album_map.clusters)
        self.page.show_map()
        self._apply_filter()
        self.mapReady.emit(album_map)
        self._maybe_compute()  # the album changed while it was laid out

    def _map_failed(self, exc: BaseException) -> None:
        cancelled = self._task is not None and self._task.cancelled
        self._task = None
        self._stale = True
        self.page.show_busy(False)
        if cancelled:
            text = "Stopped: the map was left as it was."
        else:
            text = f"The map could not be drawn: {advice.in_words(exc)}"
        self.page.status_label.setText(text)
        if self.result is None or not self.result.album_map.points:
            self.page.show_empty(text, "Draw the Map")
        self.mapFailed.emit(text)

    def _describe(self) -> str:
        if self.result is None:
            return ""
        album_map = self.result.album_map
        shown = int(self.page.canvas.shown_count())
        total = len(album_map.points)
        groups = len(album_map.clusters)
        what = f"{total:,} photos" if shown == total else f"{shown:,} of {total:,} photos"
        return f"{what} · {groups} groups of look-alikes · {album_map.model}"

    # -- filtering, clicks and lassoes ---------------------------------------------------
    def _apply_filter(self) -> None:
        if self.result is None:
            return
        folder = self.page.folder
        mask = self.result.in_folder.get(folder) if folder else None
        if folder and mask is None:  # a folder added after the map was drawn
            paths = self.page.canvas.paths
            mask = folder_masks(paths, [folder])[folder]
        if self._gone:
            paths = self.page.canvas.paths
            kept = np.array([p not in self._gone for p in paths], dtype=bool)
            mask = kept if mask is None else mask & kept
        self.page.canvas.set_shown(mask)
        self.page.show_selection(len(self.page.canvas.selected_paths()))
        self.page.status_label.setText(self._describe())

    def _lasso_toggled(self, on: bool) -> None:
        self.page.canvas.lasso_mode = on
        self.page.canvas.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)

    def query(self, path: str) -> None:
        """Make ``path`` the query: the search page shows it and its look-alikes."""
        self.window.show_page("search")
        self.window.find(QuerySource(QueryKind.PATH, path, os.path.basename(path)))

    def _search_selection(self) -> None:
        """The lasso's photos as one query, together (the search page shows them all)."""
        paths = self.page.canvas.selected_paths()
        if len(paths) == 1:
            self.query(paths[0])
        elif paths:
            self.window.show_page("search")
            self.window.find_together(
                [QuerySource(QueryKind.PATH, p, os.path.basename(p)) for p in paths]
            )

    def list_selection(self) -> None:
        paths = self.page.canvas.selected_paths()
        folders = self.engine.folders
        rows = [(p, self._where(p, folders)) for p in paths]
        count = len(paths)
        self.page.list_view.set_rows(f"{count:,} selected photo{'s' if count != 1 else ''}", rows)
        self._open_list()

    @staticmethod
    def _where(path: str, folders: Sequence[str]) -> str:
        folder = os.path.dirname(path)
        home = os.path.expanduser("~")
        return "~" + folder[len(home) :] if folder.startswith(home + os.sep) else folder

    def _open_list(self) -> None:
        view = self.page.list_view
        if not view.isVisible():
            view.setVisible(True)
            total = self.page.splitter.width()
            self.page.splitter.setSizes([max(200, total - 360), 360])

    def close_list(self) -> None:
        self.page.list_view.setVisible(False)
        self.page.canvas.set_marked([])

    # -- the odd ones out ----------------------------------------------------------------
    def show_outliers(self, folder: str | None) -> None:
        """Find the photos of ``folder`` (None: the whole album) that look least like the
        rest, and list them beside the map, the most out of place first."""
        if not self.engine.is_open or self.engine.library is None:
            return
        self.window.show_page("map")
        library = self.engine.library
        name, path = self.engine.model, self.engine.model_path
        where = os.path.basename(folder.rstrip(os.sep)) if folder else "the whole album"
        self._outliers_id += 1
        ask = self._outliers_id
        view = self.page.list_view
        view.set_rows(
            f"Odd ones out in {where}", [], note="Looking for the photos that do not belong…"
        )
        self._open_list()

        def work(_progress: Any, _stop: Any) -> list[Outlier]:
            return library.outliers(Library.embedder(name, path), folder=folder, n=OUTLIERS_SHOWN)

        self.engine.pools.job_task(
            work,
            on_result=lambda found: self._outliers_done(ask, where, found),
            on_error=lambda exc: self._outliers_failed(ask, exc),
        )

    def _outliers_done(self, ask: int, where: str, found: list[Outlier]) -> None:
        if ask != self._outliers_id:
            return
        rows = [(o.path, o.reason) for o in found]
        note = (
            "The photos that look least like the rest, the most out of place first."
            if found
            else f"Nothing stands out in {where}: too few photos, or none unlike the rest."
        )
        self.page.list_view.set_rows(
            f"Odd ones out in {where}", rows, note=note, trash=True, ranked=True
        )
        self.page.canvas.set_marked([o.path for o in found])
        self.outliersReady.emit(found)

    def _trashed(self, action: TrashAction) -> None:
        """Photos went to the trash (from here or another page): off the list and the map
        at once; the map is laid out again without them when next shown."""
        if not action.trashed:
            return
        self._gone.update(action.trashed)
        self.page.list_view.remove_paths(action.trashed)
        count = len(action.trashed)
        what, them = ("1 photo", "it") if count == 1 else (f"{count:,} photos", "them")
        self.page.list_view.set_note(f"{what} moved to the trash (Ctrl+Z puts {them} back).")
        self._apply_filter()
        self._stale = True

    def _put_back(self, done: PutBack) -> None:
        if done.restored:
            self._gone.difference_update(done.restored)
            self._apply_filter()
            self._stale = True

    def _outliers_failed(self, ask: int, exc: BaseException) -> None:
        if ask == self._outliers_id:
            self.page.list_view.set_note(
                f"The odd ones out could not be found: {advice.in_words(exc)}"
            )


def attach_map_page(window: MainWindow) -> MapPage:
    """The Map page for ``window``, wired to its engine, its search and its folder list."""
    page = MapPage(window.thumbnails)
    page.controller = MapController(window, page)
    window.library_panel.oddOnesOutRequested.connect(page.controller.show_outliers)
    return page
