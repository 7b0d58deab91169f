"""`albumfinder` before the window: its own options only, and a clear line instead of a
Qt abort when there is no display or Qt's X11 libraries are missing. Only the OS boundary
is faked: the environment, the dynamic loader, the package manager on PATH."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from albumfinder import __version__
from albumfinder.gui import app, preflight

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _run_app(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``python -m albumfinder ARGS`` in a fresh process (a hang would fail the test)."""
    full = {**env, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "albumfinder", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _desktop_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env.update(extra)
    return env


def test_version_prints_and_exits():
    done = _run_app("--version", env=_desktop_env(QT_QPA_PLATFORM="offscreen"))
    assert (done.returncode, done.stdout.strip()) == (0, f"albumfinder {__version__}")


def test_an_unknown_option_is_an_error_not_a_qt_argument():
    done = _run_app("--no-such-option", env=_desktop_env(QT_QPA_PLATFORM="offscreen"))
    assert done.returncode == 2
    assert "unrecognized arguments: --no-such-option" in done.stderr


def test_no_display_is_one_clear_line_and_exit_1(tmp_path):
    done = _run_app(env=_desktop_env(ALBUMFINDER_HOME=str(tmp_path / "home")))
    assert done.returncode == 1  # not a SIGABRT from Qt
    [line] = done.stderr.strip().splitlines()
    assert "no display" in line and "DISPLAY" in line


@pytest.fixture
def x11_session(monkeypatch):
    """A Linux X11 session: DISPLAY set, Qt left to choose its platform."""
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)


def _without(monkeypatch, *sonames: str) -> None:
    monkeypatch.setattr(preflight, "loadable", lambda soname: soname not in sonames)


@pytest.mark.parametrize(
    ("manager", "command"),
    [
        ("apt-get", "sudo apt install libxcb-icccm4 libxcb-keysyms1"),
        ("dnf", "sudo dnf install xcb-util-wm xcb-util-keysyms"),
        (None, "sudo apt install libxcb-icccm4 libxcb-keysyms1 (Debian, Ubuntu) or sudo dnf"),
    ],
)
def test_missing_xcb_libraries_are_named_with_the_install_command(
    x11_session, monkeypatch, capsys, manager, command
):
    _without(monkeypatch, "libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    monkeypatch.setattr(preflight.shutil, "which", lambda tool: tool if tool == manager else None)
    assert app.main([]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in line
    assert command in line


def test_all_libraries_present_means_no_problem(x11_session, monkeypatch):
    _without(monkeypatch)
    assert preflight.problem() is None


def test_the_real_loader_finds_a_library_that_is_there_and_not_one_that_is_not():
    assert preflight.loadable("libc.so.6")
    assert not preflight.loadable("libalbumfinder-no-such-library.so.9")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"QT_QPA_PLATFORM": "offscreen"}, None),
        ({"QT_QPA_PLATFORM": "minimal"}, None),
        ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, None),
        ({"QT_QPA_PLATFORM": "xcb"}, "no display"),
        ({}, "no display"),
    ],
)
def test_which_sessions_need_a_display_and_the_x11_libraries(env, expected):
    found = preflight.problem(env=env, platform="linux")
    assert (found is None) if expected is None else (expected in found)
    assert preflight.problem(env={}, platform="darwin") is None
