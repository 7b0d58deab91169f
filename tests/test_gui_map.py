"""The Map page driven offscreen with real mouse, wheel and key events (issue 14): the level
of detail follows the zoom, hover shows the photo and its path, a click makes the photo the
query, the lasso selects the photos inside it, the folder filter hides the others, and the
Odd Ones Out list (from a folder's menu) puts the planted stranger first. The album is made
by the test: tight families of look-alikes (crops and tints of one picture) plus a stranger
(a receipt-like page among the photos)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QNativeGestureEvent, QPointingDevice, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from albumfinder.gui.map_canvas import Detail, MapCanvas
from albumfinder.gui.thumbnails import ThumbnailLoader
from albumfinder.gui.workers import Pools
from albumfinder.report import MapCluster, MapPoint

from gui_support import index_folder
from photo_factory import make_photo
from trash_support import redirect_trash, trash_entries

MAP_TIMEOUT_MS = 180_000


# -- the album ---------------------------------------------------------------------------
def save_family(folder: Path, name: str, seed: int, count: int) -> list[Path]:
    """``count`` look-alikes of one picture: crops, sizes and tints of it."""
    base = make_photo(seed, (800, 600))
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(count):
        left, top = (int(v) for v in rng.integers(0, 60, 2))
        photo = base.crop((left, top, left + 720, top + 540)).resize((640, 480))
        photo = ImageEnhance.Brightness(photo).enhance(float(rng.uniform(0.9, 1.1)))
        path = folder / f"{name}_{k:02d}.jpg"
        photo.save(path, quality=88)
        paths.append(path)
    return paths


def save_receipt(path: Path) -> Path:
    """A white page of printed lines: nothing like the photos around it."""
    page = Image.new("RGB", (480, 640), "white")
    draw = ImageDraw.Draw(page)
    rng = np.random.default_rng(7)
    for row in range(30):
        y = 30 + row * 19
        width = int(rng.integers(120, 420))
        draw.rectangle((30, y, 30 + width, y + 7), fill=(40, 40, 40))
    page.save(path, quality=92)
    return path


@pytest.fixture
def album(tmp_path):
    """Two album folders: Holidays (three families and the stranger), Garden (two)."""
    holidays, garden = tmp_path / "Holidays", tmp_path / "Garden"
    families = {
        "beach": save_family(holidays, "beach", 11, 7),
        "city": save_family(holidays, "city", 22, 7),
        "hills": save_family(holidays, "hills", 33, 7),
        "roses": save_family(garden, "roses", 44, 7),
        "ferns": save_family(garden, "ferns", 55, 7),
    }
    stranger = save_receipt(holidays / "receipt.jpg")
    return holidays, garden, families, stranger


def map_page(window) -> QWidget:
    page = window.findChild(QWidget, "mapPage")
    assert page is not None
    return page


def show_map(qtbot, window, *folders: Path):
    """Index ``folders`` through the window, open the Map page, wait for the map."""
    for folder in folders:
        index_folder(qtbot, window, folder)
    page = map_page(window)
    maps = []
    page.controller.mapReady.connect(maps.append)
    window.show_page("map")
    qtbot.waitUntil(lambda: bool(maps) and page.showing_map, timeout=MAP_TIMEOUT_MS)
    return page, maps[-1]


# -- real events ---------------------------------------------------------------------------
def mouse(widget, kind, at: QPointF, button=Qt.MouseButton.NoButton, buttons=None, mods=None):
    """A mouse event as the window system sends it (position, button, held buttons, keys)."""
    held = buttons if buttons is not None else Qt.MouseButton.NoButton
    event = QMouseEvent(
        kind,
        QPointF(at),
        QPointF(widget.mapToGlobal(at)),
        button,
        held,
        mods or Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def wheel(widget, at: QPointF, notches: int) -> None:
    event = QWheelEvent(
        QPointF(at),
        QPointF(widget.mapToGlobal(at)),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def drag(widget, points: list[QPointF], mods=None) -> None:
    """Press at the first point, move through the others with the button held, release."""
    left = Qt.MouseButton.LeftButton
    mouse(widget, QMouseEvent.Type.MouseButtonPress, points[0], left, left, mods)
    for p in points[1:]:
        mouse(widget, QMouseEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, left, mods)
    mouse(
        widget, QMouseEvent.Type.MouseButtonRelease, points[-1], left, Qt.MouseButton.NoButton, mods
    )


def synthetic_points(n: int, groups: int = 8, seed: int = 3):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-0.8, 0.8, (groups, 2))
    labels = rng.integers(0, groups, n)
    xy = centres[labels] + rng.normal(0, 0.05, (n, 2))
    points = [MapPoint(f"/nowhere/{i}.jpg", float(x), float(y), int(c))
              for i, ((x, y), c) in enumerate(zip(xy, labels, strict=True))]  # fmt: skip
    clusters = [MapCluster(c, int((labels == c).sum()), float(centres[c, 0]),
                           float(centres[c, 1]), f"{int((labels == c).sum())} photos")
                for c in range(groups)]  # fmt: skip
    return points, clusters


# -- the canvas alone ----------------------------------------------------------------------
def test_painting_the_map_for_long_cannot_free_none():
    """PySide6 6.12 under CPython 3.11 drops a reference to None on every void Qt call; the
    map makes thousands a frame, so the process aborted ("deallocating None") after a few
    dozen frames. In a child process: 300 frames of piles, labels and rings."""
    code = (
        "import os; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from PySide6.QtGui import QImage, QPainter\n"
        "app = QApplication([])\n"
        "from albumfinder.gui.map_canvas import MapCanvas\n"
        "from albumfinder.gui.thumbnails import ThumbnailLoader\n"
        "from albumfinder.gui.workers import Pools\n"
        "from test_gui_map import synthetic_points\n"
        "canvas = MapCanvas(ThumbnailLoader(Pools()))\n"
        "canvas.resize(800, 600)\n"
        "canvas.set_points(*synthetic_points(2000, groups=30))\n"
        "image = QImage(800, 600, QImage.Format.Format_ARGB32_Premultiplied)\n"
        "for _ in range(300):\n"
        "    painter = QPainter(image); canvas.paint_map(painter); painter.end()\n"
        "print('painted', len(canvas.piles()))\n"
    )
    tests = Path(__file__).resolve().parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tests), *sys.path]))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("painted") and int(done.stdout.split()[1]) > 0


def test_wheel_and_keys_zoom_from_dots_to_thumbnails_and_back(qtbot):
    points, clusters = synthetic_points(3000)
    canvas = MapCanvas(ThumbnailLoader(Pools()))
    qtbot.addWidget(canvas)
    canvas.resize(800, 600)
    canvas.show()
    canvas.set_points(points, clusters)
    assert canvas.detail == Detail.DOTS  # 3000 photos: too many for thumbnails
    assert canvas.cluster_labels(), "the clusters are labelled with their size"
    target = canvas.position_of(points[0].path)
    zoom_before = canvas.zoom
    for _ in range(40):
        if canvas.detail == Detail.THUMBNAILS:
            break
        wheel(canvas, target, 1)
        target = canvas.position_of(points[0].path)
    assert canvas.detail == Detail.THUMBNAILS
    assert canvas.zoom > zoom_before
    # the zoom was about the pointer: the photo under it stayed there (within a pixel)
    assert abs(canvas.position_of(points[0].path).x() - target.x()) < 1.0
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_0)  # fit: the whole map, dots again
    assert canvas.zoom == pytest.approx(1.0)
    assert canvas.detail == Detail.DOTS
    QTest.keyClick(canvas, Qt.Key.Key_Plus)
    assert canvas.zoom == pytest.approx(1.25)
    QTest.keyClick(canvas, Qt.Key.Key_Minus)
    assert canvas.zoom == pytest.approx(1.0)


def test_a_pinch_on_a_touchpad_zooms_about_the_fingers(qtbot):
    points, clusters = synthetic_points(500)
    canvas = MapCanvas(ThumbnailLoader(Pools()))
    qtbot.addWidget(canvas)
    canvas.resize(800, 600)
    canvas.show()
    canvas.set_points(points, clusters)
    at = canvas.position_of(points[0].path)
    pinch = QNativeGestureEvent(
        Qt.NativeGestureType.ZoomNativeGesture,
        QPointingDevice.primaryPointingDevice(),
        2,
        at,
        at,
        QPointF(canvas.mapToGlobal(at)),
        0.5,  # fingers half as far apart again
        QPointF(0, 0),
    )
    QApplication.sendEvent(canvas, pinch)
    assert canvas.zoom == pytest.approx(1.5)
    assert abs(canvas.position_of(points[0].path).x() - at.x()) < 1.0


def test_a_drag_pans_the_map_and_is_not_a_click(qtbot):
    points, clusters = synthetic_points(500)
    canvas = MapCanvas(ThumbnailLoader(Pools()))
    qtbot.addWidget(canvas)
    canvas.resize(800, 600)
    canvas.show()
    canvas.set_points(points, clusters)
    clicked = []
    canvas.photoClicked.connect(clicked.append)
    start = canvas.position_of(points[0].path)
    drag(canvas, [start, start + QPointF(40, 10), start + QPointF(120, 30)])
    moved = canvas.position_of(points[0].path)
    assert (moved.x() - start.x(), moved.y() - start.y()) == pytest.approx((120, 30), abs=1)
    assert clicked == []


# -- the page over a real album ------------------------------------------------------------
def test_the_map_page_explains_itself_when_nothing_is_indexed(qtbot, window):
    qtbot.waitUntil(lambda: window.engine.is_open, timeout=10_000)
    page = map_page(window)
    window.show_page("map")
    assert not page.showing_map
    assert page.empty.isVisible()
    assert "look-alikes gather" in page.empty.text.text()
    assert "Add a folder" in page.empty.text.text()


def test_hover_shows_the_photo_and_a_click_makes_it_the_query(qtbot, window, album):
    holidays, _garden, families, _stranger = album
    page, album_map = show_map(qtbot, window, holidays)
    canvas = page.canvas
    assert canvas.point_count() == 22 == len(album_map.points)
    family = {str(p) for p in families["beach"]}
    piles = [rect for _id, rect, on_top in canvas.piles() if canvas.paths[on_top[-1]] in family]
    if piles:  # zoomed out, a tight family lies as a pile: a click on it zooms in on it
        QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=piles[0].center().toPoint())
        assert canvas.zoom > 1.5
        assert window.pages.currentWidget() is page  # a pile is opened, not searched
    assert canvas.detail == Detail.THUMBNAILS
    # a photo of the family that is on top where it lies (look-alikes lie on each other)
    beach = next(str(p) for p in families["beach"]
                 if canvas.photo_at(canvas.position_of(str(p))) == str(p))  # fmt: skip
    at = canvas.position_of(beach)
    mouse(canvas, QMouseEvent.Type.MouseMove, at)
    assert canvas.hovered_path == beach
    card = canvas.hover_card
    assert card.isVisible()
    assert card.path == beach
    assert card.name_label.text() == os.path.basename(beach)
    assert card.path_label.text().endswith(os.path.basename(beach))
    qtbot.waitUntil(
        lambda: card.picture.pixmap() is not None and not card.picture.pixmap().isNull()
    )

    with qtbot.waitSignal(window.searchFinished, timeout=60_000) as result:
        QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=at.toPoint())
    hits = result.args[0]
    assert window.pages.currentWidget() is window.search_page
    assert window.strip.count() == len(hits) > 0
    family -= {beach}
    shown = window.strip.paths()
    assert beach not in shown  # the query is never its own result...
    assert set(shown[:6]) == family  # ...its family comes first, before any other photo
    qtbot.waitUntil(lambda: window.drop_zone.has_photo)  # the query, shown


def test_the_lasso_selects_the_photos_inside_and_lists_them(qtbot, window, album):
    holidays, _garden, families, _stranger = album
    page, _map = show_map(qtbot, window, holidays)
    canvas = page.canvas
    spots = [canvas.position_of(str(p)) for p in families["city"]]
    left = min(p.x() for p in spots) - 6
    right = max(p.x() for p in spots) + 6
    top = min(p.y() for p in spots) - 6
    bottom = max(p.y() for p in spots) + 6
    corners = [QPointF(left, top), QPointF(right, top), QPointF(right, bottom),
               QPointF(left, bottom)]  # fmt: skip
    where = {path: canvas.position_of(path) for path in canvas.paths}
    inside = {
        path for path, at in where.items() if left <= at.x() <= right and top <= at.y() <= bottom
    }
    selected = []
    canvas.selectionChanged.connect(selected.append)
    drag(canvas, corners, Qt.KeyboardModifier.ShiftModifier)
    assert all(canvas.position_of(p) == at for p, at in where.items())  # a lasso, not a pan
    assert {str(p) for p in families["city"]} <= inside < set(canvas.paths)
    assert set(selected[-1]) == inside == set(canvas.selected_paths())
    assert page.selection_bar.isVisible()
    assert page.selection_label.text() == f"{len(inside)} photos selected"

    QTest.mouseClick(page.list_button, Qt.MouseButton.LeftButton)
    assert page.list_view.isVisible()
    assert set(page.list_view.paths()) == inside

    # "Find Look-alikes" asks with all of them together, on the search page
    with qtbot.waitSignal(window.searchFinished, timeout=60_000) as found:
        QTest.mouseClick(page.search_button, Qt.MouseButton.LeftButton)
    assert {s.value for s in window._state.parts} == inside
    assert not {h.path for h in found.args[0]} & inside
    window.show_page("map")

    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.selected_paths() == []
    assert not page.selection_bar.isVisible()


def test_the_folder_filter_hides_the_other_folders(qtbot, window, album):
    holidays, garden, families, _stranger = album
    page, _map = show_map(qtbot, window, holidays, garden)
    canvas = page.canvas
    assert canvas.shown_count() == 36
    combo = page.folder_combo
    assert combo.itemText(0) == "All folders"
    assert {combo.itemText(i) for i in range(1, combo.count())} == {"Holidays", "Garden"}
    combo.setCurrentIndex(combo.findData(str(garden)))
    garden_photos = {str(p) for p in families["roses"] + families["ferns"]}
    assert set(canvas.shown_paths()) == garden_photos
    assert "14 of 36 photos" in page.status_label.text()
    hidden = str(families["beach"][0])
    at = canvas.position_of(hidden)
    if canvas.photo_at(at) is None:  # nothing shown under a hidden photo: no hover
        mouse(canvas, QMouseEvent.Type.MouseMove, at)
        assert canvas.hovered_path == ""
    combo.setCurrentIndex(0)
    assert canvas.shown_count() == 36


def test_odd_ones_out_from_a_folder_menu_puts_the_stranger_first(
    qtbot, window, album, tmp_path, monkeypatch
):
    trash = redirect_trash(tmp_path, monkeypatch)
    holidays, _garden, _families, stranger = album
    index_folder(qtbot, window, holidays)
    panel = window.library_panel
    qtbot.waitUntil(lambda: panel.item_for(str(holidays)) is not None)
    page = map_page(window)
    found = []
    page.controller.outliersReady.connect(found.append)
    menu = panel.menu_for(panel.item_for(str(holidays)))
    odd = next(a for a in menu.actions() if a.text().startswith("Odd Ones Out"))
    odd.trigger()
    qtbot.waitUntil(lambda: bool(found), timeout=60_000)
    assert window.pages.currentWidget() is page
    view = page.list_view
    assert view.isVisible()
    assert view.paths()[0] == str(stranger)
    assert view.lines()[0] == found[0][0].reason
    assert "Holidays" in view.title.text()
    assert view.open_button.isEnabled() and view.reveal_button.isEnabled()

    # Move to Trash: the safe trash (it can be put back), and off the list at once
    assert view.trash_button.isVisible() and view.trash_button.isEnabled()
    view.list.setCurrentRow(0)
    actions = page.controller.trash
    with qtbot.waitSignal(actions.trashed, timeout=30_000):
        QTest.mouseClick(view.trash_button, Qt.MouseButton.LeftButton)
    assert not stranger.exists()
    assert list(trash_entries(trash)) == [stranger.name]
    assert str(stranger) not in view.paths()
    assert view.note.text() == "1 photo of this list moved to the trash (Ctrl+Z puts it back)."

    # a photo trashed from another page, not in this list: the list's note is left alone
    note = view.note.text()
    other = next(p for p in holidays.iterdir() if str(p) not in view.paths())
    with qtbot.waitSignal(actions.trashed, timeout=30_000):
        actions.trash([str(other)])
    assert view.note.text() == note
    with qtbot.waitSignal(actions.putBack, timeout=30_000):
        actions.undo_action.trigger()  # puts back the last action: the other photo
    assert view.note.text() == note and str(stranger) not in view.paths()

    # putting the stranger back brings its row back, first again, and the list's own note
    with qtbot.waitSignal(actions.putBack, timeout=30_000):
        actions.undo_action.trigger()
    assert stranger.exists() and view.paths()[0] == str(stranger)
    assert view.note.text().startswith("The photos that look least like the rest")


def test_the_map_is_drawn_again_when_indexing_changed_the_album(qtbot, window, album):
    holidays, garden, families, _stranger = album
    page, first = show_map(qtbot, window, holidays)
    assert len(first.points) == 22
    maps = []
    page.controller.mapReady.connect(maps.append)
    index_folder(qtbot, window, garden)  # the page is in view: drawn again once indexed
    qtbot.waitUntil(lambda: bool(maps), timeout=MAP_TIMEOUT_MS)
    assert page.canvas.point_count() == 36
    assert {str(p) for p in families["roses"]} <= {p.path for p in maps[-1].points}
    assert page.folder_combo.count() == 3  # All folders, and the two


def test_a_removed_folder_leaves_the_map_at_once(qtbot, window, album):
    holidays, garden, _families, _stranger = album
    page, _map = show_map(qtbot, window, holidays, garden)
    canvas = page.canvas
    assert any(p.startswith(str(garden)) for p in canvas.shown_paths())
    window.remove_folder(str(garden))

    def garden_gone() -> bool:
        return not any(p.startswith(str(garden) + "/") for p in canvas.shown_paths())

    qtbot.waitUntil(garden_gone, timeout=30_000)  # without a new layout (stale until shown)
    assert canvas.shown_paths() and page_controller_is_stale(window)


def page_controller_is_stale(window) -> bool:
    from albumfinder.gui.map_page import MapController

    controller = window.findChild(MapController)
    return controller is not None and (controller._stale or controller.is_computing)
