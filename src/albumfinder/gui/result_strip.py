"""The results: a horizontal, scrollable, keyboard-navigable strip of thumbnails, best first,
each with its similarity score and file name (full path in the tooltip)."""

from __future__ import annotations

import os

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from albumfinder.gui import icons
from albumfinder.gui.painting import draw_fitted_image, paint_item_highlight
from albumfinder.gui.plain_text import tooltip as plain_tooltip
from albumfinder.gui.thumbnails import ThumbnailLoader

THUMB = 152
CELL = QSize(THUMB + 20, THUMB + 52)
PATH_ROLE = Qt.ItemDataRole.UserRole
SCORE_ROLE = Qt.ItemDataRole.UserRole + 1
IMAGE_ROLE = Qt.ItemDataRole.UserRole + 2
ERROR_ROLE = Qt.ItemDataRole.UserRole + 3


def format_score(score: float) -> str:
    """Cosine similarity as a whole percentage, the one way scores are shown anywhere."""
    return f"{round(max(0.0, min(1.0, float(score))) * 100)}%"


def tooltip(path: str, score: float) -> str:
    """A result's tooltip text (shown as written: see :func:`plain_tooltip`)."""
    return f"{path}\nSimilarity {format_score(score)}"


class ResultDelegate(QStyledItemDelegate):
    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return CELL

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
        cell = QRectF(option.rect).adjusted(4, 4, -4, -4)
        text = palette.color(QPalette.ColorRole.Text)
        paint_item_highlight(painter, option, cell, 10)

        square = QRectF(cell.left() + 6, cell.top() + 6, cell.width() - 12, cell.width() - 12)
        image = index.data(IMAGE_ROLE)
        if image is not None and not image.isNull():
            badge_anchor = draw_fitted_image(painter, image, square, 6)
        else:
            placeholder = QColor(text)
            placeholder.setAlpha(18)
            ph = QPainterPath()
            ph.addRoundedRect(square, 6, 6)
            painter.fillPath(ph, placeholder)
            name = "error" if index.data(ERROR_ROLE) else "photo"
            faint = QColor(text)
            faint.setAlpha(90)
            side = 40
            painter.drawPixmap(
                int(square.center().x() - side / 2),
                int(square.center().y() - side / 2),
                icons.pixmap(name, side, faint),
            )
            badge_anchor = square

        score = index.data(SCORE_ROLE)
        if score is not None:
            label = format_score(score)
            font = painter.font()
            font.setWeight(font.Weight.DemiBold)
            painter.setFont(font)
            metrics = painter.fontMetrics()
            width = metrics.horizontalAdvance(label) + 14
            badge = QRectF(badge_anchor.left() + 6, badge_anchor.top() + 6, width, 20)
            pill = QPainterPath()
            pill.addRoundedRect(badge, 10, 10)
            painter.fillPath(pill, QColor(0, 0, 0, 165))
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
            painter.setFont(option.font)

        name_rect = QRectF(cell.left() + 6, square.bottom() + 6, cell.width() - 12, 20)
        painter.setPen(text)
        name = painter.fontMetrics().elidedText(
            index.data(Qt.ItemDataRole.DisplayRole) or "",
            Qt.TextElideMode.ElideMiddle,
            int(name_rect.width()),
        )
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, name)
        painter.restore()


