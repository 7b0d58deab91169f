"""Text progress for the command line: a bar with rate and ETA on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from albumfinder.report import IndexProgress, Phase, duration_text


class ProgressPrinter:
    """Draws :class:`IndexProgress` events; redraws in place on a terminal, else prints a
    line every few seconds so logs stay readable."""

    def __init__(self, stream: TextIO | None = None, width: int = 28) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_line = 0.0
        self._drawn = False
        self._unprinted: str | None = None  # not a terminal: the latest line not yet shown
        self._counted = False  # not a terminal: a line of count() was printed

    def __call__(self, event: IndexProgress) -> None:
        if event.phase == Phase.SCANNING:
            text = f"Scanning… {event.done:,} photos found" if event.done else "Scanning…"
        elif event.phase == Phase.EMBEDDING:
            text = self._bar(event)
        else:
            if self._unprinted is not None and event.phase == Phase.DONE:
                self.stream.write(self._unprinted + "\n")  # a log ends with where it got to
                self.stream.flush()
            self._unprinted = None
            self.finish()
            return
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
            self._drawn = True
        elif now - self._last_line >= 5.0:
            self.stream.write(text + "\n")
            self.stream.flush()
            self._last_line = now
            self._unprinted = None
        elif event.phase == Phase.EMBEDDING:
            self._unprinted = text

    def _bar(self, event: IndexProgress) -> str:
        fraction = event.done / event.total if event.total else 1.0
        filled = int(self.width * fraction)
        bar = "█" * filled + "·" * (self.width - filled)
        skipped = f", {event.skipped} skipped" if event.skipped else ""
        return (
            f"Indexing {bar} {event.done}/{event.total} "
            f"{event.rate:.1f} photos/s, ETA {duration_text(event.eta_s, clock=True)}{skipped}"
        )

    def count(self, what: str, done: int, total: int) -> None:
        """Progress of a run over ``total`` items (e.g. the photos of a query folder):
        redrawn on a terminal, a line every few seconds (and the last one) in a log."""
        text = f"{what}… {done:,}/{total:,}"
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r\033[K" + text)
            self._drawn = True
        elif not self._last_line:  # a log hears of a run only once it has lasted 5 s
            self._last_line = now
        elif now - self._last_line >= 5.0 or (done == total and self._counted):
            self.stream.write(text + "\n")
            self._last_line = now
            self._counted = True
        self.stream.flush()

    def download(self, done: int, total: int) -> None:
        """Progress of a weights download."""
        if total:
            text = (
                f"Downloading weights… {done / 1e6:.1f} / {total / 1e6:.1f} MB "
                f"({100 * done / total:.0f}%)"
            )
        else:
            text = f"Downloading weights… {done / 1e6:.1f} MB"
        if self.tty:
            self.stream.write("\r\033[K" + text)
            self._drawn = True
            self.stream.flush()

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
