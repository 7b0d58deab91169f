"""Open a photo, or show it in its folder, with what the platform offers.

After TagStudio's ``file_opener``: ``explorer /select,`` on Windows, ``open -R`` on macOS,
and on Linux the freedesktop ``org.freedesktop.FileManager1.ShowItems`` D-Bus call, with the
folder opened through QDesktopServices when no file manager answers it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

log = logging.getLogger("albumfinder.gui")

FM_SERVICE = "org.freedesktop.FileManager1"
FM_PATH = "/org/freedesktop/FileManager1"


def open_file(path: str) -> bool:
    """Open ``path`` in the system's viewer for it."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def _show_items_dbus(path: str) -> bool:
    """Ask the desktop's file manager to show ``path`` selected; False if none answered."""
    from PySide6.QtDBus import QDBusConnection, QDBusMessage

    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    message = QDBusMessage.createMethodCall(FM_SERVICE, FM_PATH, FM_SERVICE, "ShowItems")
    message.setArguments([[QUrl.fromLocalFile(path).toString()], ""])
    reply = bus.call(message, timeout=2000)
    return reply.type() == QDBusMessage.MessageType.ReplyMessage


def reveal_file(path: str, platform: str | None = None) -> bool:
    """Open the folder holding ``path``, with the file selected where the platform allows."""
    platform = platform or sys.platform
    path = os.path.abspath(path)
    try:
        if platform.startswith("win"):
            subprocess.Popen(["explorer", f"/select,{os.path.normpath(path)}"])  # noqa: S603
            return True
        if platform == "darwin":
            subprocess.Popen(["open", "-R", path])  # noqa: S603, S607
            return True
        if _show_items_dbus(path):
            return True
    except OSError:
        log.warning("could not reveal %s", path, exc_info=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path)))
