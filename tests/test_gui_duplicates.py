"""The Duplicates page and the compare view (issue 12 points 1, 4-7, 9), offscreen over the
real window and Library (built-in model), with real key and mouse events: the groups of an
album with planted copies, the kind filter, the compare view (synced zoom, keys through
members and groups, K, T into a test trash, Put back), Resolve all, Keep all, the keeper
rule dialog, and a list of 2000 groups that asks for thumbnails only of its visible rows."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from albumfinder.gui.duplicate_list import SHOWN_MEMBERS
from albumfinder.gui.duplicates_page import DuplicatesPage
from albumfinder.report import DuplicateGroup, GroupKind, GroupMember

from gui_support import index_folder
from photo_factory import make_album, make_photo
from trash_support import redirect_trash, trash_entries

TIMEOUT_MS = 60_000


# -- the album -------------------------------------------------------------------------------
def planted_album(folder: Path) -> dict[str, list[Path]]:
    """Six different photos, two byte copies of the first (an exact group of three) and a
    half-size re-save of the second (a near-duplicate pair)."""
    photos = make_album(folder, 6)
    copies = [folder / "copies" / f"copy_{i}.jpg" for i in (1, 2)]
    for copy in copies:
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photos[0], copy)
    small = folder / "copies" / "small.jpg"
    with Image.open(photos[1]) as image:
        image.resize((320, 240), Image.Resampling.LANCZOS).save(small, quality=85)
    for day, photo in enumerate([*photos, *copies, small]):  # days apart: no burst
        os.utime(photo, (1_600_000_000 + day * 86_400,) * 2)
    return {"exact": [photos[0], *copies], "near": [photos[1], small], "others": photos[2:]}


def page_of(window) -> DuplicatesPage:
    page = window.findChild(DuplicatesPage, "duplicatesPage")
    assert page is not None
    return page


def find_groups(qtbot, page: DuplicatesPage) -> list[DuplicateGroup]:
    """Click Find Duplicates / Refresh and wait for the list."""
    with qtbot.waitSignal(page.groupsShown, timeout=TIMEOUT_MS):
        qtbot.mouseClick(page.find_button, Qt.MouseButton.LeftButton)
    return page.model.groups()


@pytest.fixture
def album(qtbot, window, tmp_path, monkeypatch):
    """(window, page, planted photos, trash folder): indexed, the Duplicates page shown."""
    trash = redirect_trash(tmp_path, monkeypatch)
    planted = planted_album(tmp_path / "Pictures")
    index_folder(qtbot, window, tmp_path / "Pictures")
    window.show_page("duplicates")
    page = page_of(window)
    assert page.isVisible() and page.empty.isVisible()  # what the page does, before a run
    return window, page, planted, trash


def by_kind(groups: list[DuplicateGroup], kind: GroupKind) -> list[DuplicateGroup]:
    return [g for g in groups if g.kind == kind]


def paths(group: DuplicateGroup) -> set[str]:
    return {m.path for m in group.members}


def open_compare(qtbot, page: DuplicatesPage, group: DuplicateGroup) -> None:
    page.list.select_row(page.model.row_of(group.id))
    page.list.setFocus()
    qtbot.keyClick(page.list, Qt.Key.Key_Return)
    assert page.is_comparing()
    qtbot.waitUntil(page.compare.is_loaded, timeout=TIMEOUT_MS)


# -- the list ----------------------------------------------------------------------------------
def test_the_page_lists_the_planted_groups_and_filters_them_by_kind(qtbot, album):
    _window, page, planted, _trash = album
    groups = find_groups(qtbot, page)
    exact = by_kind(groups, GroupKind.EXACT)
    near = by_kind(groups, GroupKind.NEAR_DUPLICATE)
    assert [paths(g) for g in exact] == [{str(p) for p in planted["exact"]}]
    assert [paths(g) for g in near] == [{str(p) for p in planted["near"]}]
    assert near[0].members[0].path == str(planted["near"][0])  # the larger one is kept
    assert page.list.isVisible() and page.find_button.text() == "Refresh"
    assert page.summary.text().startswith("2 groups · 3 photos to trash · ")

    qtbot.mouseClick(page.kind_chips[GroupKind.EXACT], Qt.MouseButton.LeftButton)
    assert [g.kind for g in page.model.groups()] == [GroupKind.NEAR_DUPLICATE]
    assert page.summary.text().startswith("1 group of 2 · 1 photo")
    assert page.resolve_button.text() == "Resolve Shown…"
    qtbot.mouseClick(page.kind_chips[GroupKind.NEAR_DUPLICATE], Qt.MouseButton.LeftButton)
    assert page.model.groups() == [] and page.empty.what == "filtered"
    qtbot.mouseClick(page.kind_chips[GroupKind.EXACT], Qt.MouseButton.LeftButton)
    assert [g.kind for g in page.model.groups()] == [GroupKind.EXACT]


def test_the_folder_filter_keeps_groups_with_a_photo_in_the_folder(qtbot, album, tmp_path):
    window, page, planted, _trash = album
    find_groups(qtbot, page)
    copies = str(tmp_path / "Pictures" / "copies")
    window.add_folder(copies)  # a second album folder, inside the first
    qtbot.waitUntil(lambda: page.folder_combo.findData(copies) >= 0, timeout=TIMEOUT_MS)
    page.folder_combo.setCurrentIndex(page.folder_combo.findData(copies))
    assert len(page.model.groups()) == 2  # both groups have a photo among the copies
    page.folder_combo.setCurrentIndex(page.folder_combo.findData(str(tmp_path / "Pictures")))
    assert len(page.model.groups()) == 2
    page.folder_combo.setCurrentIndex(0)  # All folders
    assert len(page.model.groups()) == 2


# -- the compare view ----------------------------------------------------------------------
def wheel(widget, steps: int, at: QPointF) -> None:
    event = QWheelEvent(
        at,
        widget.mapToGlobal(at),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_the_compare_view_syncs_zoom_and_pan_and_keys_step_members_and_groups(qtbot, album):
    _window, page, planted, _trash = album
    groups = find_groups(qtbot, page)
    exact = by_kind(groups, GroupKind.EXACT)[0]
    open_compare(qtbot, page, exact)
    compare = page.compare
    left, right = compare.left.canvas, compare.right.canvas
    assert compare.left.member.path == exact.members[0].path and compare.left.member.keep
    assert compare.right.member.path == exact.members[1].path
    assert compare.right.why.text() == exact.members[1].why
    assert "640 × 480" in compare.left.facts.text() and "JPG" in compare.left.facts.text()
    assert left.image.width() == 640  # full resolution, not a thumbnail

    # the wheel on the left zooms both sides to the same part of the picture
    wheel(left, 3, QPointF(left.width() * 0.25, left.height() * 0.25))
    assert compare.state.zoom > 1.9
    assert right.image_rect().width() / right.fit_scale() == pytest.approx(
        left.image_rect().width() / left.fit_scale()
    )
    centre = QPointF(left.width() / 2, left.height() / 2)
    assert left.photo_point(centre).x() < 0.5  # zoomed towards the upper left
    assert right.photo_point(centre).x() == pytest.approx(left.photo_point(centre).x(), abs=0.02)
    # a drag on the right pans both
    before = left.photo_point(centre)
    qtbot.mousePress(right, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(right, QPoint(140, 110))
    qtbot.mouseRelease(right, Qt.MouseButton.LeftButton, pos=QPoint(140, 110))
    after = left.photo_point(centre)
    assert after.x() > before.x() and after.y() > before.y()
    assert right.photo_point(centre).x() == pytest.approx(after.x(), abs=0.02)
    qtbot.mouseClick(compare.fit_button, Qt.MouseButton.LeftButton)
    assert compare.state.zoom == 1.0

    # → the next copy (the keeper stays), ← back, PgDn the next group, PgUp back, Esc
    qtbot.keyClick(compare, Qt.Key.Key_Right)
    assert compare.right.member.path == exact.members[2].path
    assert compare.left.member.path == exact.members[0].path
    qtbot.keyClick(compare, Qt.Key.Key_Right)  # the last copy: it stays
    assert compare.right.member.path == exact.members[2].path
    qtbot.keyClick(compare, Qt.Key.Key_Left)
    assert compare.right.member.path == exact.members[1].path
    qtbot.keyClick(compare, Qt.Key.Key_PageDown)
    assert compare.group.kind == GroupKind.NEAR_DUPLICATE
    assert {compare.left.member.path, compare.right.member.path} == {
        str(p) for p in planted["near"]
    }
    qtbot.keyClick(compare, Qt.Key.Key_PageUp)
    assert compare.group.id == exact.id
    qtbot.keyClick(compare, Qt.Key.Key_Escape)
    assert not page.is_comparing() and page.list.isVisible()
    assert page.list.current_group().id == exact.id


def test_t_trashes_the_copy_the_list_follows_and_put_back_restores_it(qtbot, album):
    window, page, planted, trash = album
    groups = find_groups(qtbot, page)
    exact = by_kind(groups, GroupKind.EXACT)[0]
    open_compare(qtbot, page, exact)
    victim = page.compare.right.member.path
    with qtbot.waitSignal(page.trash_actions.trashed, timeout=TIMEOUT_MS):
        qtbot.keyClick(page.compare, Qt.Key.Key_T)
    assert not Path(victim).exists() and Path(victim).name in trash_entries(trash)
    shown = page.model.group(page.model.row_of(exact.id))
    assert victim not in paths(shown) and len(shown.members) == 2  # the list follows
    assert page.compare.right.member.path != victim  # the compare view too
    banner = page.window().banner  # the window's one, above every page: said once
    assert banner.isVisible() and not page.banner.isVisible()
    assert banner.message() == "1 duplicate moved to the trash."
    assert [b.text() for b in banner.action_buttons] == ["Put back"]

    with qtbot.waitSignal(page.groupsShown, timeout=TIMEOUT_MS):  # grouped again after
        qtbot.mouseClick(banner.action_buttons[0], Qt.MouseButton.LeftButton)
    assert Path(victim).exists() and trash_entries(trash) == {}
    back = next(g for g in page.model.groups() if victim in paths(g))
    assert paths(back) == paths(exact)  # the group is whole again

    # T on a pair leaves one photo: the group leaves the list
    near = next(g for g in page.model.groups() if paths(g) == {str(p) for p in planted["near"]})
    open_compare(qtbot, page, near)
    with qtbot.waitSignal(page.trash_actions.trashed, timeout=TIMEOUT_MS):
        qtbot.keyClick(page.compare, Qt.Key.Key_T)
    assert page.model.row_of(near.id) == -1
    assert not Path(near.members[1].path).exists() and Path(near.members[0].path).exists()


def test_k_keeps_a_copy_too_and_keeping_all_of_a_group_is_remembered(qtbot, album):
    _window, page, _planted, trash = album
    exact = by_kind(find_groups(qtbot, page), GroupKind.EXACT)[0]
    open_compare(qtbot, page, exact)
    kept = page.compare.right.member.path
    qtbot.keyClick(page.compare, Qt.Key.Key_K)
    shown = page.model.group(page.model.row_of(exact.id))
    assert [m.path for m in shown.members if m.keep] == [exact.members[0].path, kept]
    assert shown.reclaimable == exact.members[2].size
    assert page.compare.right.member.keep and not page.compare.keep_button.isEnabled()
    # T on the last copy: only keepers are left, the group is kept whole (and stays away)
    qtbot.keyClick(page.compare, Qt.Key.Key_Right)
    with qtbot.waitSignal(page.trash_actions.trashed, timeout=TIMEOUT_MS):
        qtbot.keyClick(page.compare, Qt.Key.Key_T)
    assert list(trash_entries(trash)) == [Path(exact.members[2].path).name]
    assert page.model.row_of(exact.id) == -1
    near = page.model.groups()
    assert [g.kind for g in near] == [GroupKind.NEAR_DUPLICATE] and page.is_comparing()

    qtbot.keyClick(page.compare, Qt.Key.Key_Escape)
    qtbot.mouseClick(page.keep_all_button, Qt.MouseButton.LeftButton)  # the near pair
    assert page.model.groups() == [] and page.empty.isVisible()
    assert find_groups(qtbot, page) == []  # both decisions stay made


def test_not_a_duplicate_is_remembered(qtbot, album):
    _window, page, _planted, _trash = album
    near = by_kind(find_groups(qtbot, page), GroupKind.NEAR_DUPLICATE)[0]
    page.list.select_row(page.model.row_of(near.id))
    qtbot.mouseClick(page.not_duplicate_button, Qt.MouseButton.LeftButton)
    assert page.model.row_of(near.id) == -1
    assert [g.kind for g in find_groups(qtbot, page)] == [GroupKind.EXACT]


def test_resolve_all_asks_then_trashes_only_the_photos_not_kept(qtbot, album):
    _window, page, planted, trash = album
    groups = find_groups(qtbot, page)
    keepers = {g.members[0].path for g in groups}
    rejected = {m.path for g in groups for m in g.members if not m.keep}
    assert len(rejected) == 3
    qtbot.mouseClick(page.resolve_button, Qt.MouseButton.LeftButton)
    box = page.confirm_box
    assert box is not None and box.isVisible()
    freed = sum(g.reclaimable for g in groups)
    assert box.text().startswith(f"Move 3 photos to the trash and free {freed / 1e3:.0f} KB?")
    move = next(b for b in box.buttons() if b.text().startswith("Move 3 Photos"))
    with qtbot.waitSignal(page.trash_actions.trashed, timeout=TIMEOUT_MS) as signal:
        qtbot.mouseClick(move, Qt.MouseButton.LeftButton)
    assert set(signal.args[0].trashed) == rejected
    assert all(Path(p).exists() for p in keepers)
    assert all(p.exists() for p in planted["others"])
    assert sorted(trash_entries(trash)) == sorted(Path(p).name for p in rejected)
    assert page.model.groups() == [] and page.empty.isVisible()
    assert page.window().banner.message() == "3 duplicates moved to the trash."


def test_resolve_all_cancelled_moves_nothing(qtbot, album):
    _window, page, _planted, trash = album
    groups = find_groups(qtbot, page)
    qtbot.mouseClick(page.resolve_button, Qt.MouseButton.LeftButton)
    box = page.confirm_box
    cancel = next(b for b in box.buttons() if b.text() == "&Cancel" or "Cancel" in b.text())
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.confirm_box is None)
    assert trash_entries(trash) == {} and page.model.groups() == groups


def test_the_keeper_rule_dialog_reorders_the_steps_and_the_rule_is_stored(qtbot, album):
    window, page, _planted, _trash = album
    qtbot.mouseClick(page.keeper_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.rule_dialog is not None and page.rule_dialog.isVisible())
    dialog = page.rule_dialog
    before = dialog.step_order()
    assert before[0] == "pixels" and dialog.steps.item(0).text().startswith("1.")
    dialog.steps.setCurrentRow(1)
    qtbot.mouseClick(dialog.step_up, Qt.MouseButton.LeftButton)
    assert dialog.step_order()[:2] == (before[1], before[0])
    assert dialog.steps.item(0).text().startswith("1.")
    folder = window.engine.folders[0]
    dialog.folder_choice.setCurrentIndex(dialog.folder_choice.findData(folder))
    qtbot.mouseClick(dialog.add_folder_button, Qt.MouseButton.LeftButton)
    assert dialog.folder_priority() == (folder,)
    dialog.accept()
    library = window.engine.library
    qtbot.waitUntil(lambda: library.keeper_rule().steps[:2] == (before[1], before[0]))
    assert library.keeper_rule().folder_priority == (folder,)


# -- thousands of groups ---------------------------------------------------------------------
def synthetic_groups(folder: Path, count: int) -> list[DuplicateGroup]:
    """``count`` groups of three photos each (the first row's photos exist; the others'
    thumbnails fail, and are asked for once)."""
    folder.mkdir(parents=True, exist_ok=True)
    for j in range(3):
        make_photo(7 + j, (96, 72)).save(folder / f"g0000_{j}.jpg", quality=80)
    groups = []
    for i in range(count):
        members = [
            GroupMember(
                str(folder / f"g{i:04d}_{j}.jpg"), j == 0, "identical file", 1.0, 9000, 96, 72, None
            )
            for j in range(3)
        ]
        groups.append(DuplicateGroup(f"id{i}", GroupKind.EXACT, "kept: older file", members, 18000))
    return groups


def test_a_list_of_2000_groups_asks_thumbnails_only_for_its_visible_rows(qtbot, window, tmp_path):
    window.show_page("duplicates")
    page = page_of(window)
    asked: list[str] = []
    loader = window.thumbnails
    real_request = loader.request

    def counting_request(path: str, size: int):
        asked.append(path)
        return real_request(path, size)

    loader.request = counting_request  # the real loader, counted
    page.model.set_groups(synthetic_groups(tmp_path / "many", 2000))
    page._has_run = True
    page._apply_filter()
    assert page.model.rowCount() == 2000 and page.list.isVisible()
    qtbot.waitUntil(lambda: len(asked) > 0)
    QApplication.processEvents()
    rows = {Path(p).name.split("_")[0] for p in asked}
    visible = page.list.viewport().height() // page.list.sizeHintForRow(0) + 2
    assert 0 < len(rows) <= visible  # only the rows on screen
    assert "g0000" in rows and "g1999" not in rows
    asked.clear()
    page.list.scrollToBottom()
    qtbot.waitUntil(lambda: len(asked) > 0)
    QApplication.processEvents()
    rows = {Path(p).name.split("_")[0] for p in asked}
    assert "g1999" in rows and "g1000" not in rows and len(rows) <= visible
    assert len({p for p in asked}) <= visible * min(3, SHOWN_MEMBERS)


def test_the_strictness_slider_and_the_look_alike_chip_group_again(qtbot, album):
    _window, page, _planted, _trash = album
    find_groups(qtbot, page)
    page.strictness.setFocus()
    with qtbot.waitSignal(page.groupsShown, timeout=TIMEOUT_MS):  # once the slider rests
        qtbot.keyClick(page.strictness, Qt.Key.Key_End)
    assert page.strictness_value() == 1.0
    assert page.strictness_meaning.text().startswith("Strict:")
    with qtbot.waitSignal(page.groupsShown, timeout=TIMEOUT_MS):
        qtbot.mouseClick(page.kind_chips[GroupKind.LOOK_ALIKE], Qt.MouseButton.LeftButton)
    assert GroupKind.LOOK_ALIKE in page.kinds_asked()


def test_a_removed_folder_leaves_the_groups_at_once_and_decides_nothing(qtbot, album, tmp_path):
    window, page, planted, _trash = album
    other = tmp_path / "Other"
    other.mkdir()
    twin = other / "twin.jpg"
    shutil.copyfile(planted["others"][0], twin)
    index_folder(qtbot, window, other)
    groups = find_groups(qtbot, page)
    assert any(str(twin) in paths(g) for g in groups)
    window.remove_folder(str(other))
    qtbot.waitUntil(
        lambda: not any(str(twin) in paths(g) for g in page.model.groups()), timeout=TIMEOUT_MS
    )
    assert not any(str(planted["others"][0]) in paths(g) for g in page.model.groups())
    # nothing was decided: the folder back, the group is back
    index_folder(qtbot, window, other)
    assert any(str(twin) in paths(g) for g in find_groups(qtbot, page))
