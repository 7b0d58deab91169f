"""The main window's view: its widgets, their layout, and which user action calls which
callback. What the actions do is :class:`~albumfinder.gui.main_window.MainWindow`'s (the
controller), after TagStudio's view/controller split (``docs/style.md``): the view holds no
decision and imports nothing of the core.

The widgets stay public attributes (tests and scripts drive the real window through them).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui import icons
from albumfinder.gui.banner import Banner
from albumfinder.gui.drop_zone import DropZone, source_from_mime
from albumfinder.gui.elided_label import ElidedLabel
from albumfinder.gui.filter_bar import FilterBar
from albumfinder.gui.library_panel import LibraryPanel
from albumfinder.gui.plain_text import PLAIN
from albumfinder.gui.query_parts import QueryPartsBar
from albumfinder.gui.result_strip import ResultStrip
from albumfinder.gui.settings import MAX_N
from albumfinder.gui.thumbnails import ThumbnailLoader

RESCAN_KEYS = [QKeySequence("F5"), QKeySequence("Ctrl+R")]
RESULTS_MIN_WIDTH = 430


class BannerArea(QWidget):
    """The banner with its margins, taking no room at all while the banner is hidden."""

    def __init__(self, banner: Banner) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 12, 14, 0)
        layout.addWidget(banner)
        self.setVisible(not banner.isHidden())
        banner.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.ShowToParent, QEvent.Type.HideToParent):
            self.setVisible(event.type() == QEvent.Type.ShowToParent)
        return False


class MainWindowView(QMainWindow):
    """The album's folders on the left, the drop zone and the results on the right,
    indexing progress in the status bar."""

    def __init__(self, thumbnails: ThumbnailLoader) -> None:
        super().__init__()
        self.setWindowTitle("Album Finder")
        self.setWindowIcon(icons.app_icon())
        self.setAcceptDrops(True)
        self._build_actions()
        self._build_toolbar()
        self._build_body(thumbnails)
        self._build_status_bar()
        self._connect_callbacks()

    # -- building ----------------------------------------------------------------------
    def _build_actions(self) -> None:
        self.open_action = QAction(icons.icon("open"), "Open Photo…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.setToolTip("Find look-alikes of a photo file (Ctrl+O)")
        self.paste_action = QAction(icons.icon("paste"), "Paste", self)
        self.paste_action.setShortcut(QKeySequence.StandardKey.Paste)
        self.paste_action.setToolTip("Find look-alikes of the copied photo (Ctrl+V)")
        self.add_action = QAction(icons.icon("folder-add"), "Add Folder…", self)
        self.add_action.setToolTip("Add a folder of photos to the album")
        # keyboard only (no menu bar): Rescan and Quit (Ctrl+Q) as in every desktop app. The
        # keys are explicit: QKeySequence.Refresh is only Ctrl+R under the GTK platform theme.
        self.rescan_action = QAction("Rescan", self)
        self.rescan_action.setShortcuts(RESCAN_KEYS)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.addActions([self.rescan_action, self.quit_action])
        self.about_action = QAction(icons.icon("info"), "About Album Finder", self)
        self.about_action.setToolTip(
            "About Album Finder: version, how the models run on this computer, where its files are"
        )

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setContentsMargins(6, 2, 8, 2)
        toolbar.setIconSize(QSize(18, 18))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addAction(self.add_action)
        toolbar.addAction(self.open_action)
        toolbar.addAction(self.paste_action)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        model_label = QLabel("Model ")
        model_label.setObjectName("modelLabel")
        toolbar.addWidget(model_label)
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("modelCombo")
        self.model_combo.setToolTip("The model that compares photos")
        toolbar.addWidget(self.model_combo)
        toolbar.addSeparator()
        toolbar.addAction(self.about_action)
        about_button = toolbar.widgetForAction(self.about_action)
        if isinstance(about_button, QToolButton):  # an icon is enough beside the model list
            about_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            about_button.setObjectName("aboutButton")
        self.addToolBar(toolbar)
        self.addAction(self.open_action)
        self.addAction(self.paste_action)

    def _build_body(self, thumbnails: ThumbnailLoader) -> None:
        self.library_panel = LibraryPanel()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(14, 12, 8, 12)
        left_layout.addWidget(self.library_panel)

        self.banner = Banner()
        self.drop_zone = DropZone()
        self.query_parts = QueryPartsBar(thumbnails)
        self.filter_bar = FilterBar(self)  # a popup under the Filters button
        self.strip = ResultStrip(thumbnails)
        right = QWidget()
        right.setMinimumWidth(RESULTS_MIN_WIDTH)  # the drop zone, the header, three results
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 12, 14, 10)
        right_layout.setSpacing(10)
        right_layout.addWidget(self.drop_zone, 1)
        right_layout.addWidget(self.query_parts)
        right_layout.addLayout(self._results_header())
        right_layout.addWidget(self.strip)

        # the album-level views (duplicates, map) are further pages beside the search
        self.pages = QTabWidget()
        self.pages.setObjectName("pages")
        self.pages.setDocumentMode(True)
        self.search_page = right
        self.add_page("search", "Search", right)
        self.pages.tabBar().setVisible(False)  # shown once there is a second page

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        # the banner above every page: what an album-level job says is seen from any page
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.setSpacing(0)
        body_layout.addWidget(BannerArea(self.banner))
        body_layout.addWidget(self.pages, 1)
        self.splitter.addWidget(left)
        self.splitter.addWidget(body)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([300, 900])
        self.setCentralWidget(self.splitter)

    def _show_filters(self, shown: bool) -> None:
        if shown:
            self.filter_bar.show_below(self.filters_button)
        else:
            self.filter_bar.hide()

    def add_page(self, key: str, title: str, widget: QWidget) -> None:
        """Add an album-level view (its ``objectName`` becomes ``key``) as a page beside the
        search."""
        widget.setObjectName(f"{key}Page")
        self.pages.addTab(widget, title)
        self.pages.tabBar().setVisible(self.pages.count() > 1)

    def show_page(self, key: str) -> None:
        page = self.pages.findChild(QWidget, f"{key}Page")
        if page is not None:
            self.pages.setCurrentWidget(page)

    def _results_header(self) -> QHBoxLayout:
        self.results_title = QLabel("Look-alikes")
        font = self.results_title.font()
        font.setWeight(font.Weight.DemiBold)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.results_title.setFont(font)
        self.results_note = ElidedLabel(
            "Drop a photo to see the photos in your album most like it."
        )
        self.results_note.setObjectName("resultsNote")
        self.results_note.setEnabled(False)
        self.results_note.setMinimumWidth(40)
        self.n_spin = QSpinBox()
        self.n_spin.setRange(1, MAX_N)
        self.n_spin.setToolTip("How many look-alikes to show")
        self.n_spin.setAccessibleName("Number of results")
        n_label = QLabel("Show")
        n_label.setBuddy(self.n_spin)
        self.filters_button = QToolButton()
        self.filters_button.setObjectName("filtersButton")
        self.filters_button.setText("Filters")
        self.filters_button.setIcon(icons.icon("search"))
        self.filters_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.filters_button.setCheckable(True)
        self.filters_button.setAutoRaise(True)
        self.filters_button.setToolTip("Only some photos: a folder, the days taken, a lowest score")
        self.filters_button.toggled.connect(self._show_filters)
        self.filter_bar.closed.connect(lambda: self.filters_button.setChecked(False))
        header = QHBoxLayout()
        header.setSpacing(8)
        header.addWidget(self.results_title)
        header.addWidget(self.results_note, 1)
        header.addWidget(self.filters_button)
        header.addWidget(n_label)
        header.addWidget(self.n_spin)
        return header

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        status.setSizeGripEnabled(False)
        status.setContentsMargins(10, 0, 10, 2)
        self.status_label = QLabel("Ready")
        self.status_label.setObjectName("statusLabel")
        self.status_label.setTextFormat(PLAIN)  # it names folders and models
        self.progress = QProgressBar()
        self.progress.setObjectName("indexProgress")
        self.progress.setFixedWidth(240)
        self.progress.setMaximumHeight(16)
        self.progress.setFormat("%v / %m")
        self.progress.setVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setIcon(icons.icon("cancel"))
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop indexing (what is done is kept)")
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.setAutoRaise(True)
        self.cancel_button.setVisible(False)
        status.addWidget(self.status_label, 1)
        status.addPermanentWidget(self.progress)
        status.addPermanentWidget(self.cancel_button)

    def _connect_callbacks(self) -> None:
        self.quit_action.triggered.connect(self.close)
        self.open_action.triggered.connect(self.open_photo)
        self.paste_action.triggered.connect(self.paste)
        self.add_action.triggered.connect(self.choose_folder)
        self.rescan_action.triggered.connect(self._rescan_requested)
        self.about_action.triggered.connect(self.show_about)
        panel = self.library_panel
        panel.addRequested.connect(self.choose_folder)
        panel.removeRequested.connect(self.remove_folder)
        panel.rescanRequested.connect(self._rescan_requested)
        panel.skippedRequested.connect(self.show_skipped)
        self.drop_zone.dropped.connect(self.find)
        self.drop_zone.droppedMany.connect(self.find_together)
        self.drop_zone.openRequested.connect(self.open_photo)
        self.drop_zone.regionChosen.connect(self._region_chosen)
        self.drop_zone.regionCleared.connect(self._region_cleared)
        self.query_parts.removeRequested.connect(self._part_removed)
        self.filter_bar.changed.connect(self._filters_changed)
        self.strip.togetherRequested.connect(self._together_requested)
        self.strip.lessLikeRequested.connect(self._less_like_requested)
        self.strip.whyRequested.connect(self._why_requested)
        self.strip.openRequested.connect(self.open_result)
        self.strip.revealRequested.connect(self.reveal_result)
        self.strip.similarRequested.connect(self._similar_requested)
        self.cancel_button.clicked.connect(self._cancel_requested)
        self.n_spin.valueChanged.connect(self._n_changed)
        self.model_combo.activated.connect(lambda _row: self._model_chosen())

    # -- what the view shows -----------------------------------------------------------
    def _set_album_actions_enabled(self, enabled: bool) -> None:
        """The actions that need the index (off until it is open)."""
        for action in (self.add_action, self.open_action, self.paste_action, self.rescan_action):
            action.setEnabled(enabled)

    def _show_indexing(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setRange(0, 0)
            self.status_label.setText("Looking for photos…")

    def _show_progress(self, text: str, done: int = 0, total: int | None = None) -> None:
        """``total`` None: not known yet (a busy bar)."""
        if total is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)
        self.status_label.setText(text)

    def _select_model_row(self, name: str) -> None:
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(name)))

    # -- callbacks the controller implements --------------------------------------------
    def choose_folder(self) -> None:
        raise NotImplementedError

    def remove_folder(self, folder: str) -> None:
        raise NotImplementedError

    def show_skipped(self) -> None:
        raise NotImplementedError

    def show_about(self) -> None:
        raise NotImplementedError

    def open_photo(self) -> None:
        raise NotImplementedError

    def paste(self) -> None:
        raise NotImplementedError

    def find(self, source: object) -> None:  # type: ignore[override]  # QWidget.find(id)
        raise NotImplementedError

    def open_result(self, path: str) -> None:
        raise NotImplementedError

    def find_together(self, sources: list[Any]) -> None:
        raise NotImplementedError

    def _region_chosen(self, crop: Any) -> None:
        raise NotImplementedError

    def _region_cleared(self) -> None:
        raise NotImplementedError

    def _part_removed(self, source: Any) -> None:
        raise NotImplementedError

    def _filters_changed(self, filters: Any) -> None:
        raise NotImplementedError

    def _together_requested(self, paths: list[str]) -> None:
        raise NotImplementedError

    def _less_like_requested(self, path: str) -> None:
        raise NotImplementedError

    def _why_requested(self, path: str) -> None:
        raise NotImplementedError

    def reveal_result(self, path: str) -> None:
        raise NotImplementedError

    def _similar_requested(self, path: str) -> None:
        raise NotImplementedError

    def _rescan_requested(self) -> None:
        raise NotImplementedError

    def _cancel_requested(self) -> None:
        raise NotImplementedError

    def _n_changed(self, value: int) -> None:
        raise NotImplementedError

    def _model_chosen(self) -> None:
        raise NotImplementedError

    # -- drag and drop on the whole window ---------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if source_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self.drop_zone.dropEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        super().closeEvent(event)
