"""Opening a result reaches a real viewer, never Album Finder itself, and says so with Copy
Path when the system has no viewer or file manager; the menu entry never makes Album Finder
anybody's default. Only the OS boundary is faked: the freedesktop application lookup
(reveal.DESKTOP), QDesktopServices.openUrl, the D-Bus session bus; XDG folders in tmp."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtDBus import QDBusConnection
from PySide6.QtGui import QDesktopServices, QGuiApplication

from albumfinder.gui import reveal
from albumfinder.gui.result_strip import PATH_ROLE

from gui_support import drop_files, index_folder
from photo_factory import make_album


class FakeDesktopApps(reveal.DesktopApps):
    """The desktop's application registry: a default and the registered apps per type."""

    def __init__(self, default: str | None, registered: list[str]) -> None:
        self.default, self.registered = default, registered
        self.launched: list[tuple[str, str]] = []

    def default_app(self, mime):
        return self.default

    def registered_apps(self, mime):
        return list(self.registered)

    def launch(self, app_id, path):
        self.launched.append((app_id, path))
        return True


@pytest.fixture
def opened(monkeypatch):
    """QDesktopServices.openUrl recorded; ``answer`` says whether a launcher was found."""
    urls: list[str] = []
    state = {"answer": True}

    def fake_open(url):
        urls.append(QUrl(url).toLocalFile())
        return state["answer"]

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(fake_open))
    monkeypatch.setattr(sys, "platform", "linux")
    fake_open.state = state
    return urls, state


def _click_first_result(qtbot, window, tmp_path):
    album = tmp_path / "album"
    make_album(album, 3)
    index_folder(qtbot, window, album)
    with qtbot.waitSignal(window.searchFinished, timeout=60_000):
        drop_files(window.drop_zone, album / "photo_000.jpg")
    strip = window.strip
    rect = strip.visualItemRect(strip.item(0))
    qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    return strip.item(0).data(PATH_ROLE)


def test_default_viewer_is_used_when_it_is_not_album_finder(
    qtbot, window, tmp_path, monkeypatch, opened
):
    apps = FakeDesktopApps("org.gnome.eog.desktop", ["org.gnome.eog.desktop"])
    monkeypatch.setattr(reveal, "DESKTOP", apps)
    path = _click_first_result(qtbot, window, tmp_path)
    assert opened[0] == [path] and apps.launched == []
    assert not window.banner.isVisible()


def test_when_album_finder_is_the_default_another_viewer_opens_the_photo(
    qtbot, window, tmp_path, monkeypatch, opened
):
    apps = FakeDesktopApps("albumfinder.desktop", ["albumfinder.desktop", "gimp.desktop"])
    monkeypatch.setattr(reveal, "DESKTOP", apps)
    path = _click_first_result(qtbot, window, tmp_path)
    assert apps.launched == [("gimp.desktop", path)]
    assert opened[0] == []  # not handed to xdg-open, which would start Album Finder again


def _copy_path_button(window):
    [button] = [b for b in window.banner.action_buttons if b.text() == "Copy Path"]
    return button


