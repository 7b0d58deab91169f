"""`albumfinder --install-desktop-entry`: put Album Finder in a Linux desktop's menu.

Writes ``albumfinder.desktop`` to ``$XDG_DATA_HOME/applications`` (default
``~/.local/share``) and the icon into the hicolor theme there, at every PNG size and as SVG.

The entry lists no ``MimeType``: a handler entry in the user's own applications folder is
what ``xdg-mime``, GIO and file managers take as the default viewer when the user has set
none, so Album Finder would open every photo double-clicked anywhere. It never touches
``mimeapps.list`` either. Reinstalling over an older entry that claimed the photo types
takes the claim back (the desktop database is rebuilt).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME")
    return Path(value).expanduser() if value else Path.home() / ".local" / "share"


def launch_command() -> str:
    """How the menu starts the app: the ``albumfinder`` script beside this Python if there
    is one (a venv), else on PATH, else ``python -m albumfinder``."""
    beside = Path(sys.executable).with_name("albumfinder")
    if beside.is_file() and os.access(beside, os.X_OK):
        return shlex.quote(str(beside))
    found = shutil.which("albumfinder")
    if found:
        return shlex.quote(found)
    return f"{shlex.quote(sys.executable)} -m albumfinder"


def desktop_file_text() -> str:
    template = (resources.files("albumfinder") / "resources" / "albumfinder.desktop").read_text(
        encoding="utf-8"
    )
    command = launch_command()
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={command} %F"
        elif line.startswith("TryExec="):
            continue  # the command may carry arguments
        lines.append(line)
    return "\n".join(lines) + "\n"


def install(base: Path | None = None) -> list[str]:
    """Install the entry and icons; returns what was written, one line each."""
    base = base or data_home()
    folder = resources.files("albumfinder") / "resources"
    written = []
    apps = base / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    entry = apps / "albumfinder.desktop"
    entry.write_text(desktop_file_text(), encoding="utf-8")
    written.append(str(entry))
    hicolor = base / "icons" / "hicolor"
    for size in SIZES:
        png = folder / f"albumfinder-{size}.png"
        if png.is_file():
            target = hicolor / f"{size}x{size}" / "apps" / "albumfinder.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(png.read_bytes())
            written.append(str(target))
    svg = hicolor / "scalable" / "apps" / "albumfinder.svg"
    svg.parent.mkdir(parents=True, exist_ok=True)
    svg.write_bytes((folder / "albumfinder.svg").read_bytes())
    written.append(str(svg))
    for tool, arg in (("update-desktop-database", apps), ("gtk-update-icon-cache", hicolor)):
        if shutil.which(tool):
            subprocess.run([tool, "-q", str(arg)], check=False, capture_output=True)  # noqa: S603
    return written
