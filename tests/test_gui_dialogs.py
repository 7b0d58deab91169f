"""The weights dialog, the model chooser, the file dialogs and the Skipped dialog, through
the real window: what a new user meets when a weights file is bad, offline, or a photo
could not be read."""

from __future__ import annotations

import socket

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QLabel

from albumfinder import paths
from albumfinder.gui.model_dialog import WeightsDialog
from albumfinder.gui.settings import Settings
from albumfinder.models import get_spec

from gui_support import drop_files, index_folder
from helpers_models import save_dinov2_checkpoint
from photo_factory import make_album, make_photo

SMALL = get_spec("dinov2-small")
NO_CONNECTION = "No internet connection: could not reach the download server"


def _choose_in_combo(window, name: str) -> None:
    """Pick ``name`` in the model chooser, as a click does (``activated``)."""
    row = window.model_combo.findData(name)
    window.model_combo.setCurrentIndex(row)
    window.model_combo.activated.emit(row)


def _assert_laid_out(dialog) -> None:
    """Every visible child fits inside the dialog, wrapped text gets the height it needs,
    and no two of them overlap."""
    dialog.layout().activate()
    widgets = [
        w
        for w in dialog.findChildren(QLabel)
        + [getattr(dialog, name) for name in ("details", "details_button") if hasattr(dialog, name)]
        if w.isVisible() and w.parent() is dialog
    ]
    widgets += [dialog.download_button, dialog.choose_button, dialog.cancel_button]
    for w in widgets:
        assert dialog.rect().contains(w.geometry()), w
        if isinstance(w, QLabel) and w.wordWrap() and w.text():
            assert w.height() >= w.heightForWidth(w.width()), w.text()
    for i, a in enumerate(widgets):
        for b in widgets[i + 1 :]:
            assert not a.geometry().intersects(b.geometry()), (a, b)


def test_a_damaged_remembered_file_is_forgotten_and_the_dialog_comes_back(qtbot, window, tmp_path):
    album = tmp_path / "album"
    make_album(album, 3)
    index_folder(qtbot, window, album)
    damaged = tmp_path / "Downloads" / SMALL.weights_filename
    damaged.parent.mkdir()
    damaged.write_bytes(b"\x80\x02 half a download" * 1000)
    window.settings.set_model_path("dinov2-small", str(damaged))  # chosen once, remembered

    _choose_in_combo(window, "dinov2-small")
    qtbot.waitUntil(
        lambda: (
            getattr(window, "weights_dialog", None) is not None
            and window.weights_dialog.isVisible()
        ),
        timeout=60_000,
    )
    dialog = window.weights_dialog
    assert window.settings.model_path("dinov2-small") is None  # forgotten
    assert "did not work" in dialog.status.text()
    assert "damaged" in dialog.status.text()
    assert not dialog.details.isVisible() and dialog.details_button.isVisible()
    assert str(damaged) not in dialog.status.text()  # the technical part is behind Details
    dialog.details_button.click()
    assert dialog.details.isVisible() and "PyTorch" in dialog.details.toPlainText()
    _assert_laid_out(dialog)
    dialog.reject()
    assert window.model_combo.currentData() == "builtin"

    _choose_in_combo(window, "dinov2-small")  # again: the dialog, not the same error
    qtbot.waitUntil(lambda: window.weights_dialog is not dialog, timeout=5_000)
    assert window.weights_dialog.isVisible()
    window.weights_dialog.reject()


def _weights_dialog_shown(window) -> bool:
    dialog = getattr(window, "weights_dialog", None)
    return dialog is not None and dialog.isVisible()


def test_a_damaged_remembered_file_is_found_when_there_is_nothing_to_embed(qtbot, window, tmp_path):
    """An empty album embeds nothing, so indexing never needs the model: the weights are
    still tried before the switch, and fail here, not at every later search."""
    damaged = tmp_path / "Downloads" / SMALL.weights_filename
    damaged.parent.mkdir()
    damaged.write_bytes(b"\x80\x02 half a download" * 1000)
    window.settings.set_model_path("dinov2-small", str(damaged))
    switched: list[str] = []
    window.engine.modelChanged.connect(switched.append)

    _choose_in_combo(window, "dinov2-small")
    qtbot.waitUntil(lambda: _weights_dialog_shown(window), timeout=60_000)
    assert window.settings.model_path("dinov2-small") is None  # forgotten
    assert "damaged" in window.weights_dialog.status.text()
    assert window.engine.model == "builtin" and switched == []
    window.weights_dialog.reject()
    assert window.model_combo.currentData() == "builtin"


def test_weights_damaged_after_indexing_answer_album_photos_and_bring_the_dialog_back(
    qtbot, window, tmp_path
):
    """DINOv2 in use, its file damaged since: a search of an album photo needs no model
    (its stored vector answers); one that needs the model brings the weights dialog
    back, and so does choosing the model again when the album is indexed for it."""
    album = tmp_path / "album"
    make_album(album, 3)
    index_folder(qtbot, window, album)
    hub = save_dinov2_checkpoint(paths.torch_hub_checkpoints_dir() / SMALL.weights_filename)
    switched: list[str] = []
    window.engine.modelChanged.connect(switched.append)
    window.select_model("dinov2-small")
    qtbot.waitUntil(lambda: switched == ["dinov2-small"], timeout=120_000)
    hub.write_bytes(b"\x80\x02 overwritten" * 1000)  # damaged on disk since

    with qtbot.waitSignal(window.searchFinished, timeout=60_000) as indexed:
        drop_files(window.drop_zone, album / "photo_001.jpg")
    assert indexed.args[0]  # answered
    assert not _weights_dialog_shown(window)  # the model was never loaded

    outside = tmp_path / "query.jpg"
    make_photo(101).save(outside, quality=90)
    with qtbot.waitSignal(window.searchFinished, timeout=60_000) as needs_model:
        drop_files(window.drop_zone, outside)
    assert needs_model.args[0] is None
    qtbot.waitUntil(lambda: _weights_dialog_shown(window), timeout=10_000)
    assert "damaged" in window.weights_dialog.status.text()
    window.weights_dialog.reject()

    window.select_model("builtin")
    qtbot.waitUntil(lambda: switched[-1:] == ["builtin"], timeout=60_000)
    _choose_in_combo(window, "dinov2-small")  # indexed for it already: nothing to embed
    qtbot.waitUntil(lambda: _weights_dialog_shown(window), timeout=60_000)
    assert window.engine.model == "builtin" and switched[-1] == "builtin"
    window.weights_dialog.reject()


