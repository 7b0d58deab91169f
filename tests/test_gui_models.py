"""Changing the model in the app: weights found, downloaded (with progress and cancel) or not.

DINOv2 here is a random-weight checkpoint in Meta's format, served over HTTP on 127.0.0.1
or put in the torch-hub cache, so every step runs the real code path.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog

from albumfinder import paths
from albumfinder.gui.engine import model_key
from albumfinder.gui.model_dialog import WeightsDialog
from albumfinder.models import get_spec

from gui_support import drop_files, index_folder
from helpers_models import save_dinov2_checkpoint
from local_server import serve
from photo_factory import make_album, make_photo

SMALL = get_spec("dinov2-small")


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory) -> bytes:
    return save_dinov2_checkpoint(tmp_path_factory.mktemp("ckpt") / "small.pth").read_bytes()


def test_model_change_reindexes_while_the_old_model_answers(qtbot, window, tmp_path):
    album = tmp_path / "album"
    make_album(album, 24)
    query = tmp_path / "query.jpg"
    make_photo(103).save(query, quality=90)  # photo_003's twin
    index_folder(qtbot, window, album)
    hub = paths.torch_hub_checkpoints_dir()  # where a dinov2_retrieval user has the weights
    save_dinov2_checkpoint(hub / SMALL.weights_filename)
    switched: list[str] = []
    window.engine.modelChanged.connect(switched.append)

    window.select_model("dinov2-small")
    assert window.engine.is_indexing and window.engine.model == "builtin"
    with qtbot.waitSignal(window.searchFinished, timeout=60_000) as during:
        drop_files(window.drop_zone, query)
    # answered from the built-in model's vectors (DINOv2 has few or none yet)
    assert during.args[0] and len(during.args[0]) == 10

    qtbot.waitUntil(lambda: switched == ["dinov2-small"], timeout=120_000)
    assert window.engine.model == "dinov2-small"
    assert window.model_combo.currentData() == "dinov2-small"
    assert window.settings.model == "dinov2-small"
    assert window.engine.library.store.model_keys()[model_key("dinov2-small")] == 24
    with qtbot.waitSignal(window.searchFinished, timeout=60_000) as after:
        drop_files(window.drop_zone, query)
    assert after.args[0] and after.args[0][0].path == str(album / "photo_003.jpg")


def test_weights_dialog_downloads_with_progress(qtbot, window, monkeypatch, checkpoint_bytes):
    monkeypatch.delenv("ALBUMFINDER_OFFLINE")
    files = {f"dinov2_vits14/{SMALL.weights_filename}": checkpoint_bytes}
    with serve(files) as (address, _):
        monkeypatch.setenv("ALBUMFINDER_WEIGHTS_MIRROR", address)
        dialog = WeightsDialog(window.engine, "dinov2-small", window)
        qtbot.addWidget(dialog)
        assert dialog.download_button.isEnabled()
        values: list[int] = []
        dialog.progress.valueChanged.connect(values.append)
        dialog.download()
        qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=60_000)
    assert values and values[-1] == 1000 and values == sorted(values)
    assert dialog.model_path is None  # downloaded into our cache, found there from now on
    saved = paths.weights_dir() / SMALL.weights_filename
    assert saved.read_bytes() == checkpoint_bytes


def test_weights_dialog_cancel_leaves_no_file(qtbot, window, monkeypatch, checkpoint_bytes):
    monkeypatch.delenv("ALBUMFINDER_OFFLINE")
    files = {f"dinov2_vits14/{SMALL.weights_filename}": checkpoint_bytes}
    with serve(files) as (address, _):
        monkeypatch.setenv("ALBUMFINDER_WEIGHTS_MIRROR", f"{address}/slow")
        dialog = WeightsDialog(window.engine, "dinov2-small", window)
        qtbot.addWidget(dialog)
        dialog.download()
        qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30_000)
        dialog.cancel()
        qtbot.waitUntil(lambda: dialog.status.text() == "Download cancelled.", timeout=30_000)
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.download_button.isEnabled() and dialog.choose_button.isEnabled()
    assert list(paths.weights_dir().iterdir()) == []


def test_weights_dialog_takes_a_file_the_user_has(qtbot, window, tmp_path, checkpoint_bytes):
    dialog = WeightsDialog(window.engine, "dinov2-small", window)
    qtbot.addWidget(dialog)
    assert not dialog.download_button.isEnabled()  # the tests run offline
    assert "offline" in dialog.status.text()
    dialog.accept_file(str(tmp_path / "nothing-here.pth"))
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "No weights file" in dialog.status.text()
    mine = tmp_path / "Downloads" / SMALL.weights_filename
    mine.parent.mkdir()
    mine.write_bytes(checkpoint_bytes)
    dialog.accept_file(str(mine))
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.model_path == str(mine)


def test_first_launch_uses_dinov2_when_its_weights_are_already_here(tmp_path):
    from albumfinder.gui.settings import Settings

    assert Settings().model == "builtin"  # nothing here: the built-in model, no download
    save_dinov2_checkpoint(paths.torch_hub_checkpoints_dir() / SMALL.weights_filename)
    assert Settings().model == "dinov2-small"
    chosen = Settings()
    chosen.model = "builtin"  # a choice the user made stays
    assert Settings().model == "builtin"


def test_choosing_the_current_model_again_stops_the_change(qtbot, window, tmp_path):
    album = tmp_path / "album"
    make_album(album, 40)
    index_folder(qtbot, window, album)
    save_dinov2_checkpoint(paths.torch_hub_checkpoints_dir() / SMALL.weights_filename)
    window.select_model("dinov2-small")
    assert window.engine.is_indexing
    window.select_model("builtin")  # changed their mind while it indexes
    assert window.model_combo.currentData() == "builtin"
    qtbot.waitUntil(lambda: not window.engine.is_indexing, timeout=120_000)
    assert window.engine.model == "builtin" and window.settings.model == "builtin"
    assert window.model_combo.currentData() == "builtin"


def test_missing_weights_are_told_in_the_windows_words_not_the_clis(qtbot, window, tmp_path):
    """The core's WeightsError carries the model and what would help; the window words that
    itself: the weights dialog's buttons, never the CLI's ``-p PATH``."""
    album = tmp_path / "album"
    make_album(album, 3)
    index_folder(qtbot, window, album)
    failures = []
    window.engine.indexFailed.connect(failures.append)
    window.select_model("dinov2-small")  # as if its weights were there: they are not
    qtbot.waitUntil(lambda: bool(failures) and not window.engine.is_indexing, timeout=60_000)
    shown = window.banner.message()
    assert "Indexing stopped" in shown and "Choose a File…" in shown
    assert "-p PATH" not in shown and "albumfinder-cli" not in shown
