"""The keeper rule, shown and reordered: which photo of a group is suggested for keeping.

The steps and their titles are the core's (:meth:`Library.keeper_steps`, in the default
order), the order the user's rule (:meth:`Library.keeper_rule`); the first step that tells
the photos apart decides. The dialog reorders them (drag, or Move Up / Move Down) and sets
the folder priority of the "folder" step; it returns a new :class:`KeeperRule` and decides
nothing itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from albumfinder.report import KeeperRule

STEP_ROLE = Qt.ItemDataRole.UserRole
FOLDER_STEP = "folder"


def _movable_list(name: str) -> QListWidget:
    widget = QListWidget()
    widget.setObjectName(name)
    widget.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
    widget.setDefaultDropAction(Qt.DropAction.MoveAction)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    widget.setAlternatingRowColors(True)
    return widget


def move_current(widget: QListWidget, step: int) -> None:
    """Move the current row of ``widget`` up (-1) or down (+1)."""
    row = widget.currentRow()
    target = row + step
    if row < 0 or not 0 <= target < widget.count():
        return
    item = widget.takeItem(row)
    widget.insertItem(target, item)
    widget.setCurrentRow(target)
    dialog = widget.window()
    if isinstance(dialog, KeeperRuleDialog):
        dialog._number_steps()


def _up_down(widget: QListWidget, parent: QWidget) -> tuple[QPushButton, QPushButton]:
    up = QPushButton("Move Up", parent)
    down = QPushButton("Move Down", parent)
    up.clicked.connect(lambda: move_current(widget, -1))
    down.clicked.connect(lambda: move_current(widget, 1))
    return up, down


class KeeperRuleDialog(QDialog):
    """Reorder the steps of the keeper rule; choose the folders that win the folder step."""

    def __init__(
        self,
        rule: KeeperRule,
        steps: Sequence[tuple[str, str]],
        folders: Sequence[str],
        parent: QWidget | None = None,
    ) -> None:
        """``steps``: (name, title) of every step, in the default order."""
        super().__init__(parent)
        self.setObjectName("keeperRuleDialog")
        self.setWindowTitle("Which Photo to Keep")
        self.setModal(True)
        intro = QLabel(
            "In each group, the photo to keep is chosen by these steps, first to last: the "
            "first step that tells the photos apart decides. Drag a step, or use Move Up and "
            "Move Down, to change the order."
        )
        intro.setWordWrap(True)

        self._titles = dict(steps)
        self._default_steps = tuple(name for name, _title in steps)
        self.steps = _movable_list("keeperSteps")
        self.steps.setSpacing(2)
        self._fill_steps(rule.steps)
        self.steps.model().rowsMoved.connect(lambda *_: self._number_steps())
        self.step_up, self.step_down = _up_down(self.steps, self)
        steps_box = QGroupBox("Steps")
        steps_layout = QGridLayout(steps_box)
        steps_layout.addWidget(self.steps, 0, 0, 3, 1)
        steps_layout.addWidget(self.step_up, 0, 1)
        steps_layout.addWidget(self.step_down, 1, 1)
        steps_layout.setRowStretch(2, 1)

        self.folders = _movable_list("folderPriority")
        for folder in rule.folder_priority:
            self._add_folder_item(folder)
        self.folder_choice = QComboBox()
        self.folder_choice.setObjectName("folderChoice")
        self._album_folders = list(folders)
        self._refresh_choices()
        self.add_folder_button = QPushButton("Add")
        self.remove_folder_button = QPushButton("Remove")
        self.folder_up, self.folder_down = _up_down(self.folders, self)
        self.add_folder_button.clicked.connect(self._add_chosen)
        self.remove_folder_button.clicked.connect(self._remove_current)
        folders_box = QGroupBox("Folder priority")
        folder_note = QLabel("Photos in folders higher in this list win the folder step.")
        folder_note.setWordWrap(True)
        pick = QHBoxLayout()
        pick.addWidget(self.folder_choice, 1)
        pick.addWidget(self.add_folder_button)
        folders_layout = QGridLayout(folders_box)
        folders_layout.addWidget(folder_note, 0, 0, 1, 2)
        folders_layout.addLayout(pick, 1, 0, 1, 2)
        folders_layout.addWidget(self.folders, 2, 0, 4, 1)
        folders_layout.addWidget(self.folder_up, 2, 1)
        folders_layout.addWidget(self.folder_down, 3, 1)
        folders_layout.addWidget(self.remove_folder_button, 4, 1)
        folders_layout.setRowStretch(5, 1)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.reset_button = buttons.addButton(
            "Restore Defaults", QDialogButtonBox.ButtonRole.ResetRole
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.reset_button.clicked.connect(self._restore_defaults)

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(intro)
        layout.addWidget(steps_box, 3)
        layout.addWidget(folders_box, 2)
        layout.addWidget(buttons)
        self.resize(560, 600)
        self.setMinimumSize(480, 520)

    def _add_folder_item(self, folder: str) -> None:
        item = QListWidgetItem(folder)
        item.setData(STEP_ROLE, folder)
        item.setToolTip(folder)
        self.folders.addItem(item)

    def _refresh_choices(self) -> None:
        chosen = set(self.folder_priority())
        self.folder_choice.clear()
        for folder in self._album_folders:
            if folder not in chosen:
                self.folder_choice.addItem(folder, folder)
        self.folder_choice.setEnabled(self.folder_choice.count() > 0)
        if hasattr(self, "add_folder_button"):
            self.add_folder_button.setEnabled(self.folder_choice.count() > 0)

    def _add_chosen(self) -> None:
        folder = self.folder_choice.currentData()
        if folder:
            self._add_folder_item(folder)
            self.folders.setCurrentRow(self.folders.count() - 1)
            self._refresh_choices()

    def _remove_current(self) -> None:
        row = self.folders.currentRow()
        if row >= 0:
            self.folders.takeItem(row)
            self._refresh_choices()

    def _restore_defaults(self) -> None:
        self._fill_steps(self._default_steps)

    def _fill_steps(self, names: Sequence[str]) -> None:
        self.steps.clear()
        for name in names:
            item = QListWidgetItem()
            item.setData(STEP_ROLE, name)
            self.steps.addItem(item)
        self._number_steps()
        self.steps.setCurrentRow(0)

    def _number_steps(self) -> None:
        """ "1. More pixels", "2. …": the order is the rule."""
        for row in range(self.steps.count()):
            item = self.steps.item(row)
            name = item.data(STEP_ROLE)
            item.setText(f"{row + 1}.  {self._titles.get(name, name)}")

    # -- what it says ------------------------------------------------------------------
    def step_order(self) -> tuple[str, ...]:
        return tuple(self.steps.item(i).data(STEP_ROLE) for i in range(self.steps.count()))

    def folder_priority(self) -> tuple[str, ...]:
        return tuple(self.folders.item(i).data(STEP_ROLE) for i in range(self.folders.count()))

    def rule(self) -> KeeperRule:
        return KeeperRule(steps=self.step_order(), folder_priority=self.folder_priority())
