"""The Map page's widgets: the map (:class:`MapCanvas`), its toolbar (Refresh, the folder
filter, Odd Ones Out, the lasso, zoom), the progress of the layout with Cancel, a bar for the
lassoed photos, a side list (:class:`PhotoListView`) and what shows while there is no map.
No decision is made here: that is :class:`~albumfinder.gui.map_controller.MapController`'s.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui import icons
from albumfinder.gui.elided_label import ElidedLabel
from albumfinder.gui.map_canvas import MapCanvas
from albumfinder.gui.map_icons import map_icon, map_svg
from albumfinder.gui.outliers_view import PhotoListView
from albumfinder.gui.plain_text import PLAIN
from albumfinder.gui.thumbnails import ThumbnailLoader

if TYPE_CHECKING:
    from albumfinder.gui.map_controller import MapController

ALL_FOLDERS = ""  # the folder filter's "All folders" row


def _tool(icon: QIcon, text: str, tip: str, *, with_text: bool = True) -> QToolButton:
    button = QToolButton()
    button.setIcon(icon)
    button.setText(text)
    button.setToolTip(tip)
    button.setAutoRaise(True)
    button.setIconSize(QSize(18, 18))
    style = Qt.ToolButtonStyle
    button.setToolButtonStyle(
        style.ToolButtonTextBesideIcon if with_text else style.ToolButtonIconOnly
    )
    return button


class EmptyState(QWidget):
    """What the page shows while there is no map: what the map is, and why there is none."""

    actionRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mapEmptyState")
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel("A map of your album")
        font = self.title.font()
        font.setWeight(font.Weight.DemiBold)
        font.setPointSizeF(font.pointSizeF() * 1.35)
        self.title.setFont(font)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        self.text = QLabel()
        self.text.setObjectName("mapEmptyText")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setTextFormat(PLAIN)
        self.button = QPushButton()
        self.button.setVisible(False)
        self.button.clicked.connect(self.actionRequested)
        column = QVBoxLayout()
        column.setSpacing(10)
        column.addStretch(1)
        column.addWidget(self.picture)
        column.addWidget(self.title)
        column.addWidget(self.text)
        column.addSpacing(6)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        column.addStretch(2)
        layout = QHBoxLayout(self)  # the column as wide as its text, in the middle
        layout.setContentsMargins(8, 24, 8, 24)
        layout.addStretch(1)
        layout.addLayout(column, 6)
        layout.addStretch(1)
        self.say(
            "Every photo of the album laid out by what it shows: look-alikes gather, "
            "different ones stand apart. Add a folder of photos on the left; the map is "
            "drawn once they are indexed."
        )

    def say(self, text: str, button: str | None = None) -> None:
        faint = QColor(self.palette().color(QPalette.ColorRole.WindowText))
        faint.setAlpha(120)
        self.picture.setPixmap(
            icons.svg_pixmap(map_svg("map", faint.name(QColor.NameFormat.HexArgb)), 72)
        )
        self.text.setText(text)
        self.button.setVisible(button is not None)
        if button is not None:
            self.button.setText(button)


class MapPage(QWidget):
    """The page's widgets; what they do is :class:`MapController`'s."""

    def __init__(self, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller: MapController | None = None  # set by attach_map_page
        self.canvas = MapCanvas(thumbnails)
        self.empty = EmptyState()
        self.list_view = PhotoListView(thumbnails)
        self.list_view.setMinimumWidth(230)
        self.list_view.setVisible(False)
        self._build_toolbar()
        self._build_selection_bar()
        self._build_status_row()

        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        framed = QFrame()
        framed.setObjectName("mapFrame")
        framed.setFrameShape(QFrame.Shape.StyledPanel)
        inner = QVBoxLayout(framed)
        inner.setContentsMargins(1, 1, 1, 1)
        inner.addWidget(self.canvas)
        self.stack.addWidget(framed)
        self.map_frame = framed

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mapSplitter")
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.list_view)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 14, 10)
        layout.setSpacing(8)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(self.status_row)
        self.show_empty()

    def _build_toolbar(self) -> None:
        self.refresh_button = _tool(
            icons.icon("rescan"), "Refresh", "Lay the map out again from what is indexed now"
        )
        self.folder_combo = QComboBox()
        self.folder_combo.setObjectName("mapFolderCombo")
        self.folder_combo.setToolTip("Show the photos of one album folder only")
        self.folder_combo.setAccessibleName("Folder shown on the map")
        self.folder_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.folder_combo.setMinimumContentsLength(9)
        self.folder_combo.setMaximumWidth(260)
        self.folder_combo.addItem("All folders", ALL_FOLDERS)
        self.odd_button = _tool(
            map_icon("odd"),
            "Odd Ones Out",
            "The photos that look least like the rest of the folder",
        )
        self.lasso_button = _tool(
            map_icon("lasso"), "Lasso", "Draw round photos to select them (or Shift+drag)"
        )
        self.lasso_button.setCheckable(True)
        self.zoom_out_button = _tool(
            map_icon("zoom-out"), "Zoom Out", "Zoom out (-)", with_text=False
        )
        self.zoom_in_button = _tool(map_icon("zoom-in"), "Zoom In", "Zoom in (+)", with_text=False)
        self.fit_button = _tool(map_icon("zoom-fit"), "Fit", "The whole map (0)", with_text=False)
        folder_label = QLabel("Show ")
        folder_label.setBuddy(self.folder_combo)
        # a tool bar: when the window is narrow, what does not fit goes to its » menu
        self.toolbar = QToolBar("Map")
        self.toolbar.setObjectName("mapToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setIconSize(QSize(18, 18))
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar.addWidget(folder_label)
        self.toolbar.addWidget(self.folder_combo)
        self.toolbar.addWidget(self.odd_button)
        self.toolbar.addWidget(self.lasso_button)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.toolbar.addWidget(spacer)
        for button in (self.zoom_out_button, self.zoom_in_button, self.fit_button):
            self.toolbar.addWidget(button)
        self.toolbar.addWidget(self.refresh_button)

    def _build_selection_bar(self) -> None:
        self.selection_bar = QFrame()
        self.selection_bar.setObjectName("mapSelectionBar")
        self.selection_label = QLabel("")
        self.selection_label.setObjectName("mapSelectionLabel")
        self.list_button = QPushButton("Show as List")
        self.list_button.setToolTip("List the selected photos beside the map")
        self.search_button = QPushButton(icons.icon("search"), "Find Look-alikes")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Select nothing (Esc)")
        row = QHBoxLayout(self.selection_bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.selection_label, 1)
        for button in (self.list_button, self.search_button, self.clear_button):
            row.addWidget(button)
        self.selection_bar.setVisible(False)

    def _build_status_row(self) -> None:
        self.status_label = ElidedLabel("")
        self.status_label.setObjectName("mapStatus")
        self.status_label.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setObjectName("mapProgress")
        self.progress.setFixedWidth(200)
        self.progress.setMaximumHeight(16)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.cancel_button = _tool(icons.icon("cancel"), "Cancel", "Stop laying out the map")
        self.cancel_button.setVisible(False)
        # as tall as the selection's buttons: the map keeps its size when they show
        row_height = max(
            self.list_button.sizeHint().height(), self.selection_bar.sizeHint().height()
        )
        self.status_label.setFixedHeight(row_height)
        self.selection_bar.setFixedHeight(row_height)
        self.status_row = QHBoxLayout()  # the selection's bar takes the status's place
        self.status_row.setSpacing(8)
        self.status_row.addWidget(self.status_label, 1)
        self.status_row.addWidget(self.selection_bar, 1)
        self.status_row.addWidget(self.progress)
        self.status_row.addWidget(self.cancel_button)

    # -- what the view shows -------------------------------------------------------------
    def show_empty(self, text: str | None = None, button: str | None = None) -> None:
        if text is not None:
            self.empty.say(text, button)
        self.stack.setCurrentWidget(self.empty)
        self._set_map_tools_enabled(False)

    def show_map(self) -> None:
        self.stack.setCurrentWidget(self.map_frame)
        self._set_map_tools_enabled(True)

    @property
    def showing_map(self) -> bool:
        return self.stack.currentWidget() is self.map_frame

    def _set_map_tools_enabled(self, enabled: bool) -> None:
        for widget in (self.lasso_button, self.zoom_in_button, self.zoom_out_button,
                       self.fit_button, self.folder_combo):  # fmt: skip
            widget.setEnabled(enabled)

    def show_busy(self, busy: bool, text: str = "", done: int = 0, total: int = 0) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.refresh_button.setEnabled(not busy)
        if busy:
            self.progress.setRange(0, max(total, 0))
            self.progress.setValue(done if total else 0)
        if text:
            self.status_label.setText(text)

    def set_folders(self, folders: Sequence[str]) -> None:
        chosen = self.folder_combo.currentData()
        self.folder_combo.blockSignals(True)
        self.folder_combo.clear()
        self.folder_combo.addItem("All folders", ALL_FOLDERS)
        for folder in folders:
            name = os.path.basename(folder.rstrip(os.sep)) or folder
            self.folder_combo.addItem(icons.icon("folder"), name, folder)
            self.folder_combo.setItemData(
                self.folder_combo.count() - 1, folder, Qt.ItemDataRole.ToolTipRole
            )
        self.folder_combo.setCurrentIndex(max(0, self.folder_combo.findData(chosen)))
        self.folder_combo.blockSignals(False)

    @property
    def folder(self) -> str:
        """The folder the map is filtered to ("" for all)."""
        return str(self.folder_combo.currentData() or ALL_FOLDERS)

    def show_selection(self, count: int) -> None:
        self.selection_bar.setVisible(count > 0)
        self.status_label.setVisible(count == 0)
        self.selection_label.setText(f"{count:,} photo{'s' if count != 1 else ''} selected")
        self.search_button.setToolTip(
            "Find the photos most like these, together"
            if count > 1
            else "Find the photos most like this one"
        )
