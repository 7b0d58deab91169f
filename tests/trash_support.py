"""The system trash of a test: a freedesktop trash in the test's own folder, on the same disk
as its album (Send2Trash moves a photo to the home trash when it is on the home's disk)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest


def redirect_trash(tmp_path: Path, monkeypatch) -> Path:
    """Point HOME and XDG_DATA_HOME into ``tmp_path``; the trash folder (made on first use).

    Send2Trash's freedesktop code reads XDG_DATA_HOME once, when it is imported, so it is
    read again here for this test's value (the real app sets nothing at run time)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the test trash is a freedesktop one (Linux)")
    import send2trash
    import send2trash.plat_other as plat_other

    if send2trash.send2trash.__module__ != plat_other.__name__:
        pytest.skip("Send2Trash uses GIO here, which reads XDG_DATA_HOME once per process")
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    data = tmp_path / "xdg-data"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    importlib.reload(plat_other)  # in place: send2trash.send2trash sees the new globals
    return data / "Trash"


def trash_entries(trash: Path) -> dict[str, bytes]:
    """name -> content of what the trash holds."""
    files = trash / "files"
    return {p.name: p.read_bytes() for p in files.iterdir()} if files.is_dir() else {}


def trash_notes(trash: Path) -> list[str]:
    """The .trashinfo texts of the trash."""
    info = trash / "info"
    return sorted(p.read_text() for p in info.iterdir()) if info.is_dir() else []
