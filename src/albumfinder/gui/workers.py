"""Run core calls on QThreadPools and hand their progress, result or error back as signals.

After TagStudio's ``CustomRunnable`` and Picard's ``thread.run_task``: a :class:`Task` wraps a
plain function; the function gets a ``progress`` callable and a ``should_stop`` callable, so
the core never needs to know about Qt. Signals cross to the GUI thread through queued
connections because :class:`TaskSignals` lives in the GUI thread.

The contracts: every album mutation (add a folder, remove one, index, open the index) runs
on :class:`SerialQueue` ``album``, one thread that checks it is always the same one, so they
happen in the order they were asked for; queries, thumbnails and folder counts run on the
``interactive`` pool and never wait behind an index run; downloads and fetches have their own.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger("albumfinder.gui")

T = TypeVar("T")
Progress = Callable[[Any], None]
ShouldStop = Callable[[], bool]
Work = Callable[[Progress, ShouldStop], T]


class TaskSignals(QObject):
    """The generic carrier of one task's outcome; :class:`Task` types what it carries."""

    progress = Signal(object)
    result = Signal(object)
    error = Signal(BaseException)  # its traceback text in ``exc.__traceback_text__``
    finished = Signal()


class Task(QRunnable, Generic[T]):
    """``fn(progress, should_stop) -> T`` on a pool thread; its outcome as signals."""

    def __init__(self, fn: Work[T]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # we keep a reference until ``finished``
        self.fn: Work[T] | None = fn
        self.signals = TaskSignals()
        self._stop = threading.Event()
        self.started = threading.Event()
        self.done = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:  # pool thread
        self.started.set()
        try:
            assert self.fn is not None, "a task runs once"
            value = self.fn(self.signals.progress.emit, self._stop.is_set)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI, never lost
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            log.debug("task failed", exc_info=True)
            self._emit(self.signals.error, exc)
        else:
            self._emit(self.signals.result, value)
        finally:
            # The pool keeps the task (autoDelete off); drop the function and with it what
            # its closure holds (a pasted photo's bytes, say), or every query would leak it.
            self.fn = None
            self.done.set()
            with contextlib.suppress(RuntimeError):  # the window (the signals' owner) is gone
                self.signals.finished.emit()

    @staticmethod
    def _emit(signal: Any, value: object) -> None:
        with contextlib.suppress(RuntimeError):
            signal.emit(value)


def make_pool(name: str, threads: int) -> QThreadPool:
    pool = QThreadPool()
    pool.setObjectName(name)
    pool.setMaxThreadCount(threads)
    # Keep threads alive: the index opens one SQLite connection per thread that uses it
    # (IndexStore.connection() is thread-local), so a new thread would open another.
    pool.setExpiryTimeout(-1)
    return pool


class SerialQueue:
    """One thread, one task at a time, in the order they were queued: every album mutation
    goes here, so a remove followed by an add of the same folder ends with the folder in.
    Each task checks it runs on the queue's one thread (a second thread would break the
    order, and the SQLite connection that thread holds)."""

    def __init__(self, name: str) -> None:
        self.pool = make_pool(name, 1)
        self._thread: int | None = None
        self._lock = threading.Lock()

    @property
    def thread_id(self) -> int | None:
        """The ident of the queue's thread once it ran a task."""
        return self._thread

    def _check_thread(self) -> None:
        ident = threading.get_ident()
        with self._lock:
            if self._thread is None:
                self._thread = ident
        if self._thread != ident:
            raise RuntimeError(
                f"the {self.pool.objectName()} queue ran a task on a second thread "
                f"({ident}, not {self._thread}): album changes must run one at a time"
            )

    def serial(self, fn: Work[T]) -> Work[T]:
        def work(progress: Progress, should_stop: ShouldStop) -> T:
            self._check_thread()
            return fn(progress, should_stop)

        return work


class Pools:
    """Picard's ``_init_threads``: album work (indexing, folder changes) on its own single
    thread, so that a query or a thumbnail never waits behind a long index run; album-level
    jobs (grouping duplicates, the map, odd ones out, their decisions) on another, one at a
    time and in order, so that neither a search nor an index run waits behind them."""

    def __init__(self) -> None:
        self.album = SerialQueue("album")
        self.interactive = make_pool("interactive", 2)
        self.jobs = make_pool("jobs", 1)
        self.download = make_pool("download", 1)
        # Web addresses dropped on the window: never in the way of a local photo's search.
        self.fetch = make_pool("fetch", 2)
        self._tasks: set[Task[Any]] = set()

    def _start(
        self,
        pool: QThreadPool,
        fn: Work[T],
        *,
        on_result: Callable[[T], object] | None = None,
        on_error: Callable[[BaseException], object] | None = None,
        on_progress: Callable[[Any], object] | None = None,
        on_finished: Callable[[], object] | None = None,
        priority: int = 0,
    ) -> Task[T]:
        task: Task[T] = Task(fn)
        if on_progress is not None:
            task.signals.progress.connect(on_progress)
        if on_result is not None:
            task.signals.result.connect(on_result)
        if on_error is not None:
            task.signals.error.connect(on_error)
        if on_finished is not None:
            task.signals.finished.connect(on_finished)
        task.signals.finished.connect(lambda: self._tasks.discard(task))
        self._tasks.add(task)
        pool.start(task, priority)
        return task

    def album_task(self, fn: Work[T], **kwargs: Any) -> Task[T]:
        """An album mutation, after every one queued before it (see :class:`SerialQueue`)."""
        return self._start(self.album.pool, self.album.serial(fn), **kwargs)

    def interactive_task(self, fn: Work[T], **kwargs: Any) -> Task[T]:
        return self._start(self.interactive, fn, **kwargs)

    def job_task(self, fn: Work[T], **kwargs: Any) -> Task[T]:
        """An album-level job (minutes on a large album) or a decision about its answer,
        after every one started before it."""
        return self._start(self.jobs, fn, **kwargs)

    def download_task(self, fn: Work[T], **kwargs: Any) -> Task[T]:
        return self._start(self.download, fn, **kwargs)

    def fetch_task(self, fn: Work[T], **kwargs: Any) -> Task[T]:
        return self._start(self.fetch, fn, **kwargs)

    def _pools(self) -> tuple[QThreadPool, ...]:
        return (self.album.pool, self.download, self.fetch, self.interactive, self.jobs)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for pool in self._pools():
            pool.clear()

    def wait(self, msecs: int = 30000) -> bool:
        return all([pool.waitForDone(msecs) for pool in self._pools()])
