"""Run core calls on QThreadPools and hand their progress, result or error back as signals.

After TagStudio's ``CustomRunnable`` and Picard's ``thread.run_task``: a :class:`Task` wraps a
plain function; the function gets a ``progress`` callable and a ``should_stop`` callable, so
the core never needs to know about Qt. Signals cross to the GUI thread through queued
connections because :class:`TaskSignals` lives in the GUI thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger("albumfinder.gui")


class TaskSignals(QObject):
    progress = Signal(object)
    result = Signal(object)
    error = Signal(object)  # the exception; its traceback text in ``exc.__traceback_text__``
    finished = Signal()


class Task(QRunnable):
    """``fn(progress, should_stop)`` on a pool thread; its outcome as signals."""

    def __init__(self, fn: Callable[[Callable[[Any], None], Callable[[], bool]], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # we keep a reference until ``finished``
        self.fn = fn
        self.signals = TaskSignals()
        self._stop = threading.Event()
        self.done = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:  # pool thread
        try:
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
    def _emit(signal, value) -> None:
        with contextlib.suppress(RuntimeError):
            signal.emit(value)


def make_pool(name: str, threads: int) -> QThreadPool:
    pool = QThreadPool()
    pool.setObjectName(name)
    pool.setMaxThreadCount(threads)
    # Keep threads alive: each has its own SQLite connection (IndexStore is per-thread).
    pool.setExpiryTimeout(-1)
    return pool


class Pools:
    """Picard's ``_init_threads``: bulk work (indexing, downloads) on its own single thread,
    so that a query or a thumbnail never waits behind a long index run."""

    def __init__(self) -> None:
        self.bulk = make_pool("bulk", 1)
        self.interactive = make_pool("interactive", 2)
        self.download = make_pool("download", 1)
        # Web addresses dropped on the window: never in the way of a local photo's search.
        self.fetch = make_pool("fetch", 2)
        self._tasks: set[Task] = set()

    def _start(
        self,
        pool: QThreadPool,
        fn,
        *,
        on_result=None,
        on_error=None,
        on_progress=None,
        on_finished=None,
        priority: int = 0,
    ) -> Task:
        task = Task(fn)
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

    def bulk_task(self, fn, **kwargs) -> Task:
        return self._start(self.bulk, fn, **kwargs)

    def interactive_task(self, fn, **kwargs) -> Task:
        return self._start(self.interactive, fn, **kwargs)

    def download_task(self, fn, **kwargs) -> Task:
        return self._start(self.download, fn, **kwargs)

    def fetch_task(self, fn, **kwargs) -> Task:
        return self._start(self.fetch, fn, **kwargs)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self.bulk.clear()
        self.interactive.clear()
        self.download.clear()
        self.fetch.clear()

    def wait(self, msecs: int = 30000) -> bool:
        ok = self.bulk.waitForDone(msecs)
        ok = self.download.waitForDone(msecs) and ok
        ok = self.fetch.waitForDone(msecs) and ok
        return self.interactive.waitForDone(msecs) and ok
