"""What the Duplicates page shows and why: groups the album through
``Library.duplicate_groups`` on the jobs queue (off the GUI thread, with progress and Cancel,
again after indexing or a new strictness), filters the groups by kind and folder, keeps the
buttons and the summary in step, and moves between the list and the compare view. The
decisions on the groups are :class:`~albumfinder.gui.duplicates_page.DuplicatesPage`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal

from albumfinder.gui import advice, icons
from albumfinder.gui.banner import BannerLevel
from albumfinder.gui.compare_view import CompareView
from albumfinder.gui.duplicate_list import DuplicateListModel, counted, format_size, rejects
from albumfinder.gui.duplicates_page_view import (
    COMPARE,
    EMPTY,
    LIST,
    DuplicatesPageView,
    strictness_text,
)
from albumfinder.gui.trash_actions import TrashActions
from albumfinder.gui.workers import Task
from albumfinder.library import Library
from albumfinder.report import DuplicateGroup, GroupKind, JobProgress, KeeperRule

#: the kinds listed unless asked: look-alikes only when their chip is on
LISTED_KINDS = (GroupKind.EXACT, GroupKind.NEAR_DUPLICATE, GroupKind.BURST)
ALL_FOLDERS = ""


class DuplicatesController(DuplicatesPageView):
    """The page's controller, up to the decisions; ``window``: the main window (its engine,
    thumbnails, trash)."""

    groupsShown = Signal()  # the list has been (re)filled: tests, scripts

    def __init__(self, window: Any) -> None:
        self.window_ = window
        self.engine = window.engine
        self.model = DuplicateListModel(window.thumbnails)
        super().__init__(self.model, CompareView(self.engine.pools))
        self.trash_actions = TrashActions.for_window(window)
        self._task: Task[list[DuplicateGroup]] | None = None
        self._album_folders: list[str] = []
        self._run_id = 0
        self._has_run = False
        self._again = False  # asked to group again while a run was going
        self._rule: KeeperRule | None = None
        self._strictness_timer = QTimer(self)
        self._strictness_timer.setSingleShot(True)
        self._strictness_timer.setInterval(350)
        self._strictness_timer.timeout.connect(self._strictness_settled)
        for kind in LISTED_KINDS:
            self.kind_chips[kind].setChecked(True)
        self._refresh_folder_choices(self.engine.folders)
        self._connect()
        self._sync_buttons()
        self._show_empty_or_list()

    def _connect(self) -> None:
        self.find_button.clicked.connect(self.find_groups)
        self.empty.button.clicked.connect(self.find_groups)
        self.cancel_button.clicked.connect(self.cancel)
        for kind, chip in self.kind_chips.items():
            chip.toggled.connect(lambda _on, kind=kind: self._kind_toggled(kind))
        self.folder_combo.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.strictness.valueChanged.connect(self._strictness_moved)
        self.compare_button.clicked.connect(self.open_compare)
        self.list.doubleClicked.connect(lambda _i: self.open_compare())
        self.list.activated.connect(lambda _i: self.open_compare())
        self.list.selectionModel().currentChanged.connect(lambda *_: self._sync_buttons())
        self.model.modelReset.connect(self._sync_buttons)
        c = self.compare
        c.backRequested.connect(self.close_compare)
        c.groupStepRequested.connect(self.step_group)
        e = self.engine
        e.opened.connect(lambda _o: self._sync_buttons())
        e.indexFinished.connect(self._index_finished)

    # -- grouping ----------------------------------------------------------------------
    @property
    def is_grouping(self) -> bool:
        return self._task is not None

    def kinds_asked(self) -> tuple[GroupKind, ...]:
        """The kinds the core is asked for: the listed three, look-alikes when their chip is
        on (the chips of the three filter what is shown)."""
        kinds = list(LISTED_KINDS)
        if self.kind_chips[GroupKind.LOOK_ALIKE].isChecked():
            kinds.append(GroupKind.LOOK_ALIKE)
        return tuple(kinds)

    def strictness_value(self) -> float:
        return self.strictness.value() / 100

    def find_groups(self) -> None:
        """Group the album (again): off the GUI thread, with progress and Cancel."""
        library = self.engine.library
        if library is None:
            return
        if self._task is not None:  # a newer question: the running one is superseded
            self._again = True
            self._task.cancel()
            return
        self._run_id += 1
        run_id = self._run_id
        name, path = self.engine.model, self.engine.model_path
        kinds, strictness = self.kinds_asked(), self.strictness_value()

        def work(
            progress: Callable[[Any], None], should_stop: Callable[[], bool]
        ) -> list[DuplicateGroup]:
            return library.duplicate_groups(
                Library.embedder(name, path),
                kinds=kinds,
                strictness=strictness,
                progress=progress,
                should_stop=should_stop,
            )

        self._task = self.engine.pools.job_task(  # after the decisions asked before it
            work,
            on_progress=self._progress,
            on_result=lambda groups: self._grouped(run_id, groups),
            on_error=lambda exc: self._grouping_failed(run_id, exc),
        )
        self.progress.setRange(0, 0)
        self.progress_text.setText("Looking for duplicates…")
        self.progress_box.show()
        self._sync_buttons()

    def cancel(self) -> None:
        self._again = False
        if self._task is not None:
            self._task.cancel()

    def _progress(self, p: object) -> None:
        if isinstance(p, JobProgress):
            if p.total:
                self.progress.setRange(0, p.total)
                self.progress.setValue(p.done)
            self.progress_text.setText(p.text)

    def _grouped(self, run_id: int, groups: list[DuplicateGroup]) -> None:
        cancelled = self._task is not None and self._task.cancelled
        self._task = None
        self.progress_box.hide()
        if run_id != self._run_id:
            return
        if cancelled:
            self._after_cancel()
            return
        self._has_run = True
        current = self.list.current_group()
        self.model.set_groups(groups)
        self._apply_filter(keep=current.id if current else None)
        self.groupsShown.emit()

    def _grouping_failed(self, run_id: int, exc: BaseException) -> None:
        cancelled = self._task is not None and self._task.cancelled
        self._task = None
        self.progress_box.hide()
        if cancelled:
            self._after_cancel()
            return
        if run_id == self._run_id:
            self.banner.show_message(
                BannerLevel.ERROR, f"Duplicates could not be found: {advice.in_words(exc)}"
            )
        self._sync_buttons()

    def _after_cancel(self) -> None:
        if self._again:
            self._again = False
            self.find_groups()
            return
        self.summary.setText("Stopped: the list is as it was before.")
        self._sync_buttons()

    def _index_finished(self, report: Any) -> None:
        changed = (
            getattr(report, "added", 0)
            + getattr(report, "updated", 0)
            + getattr(report, "removed", 0)
        )
        if self._has_run and changed and not getattr(report, "cancelled", False):
            self.find_groups()  # incremental: only new or changed photos are compared

    # -- filtering ---------------------------------------------------------------------
    def _kind_toggled(self, kind: GroupKind) -> None:
        if kind == GroupKind.LOOK_ALIKE and self._has_run:
            self.find_groups()  # look-alikes are grouped only when asked
        self._apply_filter()

    def shown_kinds(self) -> set[GroupKind]:
        return {kind for kind, chip in self.kind_chips.items() if chip.isChecked()}

    def folder_filter(self) -> str:
        return str(self.folder_combo.currentData() or ALL_FOLDERS)

    def _apply_filter(self, keep: str | None = None) -> None:
        kinds, folder = self.shown_kinds(), self.folder_filter()

        def accepts(group: DuplicateGroup) -> bool:
            if GroupKind(group.kind) not in kinds:
                return False
            return not folder or any(Library.is_under(m.path, folder) for m in group.members)

        current = keep if keep is not None else getattr(self.list.current_group(), "id", None)
        self.model.set_filter(accepts)
        row = self.model.row_of(current) if current else -1
        self.list.select_row(row if row >= 0 else 0)
        self._show_empty_or_list()

    def _refresh_folder_choices(self, folders: list[str]) -> None:
        chosen = self.folder_filter()
        self.folder_combo.blockSignals(True)
        self.folder_combo.clear()
        self.folder_combo.addItem("All folders", ALL_FOLDERS)
        for folder in folders:
            self.folder_combo.addItem(
                icons.icon("folder"), folder.rstrip("/").rsplit("/", 1)[-1] or folder, folder
            )
            self.folder_combo.setItemData(
                self.folder_combo.count() - 1, folder, Qt.ItemDataRole.ToolTipRole
            )
        index = self.folder_combo.findData(chosen)
        self.folder_combo.setCurrentIndex(max(0, index))
        self.folder_combo.blockSignals(False)
        if index < 0 and chosen:
            self._apply_filter()
        self._sync_buttons()

    def _strictness_moved(self, value: int) -> None:
        self.strictness_meaning.setText(strictness_text(value))
        if self._has_run:
            self._strictness_timer.start()  # grouped again once the slider rests

    def _strictness_settled(self) -> None:
        self.find_groups()

    # -- what is shown -----------------------------------------------------------------
    def _show_empty_or_list(self) -> None:
        shown = self.model.groups()
        if self.stack.currentIndex() != COMPARE or not shown:
            if shown:
                self.stack.setCurrentIndex(LIST)
            else:
                if not self.engine.folders and self.engine.is_open:
                    self.empty.say("no album")
                elif not self._has_run:
                    self.empty.say("intro")
                else:
                    self.empty.say("filtered" if self.model.all_groups() else "none")
                self.stack.setCurrentIndex(EMPTY)
        self._say_summary()
        self._sync_buttons()

    def _say_summary(self) -> None:
        shown = self.model.groups()
        if not self._has_run:
            self.summary.setText("")
            return
        photos = sum(len(rejects(g)) for g in shown)
        freed = sum(g.reclaimable for g in shown)
        total = len(self.model.all_groups())
        of = f" of {total:,}" if total != len(shown) else ""
        self.summary.setText(
            f"{counted(len(shown), 'group')}{of} · {counted(photos, 'photo')} to trash · "
            f"{format_size(freed)} to free"
        )

    def _sync_buttons(self) -> None:
        is_open = self.engine.library is not None
        self.find_button.setEnabled(is_open)
        self.find_button.setText("Refresh" if self._has_run else "Find Duplicates")
        self.empty.button.setEnabled(is_open)
        self.cancel_button.setEnabled(self._task is not None)
        self.keeper_button.setEnabled(is_open)
        shown = self.model.groups()
        self.resolve_button.setEnabled(bool(shown) and any(rejects(g) for g in shown))
        self.resolve_button.setText("Resolve All…" if not self._filtered() else "Resolve Shown…")
        current = self.list.current_group()
        for button in (self.compare_button, self.keep_all_button, self.not_duplicate_button):
            button.setEnabled(current is not None)
        self.trash_suggested_button.setEnabled(current is not None and bool(rejects(current)))

    def _filtered(self) -> bool:
        return len(self.model.groups()) != len(self.model.all_groups())

    def _with_current(self, call: Callable[[DuplicateGroup], None]) -> None:
        group = self.list.current_group()
        if group is not None:
            call(group)

    # -- the compare view --------------------------------------------------------------
    def open_compare(self, group: DuplicateGroup | None = None) -> None:
        group = group or self.list.current_group()
        if group is None:
            return
        row = self.model.row_of(group.id)
        self.list.select_row(row)
        self.compare.show_group(group, (row + 1, self.model.rowCount()))
        self.stack.setCurrentIndex(COMPARE)
        self.toolbar_box.hide()
        self.compare.setFocus()

    def close_compare(self) -> None:
        self.toolbar_box.show()
        self.stack.setCurrentIndex(LIST)
        self._show_empty_or_list()
        self.list.setFocus()

    def is_comparing(self) -> bool:
        return self.stack.currentIndex() == COMPARE

    def step_group(self, step: int) -> None:
        row = self.list.currentIndex().row() + step
        group = self.model.group(row)
        if group is not None:
            self.open_compare(group)

    def _show_compare_after_change(self, group_id: str, row: int, right: str | None = None) -> None:
        """Keep the compare view on ``group_id`` if it is still listed, else the group now
        at ``row``; back to the list when none is left."""
        if not self.is_comparing():
            return
        new_row = self.model.row_of(group_id)
        if new_row < 0:
            new_row = min(row, self.model.rowCount() - 1)
        group = self.model.group(new_row)
        if group is None:
            self.close_compare()
            return
        self.list.select_row(new_row)
        self.compare.show_group(group, (new_row + 1, self.model.rowCount()), right=right)

    def current_index(self) -> QModelIndex:
        return self.list.currentIndex()
