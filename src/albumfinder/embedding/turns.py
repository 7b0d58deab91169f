"""Forward passes take turns per device, and a waiting urgent one goes first."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class Turns:
    """Forward passes take turns, and a waiting urgent one goes first.

    A query dropped while the album is being indexed waits for the batch that is running,
    never for the rest of the run (a plain lock is not fair: the indexer, which asks again
    at once, could win it batch after batch).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._urgent_waiting = 0

    @contextlib.contextmanager
    def turn(self, urgent: bool = False) -> Iterator[None]:
        with self._cond:
            self._urgent_waiting += urgent
            try:
                self._cond.wait_for(lambda: not self._busy and (urgent or not self._urgent_waiting))
            finally:
                self._urgent_waiting -= urgent
                self._cond.notify_all()  # an urgent waiter that gave up unblocks the others
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()


_TURNS: dict[str, Turns] = {}
_TURNS_LOCK = threading.Lock()


def turns_for(device: str) -> Turns:
    """The one :class:`Turns` of ``device``, shared by every model that runs on it."""
    with _TURNS_LOCK:
        return _TURNS.setdefault(device, Turns())
