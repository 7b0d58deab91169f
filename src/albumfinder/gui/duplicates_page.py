"""The Duplicates page: the album's groups of exact copies, near-duplicates and bursts (and
look-alikes when asked), the compare view, and the actions that clean the album up.

:class:`DuplicatesPageView` holds the widgets and their layout; :class:`DuplicatesPage` is
the controller. The core is reached only through :class:`Library` calls run off the GUI
thread: grouping (``duplicate_groups``, with progress and Cancel) and the decisions
(``keep_all``, ``not_duplicates``, ``set_keeper_rule``) on the jobs queue, in order (a
grouping asked after a decision sees it; no search waits behind a grouping), and moving
photos to the trash through the window's one
:class:`~albumfinder.gui.trash_actions.TrashActions` (one undo step per action).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui import advice, icons
from albumfinder.gui.banner import Banner, BannerLevel
from albumfinder.gui.compare_view import CompareView
from albumfinder.gui.duplicate_list import (
    DuplicateListModel,
    DuplicateListView,
    all_kept,
    counted,
    format_size,
    kind_title,
    rejects,
    with_keeper,
    without_paths,
)
from albumfinder.gui.elided_label import ElidedLabel
from albumfinder.gui.keeper_rule_dialog import KeeperRuleDialog
from albumfinder.gui.trash_actions import TrashActions
from albumfinder.gui.workers import Task
from albumfinder.library import Library
from albumfinder.report import (
    DuplicateGroup,
    FolderStatus,
    GroupKind,
    JobProgress,
    KeeperRule,
    PutBack,
    TrashAction,
)

DEFAULT_STRICTNESS = 50  # of 100: the core's default, 0.5
#: the kinds listed unless asked: look-alikes only when their chip is on
LISTED_KINDS = (GroupKind.EXACT, GroupKind.NEAR_DUPLICATE, GroupKind.BURST)
ALL_FOLDERS = ""
EMPTY, LIST, COMPARE = 0, 1, 2  # the stack's pages


def strictness_text(value: int) -> str:
    """What the strictness slider's position means, in words."""
    if value >= 75:
        return "Strict: only resized or re-encoded copies"
    if value >= 35:
        return "Balanced: copies, crops and light edits, not other shots"
    return "Loose: heavier edits too (check before trashing)"


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


def _chip(text: str, tip: str, name: str) -> QToolButton:
    chip = QToolButton()
    chip.setText(text)
    chip.setToolTip(tip)
    chip.setObjectName(name)
    chip.setCheckable(True)
    chip.setProperty("chip", True)
    return chip


def _faint(widget: QWidget, alpha: int = 165) -> None:
    palette = widget.palette()
    color = QColor(palette.color(QPalette.ColorRole.WindowText))
    color.setAlpha(alpha)
    palette.setColor(QPalette.ColorRole.WindowText, color)
    widget.setPalette(palette)


