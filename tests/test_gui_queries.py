"""Richer questions in the window (issue 13): several photos dropped or chosen together,
"less like this", a region drawn on the shown photo, filters, and the Why overlay, driven
offscreen with real mouse and key events over a real index (the built-in model)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from gui_support import drop_files, index_folder
from photo_factory import make_album, make_photo, save_photo

SEARCH_MS = 60_000


def _album(tmp_path: Path) -> tuple[Path, list[Path]]:
    album = tmp_path / "album"
    photos = make_album(album, 8)
    return album, photos


def _search(qtbot, window, *paths: Path):
    with qtbot.waitSignal(window.searchFinished, timeout=SEARCH_MS) as blocker:
        drop_files(window.drop_zone, *paths)
    return blocker.args[0]


def _item_centre(strip, row: int) -> QPoint:
    return strip.visualItemRect(strip.item(row)).center()


def test_several_dropped_photos_are_one_query_and_never_results(qtbot, window, tmp_path):
    album, photos = _album(tmp_path)
    index_folder(qtbot, window, album)
    hits = _search(qtbot, window, photos[0], photos[1])
    assert window._state.parts and len(window._state.parts) == 2
    assert window.query_parts.isVisible()
    assert [c.negative for c in window.query_parts.chips] == [False, False]
    found = {h.path for h in hits}
    assert hits and not found & {str(photos[0]), str(photos[1])}
    assert "like 2 photos together" in window.results_note.text()

    # removing one part asks again with the other alone (the chips go away)
    with qtbot.waitSignal(window.searchFinished, timeout=SEARCH_MS) as blocker:
        qtbot.mouseClick(window.query_parts.chips[1].remove_button, Qt.MouseButton.LeftButton)
    assert len(window._state.parts) == 1
    assert not window.query_parts.isVisible()
    assert str(photos[1]) in {h.path for h in blocker.args[0]}  # a result again


def test_ctrl_click_selects_results_and_find_more_like_these_asks_with_them(
    qtbot, window, tmp_path
):
    album, photos = _album(tmp_path)
    index_folder(qtbot, window, album)
    _search(qtbot, window, photos[0])
    strip = window.strip
    opened = []
    strip.openRequested.connect(opened.append)
    QTest.mouseClick(
        strip.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        _item_centre(strip, 0),
    )
    opened.clear()  # a plain click opens (the viewer is the OS's; not asserted here)
    QTest.mouseClick(
        strip.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        _item_centre(strip, 1),
    )
    chosen = strip.selected_paths()
    assert len(chosen) == 2 and opened == []  # Ctrl-click chooses, it does not open
    menu = strip.menu_for(strip.item(1))
    together = next(a for a in menu.actions() if a.text().startswith("Find More Like These"))
    assert together.text() == "Find More Like These (2)"
    with qtbot.waitSignal(window.searchFinished, timeout=SEARCH_MS) as blocker:
        together.trigger()
    assert [s.value for s in window._state.parts] == chosen
    assert not {h.path for h in blocker.args[0]} & set(chosen)


def test_less_like_this_adds_a_negative_and_pushes_it_out(qtbot, window, tmp_path):
    album, photos = _album(tmp_path)
    index_folder(qtbot, window, album)
    hits = _search(qtbot, window, photos[0])
    pushed = hits[0].path
    with qtbot.waitSignal(window.searchFinished, timeout=SEARCH_MS) as blocker:
        window.strip.lessLikeRequested.emit(pushed)
    assert [s.value for s in window._state.negatives] == [pushed]
    assert [c.negative for c in window.query_parts.chips] == [False, True]
    assert pushed not in {h.path for h in blocker.args[0]}  # a query photo is never a result


def test_a_region_drawn_on_the_photo_searches_for_that_part_and_esc_clears_it(
    qtbot, window, tmp_path
):
    album = tmp_path / "album"
    make_album(album, 6, first_seed=300)
    planted = save_photo(album / "planted.jpg", 7, (400, 300))
    # the query: an unrelated photo with the planted photo in its bottom-right quarter
    query = make_photo(8, (800, 600))
    query.paste(Image.open(planted).resize((400, 300)), (400, 300))
    query_path = tmp_path / "composite.jpg"
    query.save(query_path, quality=92)
    index_folder(qtbot, window, album)
    _search(qtbot, window, query_path)
    zone = window.drop_zone
    qtbot.waitUntil(lambda: not zone.photo_rect().isEmpty(), timeout=10_000)
    shown = zone.photo_rect()
    start = QPoint(
        round(shown.left() + shown.width() * 0.52), round(shown.top() + shown.height() * 0.52)
    )
    end = QPoint(round(shown.right() - 2), round(shown.bottom() - 2))
    with qtbot.waitSignal(window.searchFinished, timeout=SEARCH_MS) as blocker:
        QTest.mousePress(zone, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        QTest.mouseMove(zone, QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2))
        QTest.mouseMove(zone, end)
        QTest.mouseRelease(zone, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    crop = window._state.crop
    assert crop is not None and abs(crop.left - 0.52) < 0.02 and crop.left + crop.width > 0.98
    assert zone.region == crop  # drawn on the photo, remembered with the query
    assert blocker.args[0][0].path == str(planted)

    with qtbot.waitSignal(window.searchFinished, timeout=SEARCH_MS):
        QTest.keyClick(zone, Qt.Key.Key_Escape)
    assert window._state.crop is None and zone.region is None


def test_filters_narrow_the_results_inside_the_search(qtbot, window, tmp_path):
    album, photos = _album(tmp_path)
    index_folder(qtbot, window, album)
    hits = _search(qtbot, window, photos[0])
    assert len(hits) > 1
    window.filters_button.click()
    assert window.filter_bar.isVisible()
    bar = window.filter_bar
    trip = str(album / "trip")
    bar.set_folders([str(album), trip])
    with qtbot.waitSignal(window.searchFinished, timeout=SEARCH_MS) as blocker:
        bar.folder.setCurrentIndex(bar.folder.findData(trip))
        bar.folder.activated.emit(bar.folder.currentIndex())
    narrowed = blocker.args[0]
    assert narrowed and all(h.path.startswith(trip + "/") for h in narrowed)
    assert window.filters_button.text() == "Filters (1)"
    with qtbot.waitSignal(window.searchFinished, timeout=SEARCH_MS) as blocker:
        bar.clear()
    assert len(blocker.args[0]) == len(hits)
    assert window.filters_button.text() == "Filters"


def test_w_shows_why_a_result_matches_with_both_maps(qtbot, window, tmp_path):
    album, photos = _album(tmp_path)
    index_folder(qtbot, window, album)
    _search(qtbot, window, photos[0])
    strip = window.strip
    strip.setFocus()
    strip.setCurrentRow(0)
    QTest.keyClick(strip, Qt.Key.Key_W)
    dialog = window.why_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.result_path == strip.item(0).data(Qt.ItemDataRole.UserRole)
    qtbot.waitUntil(lambda: dialog.result_pane.heat is not None, timeout=SEARCH_MS)
    assert dialog.query_pane.heat is not None
    assert "Similarity" in dialog.summary.text()
    qtbot.waitUntil(lambda: dialog.result_pane.image is not None, timeout=10_000)
    assert dialog.result_pane.show_map
    QTest.keyClick(dialog, Qt.Key.Key_W)  # toggles the maps off
    assert not dialog.result_pane.show_map and not dialog.toggle.isChecked()
    dialog.close()


def test_pasting_several_photo_files_asks_with_them_together(qtbot, window, tmp_path):
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QGuiApplication

    album, photos = _album(tmp_path)
    index_folder(qtbot, window, album)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in photos[:3]])
    QGuiApplication.clipboard().setMimeData(mime)
    with qtbot.waitSignal(window.searchFinished, timeout=SEARCH_MS) as blocker:
        window.paste_action.trigger()
    assert [s.value for s in window._state.parts] == [str(p) for p in photos[:3]]
    assert not {h.path for h in blocker.args[0]} & {str(p) for p in photos[:3]}


def test_a_click_with_a_little_jitter_keeps_the_region_drawn_and_asked(qtbot, window, tmp_path):
    album, photos = _album(tmp_path)
    index_folder(qtbot, window, album)
    _search(qtbot, window, photos[0])
    zone = window.drop_zone
    qtbot.waitUntil(lambda: not zone.photo_rect().isEmpty(), timeout=10_000)
    r = zone.photo_rect()
    start = QPoint(round(r.left() + r.width() * 0.5), round(r.top() + r.height() * 0.5))
    end = QPoint(round(r.right() - 3), round(r.bottom() - 3))
    with qtbot.waitSignal(window.searchFinished, timeout=SEARCH_MS):
        QTest.mousePress(zone, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        QTest.mouseMove(zone, end)
        QTest.mouseRelease(zone, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    asked = window._state.crop
    assert asked is not None
    # a click outside the region, the mouse moving 3 px: nothing changes
    near = QPoint(round(r.left() + 10), round(r.top() + 10))
    QTest.mousePress(zone, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, near)
    QTest.mouseMove(zone, near + QPoint(3, 2))
    QTest.mouseRelease(
        zone, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, near + QPoint(3, 2)
    )
    assert zone.region == asked == window._state.crop


def test_an_unreadable_photo_among_several_is_left_out_and_said(qtbot, window, tmp_path):
    album, photos = _album(tmp_path)
    index_folder(qtbot, window, album)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a photo at all")
    sidecar = tmp_path / "IMG_0001.xmp"
    sidecar.write_text("<x:xmpmeta/>")
    with qtbot.waitSignal(window.searchFinished, timeout=SEARCH_MS):
        drop_files(window.drop_zone, photos[0], photos[1], sidecar)
    assert [s.value for s in window._state.parts] == [str(photos[0]), str(photos[1])]  # no .xmp

    hits = []
    window.searchFinished.connect(lambda h: hits.append(h))
    drop_files(window.drop_zone, photos[0], broken, photos[2])
    qtbot.waitUntil(lambda: any(h for h in hits), timeout=SEARCH_MS)
    assert [s.value for s in window._state.parts] == [str(photos[0]), str(photos[2])]
    assert "broken.jpg" in window.banner.message() and window.banner.isVisible()
