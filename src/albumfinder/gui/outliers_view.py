"""A list of photos with a line about each: the odd ones out of a folder (with why each does
not belong) or the photos lassoed on the map. Each row shows the photo's thumbnail, its name
and its line; the buttons below act on the selected row: Open, Show in Folder, Find
Look-alikes and (for the odd ones out) Move to Trash."""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QGuiApplication,
    QPainter,
    QPainterPath,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui import icons
from albumfinder.gui.elided_label import ElidedLabel
from albumfinder.gui.painting import draw_fitted_image, paint_item_highlight
from albumfinder.gui.plain_text import PLAIN, tooltip
from albumfinder.gui.thumbnails import ThumbnailLoader

THUMB = 72
ROW_HEIGHT = THUMB + 14
PATH_ROLE = Qt.ItemDataRole.UserRole
LINE_ROLE = Qt.ItemDataRole.UserRole + 1
IMAGE_ROLE = Qt.ItemDataRole.UserRole + 2
RANK_ROLE = Qt.ItemDataRole.UserRole + 3


class PhotoRowDelegate(QStyledItemDelegate):
    """A row: the thumbnail, the file name in bold and the line (two lines, wrapped)."""

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return QSize(120, ROW_HEIGHT)  # as wide as the list (it never scrolls sideways)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        palette = option.palette
        cell = QRectF(option.rect).adjusted(3, 2, -3, -2)
        text = palette.color(QPalette.ColorRole.Text)
        paint_item_highlight(painter, option, cell, 8)
        square = QRectF(cell.left() + 6, cell.top() + 5, THUMB, THUMB)
        image = index.data(IMAGE_ROLE)
        if image is not None and not image.isNull():
            draw_fitted_image(painter, image, square, 5)
        else:
            shade = QColor(text)
            shade.setAlpha(18)
            placeholder = QPainterPath()
            placeholder.addRoundedRect(square, 5, 5)
            painter.fillPath(placeholder, shade)
            faint = QColor(text)
            faint.setAlpha(90)
            painter.drawPixmap(
                int(square.center().x() - 14), int(square.center().y() - 14),
                icons.pixmap("photo", 28, faint),
            )  # fmt: skip
        left = square.right() + 12
        width = cell.right() - left - 6
        metrics = option.fontMetrics
        line_height = metrics.height()
        rank = index.data(RANK_ROLE)
        name = index.data(Qt.ItemDataRole.DisplayRole) or ""
        if rank:
            name = f"{rank}. {name}"
        bold = QFont(option.font)
        bold.setWeight(bold.Weight.DemiBold)
        painter.setFont(bold)
        painter.setPen(text)
        top = square.top() + 2
        painter.drawText(
            QRectF(left, top, width, line_height),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(name, Qt.TextElideMode.ElideMiddle, int(width)),
        )
        painter.setFont(option.font)
        faint = QColor(text)
        faint.setAlpha(175)
        painter.setPen(faint)
        line = index.data(LINE_ROLE) or ""
        room = int((square.bottom() - top - line_height - 4) // line_height)
        y = top + line_height + 4
        for row_text in wrapped(line, metrics, int(width), max(1, room)):
            painter.drawText(
                QRectF(left, y, width, line_height),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                row_text,
            )
            y += line_height
        painter.restore()


def wrapped(text: str, metrics, width: int, lines: int) -> list[str]:
    """``text`` in at most ``lines`` lines of ``width`` pixels, broken between words; the
    last line ends in "…" when the text goes on."""
    out: list[str] = []
    words = text.split()
    while words and len(out) < lines:
        line = words.pop(0)
        while words and metrics.horizontalAdvance(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        if len(out) == lines - 1 and words:  # the last line: the rest, shortened
            line = " ".join([line, *words])
            words = []
        out.append(metrics.elidedText(line, Qt.TextElideMode.ElideRight, width))
    return out


def _button(icon_name: str, text: str, tip: str) -> QPushButton:
    button = QPushButton(icons.icon(icon_name), text)
    button.setToolTip(tip)
    return button


class PhotoListView(QWidget):
    """The title, a note under it, the rows and the buttons for the selected row."""

    openRequested = Signal(str)
    revealRequested = Signal(str)
    similarRequested = Signal(str)
    trashRequested = Signal(list)  # the selected photos' paths
    closeRequested = Signal()
    currentChanged = Signal(str)  # the selected photo ("" when none)

    def __init__(self, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("photoList")
        self.thumbnails = thumbnails
        self.title = ElidedLabel("")
        self.title.setObjectName("photoListTitle")
        font = self.title.font()
        font.setWeight(font.Weight.DemiBold)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.title.setFont(font)
        self.close_button = QToolButton()
        self.close_button.setIcon(icons.icon("close"))
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Close this list")
        self.close_button.clicked.connect(self.closeRequested)
        self.note = QLabel("")
        self.note.setObjectName("photoListNote")
        self.note.setTextFormat(PLAIN)
        self.note.setWordWrap(True)
        self.note.setEnabled(False)
        self.list = QListWidget()
        self.list.setObjectName("photoListRows")
        self.list.setItemDelegate(PhotoRowDelegate(self.list))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setMouseTracking(True)
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.itemDoubleClicked.connect(
            lambda item: self.openRequested.emit(item.data(PATH_ROLE))
        )
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.open_button = _button("open", "Open", "Open the photo in its usual application")
        self.reveal_button = _button("reveal", "Show in Folder", "Open the folder that holds it")
        self.similar_button = _button("search", "Look-alikes", "Find the photos most like it")
        self.trash_button = _button(
            "remove", "Move to Trash", "Move the selected photos to the trash"
        )
        self.open_button.clicked.connect(lambda: self._with_current(self.openRequested.emit))
        self.reveal_button.clicked.connect(lambda: self._with_current(self.revealRequested.emit))
        self.similar_button.clicked.connect(lambda: self._with_current(self.similarRequested.emit))
        self.trash_button.clicked.connect(self._trash)
        self._trash_available = False
        self._trash_why = "Moving photos to the trash is not available in this version."
        self._trash_shown = False

        header = QHBoxLayout()
        header.setSpacing(4)
        header.addWidget(self.title, 1)
        header.addWidget(self.close_button)
        buttons = QHBoxLayout()  # two rows: they fit a narrow list
        buttons.setSpacing(6)
        for button in (self.open_button, self.reveal_button):
            button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button)
        buttons.addStretch(1)
        trash_row = QHBoxLayout()
        trash_row.setSpacing(6)
        trash_row.addWidget(self.similar_button)
        trash_row.addStretch(1)
        trash_row.addWidget(self.trash_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.note)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addLayout(trash_row)
        self._items: dict[str, QListWidgetItem] = {}
        self._removed: dict[str, QListWidgetItem] = {}  # trashed rows, until put back
        self.base_note = ""
        thumbnails.ready.connect(self._thumbnail_ready)
        self.set_rows("", [], trash=False)

    # -- what it shows -------------------------------------------------------------------
    def set_rows(
        self,
        title: str,
        rows: Sequence[tuple[str, str]],
        *,
        note: str = "",
        trash: bool = False,
        ranked: bool = False,
    ) -> None:
        """Show ``rows`` ((path, line) each) under ``title``; ``trash``: offer Move to Trash."""
        self.title.setText(title)
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self.base_note = note  # what the note says again once nothing is out of the list
        self.list.clear()
        self._items.clear()
        self._removed.clear()
        for rank, (path, line) in enumerate(rows, 1):
            item = QListWidgetItem(os.path.basename(path))
            item.setData(PATH_ROLE, path)
            item.setData(LINE_ROLE, line)
            item.setData(RANK_ROLE, rank if ranked else None)
            item.setToolTip(tooltip(f"{path}\n{line}" if line else path))
            item.setSizeHint(QSize(120, ROW_HEIGHT))
            image = self.thumbnails.request(path, THUMB)
            if image is not None:
                item.setData(IMAGE_ROLE, image)
            self.list.addItem(item)
            self._items[path] = item
        if self.list.count():
            self.list.setCurrentRow(0)
        self._trash_shown = trash
        self._update_buttons()

    def set_note(self, note: str) -> None:
        self.note.setText(note)
        self.note.setVisible(bool(note))

    def set_trash_available(self, available: bool, why: str = "") -> None:
        """Whether Move to Trash can be used (``why``: the tooltip when it cannot)."""
        self._trash_available = available
        if why:
            self._trash_why = why
        self._update_buttons()

    def paths(self) -> list[str]:
        return [self.list.item(i).data(PATH_ROLE) for i in range(self.list.count())]

    def lines(self) -> list[str]:
        return [self.list.item(i).data(LINE_ROLE) for i in range(self.list.count())]

    def remove_paths(self, paths: Sequence[str]) -> list[str]:
        """Take the rows of ``paths`` out of the list (kept, to be put back); returns the
        paths that were listed."""
        removed = []
        for path in paths:
            item = self._items.pop(path, None)
            if item is not None:
                self._removed[path] = self.list.takeItem(self.list.row(item))
                removed.append(path)
        self._update_buttons()
        return removed

    def put_back(self, paths: Sequence[str]) -> list[str]:
        """Rows taken out by :meth:`remove_paths` come back in their place (by rank);
        returns the paths put back."""
        back = []
        for path in paths:
            item = self._removed.pop(path, None)
            if item is None:
                continue
            rank = item.data(RANK_ROLE)
            row = self.list.count()
            if rank is not None:
                row = next(
                    (
                        i
                        for i in range(self.list.count())
                        if (self.list.item(i).data(RANK_ROLE) or 0) > rank
                    ),
                    row,
                )
            self.list.insertItem(row, item)
            self._items[path] = item
            back.append(path)
        self._update_buttons()
        return back

    def removed_count(self) -> int:
        """Rows taken out and not put back."""
        return len(self._removed)

    def selected_paths(self) -> list[str]:
        return [item.data(PATH_ROLE) for item in self.list.selectedItems()]

    def current_path(self) -> str | None:
        item = self.list.currentItem()
        return item.data(PATH_ROLE) if item is not None else None

    # -- the buttons ---------------------------------------------------------------------
    def _with_current(self, action) -> None:
        path = self.current_path()
        if path:
            action(path)

    def _trash(self) -> None:
        paths = self.selected_paths()
        if paths and self._trash_available:
            self.trashRequested.emit(paths)

    def _selection_changed(self) -> None:
        self._update_buttons()
        self.currentChanged.emit(self.current_path() or "")

    def _update_buttons(self) -> None:
        has = self.current_path() is not None
        for button in (self.open_button, self.reveal_button, self.similar_button):
            button.setEnabled(has)
        self.trash_button.setVisible(self._trash_shown)
        self.trash_button.setEnabled(has and self._trash_available)
        self.trash_button.setToolTip(
            "Move the selected photos to the trash (they can be restored from there)"
            if self._trash_available
            else self._trash_why
        )

    def _thumbnail_ready(self, path: str, size: int, image) -> None:
        item = self._items.get(path)
        if item is not None and size == THUMB:
            item.setData(IMAGE_ROLE, image)

    def menu_for(self, item: QListWidgetItem) -> QMenu:
        path = item.data(PATH_ROLE)
        menu = QMenu(self)
        entries = [
            ("open", "Open", lambda: self.openRequested.emit(path)),
            ("reveal", "Show in Folder", lambda: self.revealRequested.emit(path)),
            ("copy", "Copy Path", lambda: QGuiApplication.clipboard().setText(path)),
            ("search", "Find Look-alikes of This Photo", lambda: self.similarRequested.emit(path)),
        ]
        for icon_name, text, slot in entries:
            action = QAction(icons.icon(icon_name), text, menu)
            action.triggered.connect(slot)
            menu.addAction(action)
        menu.setDefaultAction(menu.actions()[0])
        return menu

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is not None:
            self.menu_for(item).exec(self.list.viewport().mapToGlobal(pos))
