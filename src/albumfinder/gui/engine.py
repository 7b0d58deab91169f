"""The GUI's controller: the album (one :class:`Library`), the models and the two pools.

It calls the same core functions as the CLI (``Library.add_folder``, ``index``, ``search``,
``load_embedder``, ``download_weights``) and turns their callbacks into Qt signals. torch is
imported only inside pool threads, the first time a model is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from albumfinder.gui.workers import Pools, Task

if TYPE_CHECKING:
    from albumfinder.embedding.embedder import Embedder
    from albumfinder.library import Library


def get_embedder(name: str, model_path: str | None = None) -> Embedder:
    """A loaded model, kept for the life of the process (see ``Library.embedder``)."""
    from albumfinder.library import Library

    return Library.embedder(name, model_path).get()


def model_key(name: str) -> str:
    from albumfinder.models.registry import get_spec

    return get_spec(name).key


def weights_present(name: str, model_path: str | None = None) -> bool:
    from albumfinder.models.registry import get_spec
    from albumfinder.models.weights import find_weights

    return find_weights(get_spec(name), model_path) is not None


class Engine(QObject):
    """Folders, indexing, search and models, each on the right pool."""

    indexProgress = Signal(object)  # IndexProgress
    indexFinished = Signal(object)  # IndexReport
    indexFailed = Signal(str)
    indexingChanged = Signal(bool)
    foldersChanged = Signal(object)  # list[FolderStatus]
    folderError = Signal(str)
    modelChanged = Signal(str)  # the model now answering queries
    #: (model, weights path or None, the WeightsError): the model's weights could not be
    #: used; the window forgets a chosen file and asks for weights again
    weightsFailed = Signal(str, object, object)

    def __init__(
        self, library: Library, model: str = "builtin", model_path: str | None = None
    ) -> None:
        super().__init__()
        self.library = library
        self.pools = Pools()
        self.model = model  # answers queries
        self.model_path = model_path
        self._index_model = model  # what the bulk job indexes for
        self._index_model_path = model_path
        self._index_task: Task | None = None
        self._index_again = False
        self._closing = False
        self._fetch_task: Task | None = None

    # -- folders -----------------------------------------------------------------------
    def add_folder(self, path: str) -> None:
        def work(_progress, _stop):
            return self.library.add_folder(path)

        self.pools.interactive_task(
            work,
            on_result=lambda _p: (self.refresh_folders(), self.start_index()),
            on_error=lambda exc: self.folderError.emit(str(exc)),
        )

    def remove_folder(self, path: str) -> None:
        restart = self.is_indexing
        self.cancel_index()

        def work(_progress, _stop):
            self.library.remove_folder(path)

        def removed(_value):
            self.refresh_folders()
            if restart:
                self.start_index()

        # On the bulk pool's single thread, in line behind the (cancelled) index run: no
        # batch of a run that still scans the folder can bring its photos back afterwards.
        self.pools.bulk_task(
            work, on_result=removed, on_error=lambda exc: self.folderError.emit(str(exc))
        )

    def refresh_folders(self, count_pending: bool = True) -> None:
        if self._closing:
            return
        key = model_key(self._index_model)

        def work(_progress, _stop):
            return self.library.folder_status(key, count_pending=count_pending)

        self.pools.interactive_task(
            work,
            on_result=self.foldersChanged.emit,
            on_error=lambda exc: self.folderError.emit(str(exc)),
            priority=-2,  # a scan of the album: queries and thumbnails go first
        )

    def skipped(self, on_result) -> Task:
        """Photos the model being indexed for could not use, with reasons."""
        key = model_key(self._index_model)
        return self.pools.interactive_task(
            lambda _p, _s: self.library.skipped(model_key=key), on_result=on_result
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
            self._index_again = True
            self._index_task.cancel()
            return
        name, path = self._index_model, self._index_model_path

        def work(progress, should_stop):
            from albumfinder.library import LazyEmbedder  # loaded only if a photo needs it

            embedder = LazyEmbedder(name, lambda: get_embedder(name, path))
            return self.library.index(embedder, progress=progress, should_stop=should_stop)

        self._index_task = self.pools.bulk_task(
            work,
            on_progress=self.indexProgress.emit,
            on_result=lambda report: self._index_done(report, name, path),
            on_error=lambda exc: self._index_error(exc),
        )
        self.indexingChanged.emit(True)

    def cancel_index(self) -> None:
        self._index_again = False
        if self._index_task is not None:
            self._index_task.cancel()

    def _index_done(self, report, name: str, path: str | None) -> None:
        self._index_task = None
        if not report.cancelled and (name, path) != (self.model, self.model_path):
            self.model, self.model_path = name, path  # the new vectors are ready: switch
            self.modelChanged.emit(name)
        restarting = self._index_again and not self._closing
        if not (restarting and report.cancelled):  # a restart is not the user's cancel
            self.indexFinished.emit(report)
        self._after_index()

    def _index_error(self, exc: BaseException) -> None:
        from albumfinder.models.weights import WeightsError

        failed_model, failed_path = self._index_model, self._index_model_path
        self._index_task = None
        self._index_again = False
        self._index_model, self._index_model_path = self.model, self.model_path
        self.indexFailed.emit(str(exc) or type(exc).__name__)
        if isinstance(exc, WeightsError):
            self.weightsFailed.emit(failed_model, failed_path, exc)
        self._after_index()

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
    def search(self, query: Any, n: int, on_result, on_error) -> Task:
        """Top ``n`` look-alikes of ``query`` (path, encoded bytes) from what is indexed now."""
        name, path = self.model, self.model_path

        def work(_progress, _stop):
            embedder = get_embedder(name, path)
            return self.library.search(embedder, query, n=n)

        return self.pools.interactive_task(work, on_result=on_result, on_error=on_error)

    def fetch(self, url: str, on_result, on_error) -> Task:
        """The photo at a dropped web address, on the fetch pool (not the one that answers
        queries); a newer drop cancels the fetch before it."""
        from albumfinder.fetch import fetch_bytes

        self.cancel_fetch()
        task = self.pools.fetch_task(
            lambda _p, should_stop: fetch_bytes(url, should_stop=should_stop),
            on_result=on_result,
            on_error=on_error,
        )
        self._fetch_task = task
        return task

    def cancel_fetch(self) -> None:
        """Stop fetching a dropped web address (another photo was given meanwhile)."""
        if self._fetch_task is not None:
            self._fetch_task.cancel()
            self._fetch_task = None

    def preload_model(self) -> None:
        name, path = self.model, self.model_path
        self.pools.interactive_task(lambda _p, _s: get_embedder(name, path))

    # -- models ------------------------------------------------------------------------
    def change_model(self, name: str, model_path: str | None = None) -> None:
        """Index for ``name`` in the background; queries use the old model until it is done."""
        if (name, model_path) == (self.model, self.model_path) and not self.is_indexing:
            return
        self.start_index(name, model_path)

    def download(self, name: str, on_progress, on_result, on_error) -> Task:
        def work(progress, should_stop):
            from albumfinder.models.registry import get_spec
            from albumfinder.models.weights import download_weights

            return download_weights(
                get_spec(name),
                progress=lambda done, total: progress((done, total)),
                should_stop=should_stop,
            )

        return self.pools.download_task(
            work, on_progress=on_progress, on_result=on_result, on_error=on_error
        )

    def close(self, wait_ms: int = 30000) -> None:
        self._closing = True
        self._index_again = False
        self.pools.cancel_all()
        self.pools.wait(wait_ms)