class EmptyState(QWidget):
    """What the page does, until there is a list to show (or why the list is empty)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("duplicatesEmpty")
        self.icon = QLabel()
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel()
        self.title.setObjectName("emptyTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setWeight(QFont.Weight.DemiBold)
        self.title.setFont(font)
        self.body = QLabel()
        self.body.setObjectName("emptyBody")
        self.body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.setWordWrap(True)
        self.body.setMaximumWidth(560)
        self.body.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        _faint(self.body, 185)
        self.button = QPushButton("Find Duplicates")
        self.button.setObjectName("emptyFindButton")
        self.button.setDefault(True)
        self.button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(self.icon)
        layout.addSpacing(6)
        layout.addWidget(self.title)
        body_row = QHBoxLayout()
        body_row.addStretch(1)
        body_row.addWidget(self.body, 4)
        body_row.addStretch(1)
        layout.addLayout(body_row)
        layout.addSpacing(10)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        self.say("intro")

    def say(self, what: str) -> None:
        texts = {
            "intro": (
                "Clean up copies and bursts",
                "Album Finder looks through your indexed photos for exact copies, resized or "
                "re-encoded near-duplicates, and bursts of shots taken seconds apart, and "
                "suggests which photo of each group to keep. Nothing leaves your album until "
                "you say so, and whatever goes to the trash can be put back.",
                True,
            ),
            "none": (
                "No duplicates found",
                "No two photos of your album are copies of each other or shots of one burst "
                "at this strictness. Move the slider to the left to look more loosely.",
                True,
            ),
            "filtered": (
                "No group matches the filter",
                "Turn on more kinds above, or choose All folders.",
                False,
            ),
            "no album": (
                "No photos yet",
                "Add a folder of photos on the left; once it is indexed, its duplicates can "
                "be found here.",
                False,
            ),
        }
        title, body, button = texts[what]
        self.what = what
        self.icon.setPixmap(icons.pixmap("copy", 56, self._faint_color()))
        self.title.setText(title)
        self.body.setText(body)
        self.button.setVisible(button)

    def _faint_color(self) -> QColor:
        color = QColor(self.palette().color(QPalette.ColorRole.WindowText))
        color.setAlpha(120)
        return color


class DuplicatesPageView(QWidget):
    """The toolbar, the progress line, the list (or the empty state) and the compare view."""

    def __init__(self, model: DuplicateListModel, compare: CompareView) -> None:
        super().__init__()
        self.banner = Banner()
        self._build_toolbar()
        self._build_progress()
        self.empty = EmptyState()
        self.list = DuplicateListView(model)
        self.compare = compare
        list_page = QWidget()
        list_layout = QVBoxLayout(list_page)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.setSpacing(6)
        list_layout.addWidget(self.list, 1)
        list_layout.addLayout(self._build_group_actions())
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(list_page)
        self.stack.addWidget(compare)
        self.toolbar_box = QWidget()
        toolbar_layout = QVBoxLayout(self.toolbar_box)
        toolbar_layout.setContentsMargins(0, 0, 0, 0)
        toolbar_layout.setSpacing(8)
        for row in self._toolbar_rows():
            toolbar_layout.addLayout(row)
        toolbar_layout.addWidget(self.progress_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 12, 14, 10)
        layout.setSpacing(10)
        layout.addWidget(self.banner)
        layout.addWidget(self.toolbar_box)
        layout.addWidget(self.stack, 1)
        self.setMinimumWidth(430)
        self.setStyleSheet(
            "QToolButton[chip=true] { border: 1px solid palette(mid); border-radius: 11px; "
            "padding: 2px 10px; }"
            "QToolButton[chip=true]:checked { background: palette(highlight); "
            "color: palette(highlighted-text); border-color: palette(highlight); }"
        )

    def _build_toolbar(self) -> None:
        self.find_button = QPushButton(icons.icon("search"), "Find Duplicates")
        self.find_button.setObjectName("findDuplicatesButton")
        self.find_button.setToolTip("Group the album's copies and bursts")
        self.kind_chips: dict[GroupKind, QToolButton] = {
            GroupKind.EXACT: _chip("Exact", "Byte copies and the same pixels", "kindExact"),
            GroupKind.NEAR_DUPLICATE: _chip(
                "Near-duplicate",
                "The same picture resized, re-encoded, cropped or edited",
                "kindNear",
            ),
            GroupKind.BURST: _chip("Burst", "Shots of one scene taken seconds apart", "kindBurst"),
            GroupKind.LOOK_ALIKE: _chip(
                "Look-alike",
                "Similar photos (same place, same subject): shown only when asked",
                "kindLookAlike",
            ),
        }
        self.kind_group = QButtonGroup(self)
        self.kind_group.setExclusive(False)
        for chip in self.kind_chips.values():
            self.kind_group.addButton(chip)
        self.folder_combo = QComboBox()
        self.folder_combo.setObjectName("folderFilter")
        self.folder_combo.setToolTip("Only groups with a photo in this folder")
        self.folder_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.folder_combo.setMinimumContentsLength(10)
        self.strictness = QSlider(Qt.Orientation.Horizontal)
        self.strictness.setObjectName("strictnessSlider")
        self.strictness.setRange(0, 100)
        self.strictness.setPageStep(10)
        self.strictness.setValue(DEFAULT_STRICTNESS)
        self.strictness.setMinimumWidth(110)
        self.strictness.setMaximumWidth(200)
        self.strictness.setToolTip("Where near-duplicates end and look-alikes begin")
        self.strictness_meaning = ElidedLabel(strictness_text(DEFAULT_STRICTNESS))
        self.strictness_meaning.setObjectName("strictnessMeaning")
        _faint(self.strictness_meaning)
        self.keeper_button = QToolButton()
        self.keeper_button.setObjectName("keeperRuleButton")
        self.keeper_button.setText("Keeper Rule…")
        self.keeper_button.setToolTip("Which photo of a group is suggested for keeping")
        self.resolve_button = QPushButton("Resolve All…")
        self.resolve_button.setObjectName("resolveAllButton")
        self.resolve_button.setToolTip(
            "Move every photo not suggested for keeping, in the groups listed, to the trash"
        )

    def _toolbar_rows(self) -> list[QHBoxLayout]:
        """What the list holds and the actions on all of it; which kinds; how strict and
        which folder (three short rows: the page fits the window's narrowest width)."""
        actions = QHBoxLayout()
        actions.setSpacing(8)
        actions.addWidget(self.find_button)
        actions.addStretch(1)
        actions.addWidget(self.keeper_button)
        actions.addWidget(self.resolve_button)
        kinds = QHBoxLayout()
        kinds.setSpacing(6)
        for chip in self.kind_chips.values():
            kinds.addWidget(chip)
        kinds.addStretch(1)
        strictness = QHBoxLayout()
        strictness.setSpacing(8)
        strictness.addWidget(QLabel("Strictness"))
        strictness.addWidget(self.strictness)
        strictness.addWidget(self.strictness_meaning, 1)
        strictness.addWidget(self.folder_combo)
        summary = QHBoxLayout()
        summary.addWidget(self.summary, 1)
        return [actions, kinds, strictness, summary]

    def _build_progress(self) -> None:
        self.progress_box = QFrame()
        self.progress_box.setObjectName("groupingProgress")
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress_text = ElidedLabel()
        self.cancel_button = QToolButton()
        self.cancel_button.setObjectName("cancelGrouping")
        self.cancel_button.setIcon(icons.icon("cancel"))
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.setAutoRaise(True)
        layout = QHBoxLayout(self.progress_box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.progress, 2)
        layout.addWidget(self.progress_text, 3)
        layout.addWidget(self.cancel_button)
        self.progress_box.hide()
        self.summary = ElidedLabel()
        self.summary.setObjectName("duplicatesSummary")
        font = QFont(self.summary.font())
        font.setWeight(QFont.Weight.DemiBold)
        self.summary.setFont(font)

    def _build_group_actions(self) -> QHBoxLayout:
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("compareButton")
        self.compare_button.setToolTip("Look at the photos side by side (Enter)")
        self.keep_all_button = QPushButton("Keep All")
        self.keep_all_button.setObjectName("keepAllButton")
        self.keep_all_button.setToolTip("Keep every photo of this group: it is not shown again")
        self.not_duplicate_button = QPushButton("Not a Duplicate")
        self.not_duplicate_button.setObjectName("notDuplicateButton")
        self.not_duplicate_button.setToolTip("These are different photos: never group them again")
        self.trash_suggested_button = QPushButton("Resolve Group")
        self.trash_suggested_button.setObjectName("resolveGroupButton")
        self.trash_suggested_button.setToolTip(
            "Move this group's photos not marked Keep to the trash"
        )
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(self.compare_button)
        row.addStretch(1)
        row.addWidget(self.keep_all_button)
        row.addWidget(self.not_duplicate_button)
        row.addWidget(self.trash_suggested_button)
        return row

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(900, 700)


class DuplicatesPage(DuplicatesPageView):
    """The page's controller; ``window``: the main window (its engine, thumbnails, trash)."""

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
        self.confirm_box: QMessageBox | None = None
        self.rule_dialog: KeeperRuleDialog | None = None
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
        self.keeper_button.clicked.connect(self.edit_keeper_rule)
        self.resolve_button.clicked.connect(self.confirm_resolve_all)
        self.compare_button.clicked.connect(self.open_compare)
        self.keep_all_button.clicked.connect(lambda: self._with_current(self.keep_all))
        self.not_duplicate_button.clicked.connect(lambda: self._with_current(self.not_duplicate))
        self.trash_suggested_button.clicked.connect(lambda: self._with_current(self.resolve_group))
        self.list.doubleClicked.connect(lambda _i: self.open_compare())
        self.list.activated.connect(lambda _i: self.open_compare())
        self.list.selectionModel().currentChanged.connect(lambda *_: self._sync_buttons())
        self.model.modelReset.connect(self._sync_buttons)
        c = self.compare
        c.backRequested.connect(self.close_compare)
        c.groupStepRequested.connect(self.step_group)
        c.keepRequested.connect(self.keep_member)
        c.trashRequested.connect(self.trash_member)
        c.keepAllRequested.connect(self.keep_all)
        c.notDuplicateRequested.connect(self.not_duplicate)
        self.trash_actions.trashed.connect(self._trashed)
        self.trash_actions.putBack.connect(self._put_back)
        e = self.engine
        e.opened.connect(lambda _o: self._sync_buttons())
        e.foldersChanged.connect(self._folders_changed)
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

    def current_index(self) -> QModelIndex:
        return self.list.currentIndex()
