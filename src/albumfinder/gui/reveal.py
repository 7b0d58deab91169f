"""Open a photo, or show it in its folder, with what the platform offers.

After TagStudio's ``file_opener``: ``explorer /select,`` on Windows, ``open -R`` on macOS,
and on Linux the freedesktop ``org.freedesktop.FileManager1.ShowItems`` D-Bus call, with the
folder opened through QDesktopServices when no file manager answers it.

On Linux a photo never opens in Album Finder itself: when the desktop's default application
for its type is Album Finder (a user's choice, or an old menu entry that claimed the types),
another application registered for the type opens it. Both return False when nothing could
be started, so the window can say so.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import QMimeDatabase, QUrl
from PySide6.QtGui import QDesktopServices

log = logging.getLogger("albumfinder.gui")

FM_SERVICE = "org.freedesktop.FileManager1"
FM_PATH = "/org/freedesktop/FileManager1"


SELF_DESKTOP_ID = "albumfinder.desktop"
TOOL_TIMEOUT_S = 5
#: how long an answer of ``xdg-mime``/``gio mime`` is reused: each call may take up to
#: TOOL_TIMEOUT_S on the GUI thread, so a type is looked up once, not on every Open
ANSWER_REUSE_S = 300.0
#: what the desktop's answers depend on besides the question
_XDG_ENV: tuple[str, ...] = ("HOME", "XDG_DATA_HOME", "XDG_DATA_DIRS", "XDG_CONFIG_HOME")
_XDG_ENV += ("XDG_CONFIG_DIRS", "XDG_CURRENT_DESKTOP")
_answers: dict[tuple[tuple[str, ...], tuple[str | None, ...]], tuple[float, str | None]] = {}


class DesktopApps:
    """The freedesktop boundary: which applications open a type, and starting one (through
    ``xdg-mime`` and ``gio``). Tests replace :data:`DESKTOP` with a fake."""

    def _output(self, *args: str) -> str | None:
        """What the tool ``args`` prints (None: no tool, or it failed), asked once per
        :data:`ANSWER_REUSE_S` for the same question and desktop settings."""
        key = (args, tuple(os.environ.get(name) for name in _XDG_ENV))
        now = time.monotonic()
        known = _answers.get(key)
        if known is not None and now - known[0] < ANSWER_REUSE_S:
            return known[1]
        answer = self._run(*args)
        _answers[key] = (now, answer)
        return answer

    def _run(self, *args: str) -> str | None:
        if shutil.which(args[0]) is None:
            return None
        try:
            done = subprocess.run(  # noqa: S603
                args, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    def default_app(self, mime: str) -> str | None:
        """The desktop file id of the default application for ``mime``, if one is set."""
        answer = (self._output("xdg-mime", "query", "default", mime) or "").strip()
        return answer or None

    def registered_apps(self, mime: str) -> list[str]:
        """Desktop file ids of the applications registered for ``mime``: what ``gio mime``
        lists (from the desktop database), then any desktop file that names the type (a
        folder without a database, as ``xdg-mime`` reads them)."""
        text = self._output("gio", "mime", mime) or ""
        apps, listing = [], False
        for line in text.splitlines():
            if line.strip().endswith(":"):
                listing = line.strip().startswith(("Registered", "Recommended"))
            elif listing and line.strip().endswith(".desktop"):
                apps.append(line.strip())
        apps += [entry.name for entry in self._desktop_files() if _handles(entry, mime)]
        return list(dict.fromkeys(apps))

    def _application_dirs(self) -> list[Path]:
        homes = [os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")]
        homes += (os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":")
        return [Path(home) / "applications" for home in homes if home]

    def _desktop_files(self) -> list[Path]:
        found: dict[str, Path] = {}
        for folder in self._application_dirs():
            try:
                entries = sorted(folder.glob("*.desktop"))
            except OSError:
                continue
            for entry in entries:
                found.setdefault(entry.name, entry)  # the first folder wins, as in XDG
        return list(found.values())

    def desktop_file(self, app_id: str) -> Path | None:
        for folder in self._application_dirs():
            if (folder / app_id).is_file():
                return folder / app_id
        return None

    def launch(self, app_id: str, path: str) -> bool:
        """Start the application ``app_id`` on ``path``."""
        desktop = self.desktop_file(app_id)
        if desktop is None or shutil.which("gio") is None:
            return False
        try:
            subprocess.Popen(["gio", "launch", str(desktop), path])  # noqa: S603, S607
        except OSError:
            return False
        return True


DESKTOP = DesktopApps()


def _handles(entry: Path, mime: str) -> bool:
    """Whether the desktop file ``entry`` lists ``mime`` and is not hidden."""
    try:
        text = entry.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    lines = [line.strip() for line in text.splitlines()]
    if "Hidden=true" in lines:
        return False
    types = [line[len("MimeType=") :].split(";") for line in lines if line.startswith("MimeType=")]
    return any(mime in found for found in types)


def other_viewer(mime: str, apps: DesktopApps) -> str | None:
    """The first application registered for ``mime`` that is not Album Finder, if any."""
    others = [app for app in apps.registered_apps(mime) if app != SELF_DESKTOP_ID]
    return others[0] if others else None


def open_file(path: str, platform: str | None = None, apps: DesktopApps | None = None) -> bool:
    """Open ``path`` in a viewer for it, never in Album Finder itself; False if none could
    be started."""
    platform = platform or sys.platform
    url = QUrl.fromLocalFile(path)
    if not platform.startswith("linux"):
        return QDesktopServices.openUrl(url)
    apps = apps or DESKTOP
    mime = QMimeDatabase().mimeTypeForFile(path).name()
    if apps.default_app(mime) != SELF_DESKTOP_ID:
        return QDesktopServices.openUrl(url)
    viewer = other_viewer(mime, apps)
    if viewer is None:
        log.warning("no viewer for %s but Album Finder itself", mime)
        return False
    return apps.launch(viewer, path)


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
