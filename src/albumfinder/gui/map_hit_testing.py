"""The album map's hit-testing: which photo (or pile) is under a point, which photos lie in a
lasso, and the hovered photo with its card.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRect, Qt, Signal

from albumfinder.gui.map_painting import MapPainting
from albumfinder.gui.map_style import HOVER_PX, PREVIEW, Detail


def inside_polygon(xs: np.ndarray, ys: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which of the points lie inside ``polygon`` ((k, 2), closed implicitly): the even-odd
    ray rule, over all points at once."""
    inside = np.zeros(len(xs), dtype=bool)
    if len(polygon) < 3:
        return inside
    x0, y0 = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for ax, ay, bx, by in zip(x0, y0, x1, y1, strict=True):
        crosses = (ay > ys) != (by > ys)
        if not crosses.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            at = ax + (ys - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (xs < at)
    return inside


class MapHitTesting(MapPainting):
    """The photo under a point, and the hovered one."""

    hoverChanged = Signal(str)  # the photo under the pointer ("" when none)

    # -- hover ---------------------------------------------------------------------------
    def photo_at(self, point: QPointF) -> str | None:
        i = self._index_at(point)
        return self._paths[i] if i >= 0 else None

    def _index_at(self, point: QPointF) -> int:
        if not self._paths:
            return -1
        if self.detail == Detail.THUMBNAILS:
            visible, rects = self._thumb_rects()
            for i, rect in zip(reversed(visible.tolist()), reversed(rects), strict=True):
                if rect.contains(point):  # the one drawn last is on top
                    return i
            return -1
        pile = self._pile_at(point)
        if pile is not None:
            return pile[1]
        reach = max(HOVER_PX, self.dot_radius() + 3)
        visible = self._visible(reach)
        if not len(visible):
            return -1
        x, y = self._to_screen(self._xy[visible])
        distance = np.hypot(x - point.x(), y - point.y())
        nearest = int(np.argmin(distance))
        return int(visible[nearest]) if distance[nearest] <= reach else -1

    @property
    def hovered_path(self) -> str:
        return self._paths[self._hover] if self._hover >= 0 else ""

    def _set_hover(self, i: int, point: QPointF) -> None:
        if i == self._hover:
            if i >= 0:
                self._place_card(point)
            return
        self._hover = i
        if i < 0:
            self.hover_card.hide()
            self.unsetCursor()
        else:
            path = self._paths[i]
            self.hover_card.show_photo(path, self.thumbnails.request(path, PREVIEW), self.size())
            self._place_card(point)
            self.hover_card.show()
            self.hover_card.raise_()
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.update()
        self.hoverChanged.emit(self.hovered_path)

    def _place_card(self, point: QPointF) -> None:
        size = self.hover_card.sizeHint()
        x, y = int(point.x()) + 18, int(point.y()) + 18
        if x + size.width() > self.width() - 4:
            x = int(point.x()) - 18 - size.width()
        if y + size.height() > self.height() - 4:
            y = int(point.y()) - 18 - size.height()
        x = max(4, min(x, self.width() - size.width() - 4))
        y = max(4, min(y, self.height() - size.height() - 4))
        self.hover_card.setGeometry(QRect(QPoint(x, y), size))

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._set_hover(-1, QPointF())
        super().leaveEvent(event)
