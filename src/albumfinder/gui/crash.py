"""Unhandled exceptions: written to a crash log under :func:`paths.log_dir` and shown in a
dialog instead of silently killing the app (after qutebrowser's ``crashsignal``)."""

from __future__ import annotations

import datetime
import logging
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from albumfinder import paths
from albumfinder.gui.plain_text import PLAIN

log = logging.getLogger("albumfinder.gui")


def write_crash_log(exc_type, exc, tb, where: str = "main thread") -> Path | None:
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        path = paths.log_dir() / f"crash-{stamp}.log"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"Album Finder crash in {where} at {stamp}\n")
            handle.write(f"Python {sys.version}\n\n{text}\n")
        return path
    except OSError:
        return None


class CrashHandler(QObject):
    """Install with :meth:`install`; exceptions from any thread end up in :meth:`show`."""

    crashed = Signal(str, str)  # summary, log path

    def __init__(self) -> None:
        super().__init__()
        self.crashed.connect(self.show, Qt.ConnectionType.QueuedConnection)
        self._previous = (sys.excepthook, threading.excepthook)
        self.showing = False

    def install(self) -> None:
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def excepthook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        self._report(exc_type, exc, tb, "main thread")

    def thread_excepthook(self, args) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        self._report(args.exc_type, args.exc_value, args.exc_traceback, name)

    def _report(self, exc_type, exc, tb, where: str) -> None:
        log.error("unhandled exception in %s", where, exc_info=(exc_type, exc, tb))
        path = write_crash_log(exc_type, exc, tb, where)
        summary = "".join(traceback.format_exception_only(exc_type, exc)).strip()
        self.crashed.emit(summary, str(path) if path else "")

    def show(self, summary: str, log_path: str) -> None:
        if self.showing:  # one dialog at a time; the rest are in the log
            return
        self.showing = True
        try:
            box = QMessageBox(QApplication.activeWindow())
            box.setIcon(QMessageBox.Icon.Critical)
            box.setWindowTitle("Album Finder: unexpected error")
            box.setTextFormat(PLAIN)  # an exception's text and a path: as written
            box.setText("Something went wrong. Album Finder keeps running.")
            where = f"\n\nDetails were written to:\n{log_path}" if log_path else ""
            box.setInformativeText(f"{summary}{where}")
            informative = box.findChild(QLabel, "qt_msgbox_informativelabel")
            if informative is not None:
                informative.setTextFormat(PLAIN)
            box.exec()
        finally:
            self.showing = False
