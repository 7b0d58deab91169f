"""The album's folders with their counts: add (native folder picker), remove, rescan and
the photos that were skipped, with their reasons."""

from __future__ import annotations

import dataclasses
import os

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui import icons
from albumfinder.gui.plain_text import tooltip
from albumfinder.library import Library

PATH_ROLE = Qt.ItemDataRole.UserRole
STATS_ROLE = Qt.ItemDataRole.UserRole + 1
MISSING_ROLE = Qt.ItemDataRole.UserRole + 2


def _carry_pending(status, previous):
    """While indexing, counts come without ``pending`` (counting it means a scan): carry the
    last count on, less what has been indexed or skipped since."""
    if status.pending is not None:
        return status
    before = next((p for p in previous if p.path == status.path), None)
    if before is None or before.pending is None:
        return status
    progressed = (status.indexed + status.skipped) - (before.indexed + before.skipped)
    return dataclasses.replace(status, pending=max(0, before.pending - max(0, progressed)))


def describe(status) -> str:
    if not status.exists:
        return f"Not found (disconnected?) · {status.indexed:,} indexed"
    parts = [f"{status.indexed:,} indexed"]
    if status.pending:
        parts.append(f"{status.pending:,} pending")
    if skipped := status.skipped_total:
        parts.append(f"{skipped:,} skipped")
    return " · ".join(parts)


class FolderDelegate(QStyledItemDelegate):
    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return QSize(200, option.fontMetrics.height() * 2 + 18)

    def paint(self, painter: QPainter, option, index: QModelIndex | QPersistentModelIndex) -> None:
        self.initStyleOption(option, index)
        painter.save()
        style = option.widget.style() if option.widget else None
        text = option.text
        option.text = ""
        option.icon = option.icon.__class__()
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        color = option.palette.color(role)
        rect = QRectF(option.rect).adjusted(10, 7, -8, -7)
        name = "error" if index.data(MISSING_ROLE) else "folder"
        painter.drawPixmap(int(rect.left()), int(rect.top() + 2), icons.pixmap(name, 20, color))
        rect.setLeft(rect.left() + 30)
        line = option.fontMetrics.height()
        bold = QPainter.font(painter)
        bold.setWeight(bold.Weight.DemiBold)
        painter.setFont(bold)
        painter.setPen(color)
        painter.drawText(
            QRectF(rect.left(), rect.top(), rect.width(), line),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, int(rect.width())),
        )
        painter.setFont(option.font)
        faint = QColor(color)
        faint.setAlpha(165)
        painter.setPen(faint)
        stats = index.data(STATS_ROLE) or ""
        painter.drawText(
            QRectF(rect.left(), rect.top() + line + 3, rect.width(), line),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(stats, Qt.TextElideMode.ElideRight, int(rect.width())),
        )
        painter.restore()


