"""The window's trash controller (issue 12 point 6), offscreen over the real window and
Library: the banner says what went to the trash and what could not, its Put back button and
Ctrl+Z undo it, and a trashed photo leaves the search results at once."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from albumfinder import safe_trash
from albumfinder.gui.drop_zone import QuerySource
from albumfinder.gui.trash_actions import PUT_BACK, TrashActions

from gui_support import index_folder
from photo_factory import make_album, save_photo
from trash_support import redirect_trash, trash_entries

TIMEOUT_MS = 30_000


def _search(qtbot, window, path) -> list[str]:
    with qtbot.waitSignal(window.searchFinished, timeout=60_000) as found:
        window.find(QuerySource("path", str(path), path.name))
    return [hit.path for hit in found.args[0]]


def test_the_banner_tells_what_went_and_put_back_undoes_it(qtbot, window, tmp_path, monkeypatch):
    trash = redirect_trash(tmp_path, monkeypatch)
    photos = make_album(tmp_path / "Pictures", 4)
    index_folder(qtbot, window, tmp_path / "Pictures")
    outside = save_photo(tmp_path / "Elsewhere" / "stranger.jpg", seed=3)
    actions = TrashActions.for_window(window)
    assert TrashActions.for_window(window) is actions  # one per window: one Ctrl+Z

    with qtbot.waitSignal(actions.trashed, timeout=TIMEOUT_MS) as signal:
        actions.trash([str(photos[0]), str(outside)], "duplicates", "duplicate")
    action = signal.args[0]
    assert action.trashed == [str(photos[0])]
    assert not photos[0].exists() and outside.exists()
    assert list(trash_entries(trash)) == [photos[0].name]
    message = window.banner.message()
    assert message == (
        f"1 duplicate moved to the trash. Not moved: stranger.jpg ({safe_trash.NOT_IN_ALBUM})."
    )
    assert [b.text() for b in window.banner.action_buttons] == [PUT_BACK]
    assert actions.undo_action.isEnabled()

    with qtbot.waitSignal(actions.putBack, timeout=TIMEOUT_MS) as done:
        window.banner.action_buttons[0].click()
    assert done.args[0].restored == [str(photos[0])]
    assert photos[0].exists() and trash_entries(trash) == {}
    assert window.banner.message() == "1 photo put back."
    assert not actions.undo_action.isEnabled()  # nothing left to undo


def test_a_trashed_result_leaves_the_strip_and_ctrl_z_brings_it_back(
    qtbot, window, tmp_path, monkeypatch
):
    redirect_trash(tmp_path, monkeypatch)
    photos = make_album(tmp_path / "Pictures", 5)
    index_folder(qtbot, window, tmp_path / "Pictures")
    victim = str(photos[0])
    assert victim in _search(qtbot, window, photos[1])
    actions = TrashActions.for_window(window)

    with qtbot.waitSignal(actions.trashed, timeout=TIMEOUT_MS):
        actions.trash([victim, str(photos[2])])
    assert window.banner.message().startswith("2 photos moved to the trash.")
    assert victim not in window.strip.paths()  # at once
    assert victim not in _search(qtbot, window, photos[1])  # and in a new search

    assert actions.undo_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    window.activateWindow()
    window.setFocus()
    with qtbot.waitSignal(actions.putBack, timeout=TIMEOUT_MS) as done:
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert sorted(done.args[0].restored) == sorted([victim, str(photos[2])])
    assert window.banner.message() == "2 photos put back."
    assert victim in _search(qtbot, window, photos[1])


def test_a_new_search_keeps_the_put_back_but_clears_a_stale_note(
    qtbot, window, tmp_path, monkeypatch
):
    """Searching on (from the map, say) must not take the undo away; a search's own
    note, with nothing to act on, is cleared by the next search as before."""
    redirect_trash(tmp_path, monkeypatch)
    photos = make_album(tmp_path / "Pictures", 4)
    index_folder(qtbot, window, tmp_path / "Pictures")
    actions = TrashActions.for_window(window)
    with qtbot.waitSignal(actions.trashed, timeout=TIMEOUT_MS):
        actions.trash([str(photos[0])])
    _search(qtbot, window, photos[1])
    assert window.banner.message().startswith("1 photo moved to the trash.")
    assert [b.text() for b in window.banner.action_buttons] == [PUT_BACK]
    with qtbot.waitSignal(actions.putBack, timeout=TIMEOUT_MS):
        window.banner.action_buttons[0].click()
    assert photos[0].exists()

    window.find(QuerySource("path", str(tmp_path), tmp_path.name))  # a folder: a note
    assert window.banner.isVisible() and window.banner.action_buttons == []
    _search(qtbot, window, photos[1])
    assert not window.banner.isVisible()


def test_a_refusal_of_every_photo_is_an_error_without_put_back(
    qtbot, window, tmp_path, monkeypatch
):
    redirect_trash(tmp_path, monkeypatch)
    make_album(tmp_path / "Pictures", 2)
    index_folder(qtbot, window, tmp_path / "Pictures")
    actions = TrashActions.for_window(window)
    gone = tmp_path / "Pictures" / "gone.jpg"
    with qtbot.waitSignal(actions.trashed, timeout=TIMEOUT_MS):
        actions.trash([str(gone)])
    assert window.banner.level == "error"
    assert window.banner.message() == (
        f"Nothing was moved to the trash: gone.jpg ({safe_trash.GONE})."
    )
    assert window.banner.action_buttons == [] and not actions.undo_action.isEnabled()


def test_the_search_page_follows_a_trash_and_a_put_back(qtbot, window, tmp_path, monkeypatch):
    redirect_trash(tmp_path, monkeypatch)
    photos = make_album(tmp_path / "Pictures", 6)
    index_folder(qtbot, window, tmp_path / "Pictures")
    victim = str(photos[0])
    before = _search(qtbot, window, photos[1])
    assert victim in before
    actions = TrashActions.for_window(window)
    with qtbot.waitSignal(actions.trashed, timeout=TIMEOUT_MS):
        actions.trash([victim])
    assert window.results_note.text().startswith(f"{len(before) - 1} most alike")
    with qtbot.waitSignal(window.searchFinished, timeout=60_000) as again:
        actions.put_back()  # the photo is a result again, without a new drop
    assert victim in {h.path for h in again.args[0]}
    assert victim in window.strip.paths()

    # a photo of a query of several that goes to the trash leaves the query
    with qtbot.waitSignal(window.searchFinished, timeout=60_000):
        window.find_together([QuerySource("path", str(p), p.name) for p in photos[2:5]])
    with qtbot.waitSignal(window.searchFinished, timeout=60_000):
        actions.trash([str(photos[3])])
    assert [s.value for s in window._state.parts] == [str(photos[2]), str(photos[4])]
