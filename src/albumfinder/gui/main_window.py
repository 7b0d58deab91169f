"""The main window's controller: what happens when a photo is dropped, a folder added or
removed, a model chosen, and as indexing goes. The widgets and their layout are the view's
(:class:`~albumfinder.gui.window_view.MainWindowView`); the core is reached through the
:class:`~albumfinder.gui.engine.Engine`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog

from albumfinder.errors import ImageLoadError
from albumfinder.gui import advice, reveal
from albumfinder.gui.about_dialog import AboutDialog
from albumfinder.gui.banner import BannerLevel
from albumfinder.gui.drop_zone import QueryKind, QuerySource, encode_png, sources_from_mime
from albumfinder.gui.duplicates_page import DuplicatesPage
from albumfinder.gui.engine import Engine, Opened
from albumfinder.gui.library_panel import SkippedDialog
from albumfinder.gui.map_page import attach_map_page
from albumfinder.gui.model_control import MODEL_CHOICES, ModelControl
from albumfinder.gui.query_control import QueryControl
from albumfinder.gui.query_state import QueryState
from albumfinder.gui.settings import Settings
from albumfinder.gui.status_text import embedding_text, finished_text, scanning_text
from albumfinder.gui.thumbnails import ThumbnailLoader, load_thumbnail
from albumfinder.gui.trash_actions import TrashActions
from albumfinder.gui.window_view import MainWindowView
from albumfinder.images import photo_name_patterns
from albumfinder.library import Library
from albumfinder.report import (
    FolderStatus,
    IndexProgress,
    IndexReport,
    Phase,
    PutBack,
    SearchHit,
    Skipped,
    TrashAction,
    merge_skipped,
)

FOLDER_REFRESH_S = 2.0  # how often the folder counts are refreshed while indexing
PREVIEW_SIZE = 1024
#: Every type the core reads (one list: albumfinder.images.PHOTO_TYPES), then all files.
PHOTO_FILTER = f"Photos ({' '.join(photo_name_patterns())});;All files (*)"


class MainWindow(ModelControl, QueryControl, MainWindowView):
    searchFinished = Signal(object)  # the hits of the latest query, or None (tests, scripts)

    def __init__(
        self, library: Library | Callable[[], Library], settings: Settings | None = None
    ) -> None:
        """``library``: an open Library, or what opens one (the window shows at once and its
        album actions are enabled when the index is open)."""
        self.settings = settings or Settings()
        model = self.settings.model
        self.engine = Engine(library, model, self.settings.model_path(model))
        self.thumbnails = ThumbnailLoader(self.engine.pools)
        super().__init__(self.thumbnails)
        self._query: QuerySource | None = None  # the photo shown: the first of the query
        self._state: QueryState | None = None  # all of the query: parts, region, filters
        self._waiting_query: QuerySource | None = None  # given before the index was open
        self._query_id = 0
        self._last_progress: IndexProgress | None = None
        self._hits: list[SearchHit] | None = None  # what the strip shows for the query
        self._folders_refreshed = 0.0
        for name in MODEL_CHOICES:
            self.model_combo.addItem(name, name)  # titled by refresh_model_titles
        self._select_model_row(self.engine.model)
        self.refresh_model_titles()
        self.n_spin.setValue(self.settings.n)
        self._connect_engine()
        # the album-level views beside the search, and the one trash controller they share
        self.trash_actions = TrashActions.for_window(self)
        self.trash_actions.trashed.connect(self._photos_trashed)
        self.trash_actions.putBack.connect(self._photos_put_back)
        self.add_page("duplicates", "Duplicates", DuplicatesPage(self))
        self.add_page("map", "Map", attach_map_page(self))
        self._set_album_actions_enabled(self.engine.library is not None)
        geometry = self.settings.geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1200, 760)
        if self.settings.splitter is not None:
            self.splitter.restoreState(self.settings.splitter)
        QTimer.singleShot(0, self._say_reset_settings)

    def _connect_engine(self) -> None:
        e = self.engine
        e.opened.connect(self._on_opened)
        e.openFailed.connect(self._on_open_failed)
        e.indexProgress.connect(self._on_progress)
        e.indexFinished.connect(self._on_index_finished)
        e.indexError.connect(self._on_index_failed)
        e.indexingChanged.connect(self._on_indexing_changed)
        e.foldersChanged.connect(self.library_panel.set_statuses)
        e.foldersChanged.connect(
            lambda statuses: self.filter_bar.set_folders([f.path for f in statuses])
        )
        e.folderError.connect(
            lambda exc: self.banner.show_message(BannerLevel.ERROR, advice.in_words(exc))
        )
        e.modelChanged.connect(self._on_model_changed)
        e.weightsFailed.connect(self._on_weights_failed)

    # -- start-up ----------------------------------------------------------------------
    def _on_opened(self, opened: Opened) -> None:
        self._set_album_actions_enabled(True)
        if opened.recovery_note is not None:
            self.banner.show_message(BannerLevel.WARNING, opened.recovery_note)
        self.engine.refresh_folders(count_pending=False)
        if opened.folders:
            self.engine.start_index(restart=False)  # the incremental rescan at launch
        pending = str(self.settings.value("pending_model", "") or "")
        if (
            pending in MODEL_CHOICES
            and pending != self.engine.model
            and Library.weights_present(pending)
        ):
            self._select_model_row(pending)
            self.engine.change_model(pending, self.settings.model_path(pending))
        waiting, self._waiting_state = self._waiting_state, None
        if self._waiting_query is not None:
            source, self._waiting_query = self._waiting_query, None
            if waiting is not None and waiting.shown == source:
                self.find_together(list(waiting.parts))
            else:
                self.find(source)

    def _on_open_failed(self, exc: BaseException) -> None:
        self.status_label.setText("The photo index could not be opened")
        self.banner.show_message(
            BannerLevel.ERROR,
            f"The photo index could not be opened. {advice.in_words(exc)} Nothing was changed.",
        )

    def _say_reset_settings(self) -> None:
        if self.settings.reset_keys:
            self.banner.show_message(
                BannerLevel.WARNING,
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
        self.banner.clear_transient()
        self.engine.add_folder(folder)

    def remove_folder(self, folder: str) -> None:
        """Forget ``folder``; its photos and its counts leave the window at once, before the
        index has dropped them."""
        leaving = Library.leaving_with(folder, self.strip.paths(), self.engine.folders)
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
        # what the last scan met (broken links, unreadable folders) is not in the index
        statuses: list[FolderStatus] = list(self.library_panel.statuses)

        def show(skipped: list[Skipped]) -> None:
            rows = merge_skipped(skipped, statuses)
            self.skipped_dialog = SkippedDialog(rows, self, folders=self.engine.folders)
            # the same handling as a result's Open and Show in Folder
            self.skipped_dialog.openRequested.connect(self.strip.openRequested)
            self.skipped_dialog.revealRequested.connect(self.strip.revealRequested)
            self.skipped_dialog.open()

        self.engine.skipped(show)

    def _rescan_requested(self) -> None:
        if self.engine.folders:
            self.engine.start_index()

    def _cancel_requested(self) -> None:
        self.engine.cancel_index()

    # -- indexing ----------------------------------------------------------------------
    def _on_indexing_changed(self, running: bool) -> None:
        self._show_indexing(running)
        if self._hits is not None and self._query is not None:  # "still indexing" or not
            self.results_note.setText(self._results_note(self._hits))

    def _on_progress(self, p: IndexProgress) -> None:
        self._last_progress = p
        if p.phase == Phase.SCANNING:
            self._show_progress(scanning_text(p))
        elif p.phase == Phase.EMBEDDING:
            now = time.monotonic()
            if now - self._folders_refreshed > FOLDER_REFRESH_S:  # counts rise as it goes
                self._folders_refreshed = now
                self.engine.refresh_folders(count_pending=False)
            self._show_progress(embedding_text(p), p.done, p.total)

    def _on_index_finished(self, report: IndexReport) -> None:
        self.status_label.setText(finished_text(report))
        if report.missing_folders:
            self.banner.show_message(
                BannerLevel.WARNING,
                "Not found (a disconnected drive?): "
                + ", ".join(report.missing_folders)
                + ". Their photos stay in the index.",
            )
        if self._query is not None and not report.cancelled and report.added + report.updated:
            self._run_query(self._query, keep_preview=True)

    def _on_index_failed(self, exc: BaseException) -> None:
        self.status_label.setText("Indexing stopped")
        self.banner.show_message(BannerLevel.ERROR, f"Indexing stopped: {advice.in_words(exc)}")
        self._select_model_row(self.engine.model)

    def show_about(self) -> None:
        AboutDialog(Library.about(), self).exec()

    # -- queries -----------------------------------------------------------------------
    def open_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Find look-alikes of a photo", self.settings.dialog_folder(), PHOTO_FILTER
        )
        if path:
            self.settings.remember_dialog_folder(path)
            self.find(QuerySource(QueryKind.PATH, path, os.path.basename(path)))

    def paste(self) -> None:
        sources = sources_from_mime(QGuiApplication.clipboard().mimeData())
        if len(sources) > 1:  # several photo files copied: one query of them together
            self.find_together(sources)
            return
        source = sources[0] if sources else None
        if source is None:
            self.banner.show_message(
                BannerLevel.INFO,
                "The clipboard holds no photo. Copy a photo or a photo file first.",
            )
            return
        self.find(source)

    def _similar_requested(self, path: str) -> None:
        self.find(QuerySource(QueryKind.PATH, path, os.path.basename(path)))

    def find(self, source: QuerySource) -> None:  # type: ignore[override]
        """Show ``source`` in the drop zone and search for its look-alikes."""
        self._waiting_state = None  # the photo given last is the one searched
        self.banner.clear_transient()
        self.engine.cancel_fetch()  # the photo given last is the one searched
        if source.kind == QueryKind.PATH and not os.path.isfile(str(source.value)):
            what = "a folder" if os.path.isdir(str(source.value)) else "not a file"
            self.banner.show_message(
                BannerLevel.ERROR, f"“{source.name}” is {what}: drop a photo to find look-alikes."
            )
            return
        if source.kind == QueryKind.IMAGE:  # encoded once, off the GUI thread (48 MP: s)
            self.results_note.setText("Reading the photo…")
            image = source.value
            assert isinstance(image, QImage)
            self.engine.pools.fetch_task(
                lambda _p, _s: encode_png(image),
                on_result=lambda data: self.find(QuerySource(QueryKind.BYTES, data, source.name)),
                on_error=lambda exc: self.banner.show_message(
                    BannerLevel.ERROR, f"Could not read the {source.name}: {exc}"
                ),
            )
            return
        if source.kind == QueryKind.URL:
            self.results_note.setText("Fetching the photo…")
            url = str(source.value)
            self.engine.fetch(
                url,
                on_result=lambda data: self.find(QuerySource(QueryKind.BYTES, data, source.name)),
                on_error=lambda exc: self._fetch_failed(url, exc),
            )
            return
        if not self.engine.is_open:  # searched when the index is open
            self._waiting_query = source
            self.results_note.setText("Opening the index…")
            return
        self._query = source
        self._state = QueryState((source,), filters=self.filter_bar.search_filter())
        self._run_query(source)

    def _fetch_failed(self, url: str, exc: BaseException) -> None:
        if advice.is_superseded(exc):  # a newer drop took its place
            return
        self.results_note.setText("")
        self.banner.show_message(
            BannerLevel.ERROR, f"Could not get the photo at {url}: {advice.reason(exc)}"
        )

    def _run_query(self, source: QuerySource, keep_preview: bool = False) -> None:
        self._query_id += 1
        query_id = self._query_id
        value = source.value
        assert isinstance(value, (str, bytes))
        state = self._state
        if state is None or state.shown != source:
            state = self._state = QueryState((source,), filters=self.filter_bar.search_filter())
        self.query_parts.show_parts(state.parts, state.negatives)
        if not keep_preview:
            self.drop_zone.set_photo(None)
            self.engine.pools.interactive_task(
                lambda _p, _s: load_thumbnail(value, PREVIEW_SIZE),
                on_result=lambda image: self._preview_ready(query_id, image, source),
                on_error=lambda exc: None,  # the search reports what is wrong with it
            )
        self.results_note.setText("Searching…")
        self.engine.search(
            state.to_query(),
            self.n_spin.value(),
            on_result=lambda hits: self._results(query_id, hits),
            on_error=lambda exc: self._query_failed(query_id, source, exc),
            filters=state.filters,
        )

    def _preview_ready(self, query_id: int, image: QImage, source: QuerySource) -> None:
        if query_id == self._query_id:
            crop = self._state.crop if self._state is not None else None
            self.drop_zone.set_photo(image, source.name, region=crop)

    def _results(self, query_id: int, hits: list[SearchHit]) -> None:
        if query_id != self._query_id:
            return
        self._hits = list(hits)
        self.strip.set_results(hits)
        self.results_note.setText(self._results_note(hits))
        self.searchFinished.emit(hits)

    def _results_note(self, hits: list[SearchHit]) -> str:
        """The line beside "Look-alikes": how many, and whether they may still change."""
        asked = self._state.summary() if self._state is not None else ""
        if hits:
            note = f"{len(hits)} most alike, best first"
            if asked:
                note = f"{note} · {asked}"
            if self.engine.is_indexing:
                note += " · still indexing: results may change"
            return note
        if not self.engine.folders:
            return "No photos yet: add a folder of photos on the left."
        if self.engine.is_indexing:
            return "Nothing indexed yet: try again in a moment."
        return "No indexed photos to compare with."

    def _query_failed(self, query_id: int, source: QuerySource, exc: BaseException) -> None:
        if query_id != self._query_id:
            return
        self._hits = None
        self.strip.set_results([])
        self.results_note.setText("")
        if (
            isinstance(exc, ImageLoadError)
            and exc.path
            and self.drop_unreadable_part(str(exc.path), exc.reason)
        ):
            return
        if isinstance(exc, ImageLoadError):
            self.drop_zone.set_photo(None)
            self._query = None
            self._state = None
            self.query_parts.show_parts((), ())
            self.banner.show_message(
                BannerLevel.ERROR,
                f"“{source.name}” is not a photo Album Finder can read ({exc.reason}).",
            )
        else:
            self.banner.show_message(
                BannerLevel.ERROR, f"The search did not work: {advice.in_words(exc)}"
            )
        self.searchFinished.emit(None)

    def _n_changed(self, value: int) -> None:
        self.settings.n = value
        if self._query is not None:
            self._run_query(self._query, keep_preview=True)

    # -- photos moved to the trash (from any page) and put back --------------------------
    def _photos_trashed(self, action: TrashAction) -> None:
        """Trashed photos leave the results (the strip itself is told by TrashActions) and
        the query: a query of several goes on without them."""
        gone = set(action.trashed)
        if not gone:
            return
        if self._hits is not None:
            self._hits = [h for h in self._hits if h.path not in gone]
            self.results_note.setText(self._results_note(self._hits))
        state = self._state
        if state is None or not gone & state.paths():
            return
        for source in [s for s in (*state.parts, *state.negatives) if s.value in gone]:
            state = state.without(source) if state is not None else None
        if state is None:  # the photo asked about is in the trash: nothing to show
            self._query, self._state, self._hits = None, None, None
            self.drop_zone.set_photo(None)
            self.query_parts.show_parts((), ())
            self.strip.set_results([])
            self.results_note.setText("")
            return
        self._ask(state, keep_preview=state.shown == self._query)

    def _photos_put_back(self, done: PutBack) -> None:
        """Photos back from the trash may be results again: ask again."""
        if done.restored and self._query is not None:
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
            BannerLevel.WARNING, f"{why}, so “{os.path.basename(path)}” could not be shown.", [copy]
        )

    # -- closing -----------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.settings.geometry = self.saveGeometry()
        self.settings.splitter = self.splitter.saveState()
        self.settings.sync()
        self.engine.close()
        super().closeEvent(event)
