"""A guard against a reference-counting bug of PySide6 6.12.0 under CPython 3.11: every Qt
method that returns nothing hands back ``None`` without the reference it owes (measured:
``sys.getrefcount(None)`` drops by one a call, for QPainter.save, setPen, drawImage,
QColor.setAlpha, QWidget.setEnabled…). After as many such calls as ``None`` has references
(a few thousand at start-up) CPython frees ``None`` and aborts ("none_dealloc: deallocating
None"): the map, which makes thousands of painter calls a frame, brought that down within
seconds. CPython 3.12 made ``None`` immortal for this very kind of bug; here it is made as
good as immortal by giving it 2**40 references once (nothing ever frees ``None``)."""

from __future__ import annotations

import ctypes
import sys

SPARE_REFERENCES = 1 << 40
_done = False


def qt_leaks_none() -> bool:
    """Whether a void Qt call drops a reference to ``None`` (the bug above)."""
    from PySide6.QtGui import QColor

    color = QColor(0, 0, 0)
    before = sys.getrefcount(None)
    for _ in range(16):
        color.setAlpha(255)
    return sys.getrefcount(None) < before - 8


def keep_none_alive() -> bool:
    """Make ``None`` outlive any number of leaked references, once per process, where the
    bug is present (CPython before 3.12). Whether it was needed."""
    global _done
    if _done:
        return True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False  # None is immortal there
    if not qt_leaks_none():
        return False
    refcount = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt: a PyObject's first field
    refcount.value += SPARE_REFERENCES
    _done = True
    return True
