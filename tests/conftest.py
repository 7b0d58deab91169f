"""Shared test set-up: every test gets its own Album Finder home (index, cache, config),
so nothing touches the user's real directories, and Qt runs offscreen."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("ALBUMFINDER_OFFLINE", "1")  # never probe the internet from tests


@pytest.fixture(autouse=True)
def album_home(tmp_path, monkeypatch):
    """A private ALBUMFINDER_HOME for each test."""
    home = tmp_path / "albumfinder-home"
    monkeypatch.setenv("ALBUMFINDER_HOME", str(home))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    # the desktop's own settings (default applications, menu entries) stay the user's
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    return home


@pytest.fixture(scope="session")
def warm_model():
    """The built-in model, loaded once for the session (the app, too, keeps a loaded model
    for the life of the process)."""
    from albumfinder.gui.engine import get_embedder

    return get_embedder("builtin")


@pytest.fixture
def window(qtbot, warm_model):
    """The app's real main window over a real Library in this test's own home."""
    from albumfinder.gui.main_window import MainWindow
    from albumfinder.library import Library

    library = Library()
    win = MainWindow(library)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    library.close()