class ResultStrip(QListWidget):
    """Click (or Enter) opens a photo; Ctrl/Shift-click selects several; the context menu
    has the rest (several selected: "Find More Like These"); W asks why the current one
    matches."""

    openRequested = Signal(str)
    revealRequested = Signal(str)
    similarRequested = Signal(str)
    togetherRequested = Signal(list)  # several paths: one query together
    lessLikeRequested = Signal(str)
    whyRequested = Signal(str)

    def __init__(self, thumbnails: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("resultStrip")
        self.thumbnails = thumbnails
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSpacing(2)
        self.setMouseTracking(True)
        self.setItemDelegate(ResultDelegate(self))
        self.setFixedHeight(CELL.height() + self.horizontalScrollBar().sizeHint().height() + 12)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemClicked.connect(self._clicked)
        # Not itemActivated: on styles where a single click activates, a click would open twice.
        self.setAccessibleName("Look-alike photos")
        thumbnails.ready.connect(self._thumbnail_ready)
        thumbnails.failed.connect(self._thumbnail_failed)
        self._items: dict[str, QListWidgetItem] = {}

    def _clicked(self, item: QListWidgetItem) -> None:
        selecting = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        if QGuiApplication.keyboardModifiers() & selecting:
            return  # choosing several, not opening one
        self.openRequested.emit(item.data(PATH_ROLE))

    def selected_paths(self) -> list[str]:
        """The selected results, in the strip's order (best first)."""
        return [
            self.item(i).data(PATH_ROLE) for i in range(self.count()) if self.item(i).isSelected()
        ]

    def keyPressEvent(self, event) -> None:  # noqa: N802
        item = self.currentItem()
        if item is not None and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.openRequested.emit(item.data(PATH_ROLE))
            return
        if item is not None and event.key() == Qt.Key.Key_W and not event.modifiers():
            self.whyRequested.emit(item.data(PATH_ROLE))
            return
        super().keyPressEvent(event)

    placeholder = "Look-alikes appear here, best first. Click one to open it."

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        if self.count():
            return
        painter = QPainter(self.viewport())
        color = QColor(self.palette().color(QPalette.ColorRole.Text))
        color.setAlpha(110)
        painter.setPen(color)
        painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
        painter.end()

    def set_results(self, hits) -> None:
        self.clear()
        self._items.clear()
        for hit in hits:
            item = QListWidgetItem(os.path.basename(hit.path))
            item.setData(PATH_ROLE, hit.path)
            item.setData(SCORE_ROLE, float(hit.score))
            item.setToolTip(plain_tooltip(tooltip(hit.path, hit.score)))
            item.setSizeHint(CELL)
            image = self.thumbnails.request(hit.path, THUMB)
            if image is not None:
                item.setData(IMAGE_ROLE, image)
            self.addItem(item)
            self._items[hit.path] = item
        if self.count():
            self.setCurrentRow(0)
            self.scrollToItem(self.item(0))

    def remove_paths(self, paths: list[str]) -> None:
        """Take these photos out of the strip (their folder left the album)."""
        for path in paths:
            item = self._items.pop(path, None)
            if item is not None:
                self.takeItem(self.row(item))
        self.viewport().update()  # the placeholder when none is left

    def paths(self) -> list[str]:
        return [self.item(i).data(PATH_ROLE) for i in range(self.count())]

    def scores(self) -> list[float]:
        return [self.item(i).data(SCORE_ROLE) for i in range(self.count())]

    def _thumbnail_ready(self, path: str, size: int, image) -> None:
        item = self._items.get(path)
        if item is not None and size == THUMB:
            item.setData(IMAGE_ROLE, image)

    def _thumbnail_failed(self, path: str, size: int, reason: str) -> None:
        item = self._items.get(path)
        if item is not None and size == THUMB:
            item.setData(ERROR_ROLE, reason)
            said = tooltip(path, item.data(SCORE_ROLE))
            item.setToolTip(plain_tooltip(f"{said}\nNo preview: {reason}"))

    def menu_for(self, item: QListWidgetItem) -> QMenu:
        path = item.data(PATH_ROLE)
        menu = QMenu(self)
        open_action = QAction(icons.icon("open"), "Open", menu)
        open_action.triggered.connect(lambda: self.openRequested.emit(path))
        reveal = QAction(icons.icon("reveal"), "Open Containing Folder", menu)
        reveal.triggered.connect(lambda: self.revealRequested.emit(path))
        copy = QAction(icons.icon("copy"), "Copy Path", menu)
        copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(path))
        similar = QAction(icons.icon("search"), "Find Look-alikes of This Photo", menu)
        similar.triggered.connect(lambda: self.similarRequested.emit(path))
        selected = self.selected_paths()
        together = QAction(icons.icon("search"), f"Find More Like These ({len(selected)})", menu)
        together.triggered.connect(lambda: self.togetherRequested.emit(selected))
        less = QAction("Less Like This", menu)
        less.setToolTip("Search again, pushing photos like this one down")
        less.triggered.connect(lambda: self.lessLikeRequested.emit(path))
        why = QAction("Why Is This a Match?", menu)
        why.setShortcut(QKeySequence("W"))
        why.triggered.connect(lambda: self.whyRequested.emit(path))
        menu.addAction(open_action)
        menu.addAction(reveal)
        menu.addSeparator()
        if len(selected) > 1 and path in selected:
            menu.addAction(together)
        else:
            menu.addAction(similar)
        menu.addAction(less)
        menu.addAction(why)
        menu.addSeparator()
        menu.addAction(copy)
        menu.setDefaultAction(open_action)
        return menu

    def _menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is None:
            return
        if not item.isSelected():
            self.setCurrentItem(item)  # a right-click on a selected one keeps the selection
        self.menu_for(item).exec(self.viewport().mapToGlobal(pos))
