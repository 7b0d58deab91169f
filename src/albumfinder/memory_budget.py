"""How many bytes of decoded pixels may be in memory at once, across all decoding threads.

A small file can declare a huge picture (a 437 KB PNG of 15000×15000 16-bit pixels), so
each decode reserves what its pixels will take before decoding, and waits while that would
overrun the budget. Large decodes are admitted one at a time; one larger than the whole
budget still runs, but alone.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

MIB = 1024 * 1024
#: A decode above this size is "large": at most one runs at a time.
LARGE_DECODE_BYTES = 64 * MIB
#: All decodes together stay below this (a decode over it runs alone).
DECODE_BUDGET_BYTES = 768 * MIB
#: How long a decode waits for room before it gives up (a read stuck in the kernel keeps its
#: reservation; without a limit every later large decode, a query's too, would wait for ever).
WAIT_S = 30.0


class BudgetTimeout(TimeoutError):
    """No room in the budget came within the wait."""


class MemoryBudget:
    def __init__(
        self, capacity: int = DECODE_BUDGET_BYTES, large: int = LARGE_DECODE_BYTES
    ) -> None:
        self.capacity = capacity
        self.large = large
        self._lock = threading.Condition()
        self.in_use = 0
        self.holders = 0
        self.large_holders = 0
        #: the most bytes and large decodes ever held at once (the budget's own accounting)
        self.peak_in_use = 0
        self.peak_large_holders = 0

    def _admits(self, nbytes: int, is_large: bool) -> bool:
        if self.holders == 0:
            return True
        if is_large and self.large_holders:
            return False
        return self.in_use + nbytes <= self.capacity

    @contextlib.contextmanager
    def reserve(self, nbytes: int, timeout: float | None = None) -> Iterator[None]:
        """Hold ``nbytes`` of the budget for the duration (waits until they fit; raises
        :class:`BudgetTimeout` after ``timeout`` seconds, default :data:`WAIT_S`)."""
        is_large = nbytes > self.large
        wait = WAIT_S if timeout is None else timeout
        with self._lock:
            if not self._lock.wait_for(lambda: self._admits(nbytes, is_large), wait):
                raise BudgetTimeout(f"no room for {nbytes} bytes of pixels in {wait} s")
            self.in_use += nbytes
            self.holders += 1
            self.large_holders += is_large
            self.peak_in_use = max(self.peak_in_use, self.in_use)
            self.peak_large_holders = max(self.peak_large_holders, self.large_holders)
        try:
            yield
        finally:
            with self._lock:
                self.in_use -= nbytes
                self.holders -= 1
                self.large_holders -= is_large
                self._lock.notify_all()

    def reset_peaks(self) -> None:
        with self._lock:
            self.peak_in_use = self.in_use
            self.peak_large_holders = self.large_holders


#: The one budget every decode in this process shares (indexing, queries, thumbnails).
DECODE_BUDGET = MemoryBudget()
