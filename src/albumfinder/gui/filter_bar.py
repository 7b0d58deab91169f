"""The search filters: an album folder, a range of days taken, not the query's own folder, a
lowest score. Each change asks again; the filtering itself is the core's (inside its top-k)."""

from __future__ import annotations

import os

from PySide6.QtCore import QDate, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from albumfinder.report import SearchFilter

ALL_FOLDERS = "All folders"


class FilterBar(QFrame):
    """A small panel that drops down from the *Filters* button (a popup: a click elsewhere
    closes it; :attr:`closed` says so), one filter a row, so nothing is squeezed at the
    window's narrowest."""

    changed = Signal(object)  # the SearchFilter
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("filterBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # the click on the Filters button that closes it is not replayed (it would reopen it)
        self.setAttribute(Qt.WidgetAttribute.WA_NoMouseReplay)
        self.folder = QComboBox()
        self.folder.setObjectName("filterFolder")
        self.folder.setToolTip("Only photos in this album folder")
        self.folder.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.folder.setMinimumContentsLength(10)
        self.folder.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.taken = QCheckBox("Taken")
        self.taken.setToolTip("Only photos taken between these days (EXIF date, else file date)")
        today = QDate.currentDate()
        self.after = self._date_edit(today.addYears(-1), "The first day")
        self.before = self._date_edit(today, "The last day")
        self.not_own = QCheckBox("Not from the query's folder")
        self.not_own.setToolTip("Leave out photos in the folder of the query photo")
        self.min_score = QSpinBox()
        self.min_score.setRange(0, 99)
        self.min_score.setSuffix(" %")
        self.min_score.setSpecialValueText("any")
        self.min_score.setToolTip("Only look-alikes at least this similar")
        self.min_score.setAccessibleName("Lowest similarity")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove every filter")

        form = QGridLayout(self)
        form.setContentsMargins(12, 10, 12, 10)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(8)
        folder_label = QLabel("Folder")
        folder_label.setBuddy(self.folder)
        form.addWidget(folder_label, 0, 0)
        form.addWidget(self.folder, 0, 1, 1, 3)
        form.addWidget(self.taken, 1, 0)
        form.addWidget(self.after, 1, 1)
        form.addWidget(QLabel("–"), 1, 2)
        form.addWidget(self.before, 1, 3)
        score_label = QLabel("At least")
        score_label.setBuddy(self.min_score)
        form.addWidget(score_label, 2, 0)
        form.addWidget(self.min_score, 2, 1)
        form.addWidget(self.not_own, 3, 0, 1, 4)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        form.addLayout(buttons, 4, 0, 1, 4)
        self._sync_dates()

        self.folder.activated.connect(lambda _row: self._emit())
        self.taken.toggled.connect(self._taken_toggled)
        self.after.dateChanged.connect(lambda _d: self._emit())
        self.before.dateChanged.connect(lambda _d: self._emit())
        self.not_own.toggled.connect(lambda _on: self._emit())
        self.min_score.valueChanged.connect(lambda _v: self._emit())
        self.clear_button.clicked.connect(self.clear)

    @staticmethod
    def _date_edit(day: QDate, name: str) -> QDateEdit:
        edit = QDateEdit(day)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setAccessibleName(name)
        return edit

    def show_below(self, anchor: QWidget) -> None:
        """Drop down under ``anchor`` (its right edges lined up), kept on the screen."""
        self.adjustSize()
        corner = anchor.mapToGlobal(QPoint(anchor.width() - self.width(), anchor.height() + 2))
        screen = anchor.screen().availableGeometry()
        x = max(screen.left(), min(corner.x(), screen.right() - self.width()))
        y = min(corner.y(), screen.bottom() - self.height())
        self.move(x, y)
        self.show()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self.closed.emit()

    def _taken_toggled(self, _on: bool) -> None:
        self._sync_dates()
        self._emit()

    def _sync_dates(self) -> None:
        self.after.setEnabled(self.taken.isChecked())
        self.before.setEnabled(self.taken.isChecked())

    def set_folders(self, folders: list[str]) -> None:
        """The album's folders to choose from (the choice is kept when it is still there)."""
        chosen = self.folder.currentData()
        self.folder.blockSignals(True)
        self.folder.clear()
        self.folder.addItem(ALL_FOLDERS, None)
        for folder in folders:
            self.folder.addItem(os.path.basename(folder.rstrip(os.sep)) or folder, folder)
            self.folder.setItemData(self.folder.count() - 1, folder, 3)  # ToolTipRole
        row = self.folder.findData(chosen) if chosen else 0
        self.folder.setCurrentIndex(max(row, 0))
        self.folder.blockSignals(False)
        if chosen and row < 0:  # the chosen folder left the album: ask without it
            self._emit()

    def search_filter(self) -> SearchFilter:
        folder = self.folder.currentData()
        taken = self.taken.isChecked()
        score = self.min_score.value()
        return SearchFilter(
            under=(folder,) if folder else (),
            taken_after=self.after.date().toPython() if taken else None,
            taken_before=self.before.date().toPython() if taken else None,
            exclude_query_folders=self.not_own.isChecked(),
            min_score=score / 100 if score else None,
        )

    def active_count(self) -> int:
        f = self.search_filter()
        return sum(
            (
                bool(f.under),
                f.taken_after is not None,
                f.exclude_query_folders,
                f.min_score is not None,
            )
        )

    def clear(self) -> None:
        widgets = (self.folder, self.taken, self.not_own, self.min_score)
        for widget in widgets:
            widget.blockSignals(True)
        self.folder.setCurrentIndex(0)
        self.taken.setChecked(False)
        self.not_own.setChecked(False)
        self.min_score.setValue(0)
        for widget in widgets:
            widget.blockSignals(False)
        self._sync_dates()
        self._emit()

    def _emit(self) -> None:
        self.changed.emit(self.search_filter())