def test_no_viewer_but_album_finder_says_so_with_copy_path(
    qtbot, window, tmp_path, monkeypatch, opened
):
    apps = FakeDesktopApps("albumfinder.desktop", ["albumfinder.desktop"])
    monkeypatch.setattr(reveal, "DESKTOP", apps)
    path = _click_first_result(qtbot, window, tmp_path)
    assert apps.launched == [] and opened[0] == []
    assert "No viewer" in window.banner.message()
    assert os.path.basename(path) in window.banner.message()
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(_copy_path_button(window), Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == path


def test_a_new_search_clears_the_no_viewer_note_and_its_copy_path(
    qtbot, window, tmp_path, monkeypatch, opened
):
    """A button that is no undo does not keep a note: the next search clears it."""
    from albumfinder.gui.drop_zone import QuerySource

    monkeypatch.setattr(reveal, "DESKTOP", FakeDesktopApps(None, []))
    opened[1]["answer"] = False
    path = _click_first_result(qtbot, window, tmp_path)
    assert "No viewer" in window.banner.message() and _copy_path_button(window) is not None
    with qtbot.waitSignal(window.searchFinished, timeout=60_000):
        window.find(QuerySource("path", path, os.path.basename(path)))
    assert not window.banner.isVisible()


def test_no_launcher_at_all_says_so_with_copy_path(qtbot, window, tmp_path, monkeypatch, opened):
    monkeypatch.setattr(reveal, "DESKTOP", FakeDesktopApps(None, []))
    opened[1]["answer"] = False  # QDesktopServices found no xdg-open, no desktop
    path = _click_first_result(qtbot, window, tmp_path)
    assert opened[0] == [path]
    assert "No viewer" in window.banner.message()
    qtbot.mouseClick(_copy_path_button(window), Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == path


class NoBus:
    def isConnected(self):  # noqa: N802 - Qt's name
        return False


def test_no_file_manager_says_so_with_copy_path(qtbot, window, tmp_path, monkeypatch, opened):
    monkeypatch.setattr(QDBusConnection, "sessionBus", staticmethod(lambda: NoBus()))
    opened[1]["answer"] = False
    path = _click_first_result(qtbot, window, tmp_path)
    opened[1]["answer"] = False
    item = window.strip.item(0)
    [action] = [a for a in window.strip.menu_for(item).actions() if a.text().startswith("Open C")]
    action.trigger()
    assert opened[0][-1] == os.path.dirname(path)
    assert "No file manager" in window.banner.message()
    qtbot.mouseClick(_copy_path_button(window), Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == path


def test_the_real_registry_reads_gio_output(monkeypatch, xdg_home):
    """DesktopApps parses what ``gio mime`` prints (the tool's output is the boundary)."""
    text = (
        "Default application for “image/jpeg”: albumfinder.desktop\n"
        "Registered applications:\n\talbumfinder.desktop\n\torg.gnome.eog.desktop\n"
        "Recommended applications:\n\torg.gnome.eog.desktop\n\tgimp.desktop\n"
    )
    apps = reveal.DesktopApps()
    monkeypatch.setattr(apps, "_output", lambda *args: text if args[0] == "gio" else None)
    assert apps.registered_apps("image/jpeg") == [
        "albumfinder.desktop",
        "org.gnome.eog.desktop",
        "gimp.desktop",
    ]
    assert reveal.other_viewer("image/jpeg", apps) == "org.gnome.eog.desktop"


@pytest.fixture
def xdg_home(tmp_path, monkeypatch):
    """Private XDG data and config folders (user and system) for this test."""
    dirs = {}
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_DATA_DIRS", "XDG_CONFIG_DIRS"):
        folder = tmp_path / name.lower()
        folder.mkdir()
        monkeypatch.setenv(name, str(folder))
        dirs[name] = folder
    monkeypatch.delenv("XDG_CURRENT_DESKTOP", raising=False)
    return dirs


def test_installing_the_menu_entry_changes_no_default_application(xdg_home, tmp_path):
    from albumfinder.gui.app import main

    # the user's own choice, which must stay exactly as it is
    mimeapps = xdg_home["XDG_CONFIG_HOME"] / "mimeapps.list"
    mimeapps.write_text("[Default Applications]\nimage/png=gimp.desktop\n")
    before = mimeapps.read_text()
    assert main(["--install-desktop-entry"]) == 0
    entry = xdg_home["XDG_DATA_HOME"] / "applications" / "albumfinder.desktop"
    assert "Name=Album Finder" in entry.read_text()
    assert not any(line.startswith("MimeType=") for line in entry.read_text().splitlines())
    assert mimeapps.read_text() == before
    assert [p for p in tmp_path.rglob("mimeapps.list")] == [mimeapps]  # no new one
    for cache in tmp_path.rglob("mimeinfo.cache"):  # if update-desktop-database ran
        assert "albumfinder" not in cache.read_text()
    if shutil.which("xdg-mime"):  # what a desktop asks, answered from these folders
        for mime in ("image/jpeg", "image/png", "image/webp"):
            done = subprocess.run(
                ["xdg-mime", "query", "default", mime], capture_output=True, text=True, check=False
            )
            assert "albumfinder" not in done.stdout


def _desktop_entry(folder, name: str, exec_line: str, mime: str = "image/jpeg") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(
        f"[Desktop Entry]\nType=Application\nName={name}\nExec={exec_line}\nMimeType={mime};\n"
    )


@pytest.mark.skipif(
    not (shutil.which("xdg-mime") and shutil.which("gio")), reason="needs xdg-utils and gio"
)
def test_a_desktop_where_album_finder_is_the_default_opens_the_other_viewer(
    xdg_home, tmp_path, qtbot
):
    """The real xdg-mime and gio over XDG folders in tmp: the user made Album Finder the
    default for JPEG; the photo opens in the one other viewer that handles JPEG."""
    apps_dir = xdg_home["XDG_DATA_HOME"] / "applications"
    marker = tmp_path / "viewer-was-started"
    _desktop_entry(apps_dir, "albumfinder.desktop", "true %F")
    _desktop_entry(apps_dir, "viewer.desktop", f"/bin/sh -c 'echo \"$0\" > {marker}' %f")
    (xdg_home["XDG_CONFIG_HOME"] / "mimeapps.list").write_text(
        "[Default Applications]\nimage/jpeg=albumfinder.desktop\n"
    )
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(64))
    apps = reveal.DesktopApps()
    assert apps.default_app("image/jpeg") == "albumfinder.desktop"
    assert reveal.open_file(str(photo), platform="linux") is True
    # gio launch starts the viewer in the background
    qtbot.waitUntil(lambda: marker.exists() and bool(marker.read_text().strip()), timeout=10_000)
    assert marker.read_text().strip() == str(photo)


def test_opening_photos_of_one_type_asks_the_desktop_once(tmp_path, monkeypatch, opened, xdg_home):
    """``xdg-mime`` and ``gio mime`` run on the GUI thread with 5 s timeouts: a second Open
    of the same type reuses their answers (the OS boundary, subprocess, is counted)."""
    asked: list[tuple[str, ...]] = []

    def desktop_tools(args, **_kwargs):
        asked.append(tuple(args[:2]))
        out = (
            "albumfinder.desktop\n"
            if args[0] == "xdg-mime"
            else ("Registered applications:\n\talbumfinder.desktop\n\tviewer.desktop\n")
        )
        return subprocess.CompletedProcess(args, 0, stdout=out, stderr="")

    started: list[list[str]] = []
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(subprocess, "run", desktop_tools)
    monkeypatch.setattr(subprocess, "Popen", lambda args, **_kw: started.append(list(args)))
    _desktop_entry(xdg_home["XDG_DATA_HOME"] / "applications", "viewer.desktop", "viewer %f")
    photos = make_album(tmp_path / "album", 2)
    for photo in photos:
        assert reveal.open_file(str(photo), platform="linux") is True
    assert asked == [("xdg-mime", "query"), ("gio", "mime")]  # once for both photos
    assert [args[-1] for args in started] == [str(p) for p in photos]  # each one opened
    assert opened[0] == []
