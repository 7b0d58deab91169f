"""The main window: the album's folders on the left, the drop zone and the results on the
right, indexing progress in the status bar."""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui import icons, reveal
from albumfinder.gui.banner import Banner
from albumfinder.gui.drop_zone import DropZone, QuerySource, encode_png, source_from_mime
from albumfinder.gui.elided_label import ElidedLabel
from albumfinder.gui.engine import Engine, weights_present
from albumfinder.gui.library_panel import LibraryPanel, SkippedDialog
from albumfinder.gui.result_strip import ResultStrip
from albumfinder.gui.settings import MAX_N, Settings
from albumfinder.gui.thumbnails import ThumbnailLoader, load_thumbnail
from albumfinder.images import photo_name_patterns
from albumfinder.models.registry import LISTED_MODELS
from albumfinder.paths import downloads_off

RESCAN_KEYS = [QKeySequence("F5"), QKeySequence("Ctrl+R")]
RESULTS_MIN_WIDTH = 430
FOLDER_REFRESH_S = 2.0  # how often the folder counts are refreshed while indexing
PREVIEW_SIZE = 1024
MODEL_CHOICES = LISTED_MODELS  # the registry says which models are offered
#: Every type the core reads (one list: albumfinder.images.PHOTO_TYPES), then all files.
PHOTO_FILTER = f"Photos ({' '.join(photo_name_patterns())});;All files (*)"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"about {max(seconds, 1)} s left"
    if seconds < 3600:
        return f"about {seconds // 60} min {seconds % 60:02d} s left"
    return f"about {seconds // 3600} h {seconds % 3600 // 60:02d} min left"


