"""Decoding threads that a stuck read cannot hold hostage.

A read from a hung network mount (NFS, SMB, FUSE) or an online-only cloud file can stay in
the kernel for good. A :class:`concurrent.futures.ThreadPoolExecutor` joins its threads on
exit, so one such read kept indexing, Cancel and even the end of the program waiting. Here
the threads are daemons and are never joined: a task past its deadline is abandoned (a new
thread takes the stuck one's place) and closing the pool returns at once.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: Threads started in place of stuck ones, at most, per pool (each stuck one stays stuck).
MAX_REPLACEMENTS = 32


class Task(Generic[T]):
    def __init__(self, work: Callable[[], T]) -> None:
        self.work = work
        self.future: Future[T] = Future()
        self.started_at: float | None = None  # time.monotonic() when a thread took it

    def running_for(self) -> float:
        return 0.0 if self.started_at is None else time.monotonic() - self.started_at


class DecodePool:
    def __init__(self, workers: int, name: str = "decode") -> None:
        self._tasks: queue.SimpleQueue[Task[Any] | None] = queue.SimpleQueue()
        self._name = name
        self._threads = 0
        self._replacements = 0
        for _ in range(max(1, workers)):
            self._start_thread()

    def _start_thread(self) -> None:
        self._threads += 1
        thread = threading.Thread(
            target=self._run, name=f"{self._name}-{self._threads}", daemon=True
        )
        thread.start()

    def _run(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            if not task.future.set_running_or_notify_cancel():
                continue
            task.started_at = time.monotonic()
            try:
                task.future.set_result(task.work())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
                task.future.set_exception(exc)

    def submit(self, work: Callable[[], T]) -> Task[T]:
        task: Task[T] = Task(work)
        self._tasks.put(task)
        return task

    def abandon(self, task: Task[Any], replace: bool = True) -> None:
        """Give up on ``task``; if a thread is stuck in it and ``replace``, another thread
        takes its place so the remaining photos keep their pace."""
        stuck = not task.future.cancel() and not task.future.done()
        if stuck and replace and self._replacements < MAX_REPLACEMENTS:
            self._replacements += 1
            self._start_thread()

    def close(self) -> None:
        """Stop the threads once they finish what they hold; waits for none of them."""
        for _ in range(self._threads):
            self._tasks.put(None)
