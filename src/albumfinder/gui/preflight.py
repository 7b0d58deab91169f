"""Checks made before the QApplication exists: is there a display, and can Qt's X11
platform plugin load? Without them Qt aborts the process (SIGABRT, a core dump) with a
message that names the wrong library; here the user gets one line: what is missing and the
command that installs it.

Only the OS boundary is looked at (environment variables, ``dlopen`` of a library, which
package manager is on PATH), through small functions the tests replace.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SystemLibrary:
    soname: str  # what Qt's xcb plugin is linked against
    debian: str  # the package that holds it on Debian and Ubuntu
    fedora: str  # and on Fedora


# Everything libqxcb.so, libQt6XcbQpa.so and libQt6Gui.so need (readelf -d, PySide6 6.12)
# that the PySide6 wheel does not ship itself.
XCB_LIBRARIES = (
    SystemLibrary("libxcb.so.1", "libxcb1", "libxcb"),
    SystemLibrary("libX11.so.6", "libx11-6", "libX11"),
    SystemLibrary("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb"),
    SystemLibrary("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
    SystemLibrary("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    SystemLibrary("libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
    SystemLibrary("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    SystemLibrary("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"),
    SystemLibrary("libxcb-util.so.1", "libxcb-util1", "xcb-util"),
    SystemLibrary("libxcb-randr.so.0", "libxcb-randr0", "libxcb"),
    SystemLibrary("libxcb-render.so.0", "libxcb-render0", "libxcb"),
    SystemLibrary("libxcb-shape.so.0", "libxcb-shape0", "libxcb"),
    SystemLibrary("libxcb-shm.so.0", "libxcb-shm0", "libxcb"),
    SystemLibrary("libxcb-sync.so.1", "libxcb-sync1", "libxcb"),
    SystemLibrary("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb"),
    SystemLibrary("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb"),
    SystemLibrary("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon"),
    SystemLibrary("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    SystemLibrary("libGL.so.1", "libgl1", "libglvnd-glx"),
    SystemLibrary("libEGL.so.1", "libegl1", "libglvnd-egl"),
    SystemLibrary("libfontconfig.so.1", "libfontconfig1", "fontconfig"),
    SystemLibrary("libfreetype.so.6", "libfreetype6", "freetype"),
    SystemLibrary("libglib-2.0.so.0", "libglib2.0-0", "glib2"),
    SystemLibrary("libdbus-1.so.3", "libdbus-1-3", "dbus-libs"),
)

# Platforms that need no display and no X libraries.
HEADLESS_PLATFORMS = {"offscreen", "minimal", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}


def loadable(soname: str) -> bool:
    """Whether the dynamic loader finds ``soname`` (as Qt's plugin loader will)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def package_manager() -> str | None:
    for tool in ("apt-get", "dnf"):
        if shutil.which(tool):
            return tool
    return None


def qt_platform(env: Mapping[str, str]) -> str:
    """The platform plugin Qt will try first: QT_QPA_PLATFORM's first entry, else Wayland in
    a Wayland session, else X11 (xcb)."""
    chosen = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    if env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE", "wayland") == "wayland":
        return "wayland"
    return "xcb"


def install_command(missing: list[SystemLibrary], manager: str | None) -> str:
    debian = " ".join(dict.fromkeys(lib.debian for lib in missing))
    fedora = " ".join(dict.fromkeys(lib.fedora for lib in missing))
    if manager == "apt-get":
        return f"sudo apt install {debian}"
    if manager == "dnf":
        return f"sudo dnf install {fedora}"
    return f"sudo apt install {debian} (Debian, Ubuntu) or sudo dnf install {fedora} (Fedora)"


def problem(env: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why the desktop app cannot start here, in one line, or None when it can."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if not platform.startswith("linux"):
        return None
    chosen = qt_platform(env)
    if chosen in HEADLESS_PLATFORMS:
        return None
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return (
            "Album Finder cannot start: there is no display (neither DISPLAY nor "
            "WAYLAND_DISPLAY is set). Start it from a desktop session, or use albumfinder-cli."
        )
    if chosen == "wayland" or not env.get("DISPLAY"):
        return None  # Wayland: Qt's X11 libraries are not needed
    if chosen != "xcb":
        return None
    missing = [lib for lib in XCB_LIBRARIES if not loadable(lib.soname)]
    if not missing:
        return None
    names = ", ".join(lib.soname for lib in missing)
    return (
        f"Album Finder cannot start: Qt's X11 support needs {names}, which "
        f"{'is' if len(missing) == 1 else 'are'} not installed. Install with: "
        f"{install_command(missing, package_manager())}"
    )