class MainWindow(QMainWindow):
    searchFinished = Signal(object)  # the hits of the latest query (for tests and scripts)

    def __init__(self, library, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        model = self.settings.model
        self.engine = Engine(library, model, self.settings.model_path(model))
        self.thumbnails = ThumbnailLoader(self.engine.pools)
        self._query: QuerySource | None = None
        self._query_id = 0
        self._last_progress = None
        self._hits: list | None = None  # what the strip shows for the current query
        self.setWindowTitle("Album Finder")
        self.setWindowIcon(icons.app_icon())
        self.setAcceptDrops(True)
        self._build()
        self._connect()
        geometry = self.settings.geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1200, 760)
        if self.settings.splitter is not None:
            self.splitter.restoreState(self.settings.splitter)
        recovery = library.recovery_note()
        if recovery is not None:
            self.banner.show_message("warning", recovery)
        QTimer.singleShot(0, self._startup)

    # -- building ----------------------------------------------------------------------
    def _build(self) -> None:
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
        self.quit_action.triggered.connect(self.close)
        self.addActions([self.rescan_action, self.quit_action])

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
        for name in MODEL_CHOICES:
            self.model_combo.addItem(name, name)  # titled by refresh_model_titles
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(self.engine.model)))
        self.refresh_model_titles()
        toolbar.addWidget(self.model_combo)
        self.addToolBar(toolbar)
        self.addAction(self.open_action)
        self.addAction(self.paste_action)

        self.library_panel = LibraryPanel()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(14, 12, 8, 12)
        left_layout.addWidget(self.library_panel)

        self.banner = Banner()
        self.drop_zone = DropZone()
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
        self.n_spin.setValue(self.settings.n)
        self.n_spin.setToolTip("How many look-alikes to show")
        self.n_spin.setAccessibleName("Number of results")
        n_label = QLabel("Show")
        n_label.setBuddy(self.n_spin)
        header = QHBoxLayout()
        header.setSpacing(8)
        header.addWidget(self.results_title)
        header.addWidget(self.results_note, 1)
        header.addWidget(n_label)
        header.addWidget(self.n_spin)
        self.strip = ResultStrip(self.thumbnails)

        right = QWidget()
        right.setMinimumWidth(RESULTS_MIN_WIDTH)  # the drop zone, the header, three results
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 12, 14, 10)
        right_layout.setSpacing(10)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.drop_zone, 1)
        right_layout.addLayout(header)
        right_layout.addWidget(self.strip)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([300, 900])
        self.setCentralWidget(self.splitter)

        status = self.statusBar()
        status.setSizeGripEnabled(False)
        status.setContentsMargins(10, 0, 10, 2)
        self.status_label = QLabel("Ready")
        self.status_label.setObjectName("statusLabel")
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

    def _connect(self) -> None:
        e = self.engine
        e.indexProgress.connect(self._on_progress)
        e.indexFinished.connect(self._on_index_finished)
        e.indexFailed.connect(self._on_index_failed)
        e.indexingChanged.connect(self._on_indexing_changed)
        e.foldersChanged.connect(self.library_panel.set_statuses)
        e.folderError.connect(lambda text: self.banner.show_message("error", text))
        e.modelChanged.connect(self._on_model_changed)
        e.weightsFailed.connect(self._on_weights_failed)
        self.open_action.triggered.connect(self.open_photo)
        self.paste_action.triggered.connect(self.paste)
        self.add_action.triggered.connect(self.choose_folder)
        self.library_panel.addRequested.connect(self.choose_folder)
        self.library_panel.removeRequested.connect(self.remove_folder)
        self.library_panel.rescanRequested.connect(lambda: self.engine.start_index())
        self.rescan_action.triggered.connect(
            lambda: self.engine.start_index() if self.engine.library.folders() else None
        )
        self.library_panel.skippedRequested.connect(self.show_skipped)
        self.drop_zone.dropped.connect(self.find)
        self.drop_zone.openRequested.connect(self.open_photo)
        self.strip.openRequested.connect(self.open_result)
        self.strip.revealRequested.connect(self.reveal_result)
        self.strip.similarRequested.connect(
            lambda path: self.find(QuerySource("path", path, os.path.basename(path)))
        )
        self.cancel_button.clicked.connect(self.engine.cancel_index)
        self.n_spin.valueChanged.connect(self._on_n_changed)
        self.model_combo.activated.connect(self._on_model_chosen)

    def _startup(self) -> None:
        self.engine.refresh_folders(count_pending=False)
        if self.engine.library.folders():
            self.engine.start_index(restart=False)  # the incremental rescan at launch
        pending = str(self.settings.value("pending_model", "") or "")
        if pending in MODEL_CHOICES and pending != self.engine.model and weights_present(pending):
            self._set_pending_combo(pending)
            self.engine.change_model(pending, self.settings.model_path(pending))
        if self.settings.reset_keys:
            self.banner.show_message(
                "warning",
                f"Some settings in {self.settings.path} could not be read "
                f"({', '.join(self.settings.reset_keys)}), so they were reset to their defaults.",
            )

    # -- folders -----------------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Add a folder of photos", self.settings.dialog_folder()
        )
        if folder:
            self.settings.remember_dialog_folder(os.path.dirname(folder.rstrip("/")) or folder)
            self.add_folder(folder)

    def add_folder(self, folder: str) -> None:
        self.banner.hide()
        self.engine.add_folder(folder)

    def remove_folder(self, folder: str) -> None:
        """Forget ``folder``; its photos and its counts leave the window at once, before the
        index has dropped them."""
        leaving = self.engine.library.leaving_with(folder, self.strip.paths())
        self.strip.remove_paths(leaving)
        if self._hits is not None:
            gone = set(leaving)
            self._hits = [h for h in self._hits if h.path not in gone]
            self.results_note.setText(self._results_note(self._hits))
        self.library_panel.set_statuses(
            [s for s in self.library_panel.statuses if s.path != folder]
        )
        self.status_label.setText(f"Removed {folder} from the album")
        self.engine.remove_folder(folder)

    def show_skipped(self) -> None:
        from albumfinder.indexer import Skipped as SkippedEntry

        # what the last scan met (broken links, unreadable folders) is not in the index
        problems = {
            path: reason
            for status in self.library_panel.statuses
            for path, reason in status.scan_problems
        }

        def show(skipped) -> None:
            merged = {**problems, **{entry.path: entry.reason for entry in skipped}}
            rows = [SkippedEntry(path, reason) for path, reason in sorted(merged.items())]
            self.skipped_dialog = SkippedDialog(rows, self, folders=self.engine.library.folders())
            # the same handling as a result's Open and Show in Folder
            self.skipped_dialog.openRequested.connect(self.strip.openRequested)
            self.skipped_dialog.revealRequested.connect(self.strip.revealRequested)
            self.skipped_dialog.open()

        self.engine.skipped(show)

    # -- indexing ----------------------------------------------------------------------
    def _on_indexing_changed(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setRange(0, 0)
            self.status_label.setText("Looking for photos…")
        if self._hits is not None and self._query is not None:  # "still indexing" or not
            self.results_note.setText(self._results_note(self._hits))

    _folders_refreshed = 0.0

    def _on_progress(self, p) -> None:
        self._last_progress = p
        if p.phase == "scanning":
            self.progress.setRange(0, 0)
            found = f" {p.done:,} found" if p.done else ""
            self.status_label.setText(f"Looking for photos…{found}")
        elif p.phase == "embedding":
            now = time.monotonic()
            if now - self._folders_refreshed > FOLDER_REFRESH_S:  # counts rise as it goes
                self._folders_refreshed = now
                self.engine.refresh_folders(count_pending=False)
            self.progress.setRange(0, max(p.total, 1))
            self.progress.setValue(p.done)
            parts = [f"Indexing {p.done:,} of {p.total:,} photos"]
            if p.rate > 0:
                parts.append(f"{p.rate:.1f} photos/s")
            if p.eta_s is not None and p.done < p.total:
                parts.append(_duration(p.eta_s))
            self.status_label.setText(" · ".join(parts))

    def _on_index_finished(self, report) -> None:
        changed = report.added + report.updated
        if report.cancelled:
            text = f"Indexing cancelled. {changed:,} new photos were kept; Rescan resumes."
        elif changed or report.removed:
            text = f"Index up to date: {changed:,} photos indexed in {report.seconds:.0f} s"
            if report.removed:
                text += f", {report.removed:,} removed"
        else:
            text = "Index up to date"
        if report.skipped:
            text += f" · {len(report.skipped):,} skipped"
        self.status_label.setText(text)
        if report.missing_folders:
            self.banner.show_message(
                "warning",
                "Not found (a disconnected drive?): "
                + ", ".join(report.missing_folders)
                + ". Their photos stay in the index.",
            )
        if self._query is not None and not report.cancelled and changed:
            self._run_query(self._query, keep_preview=True)

    def _on_index_failed(self, message: str) -> None:
        self.status_label.setText("Indexing stopped")
        self.banner.show_message("error", f"Indexing stopped: {message}")
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(self.engine.model)))

    # -- models ------------------------------------------------------------------------
    def refresh_model_titles(self) -> None:
        """Each model's name in the chooser, with the size of its download while its
        weights are not here yet."""
        from albumfinder.models.registry import get_spec

        for row in range(self.model_combo.count()):
            name = self.model_combo.itemData(row)
            spec = get_spec(name)
            ready = name == "builtin" or weights_present(name, self.settings.model_path(name))
            if name == "builtin":
                title = "Built-in (offline)"
            else:
                title = spec.title if ready else f"{spec.title} · download {spec.download_size}"
            tip = "Ready to use" if ready else f"Needs a one-time download of {spec.download_size}"
            self.model_combo.setItemText(row, title)
            self.model_combo.setItemData(row, tip, Qt.ItemDataRole.ToolTipRole)

    def _set_pending_combo(self, name: str) -> None:
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(name)))

    def _on_model_chosen(self, _index: int) -> None:
        self.refresh_model_titles()  # weights may have come or gone since
        name = self.model_combo.currentData()
        path = self.settings.model_path(name)
        if name != "builtin" and not weights_present(name, path):
            self.ask_for_weights(name)
            return
        self.select_model(name, path)

    def ask_for_weights(self, name: str, error: BaseException | None = None) -> None:
        """The weights dialog for ``name`` (with ``error``, what went wrong last time);
        the model is chosen once it has its weights."""
        from albumfinder.gui.model_dialog import WeightsDialog

        self.weights_dialog = dialog = WeightsDialog(self.engine, name, self, error=error)

        def done(accepted: int) -> None:
            if not accepted:
                self._set_pending_combo(self.engine.model)
                if downloads_off():
                    self.status_label.setText(
                        "Offline: keeping the current model, which works as before."
                    )
                return
            self.settings.set_model_path(name, dialog.model_path)
            self.refresh_model_titles()
            self.select_model(name, dialog.model_path)

        dialog.finished.connect(done)
        dialog.open()

    def _on_weights_failed(self, name: str, path: str | None, exc: BaseException) -> None:
        """The weights of ``name`` did not work: a file the user chose is forgotten (or
        every later choice would fail the same way) and the weights dialog comes back."""
        if self.settings.model_path(name) == path:
            self.settings.set_model_path(name, None)
        self.ask_for_weights(name, error=exc)

    def select_model(self, name: str, path: str | None = None) -> None:
        self.settings.qsettings.setValue("pending_model", name)
        self._set_pending_combo(name)
        if name == self.engine.model and path == self.engine.model_path:
            if self.engine.is_indexing:  # back to the current model: stop indexing the other
                self.engine.change_model(name, path)
            self.settings.model = name  # chosen, not just the first-launch default
            self.settings.qsettings.setValue("pending_model", "")
            return
        self.engine.change_model(name, path)
        self.status_label.setText(
            f"Indexing for {self.model_combo.currentText()}; the current model answers until "
            "it is ready."
        )

    def _on_model_changed(self, name: str) -> None:
        self.settings.model = name
        self.settings.qsettings.setValue("pending_model", "")
        self.refresh_model_titles()
        self._set_pending_combo(name)
        self.engine.refresh_folders()

    # -- queries -----------------------------------------------------------------------
    def open_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Find look-alikes of a photo", self.settings.dialog_folder(), PHOTO_FILTER
        )
        if path:
            self.settings.remember_dialog_folder(path)
            self.find(QuerySource("path", path, os.path.basename(path)))

    def paste(self) -> None:
        source = source_from_mime(QGuiApplication.clipboard().mimeData())
        if source is None:
            self.banner.show_message(
                "info", "The clipboard holds no photo. Copy a photo or a photo file first."
            )
            return
        self.find(source)

    def find(self, source: QuerySource) -> None:
        """Show ``source`` in the drop zone and search for its look-alikes."""
        self.banner.hide()
        self.engine.cancel_fetch()  # the photo given last is the one searched
        if source.kind == "path" and not os.path.isfile(str(source.value)):
            what = "a folder" if os.path.isdir(str(source.value)) else "not a file"
            self.banner.show_message(
                "error", f"“{source.name}” is {what}: drop a photo to find look-alikes."
            )
            return
        if source.kind == "image":  # encoded once, off the GUI thread (seconds at 48 MP)
            self.results_note.setText("Reading the photo…")
            image = source.value
            self.engine.pools.fetch_task(
                lambda _p, _s: encode_png(image),
                on_result=lambda data: self.find(QuerySource("bytes", data, source.name)),
                on_error=lambda exc: self.banner.show_message(
                    "error", f"Could not read the {source.name}: {exc}"
                ),
            )
            return
        if source.kind == "url":
            self.results_note.setText("Fetching the photo…")
            url = str(source.value)
            self.engine.fetch(
                url,
                on_result=lambda data: self.find(QuerySource("bytes", data, source.name)),
                on_error=lambda exc: self._fetch_failed(url, exc),
            )
            return
        self._query = source
        self._run_query(source)

    def _fetch_failed(self, url: str, exc: BaseException) -> None:
        from albumfinder.fetch import FetchCancelled

        if isinstance(exc, FetchCancelled):  # a newer drop took its place
            return
        reason = getattr(exc, "reason", None) or str(exc)
        self.results_note.setText("")
        self.banner.show_message("error", f"Could not get the photo at {url}: {reason}")

    def _run_query(self, source: QuerySource, keep_preview: bool = False) -> None:
        self._query_id += 1
        query_id = self._query_id
        if not keep_preview:
            self.drop_zone.set_photo(None)
            self.engine.pools.interactive_task(
                lambda _p, _s: load_thumbnail(source.value, PREVIEW_SIZE),
                on_result=lambda image: self._preview_ready(query_id, image, source),
                on_error=lambda exc: None,  # the search reports what is wrong with it
            )
        self.results_note.setText("Searching…")
        self.engine.search(
            source.value,
            self.n_spin.value(),
            on_result=lambda hits: self._results(query_id, hits),
            on_error=lambda exc: self._query_failed(query_id, source, exc),
        )

    def _preview_ready(self, query_id: int, image, source: QuerySource) -> None:
        if query_id == self._query_id:
            self.drop_zone.set_photo(image, source.name)

    def _results(self, query_id: int, hits) -> None:
        if query_id != self._query_id:
            return
        self._hits = list(hits)
        self.strip.set_results(hits)
        self.results_note.setText(self._results_note(hits))
        self.searchFinished.emit(hits)

    def _results_note(self, hits) -> str:
        """The line beside "Look-alikes": how many, and whether they may still change."""
        if hits:
            note = f"{len(hits)} most alike, best first"
            if self.engine.is_indexing:
                note += " · still indexing: results may change"
            return note
        if not self.engine.library.folders():
            return "No photos yet: add a folder of photos on the left."
        if self.engine.is_indexing:
            return "Nothing indexed yet: try again in a moment."
        return "No indexed photos to compare with."

    def _query_failed(self, query_id: int, source: QuerySource, exc: BaseException) -> None:
        if query_id != self._query_id:
            return
        from albumfinder.images import ImageLoadError

        self._hits = None
        self.strip.set_results([])
        self.results_note.setText("")
        if isinstance(exc, ImageLoadError):
            self.drop_zone.set_photo(None)
            self._query = None
            self.banner.show_message(
                "error",
                f"“{source.name}” is not a photo Album Finder can read ({exc.reason}).",
            )
        else:
            self.banner.show_message("error", f"The search did not work: {exc}")
        self.searchFinished.emit(None)

    def _on_n_changed(self, value: int) -> None:
        self.settings.n = value
        if self._query is not None:
            self._run_query(self._query, keep_preview=True)

    # -- opening results ---------------------------------------------------------------
    def open_result(self, path: str) -> None:
        if not reveal.open_file(path):
            self._no_program(path, "No viewer for this kind of photo is set up on this system")

    def reveal_result(self, path: str) -> None:
        if not reveal.reveal_file(path):
            self._no_program(path, "No file manager is set up on this system to show its folder")

    def _no_program(self, path: str, why: str) -> None:
        copy = ("Copy Path", lambda: QGuiApplication.clipboard().setText(path))
        self.banner.show_message(
            "warning", f"{why}, so “{os.path.basename(path)}” could not be shown.", [copy]
        )

    # -- drag and drop on the whole window ---------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if source_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        self.drop_zone.dropEvent(event)

    # -- closing -----------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.settings.geometry = self.saveGeometry()
        self.settings.splitter = self.splitter.saveState()
        self.settings.sync()
        self.engine.close()
        super().closeEvent(event)