def _tool_button(icon_name: str, text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setIcon(icons.icon(icon_name))
    button.setText(text)
    button.setToolTip(tip)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    button.setAutoRaise(True)
    button.setIconSize(QSize(16, 16))
    return button


class LibraryPanel(QWidget):
    addRequested = Signal()
    removeRequested = Signal(str)
    rescanRequested = Signal()
    skippedRequested = Signal()
    oddOnesOutRequested = Signal(str)  # a folder: the photos in it that do not belong

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("libraryPanel")
        self.statuses: list = []  # the last FolderStatus list shown
        title = QLabel("Album folders")
        font = title.font()
        font.setWeight(font.Weight.DemiBold)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        title.setFont(font)
        self.list = QListWidget()
        self.list.setObjectName("folderList")
        self.list.setItemDelegate(FolderDelegate(self.list))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setAccessibleName("Album folders")
        self.empty = QLabel("No folders yet.\nAdd the folders that hold your photos.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)

        self.add_button = _tool_button("folder-add", "Add…", "Add a folder of photos")
        self.remove_button = _tool_button("remove", "Remove", "Remove the selected folder")
        self.rescan_button = _tool_button("rescan", "Rescan", "Look for new and changed photos")
        self.skipped_button = _tool_button("skipped", "Skipped", "Photos that could not be read")
        self.add_button.clicked.connect(self.addRequested)
        self.remove_button.clicked.connect(self._remove)
        self.rescan_button.clicked.connect(self.rescanRequested)
        self.skipped_button.clicked.connect(self.skippedRequested)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)

        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        for b in (self.add_button, self.remove_button, self.rescan_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.skipped_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty, 1)
        layout.addLayout(buttons)
        self.set_statuses([])

    def folders(self) -> list[str]:
        return [self.list.item(i).data(PATH_ROLE) for i in range(self.list.count())]

    def item_for(self, path: str) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            if self.list.item(i).data(PATH_ROLE) == path:
                return self.list.item(i)
        return None

    def set_statuses(self, statuses) -> None:
        current = self.list.currentItem()
        keep = current.data(PATH_ROLE) if current is not None else None
        self.list.clear()
        statuses = [_carry_pending(s, self.statuses) for s in statuses]
        self.statuses = statuses
        for status in statuses:
            item = QListWidgetItem(os.path.basename(status.path.rstrip(os.sep)) or status.path)
            item.setData(PATH_ROLE, status.path)
            item.setData(STATS_ROLE, describe(status))
            item.setData(MISSING_ROLE, not status.exists)
            item.setToolTip(tooltip(f"{status.path}\n{describe(status)}"))
            self.list.addItem(item)
            if status.path == keep:
                self.list.setCurrentItem(item)
        has = bool(statuses)
        self.list.setVisible(has)
        self.empty.setVisible(not has)
        self.skipped_button.setEnabled(any(s.skipped_total for s in statuses))
        self.rescan_button.setEnabled(has)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(self.list.currentItem() is not None)

    def _remove(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.removeRequested.emit(item.data(PATH_ROLE))

    def menu_for(self, item: QListWidgetItem) -> QMenu:
        """A folder's context menu: the photos in it that do not belong, rescan, remove."""
        path = item.data(PATH_ROLE)
        menu = QMenu(self)
        odd = menu.addAction(icons.icon("search"), "Odd Ones Out…")
        odd.setToolTip("The photos in this folder that look least like the rest")
        odd.triggered.connect(lambda: self.oddOnesOutRequested.emit(path))
        menu.addSeparator()
        menu.addAction(icons.icon("rescan"), "Rescan", self.rescanRequested.emit)
        menu.addAction(
            icons.icon("remove"), "Remove from Album", lambda: self.removeRequested.emit(path)
        )
        return menu

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is not None:
            self.list.setCurrentItem(item)
            self.menu_for(item).exec(self.list.viewport().mapToGlobal(pos))


def _album_relative(path: str, folders) -> str:
    """``path`` as seen from the album folder that holds it (the deepest one); with more
    than one album folder, that folder's name comes first."""
    holders = [f for f in folders if path != f and Library.is_under(path, f)]
    if not holders:
        return path
    folder = max(holders, key=len)
    relative = os.path.relpath(path, folder)
    if len(folders) > 1:
        name = os.path.basename(folder.rstrip(os.sep)) or folder
        return f"{name}{os.sep}{relative}"
    return relative


class SkippedDialog(QDialog):
    """The photos that could not be read, each with the reason; a selected one can be
    opened, shown in its folder or its path copied."""

    openRequested = Signal(str)
    revealRequested = Signal(str)

    def __init__(self, skipped, parent: QWidget | None = None, folders=()) -> None:
        super().__init__(parent)
        self.setWindowTitle("Skipped photos")
        self.resize(760, 420)
        folders = list(folders)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Photo", "Reason"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # the path as wide as it needs, the reason in the rest (whole in its tooltip)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        for entry in skipped:
            row = QTreeWidgetItem([_album_relative(entry.path, folders), entry.reason])
            row.setData(0, PATH_ROLE, entry.path)
            row.setToolTip(0, tooltip(entry.path))
            row.setToolTip(1, tooltip(entry.reason))
            self.tree.addTopLevelItem(row)
        count = len(skipped)
        label = QLabel(
            f"{count} file{'s' if count != 1 else ''} could not be read and "
            f"{'are' if count != 1 else 'is'} not in the index. They are tried again when "
            "they change."
            if count
            else "Every photo in the album could be read."
        )
        label.setWordWrap(True)
        self.open_button = QPushButton(icons.icon("open"), "Open")
        self.open_button.setToolTip("Open the file in its usual application")
        self.reveal_button = QPushButton(icons.icon("reveal"), "Show in Folder")
        self.reveal_button.setToolTip("Open the folder that holds the file")
        self.copy_button = QPushButton(icons.icon("copy"), "Copy Path")
        self.copy_button.setToolTip("Copy the file's full path")
        self.open_button.clicked.connect(lambda: self._with_selected(self.openRequested.emit))
        self.reveal_button.clicked.connect(lambda: self._with_selected(self.revealRequested.emit))
        self.copy_button.clicked.connect(lambda: self._with_selected(self.copy_path))
        self.tree.itemDoubleClicked.connect(lambda *_: self._with_selected(self.openRequested.emit))
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row_layout = QHBoxLayout()
        for button in (self.open_button, self.reveal_button, self.copy_button):
            row_layout.addWidget(button)
        row_layout.addStretch(1)
        row_layout.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.tree, 1)
        layout.addLayout(row_layout)
        first = self.tree.topLevelItem(0) if count else None
        if first is not None:
            self.tree.setCurrentItem(first)
        self._update_buttons()

    def selected_path(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, PATH_ROLE) if item is not None else None

    def _with_selected(self, action) -> None:
        path = self.selected_path()
        if path:
            action(path)

    def copy_path(self, path: str) -> None:
        QGuiApplication.clipboard().setText(path)

    def _update_buttons(self) -> None:
        has = self.selected_path() is not None
        for button in (self.open_button, self.reveal_button, self.copy_button):
            button.setEnabled(has)
