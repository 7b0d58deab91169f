"""The Duplicates page's list of groups: a model over :class:`DuplicateGroup` and a delegate
that paints each row (kind badge, member thumbnails with the keeper marked, the reason and
the space that can be freed).

A model/view list, so that thousands of groups stay responsive: rows are painted only when
visible, and a row's thumbnails are asked of the :class:`ThumbnailLoader` (off the GUI
thread) only when it is painted; a thumbnail that arrives repaints the rows showing it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from albumfinder.gui import icons
from albumfinder.gui.painting import draw_fitted_image
from albumfinder.gui.thumbnails import ThumbnailLoader
from albumfinder.report import DuplicateGroup, GroupKind, GroupMember

THUMB_PX = 88  # a member's square in the row
THUMB_REQUEST = 176  # the thumbnail asked for (sharp at a device pixel ratio of 2)
SHOWN_MEMBERS = 5  # members drawn per row; the others are counted
ROW_HEIGHT = THUMB_PX + 28
TEXT_MIN = 250  # the row's text keeps at least this width: fewer thumbnails when narrow
GROUP_ROLE = Qt.ItemDataRole.UserRole

KIND_TITLES = {
    GroupKind.EXACT: "Exact copy",
    GroupKind.NEAR_DUPLICATE: "Near-duplicate",
    GroupKind.BURST: "Burst",
    GroupKind.LOOK_ALIKE: "Look-alike",
}
#: the badge colour of each kind (readable with white text in light and dark palettes)
KIND_COLORS = {
    GroupKind.EXACT: "#c2410c",
    GroupKind.NEAR_DUPLICATE: "#7c3aed",
    GroupKind.BURST: "#0f766e",
    GroupKind.LOOK_ALIKE: "#2563eb",
}
KEEP_COLOR = "#16a34a"


def format_size(n: int) -> str:
    """Bytes as people read them: "840 KB", "2.4 MB", "1.2 GB" (powers of 1000, as file
    managers do)."""
    value = float(max(0, n))
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            if unit == "bytes":
                return f"{int(value)} bytes"
            return f"{value:.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover - the loop returns at GB


def counted(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def kind_title(kind: GroupKind | str) -> str:
    try:
        return KIND_TITLES[GroupKind(kind)]
    except ValueError:
        return str(kind)


def kind_color(kind: GroupKind | str) -> QColor:
    try:
        return QColor(KIND_COLORS[GroupKind(kind)])
    except ValueError:
        return QColor("#6b7280")


def keepers(group: DuplicateGroup) -> list[GroupMember]:
    return [m for m in group.members if m.keep]


def rejects(group: DuplicateGroup) -> list[GroupMember]:
    """The members the suggestion would move to the trash."""
    return [m for m in group.members if not m.keep]


def group_summary(
    group: DuplicateGroup, width: int | None = None, metrics: QFontMetrics | None = None
) -> str:
    """ "3 photos · IMG_0001.jpg and 2 more"; given a width, the name is shortened to fit
    (never the count)."""
    first = os.path.basename(group.members[0].path) if group.members else ""
    more = len(group.members) - 1
    head = f"{counted(len(group.members), 'photo')} · "
    tail = f" and {more} more" if more > 0 else ""
    if width is not None and metrics is not None:
        room = width - metrics.horizontalAdvance(head + tail)
        if room < metrics.horizontalAdvance("…") * 6:  # too narrow for a name: just the count
            return metrics.elidedText(
                counted(len(group.members), "photo"), Qt.TextElideMode.ElideRight, width
            )
        first = metrics.elidedText(first, Qt.TextElideMode.ElideMiddle, room)
    return head + first + tail


class DuplicateListModel(QAbstractListModel):
    """The groups shown (those the filter lets through), largest first as the core gave
    them; ``thumbnail(path)`` asks the loader only for what a painted row shows."""

    def __init__(self, thumbnails: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self._all: list[DuplicateGroup] = []
        self._shown: list[DuplicateGroup] = []
        self._accepts: Callable[[DuplicateGroup], bool] = lambda _g: True
        self._rows_of: dict[str, list[int]] = {}
        self.failed: dict[str, str] = {}  # path -> why it has no thumbnail
        thumbnails.ready.connect(self._thumbnail_arrived)
        thumbnails.failed.connect(self._thumbnail_failed)

    # -- the groups --------------------------------------------------------------------
    def set_groups(self, groups: Iterable[DuplicateGroup]) -> None:
        self._all = list(groups)
        self._refilter()

    def set_filter(self, accepts: Callable[[DuplicateGroup], bool]) -> None:
        self._accepts = accepts
        self._refilter()

    def _refilter(self) -> None:
        self.beginResetModel()
        self._shown = [g for g in self._all if self._accepts(g)]
        self._index_paths()
        self.endResetModel()

    def _index_paths(self) -> None:
        self._rows_of = {}
        for row, group in enumerate(self._shown):
            for member in group.members[:SHOWN_MEMBERS]:
                self._rows_of.setdefault(member.path, []).append(row)

    def all_groups(self) -> list[DuplicateGroup]:
        return list(self._all)

    def groups(self) -> list[DuplicateGroup]:
        """The groups shown, in order."""
        return list(self._shown)

    def group(self, row: int) -> DuplicateGroup | None:
        return self._shown[row] if 0 <= row < len(self._shown) else None

    def row_of(self, group_id: str) -> int:
        for row, group in enumerate(self._shown):
            if group.id == group_id:
                return row
        return -1

    def replace_groups(self, changed: dict[str, DuplicateGroup | None]) -> None:
        """Swap groups by id (None: the group is gone), keeping the others' order."""
        if not changed:
            return
        kept: list[DuplicateGroup] = []
        for group in self._all:
            if group.id in changed:
                new = changed[group.id]
                if new is not None:
                    kept.append(new)
            else:
                kept.append(group)
        self._all = kept
        self._refilter()

    # -- Qt's model --------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._shown)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        group = self.group(index.row()) if index.isValid() else None
        if group is None:
            return None
        if role == GROUP_ROLE:
            return group
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{kind_title(group.kind)}: {group_summary(group)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(
                f"{'Keep' if m.keep else 'Trash'}: {m.path} ({m.why})" for m in group.members
            )
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{kind_title(group.kind)}, {group_summary(group)}, {group.reason}"
        return None

    # -- thumbnails --------------------------------------------------------------------
    def thumbnail(self, path: str) -> QImage | None:
        """The member's thumbnail if loaded; else it is asked for (once: one that could
        not be made is not asked again, or each repaint would ask anew)."""
        if path in self.failed:
            return None
        return self.thumbnails.request(path, THUMB_REQUEST)

    def _thumbnail_arrived(self, path: str, size: int, _image: QImage) -> None:
        if size == THUMB_REQUEST:
            self._repaint_rows(path)

    def _thumbnail_failed(self, path: str, size: int, reason: str) -> None:
        if size == THUMB_REQUEST:
            self.failed[path] = reason
            self._repaint_rows(path)

    def _repaint_rows(self, path: str) -> None:
        for row in self._rows_of.get(path, ()):
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class DuplicateDelegate(QStyledItemDelegate):
    """One group per row: thumbnails on the left, the kind, reason and space on the right."""

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return QSize(THUMB_PX * 3, ROW_HEIGHT)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        group = index.data(GROUP_ROLE)
        model = index.model()
        if not isinstance(group, DuplicateGroup) or not isinstance(model, DuplicateListModel):
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        palette = option.palette
        cell = QRectF(option.rect).adjusted(6, 4, -6, -4)
        self._paint_background(painter, option, cell)
        right = self._paint_members(painter, model, group, cell, palette)
        self._paint_text(
            painter, option, group, QRectF(right, cell.top(), cell.right() - right, cell.height())
        )
        painter.restore()

    @staticmethod
    def _paint_background(painter: QPainter, option: QStyleOptionViewItem, cell: QRectF) -> None:
        palette = option.palette
        accent = palette.color(QPalette.ColorRole.Highlight)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        path = QPainterPath()
        path.addRoundedRect(cell, 10, 10)
        if selected or hovered:
            back = QColor(accent)
            back.setAlpha(60 if selected else 24)
            painter.fillPath(path, back)
        else:
            line = QColor(palette.color(QPalette.ColorRole.Text))
            line.setAlpha(22)
            painter.setPen(QPen(line, 1))
            painter.drawPath(path)
        if selected and option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(QPen(accent, 1.4))
            painter.drawPath(path)

    def _paint_members(
        self,
        painter: QPainter,
        model: DuplicateListModel,
        group: DuplicateGroup,
        cell: QRectF,
        palette: QPalette,
    ) -> float:
        """The member squares, keeper first; returns where the text may start."""
        text = palette.color(QPalette.ColorRole.Text)
        x = cell.left() + 10
        top = cell.top() + (cell.height() - THUMB_PX) / 2
        fits = int((cell.width() - 20 - TEXT_MIN) // (THUMB_PX + 8))
        shown = group.members[: max(1, min(SHOWN_MEMBERS, fits))]
        for member in shown:
            square = QRectF(x, top, THUMB_PX, THUMB_PX)
            image = model.thumbnail(member.path)
            self._paint_square(painter, image, square, text, member.path in model.failed)
            if member.keep:
                self._paint_keep_mark(painter, square)
            x += THUMB_PX + 8
        more = len(group.members) - len(shown)
        if more > 0:
            tile = QRectF(x, top, THUMB_PX * 0.6, THUMB_PX)
            back = QColor(text)
            back.setAlpha(16)
            path = QPainterPath()
            path.addRoundedRect(tile, 8, 8)
            painter.fillPath(path, back)
            painter.setPen(text)
            painter.drawText(tile, Qt.AlignmentFlag.AlignCenter, f"+{more}")
            x += tile.width() + 8
        return x + 8

    @staticmethod
    def _paint_square(
        painter: QPainter, image: QImage | None, square: QRectF, text: QColor, failed: bool
    ) -> None:
        back = QColor(text)
        back.setAlpha(14)
        path = QPainterPath()
        path.addRoundedRect(square, 8, 8)
        painter.fillPath(path, back)
        if image is not None and not image.isNull():
            draw_fitted_image(painter, image, square.adjusted(2, 2, -2, -2), 6)
            return
        faint = QColor(text)
        faint.setAlpha(90)
        side = 28
        painter.drawPixmap(
            int(square.center().x() - side / 2),
            int(square.center().y() - side / 2),
            icons.pixmap("error" if failed else "photo", side, faint),
        )

    @staticmethod
    def _paint_keep_mark(painter: QPainter, square: QRectF) -> None:
        green = QColor(KEEP_COLOR)
        painter.setPen(QPen(green, 2.4))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(square.adjusted(1, 1, -1, -1), 8, 8)
        font = QFont(painter.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.78))
        font.setWeight(QFont.Weight.Bold)
        painter.setFont(font)
        label = "KEEP"
        width = painter.fontMetrics().horizontalAdvance(label) + 12
        pill = QRectF(square.left() + 5, square.bottom() - 21, width, 16)
        path = QPainterPath()
        path.addRoundedRect(pill, 8, 8)
        painter.fillPath(path, green)
        painter.setPen(QColor("white"))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)

    @staticmethod
    def _paint_text(
        painter: QPainter, option: QStyleOptionViewItem, group: DuplicateGroup, area: QRectF
    ) -> None:
        palette = option.palette
        text = palette.color(QPalette.ColorRole.Text)
        faint = QColor(text)
        faint.setAlpha(165)
        base = QFont(option.font)
        area = area.adjusted(0, 12, -14, -12)
        if area.width() < 40:
            return
        # the kind badge, and the space to free on the right
        bold = QFont(base)
        bold.setWeight(QFont.Weight.DemiBold)
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.86)
        small.setWeight(QFont.Weight.DemiBold)
        painter.setFont(small)
        metrics = painter.fontMetrics()
        title = kind_title(group.kind)
        badge = QRectF(area.left(), area.top(), metrics.horizontalAdvance(title) + 16, 20)
        pill = QPainterPath()
        pill.addRoundedRect(badge, 10, 10)
        painter.fillPath(pill, kind_color(group.kind))
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, title)

        painter.setFont(bold)
        free = f"{format_size(group.reclaimable)} to free" if rejects(group) else "all kept"
        free_width = painter.fontMetrics().horizontalAdvance(free)
        painter.setPen(text)
        free_rect = QRectF(area.right() - free_width, area.top(), free_width, 20)
        free_beside = free_rect.left() > badge.right() + 12
        if free_beside:
            painter.drawText(
                free_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, free
            )

        def summary(g: DuplicateGroup, width: int, metrics: QFontMetrics) -> str:
            if free_beside:
                return group_summary(g, width, metrics)
            said = f"{counted(len(g.members), 'photo')} · {free}"  # narrow: no name
            return metrics.elidedText(said, Qt.TextElideMode.ElideRight, width)

        lines = [(bold, text, summary), (base, faint, lambda _g, _w, _m: group.reason)]
        y = badge.bottom() + 8
        for font, color, line in lines:
            painter.setFont(font)
            metrics = painter.fontMetrics()
            if y + metrics.height() > area.bottom() + 10:
                break
            painter.setPen(color)
            shown = line(group, int(area.width()), metrics)
            if line is not summary:
                shown = metrics.elidedText(shown, Qt.TextElideMode.ElideRight, int(area.width()))
            painter.drawText(
                QRectF(area.left(), y, area.width(), metrics.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                shown,
            )
            y += metrics.height() + 4


class DuplicateListView(QListView):
    """The list of groups (one row each, uniform heights: thousands scroll smoothly)."""

    def __init__(self, model: DuplicateListModel, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("duplicateList")
        self.setModel(model)
        self.setItemDelegate(DuplicateDelegate(self))
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setMouseTracking(True)
        self.setSpacing(1)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.setAccessibleName("Groups of duplicate photos")

    def group_model(self) -> DuplicateListModel:
        model = self.model()
        assert isinstance(model, DuplicateListModel)
        return model

    def current_group(self) -> DuplicateGroup | None:
        return self.group_model().group(self.currentIndex().row())

    def select_row(self, row: int) -> None:
        index = self.group_model().index(row)
        if index.isValid():
            self.setCurrentIndex(index)
            self.scrollTo(index)


def without_paths(group: DuplicateGroup, gone: Iterable[str]) -> DuplicateGroup | None:
    """``group`` without the photos in ``gone`` (they left the album); None when fewer than
    two are left."""
    gone = set(gone)
    members = [m for m in group.members if m.path not in gone]
    if len(members) == len(group.members):
        return group
    return None if len(members) < 2 else with_members(group, members)


def with_members(group: DuplicateGroup, members: list[GroupMember]) -> DuplicateGroup:
    """``group`` with these members; the space to free is that of its non-keepers."""
    freed = sum(m.size for m in members if not m.keep)
    return replace(group, members=members, reclaimable=freed)


def with_keeper(group: DuplicateGroup, path: str) -> DuplicateGroup:
    """``group`` with the photo at ``path`` kept too (the user's K)."""
    members = [replace(m, keep=True) if m.path == path else m for m in group.members]
    return with_members(group, members)


def all_kept(group: DuplicateGroup) -> bool:
    """Nothing is left to decide: every member is kept."""
    return all(m.keep for m in group.members)
