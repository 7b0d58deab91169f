"""The Duplicates page's widgets and their layout, no decision: the toolbar (Find, the kind
chips, the strictness slider, the folder filter, Keeper Rule, Resolve All), the progress line
with Cancel, the list of groups (or the empty state that says why there is none) with the
group's actions, and the compare view, on one stack.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui import icons
from albumfinder.gui.banner import Banner
from albumfinder.gui.compare_view import CompareView
from albumfinder.gui.duplicate_list import DuplicateListModel, DuplicateListView
from albumfinder.gui.elided_label import ElidedLabel
from albumfinder.gui.painting import faint_text
from albumfinder.report import GroupKind

DEFAULT_STRICTNESS = 50  # of 100: the core's default, 0.5
EMPTY, LIST, COMPARE = 0, 1, 2  # the stack's pages


def strictness_text(value: int) -> str:
    """What the strictness slider's position means, in words."""
    if value >= 75:
        return "Strict: only resized or re-encoded copies"
    if value >= 35:
        return "Balanced: copies, crops and light edits, not other shots"
    return "Loose: heavier edits too (check before trashing)"


def _chip(text: str, tip: str, name: str) -> QToolButton:
    chip = QToolButton()
    chip.setText(text)
    chip.setToolTip(tip)
    chip.setObjectName(name)
    chip.setCheckable(True)
    chip.setProperty("chip", True)
    return chip


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
        faint_text(self.body, 185)
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
        faint_text(self.strictness_meaning)
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
