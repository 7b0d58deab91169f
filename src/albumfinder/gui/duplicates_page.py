"""The Duplicates page: the album's groups of exact copies, near-duplicates and bursts (and
look-alikes when asked), the compare view, and the actions that clean the album up.

:class:`DuplicatesPageView` (duplicates_page_view.py) holds the widgets and their layout;
:class:`DuplicatesController` (duplicates_controller.py) groups, filters and shows;
:class:`DuplicatesPage`, here, adds the decisions on the groups. The core is reached only
through :class:`Library` calls run off the GUI thread: grouping (``duplicate_groups``, with
progress and Cancel) and the decisions (``keep_all``, ``not_duplicates``,
``set_keeper_rule``) on the jobs queue, in order (a grouping asked after a decision sees it;
no search waits behind a grouping), and moving photos to the trash through the window's one
:class:`~albumfinder.gui.trash_actions.TrashActions` (one undo step per action).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QMessageBox

from albumfinder.gui import advice
from albumfinder.gui.banner import BannerLevel
from albumfinder.gui.duplicate_list import (
    all_kept,
    counted,
    format_size,
    kind_title,
    rejects,
    with_keeper,
    without_paths,
)
from albumfinder.gui.duplicates_controller import DuplicatesController
from albumfinder.gui.keeper_rule_dialog import KeeperRuleDialog
from albumfinder.library import Library
from albumfinder.report import DuplicateGroup, FolderStatus, KeeperRule, PutBack, TrashAction


def resolve_text(groups: list[DuplicateGroup]) -> tuple[int, int, str]:
    """(photos to trash, bytes freed, the question) for resolving ``groups``."""
    photos = sum(len(rejects(g)) for g in groups)
    freed = sum(g.reclaimable for g in groups)
    question = (
        f"Move {counted(photos, 'photo')} to the trash and free {format_size(freed)}?\n\n"
        f"Each of the {counted(len(groups), 'group')} keeps the photo suggested for keeping. "
        "You can put them back afterwards (Put back, or Ctrl+Z)."
    )
    return photos, freed, question


class DuplicatesPage(DuplicatesController):
    """The page: its controller and the decisions on the groups; ``window``: the main
    window (its engine, thumbnails, trash)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.confirm_box: QMessageBox | None = None
        self.rule_dialog: KeeperRuleDialog | None = None

    def _connect(self) -> None:
        super()._connect()
        self.keeper_button.clicked.connect(self.edit_keeper_rule)
        self.resolve_button.clicked.connect(self.confirm_resolve_all)
        self.keep_all_button.clicked.connect(lambda: self._with_current(self.keep_all))
        self.not_duplicate_button.clicked.connect(lambda: self._with_current(self.not_duplicate))
        self.trash_suggested_button.clicked.connect(lambda: self._with_current(self.resolve_group))
        c = self.compare
        c.keepRequested.connect(self.keep_member)
        c.trashRequested.connect(self.trash_member)
        c.keepAllRequested.connect(self.keep_all)
        c.notDuplicateRequested.connect(self.not_duplicate)
        self.trash_actions.trashed.connect(self._trashed)
        self.trash_actions.putBack.connect(self._put_back)
        self.engine.foldersChanged.connect(self._folders_changed)

    # -- decisions ---------------------------------------------------------------------
    def keep_member(self, group: DuplicateGroup, path: str) -> None:
        """K: keep this member too; a group with nothing left to decide is kept whole."""
        updated = with_keeper(group, path)
        if all_kept(updated):
            self.keep_all(updated)
            return
        row = self.model.row_of(group.id)
        self.model.replace_groups({group.id: updated})
        self._after_change(group.id, row, right=path)

    def keep_all(self, group: DuplicateGroup) -> None:
        self._decide(group, lambda library: library.keep_all(group), "kept: it is not shown again")

    def not_duplicate(self, group: DuplicateGroup) -> None:
        self._decide(
            group, lambda library: library.not_duplicates(group), "marked as different photos"
        )

    def _decide(self, group: DuplicateGroup, call: Callable[[Library], object], said: str) -> None:
        """Store a decision (on the album queue) and take the group off the list at once."""
        row = self.model.row_of(group.id)
        self.model.replace_groups({group.id: None})
        self._after_change(group.id, row)
        library = self.engine.library
        if library is None:
            return

        def failed(exc: BaseException) -> None:
            self.banner.show_message(
                BannerLevel.ERROR, f"The decision was not saved: {advice.in_words(exc)}"
            )

        self.engine.pools.job_task(
            lambda _p, _s: call(library),
            on_result=lambda _r: self.banner.show_message(
                BannerLevel.INFO,
                f"{kind_title(group.kind)} group of {counted(len(group.members), 'photo')} {said}.",
            ),
            on_error=failed,
        )

    def _after_change(self, group_id: str, row: int, right: str | None = None) -> None:
        self._show_empty_or_list()
        if self.is_comparing():
            self._show_compare_after_change(group_id, row, right)
        else:
            self.list.select_row(min(max(row, 0), self.model.rowCount() - 1))

    # -- the trash ---------------------------------------------------------------------
    def trash_member(self, group: DuplicateGroup, path: str) -> None:
        """T: move this member to the trash (one undo step)."""
        self._trash([path])

    def resolve_group(self, group: DuplicateGroup) -> None:
        self._trash([m.path for m in rejects(group)])

    def _trash(self, paths: list[str]) -> None:
        """Through the window's trash controller (on the album queue, in order): its banner
        says what happened; any action's photos leave the list."""
        self.trash_actions.trash(paths, "duplicates", "duplicate")

    def confirm_resolve_all(self) -> None:
        """Ask before moving every non-keeper of the groups listed (all, or the filtered
        part) to the trash: how many photos, how much space."""
        groups = [g for g in self.model.groups() if rejects(g)]
        if not groups:
            return
        photos, _freed, question = resolve_text(groups)
        box = QMessageBox(self)
        box.setObjectName("resolveConfirm")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Resolve with Suggestions")
        box.setText(question)
        move = box.addButton(
            f"Move {counted(photos, 'Photo')} to Trash", QMessageBox.ButtonRole.AcceptRole
        )
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(move)
        paths = [m.path for g in groups for m in rejects(g)]

        def answered() -> None:
            if box.clickedButton() is move:
                self._trash(paths)
            self.confirm_box = None

        box.finished.connect(lambda _r: answered())
        self.confirm_box = box
        box.open()

    def _trashed(self, action: TrashAction) -> None:
        """The trashed photos leave the groups at once; a group left with keepers only is
        kept whole (so it does not come back)."""
        gone = set(action.trashed)  # the window's banner says what happened (Put back)
        if gone:
            self._remove_paths(gone)

    def _folders_changed(self, statuses: list[FolderStatus]) -> None:
        """A removed folder's photos leave the groups at once (no decision is stored)."""
        folders = [s.path for s in statuses]
        removed = [f for f in self._album_folders if f not in folders]
        self._album_folders = folders
        self._refresh_folder_choices(folders)
        members = [m.path for g in self.model.all_groups() for m in g.members]
        gone: set[str] = set()
        for folder in removed:
            gone.update(Library.leaving_with(folder, members, [*folders, folder]))
        if gone:
            self._remove_paths(gone, decided=False)

    def _remove_paths(self, gone: set[str], decided: bool = True) -> None:
        """Take ``gone`` out of the groups; ``decided``: the user sent them away (trash),
        so a group left with its keepers only is kept as it is (a decision)."""
        current = self.list.current_group()
        row = self.list.currentIndex().row()
        right = self.compare.right_member()
        changed: dict[str, DuplicateGroup | None] = {}
        settled: list[DuplicateGroup] = []
        for group in self.model.all_groups():
            left = without_paths(group, gone)
            if left is group:
                continue
            if decided and left is not None and all_kept(left):
                settled.append(left)
                left = None
            changed[group.id] = left
        self.model.replace_groups(changed)
        self.compare.forget(gone)
        for group in settled:  # the user kept what is left: a decision to store
            self._store(functools.partial(Library.keep_all, group=group))
        if current is not None:
            keep_right = right.path if right is not None and right.path not in gone else None
            self._after_change(current.id, row, keep_right)
        else:
            self._show_empty_or_list()

    def _store(self, call: Callable[[Library], object]) -> None:
        library = self.engine.library
        if library is not None:
            self.engine.pools.job_task(
                lambda _p, _s: call(library),
                on_error=lambda exc: self.banner.show_message(
                    BannerLevel.ERROR, f"The decision was not saved: {advice.in_words(exc)}"
                ),
            )

    def _put_back(self, done: PutBack) -> None:
        if self._has_run and done.restored:  # the window's banner says what was put back
            self.find_groups()  # their groups come back

    # -- the keeper rule ---------------------------------------------------------------
    def edit_keeper_rule(self) -> None:
        library = self.engine.library
        if library is None:
            return
        self.engine.pools.interactive_task(
            lambda _p, _s: (library.keeper_rule(), Library.keeper_steps()),
            on_result=lambda found: self._show_rule_dialog(*found),
            on_error=lambda exc: self.banner.show_message(
                BannerLevel.ERROR, f"The keeper rule could not be read: {advice.in_words(exc)}"
            ),
        )

    def _show_rule_dialog(self, rule: KeeperRule, steps: list[tuple[str, str]]) -> None:
        dialog = KeeperRuleDialog(rule, steps, self.engine.folders, self)
        self.rule_dialog = dialog

        def done(result: int) -> None:
            self.rule_dialog = None
            if result == KeeperRuleDialog.DialogCode.Accepted and dialog.rule() != rule:
                self._save_rule(dialog.rule())

        dialog.finished.connect(done)
        dialog.open()

    def _save_rule(self, rule: KeeperRule) -> None:
        library = self.engine.library
        if library is None:
            return
        self.engine.pools.job_task(
            lambda _p, _s: library.set_keeper_rule(rule),
            on_result=lambda _r: self.find_groups() if self._has_run else None,
            on_error=lambda exc: self.banner.show_message(
                BannerLevel.ERROR, f"The keeper rule was not saved: {advice.in_words(exc)}"
            ),
        )
