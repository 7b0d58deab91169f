"""The GUI's bridge to the core: the album (one :class:`Library`), the models and the pools.

It calls the same core as the CLI (``Library.add_folder``, ``index``, ``search``, the model
calls) and turns their callbacks into typed Qt signals. Album mutations run on the one serial
``album`` queue (see :mod:`albumfinder.gui.workers`); the index is opened there too, so the
window shows before its integrity check is done. The GUI thread reads no SQLite: the folder
list it shows is the one the last ``foldersChanged`` carried. torch is imported only inside
pool threads, the first time a model is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from albumfinder.errors import WeightsError
from albumfinder.gui.workers import Pools, Task
from albumfinder.library import Library, Query
from albumfinder.models.registry import get_spec
from albumfinder.report import (
    CombinedQuery,
    Explanation,
    FolderStatus,
    IndexProgress,
    IndexReport,
    QueryPart,
    SearchFilter,
    SearchHit,
    Skipped,
)


def model_key(name: str) -> str:
    return get_spec(name).key


@dataclass(frozen=True)
class Opened:
    """What opening the index tells the window (read on the album queue, not the GUI's)."""

    library: Library
    folders: list[str]
    recovery_note: str | None


class Engine(QObject):
    """Folders, indexing, search and models, each on the right pool."""

    opened = Signal(Opened)  # the index is open: the album's actions can be used
    openFailed = Signal(BaseException)  # AlbumFinderError or OSError: nothing was changed
    indexProgress = Signal(IndexProgress)
    indexFinished = Signal(IndexReport)
    indexFailed = Signal(str)  # the error's technical account (for logs and tests)
    indexError = Signal(BaseException)  # the same error, for the window to word
    indexingChanged = Signal(bool)
    foldersChanged = Signal(list)  # list[FolderStatus]
    folderError = Signal(BaseException)
    modelChanged = Signal(str)  # the model now answering queries
    #: (model, weights path or None, the WeightsError): the model's weights could not be
    #: used; the window forgets a chosen file and asks for weights again
    weightsFailed = Signal(str, object, WeightsError)

    def __init__(
        self,
        library: Library | Callable[[], Library],
        model: str = "builtin",
        model_path: str | None = None,
    ) -> None:
        """``library`` is an open Library, or what opens one (then opened on the album
        queue: the window shows at once)."""
        super().__init__()
        self.library: Library | None = library if isinstance(library, Library) else None
        self.folders: list[str] = []  # as the last foldersChanged (or the opening) said
        self.pools = Pools()
        self.model = model  # answers queries
        self.model_path = model_path
        self._index_model = model  # what the album job indexes for
        self._index_model_path = model_path
        self._index_task: Task[IndexReport] | None = None
        self._index_again = False
        self._closing = False
        self._fetch_task: Task[bytes] | None = None
        self._open(library)

    # -- opening -----------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """Whether the index is open (until then the album's actions wait)."""
        return self._open_done

    _open_done = False

    def _open(self, library: Library | Callable[[], Library]) -> None:
        def work(_progress: Any, _stop: Any) -> Opened:
            lib = library if isinstance(library, Library) else library()
            return Opened(lib, lib.folders(), lib.recovery_note())

        self.pools.album_task(work, on_result=self._opened, on_error=self.openFailed.emit)

    def _opened(self, opened: Opened) -> None:
        self.library = opened.library
        self.folders = list(opened.folders)
        self._open_done = True
        self.opened.emit(opened)

    def _lib(self) -> Library:
        assert self.library is not None, "the index is open before anything is asked of it"
        return self.library

    # -- folders -----------------------------------------------------------------------
    def add_folder(self, path: str) -> None:
        """Add ``path`` after every album change asked before (on the album queue); an index
        run in progress is restarted behind it, so it sees the new folder."""
        self._pause_index()

        def added(_path: str) -> None:
            self.refresh_folders()
            self.start_index(restart=False)

        self.pools.album_task(
            lambda _p, _s: self._lib().add_folder(path),
            on_result=added,
            on_error=self.folderError.emit,
        )

    def remove_folder(self, path: str) -> None:
        restart = self.is_indexing
        self.cancel_index()
        self.folders = [f for f in self.folders if f != path]

        def removed(_value: None) -> None:
            self.refresh_folders()
            if restart:
                self.start_index()

        # In line behind the (cancelled) index run: no batch of a run that still scans the
        # folder can bring its photos back afterwards.
        self.pools.album_task(
            lambda _p, _s: self._lib().remove_folder(path),
            on_result=removed,
            on_error=self.folderError.emit,
        )

    def refresh_folders(self, count_pending: bool = True) -> None:
        if self._closing or self.library is None:
            return
        key = model_key(self._index_model)
        library = self.library

        def work(_progress: Any, _stop: Any) -> list[FolderStatus]:
            return library.folder_status(key, count_pending=count_pending)

        self.pools.interactive_task(
            work,
            on_result=self._folders_changed,
            on_error=self.folderError.emit,
            priority=-2,  # a scan of the album: queries and thumbnails go first
        )

    def _folders_changed(self, statuses: list[FolderStatus]) -> None:
        self.folders = [s.path for s in statuses]
        self.foldersChanged.emit(statuses)

    def skipped(self, on_result: Callable[[list[Skipped]], object]) -> Task[list[Skipped]]:
        """Photos the model being indexed for could not use, with reasons."""
        key = model_key(self._index_model)
        library = self._lib()
        return self.pools.interactive_task(
            lambda _p, _s: library.skipped(model_key=key), on_result=on_result
        )

    # -- indexing ----------------------------------------------------------------------
    @property
    def is_indexing(self) -> bool:
        return self._index_task is not None

    def start_index(
        self, model: str | None = None, model_path: str | None = None, restart: bool = True
    ) -> None:
        """Index the album incrementally (for ``model`` if given: a model change). A run in
        progress is restarted (it resumes: nothing done is lost) unless ``restart`` is False."""
        if self._closing:
            return
        if model is not None:
            self._index_model, self._index_model_path = model, model_path
        if self._index_task is not None:  # restart with the new folders / model
            if not restart and model is None:
                return
            self._pause_index()
            return
        name, path = self._index_model, self._index_model_path
        switching = (name, path) != (self.model, self.model_path)

        def work(progress: Callable[[Any], None], should_stop: Callable[[], bool]) -> IndexReport:
            embedder = Library.embedder(name, path)  # loaded only if a photo needs it...
            if switching:  # ...or before a switch: bad weights must fail here, not later
                embedder.get()  # (an empty or already indexed album embeds nothing)
            return self._lib().index(embedder, progress=progress, should_stop=should_stop)

        self._index_task = self.pools.album_task(
            work,
            on_progress=self.indexProgress.emit,
            on_result=lambda report: self._index_done(report, name, path),
            on_error=self._index_error,
        )
        self.indexingChanged.emit(True)

    def _pause_index(self) -> None:
        """Stop the run in progress so that what is queued next goes first; it runs again
        after that."""
        if self._index_task is not None:
            self._index_again = True
            self._index_task.cancel()

    def cancel_index(self) -> None:
        self._index_again = False
        if self._index_task is not None:
            self._index_task.cancel()

    def _index_done(self, report: IndexReport, name: str, path: str | None) -> None:
        self._index_task = None
        if not report.cancelled and (name, path) != (self.model, self.model_path):
            self.model, self.model_path = name, path  # the new vectors are ready: switch
            self.modelChanged.emit(name)
        restarting = self._index_again and not self._closing
        if not (restarting and report.cancelled):  # a restart is not the user's cancel
            self.indexFinished.emit(report)
        self._after_index()

    def _index_error(self, exc: BaseException) -> None:
        failed_model, failed_path = self._index_model, self._index_model_path
        self._index_task = None
        self._index_again = False
        self._index_model, self._index_model_path = self.model, self.model_path
        self.indexFailed.emit(str(exc) or type(exc).__name__)
        self.indexError.emit(exc)
        self._load_failed(failed_model, failed_path, exc)
        self._after_index()

    def _load_failed(self, name: str, path: str | None, exc: BaseException) -> None:
        """One handling for a model that could not be loaded, whichever asked for it (an
        index run, a search, the preload): bad weights are told by ``weightsFailed``."""
        if isinstance(exc, WeightsError):
            self.weightsFailed.emit(name, path, exc)

    def _after_index(self) -> None:
        if self._closing:
            return
        if self._index_again:
            self._index_again = False
            self.start_index()
            return
        self.indexingChanged.emit(False)
        self.refresh_folders()

    # -- search ------------------------------------------------------------------------
    def search(
        self,
        query: Query | QueryPart | CombinedQuery,
        n: int,
        on_result: Callable[[list[SearchHit]], object],
        on_error: Callable[[BaseException], object],
        filters: SearchFilter | None = None,
    ) -> Task[list[SearchHit]]:
        """Top ``n`` look-alikes of ``query`` (path, encoded bytes, a region of one, several
        together) from what is indexed now, narrowed by ``filters``."""
        name, path = self.model, self.model_path
        library = self._lib()

        def work(_progress: Any, _stop: Any) -> list[SearchHit]:
            # lazy: an indexed photo's stored vector answers without loading the model
            return library.search(Library.embedder(name, path), query, n=n, filters=filters)

        def failed(exc: BaseException) -> None:
            on_error(exc)
            self._load_failed(name, path, exc)

        return self.pools.interactive_task(work, on_result=on_result, on_error=failed)

    def explain(
        self,
        query: QueryPart,
        result: str,
        on_result: Callable[[Explanation], object],
        on_error: Callable[[BaseException], object],
    ) -> Task[Explanation]:
        """Why ``result`` matches ``query``: the two match maps, computed now."""
        name, path = self.model, self.model_path
        library = self._lib()

        def work(_progress: Any, _stop: Any) -> Explanation:
            return library.explain(Library.embedder(name, path), query, result)

        return self.pools.interactive_task(work, on_result=on_result, on_error=on_error)

    def fetch(
        self,
        url: str,
        on_result: Callable[[bytes], object],
        on_error: Callable[[BaseException], object],
    ) -> Task[bytes]:
        """The photo at a dropped web address, on the fetch pool (not the one that answers
        queries); a newer drop cancels the fetch before it."""
        self.cancel_fetch()
        task = self.pools.fetch_task(
            lambda _p, should_stop: Library.fetch_photo(url, should_stop=should_stop),
            on_result=on_result,
            on_error=on_error,
        )
        self._fetch_task = task
        return task

    @property
    def is_fetching(self) -> bool:
        """Whether a dropped web address is being fetched now (started, not done)."""
        task = self._fetch_task
        return task is not None and task.started.is_set() and not task.done.is_set()

    def cancel_fetch(self) -> None:
        """Stop fetching a dropped web address (another photo was given meanwhile)."""
        if self._fetch_task is not None:
            self._fetch_task.cancel()
            self._fetch_task = None

    def preload_model(self) -> None:
        """Load the current model ahead of the first query that needs it (searches never
        wait for it: they go through the lazy model)."""
        name, path = self.model, self.model_path
        self.pools.interactive_task(
            lambda _p, _s: Library.embedder(name, path).get(),
            on_error=lambda exc: self._load_failed(name, path, exc),
        )

    # -- models ------------------------------------------------------------------------
    def change_model(self, name: str, model_path: str | None = None) -> None:
        """Index for ``name`` in the background; queries use the old model until it is done."""
        if (name, model_path) == (self.model, self.model_path) and not self.is_indexing:
            return
        self.start_index(name, model_path)

    def download(
        self,
        name: str,
        on_progress: Callable[[tuple[int, int | None]], object],
        on_result: Callable[[object], object],
        on_error: Callable[[BaseException], object],
    ) -> Task[object]:
        def work(progress: Callable[[Any], None], should_stop: Callable[[], bool]) -> object:
            return Library.download_model(
                name, progress=lambda done, total: progress((done, total)), should_stop=should_stop
            )

        return self.pools.download_task(
            work, on_progress=on_progress, on_result=on_result, on_error=on_error
        )

    def close(self, wait_ms: int = 30000) -> None:
        self._closing = True
        self._index_again = False
        self.pools.cancel_all()
        self.pools.wait(wait_ms)
