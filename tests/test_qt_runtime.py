"""The Qt binding the app runs on must not leak references: PySide6 6.12.0 under CPython
3.11 hands back ``None`` without its reference from every method that returns nothing, and
CPython aborts once ``None`` runs out ("deallocating None") — after a few thousand painter
calls, so any window that paints for a while would crash. pyproject.toml excludes it."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import sys
from PySide6.QtGui import QColor
color = QColor(0, 0, 0)
before = sys.getrefcount(None)
for _ in range(20000):
    color.setAlpha(255)
print(before - sys.getrefcount(None))
"""


def test_void_qt_calls_keep_their_reference_to_none():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]  # an abort is -6
    assert int(done.stdout.strip()) < 100  # none lost (a few may go to caches)