def test_weights_dialog_after_a_failed_download_fits_its_message(qtbot, window, monkeypatch):
    monkeypatch.delenv("ALBUMFINDER_OFFLINE")
    with socket.socket() as sock:  # a port nobody listens on: "no internet"
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("ALBUMFINDER_WEIGHTS_MIRROR", f"http://127.0.0.1:{port}")
    dialog = WeightsDialog(window.engine, "dinov2-small", window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    _assert_laid_out(dialog)
    dialog.download()
    qtbot.waitUntil(lambda: dialog.choose_button.isEnabled(), timeout=30_000)
    _assert_laid_out(dialog)
    assert dialog.status.text().startswith(NO_CONNECTION)
    assert f"127.0.0.1:{port}" in dialog.details.toPlainText()
    assert not dialog.details.isVisible()
    _assert_laid_out(dialog)
    collapsed = dialog.height()
    dialog.details_button.click()
    assert dialog.details.isVisible()
    _assert_laid_out(dialog)
    assert dialog.height() > collapsed  # grew to show the details
    dialog.details_button.click()
    _assert_laid_out(dialog)


def test_the_model_chooser_says_which_models_need_a_download(window):
    titles = {
        window.model_combo.itemData(i): window.model_combo.itemText(i)
        for i in range(window.model_combo.count())
    }
    assert titles["builtin"] == "Built-in (offline)"
    assert titles["dinov2-small"] == f"{SMALL.title} · download 88 MB"
    assert titles["dinov2-giant"].endswith("download 4.5 GB")
    save_dinov2_checkpoint(paths.weights_dir() / SMALL.weights_filename)
    window.refresh_model_titles()
    assert window.model_combo.itemText(window.model_combo.findData("dinov2-small")) == SMALL.title


@pytest.fixture
def user_home(tmp_path, monkeypatch):
    """A home of its own, and a working directory that is not in it."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    elsewhere = tmp_path / "started-here"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return home


def test_file_dialogs_start_in_pictures_then_where_the_user_was(
    qtbot, window, user_home, tmp_path, monkeypatch
):
    asked: list[str] = []

    def native_open(_parent, _title, folder, _filter=""):  # the platform's file dialog
        asked.append(folder)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", native_open)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda _p, _t, d: asked.append(d))
    window.open_photo()
    assert asked[-1] == str(user_home)  # no Pictures folder: home, not the working directory
    (user_home / "Pictures").mkdir()
    window.open_photo()
    window.choose_folder()
    assert asked[-2:] == [str(user_home / "Pictures")] * 2

    photos = tmp_path / "album" / "2024"
    make_album(photos, 1)
    chosen = str(photos / "photo_000.jpg")
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *_a: (asked.append(_a[2]), (chosen, ""))[1]
    )
    window.open_photo()  # finds look-alikes of it, and remembers where it was
    window.open_photo()
    assert asked[-1] == str(photos)
    assert Settings().dialog_folder() == str(photos)  # after a restart too


def test_skipped_dialog_opens_reveals_and_copies_with_album_relative_paths(qtbot, window, tmp_path):
    album = tmp_path / "album"
    make_album(album, 3)
    (album / "trip" / "broken.jpg").write_bytes(b"not a photo")
    index_folder(qtbot, window, album)
    window.show_skipped()
    qtbot.waitUntil(
        lambda: (
            getattr(window, "skipped_dialog", None) is not None
            and window.skipped_dialog.isVisible()
        ),
        timeout=30_000,
    )
    dialog = window.skipped_dialog
    full = str(album / "trip" / "broken.jpg")
    assert dialog.tree.topLevelItem(0).text(0) == "trip/broken.jpg"
    assert dialog.tree.topLevelItem(0).toolTip(0) == full
    opened: list[str] = []
    revealed: list[str] = []
    window.strip.openRequested.connect(opened.append)  # the window's own Open handling
    window.strip.revealRequested.connect(revealed.append)
    dialog.open_button.click()
    dialog.reveal_button.click()
    dialog.copy_button.click()
    assert opened == [full] and revealed == [full]
    assert QGuiApplication.clipboard().text() == full
    dialog.reject()


def test_skipped_paths_name_their_album_folder_when_there_are_several(tmp_path):
    from albumfinder.gui.library_panel import SkippedDialog
    from albumfinder.report import Skipped

    a, b = str(tmp_path / "Holidays"), str(tmp_path / "Holidays" / "Phone")
    rows = [Skipped(f"{b}/x.jpg", "empty"), Skipped(f"{a}/2019/y.jpg", "empty")]
    dialog = SkippedDialog(rows, folders=[a, b])
    texts = [dialog.tree.topLevelItem(i).text(0) for i in range(2)]
    assert texts == ["Phone/x.jpg", "Holidays/2019/y.jpg"]
