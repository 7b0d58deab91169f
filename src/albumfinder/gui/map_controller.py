"""What the Map page does: computes the album map through ``Library.album_map`` and the odd
ones out through ``Library.outliers`` on the window's interactive pool (never the GUI thread),
filters the map by folder, and answers clicks and lassoes through the window (queries,
opening, revealing, the trash).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal

from albumfinder.gui import advice
from albumfinder.gui.drop_zone import QueryKind, QuerySource
from albumfinder.gui.map_page_view import MapPage
from albumfinder.gui.trash_actions import TrashActions
from albumfinder.library import Library
from albumfinder.report import IndexReport, JobProgress

if TYPE_CHECKING:
    from albumfinder.gui.main_window import MainWindow
    from albumfinder.gui.workers import Task
    from albumfinder.report import AlbumMap, Outlier, PutBack, TrashAction

OUTLIERS_SHOWN = 20


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
        view = self.page.list_view
        if view.remove_paths(action.trashed):  # its note speaks of its own rows only
            count = view.removed_count()
            undo = "puts it back" if count == 1 else "puts them back, a step at a time"
            what = "1 photo" if count == 1 else f"{count:,} photos"
            view.set_note(f"{what} of this list moved to the trash (Ctrl+Z {undo}).")
        self._apply_filter()
        self._stale = True

    def _put_back(self, done: PutBack) -> None:
        if done.restored:
            self._gone.difference_update(done.restored)
            view = self.page.list_view
            if view.put_back(done.restored):
                count = view.removed_count()
                what = "1 photo" if count == 1 else f"{count:,} photos"
                view.set_note(
                    f"{what} of this list still in the trash." if count else view.base_note
                )
            self._apply_filter()
            self._stale = True

    def _outliers_failed(self, ask: int, exc: BaseException) -> None:
        if ask == self._outliers_id:
            self.page.list_view.set_note(
                f"The odd ones out could not be found: {advice.in_words(exc)}"
            )
