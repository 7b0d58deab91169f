"""The album map's painting: the dots (from the last full drawing while a zoom or pan goes
on), the rings of the hovered and odd photos, the thumbnails zoomed in, and the lasso.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPalette, QPen, QPixmap, QPolygonF

from albumfinder.gui.map_groups import MapGroups
from albumfinder.gui.map_raster import DotRaster, to_argb
from albumfinder.gui.map_style import CARD_CACHE, CARD_STEP, Detail, cluster_color
from albumfinder.gui.painting import draw_fitted_image


class MapPainting(MapGroups):
    """Everything the map shows, for the view as it is now."""

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        self.paint_map(painter)
        painter.end()

    def paint_map(self, painter: QPainter) -> None:
        """Everything the map shows, for the view as it is now."""
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        if not self._paths:
            return
        if self.detail == Detail.THUMBNAILS:
            self._paint_thumbnails(painter)
        else:
            self._paint_dots(painter, painter.device().devicePixelRatioF())
            self._paint_rings(painter)
            self._paint_piles(painter)
            self._paint_cluster_labels(painter)
        self._paint_lasso(painter)

    def _paint_dots(self, painter: QPainter, dpr: float) -> None:
        cache = self._dots_cache
        moving = self._dots_stale and self._settle.isActive()
        if moving and cache is not None and cache[0][:3] == (self.width(), self.height(), dpr):
            _key, image, scale, center = cache
            half = QPointF(self.width() / 2, self.height() / 2)
            shift = (center - self._center) * self._scale
            offset = QPointF(float(shift[0]), float(shift[1]))
            if abs(self._scale / scale - 1.0) < 1e-9:  # a pan: the drawing moved, as it is
                painter.drawImage(offset, image)
                return
            painter.save()
            painter.translate(half + offset)
            painter.scale(self._scale / scale, self._scale / scale)
            painter.translate(-half)
            painter.drawImage(QPointF(0, 0), image)
            painter.restore()
            return
        painter.drawImage(QPointF(0, 0), self._dots_image(dpr))

    def _dots_image(self, dpr: float) -> QImage:
        key = (self.width(), self.height(), dpr, self._scale, *self._center)
        if self._dots_cache is not None and self._dots_cache[0] == key:
            return self._dots_cache[1]
        self._dots_stale = False
        width, height = max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr))
        raster = self._raster
        if raster is None or (raster.width, raster.height) != (width, height):
            pad = 2 * int(math.ceil((6.0 + 2.2) * dpr + 1)) + 2  # the largest ring's reach
            raster = self._raster = DotRaster(width, height, pad)
        raster.clear(self.palette().color(QPalette.ColorRole.Base))
        radius = self.dot_radius()
        visible = self._visible(radius + 2)
        if len(visible):
            x, y = self._to_screen(self._xy[visible])
            px = np.rint(x * dpr).astype(np.int64)
            py = np.rint(y * dpr).astype(np.int64)
            argb = self._argb[visible]
            raster.stamp(px, py, argb, radius * dpr, grid=max(1, int(dpr)))
            chosen = self._selected[visible]
            if chosen.any():  # the selection on top, with a ring in the accent colour
                accent = to_argb(self.palette().color(QPalette.ColorRole.Highlight))
                ring = np.full(int(chosen.sum()), accent, dtype=np.uint32)
                raster.stamp(px[chosen], py[chosen], ring, (radius + 2.2) * dpr)
                raster.stamp(px[chosen], py[chosen], argb[chosen], radius * dpr)
        image = raster.image(dpr)
        self._dots_cache = (key, image, self._scale, self._center.copy())
        return image

    def _paint_rings(self, painter: QPainter) -> None:
        """The hovered photo and the odd ones out, ringed."""
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        radius = self.dot_radius()
        marked = np.flatnonzero(self._marked & self._shown)
        if len(marked):
            x, y = self._to_screen(self._xy[marked])
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor("#e15759"), 2.0))
            for cx, cy in zip(x, y, strict=True):
                painter.drawEllipse(QPointF(cx, cy), radius + 4, radius + 4)
        if self._hover >= 0:
            x, y = self._to_screen(self._xy[self._hover : self._hover + 1])
            center = QPointF(float(x[0]), float(y[0]))
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Base), 3.0))
            painter.setBrush(cluster_color(int(self._cluster[self._hover])))
            painter.drawEllipse(center, radius + 2.5, radius + 2.5)
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Text), 1.4))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(center, radius + 4.5, radius + 4.5)
        painter.restore()

    # -- zoomed in: the thumbnails ------------------------------------------------------
    def _thumb_rects(self) -> tuple[np.ndarray, list[QRectF]]:
        side = self.thumb_px()
        visible = self._visible(side)
        x, y = self._to_screen(self._xy[visible])
        rects = [
            QRectF(cx - side / 2, cy - side / 2, side, side) for cx, cy in zip(x, y, strict=True)
        ]
        return visible, rects

    def _paint_thumbnails(self, painter: QPainter) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        visible, rects = self._thumb_rects()
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        base = self.palette().color(QPalette.ColorRole.Base)
        dpr = painter.device().devicePixelRatioF()
        side = self.thumb_px()
        radius = max(3.0, side * 0.06)
        for i, rect in zip(visible.tolist(), rects, strict=True):
            card, inner = self._card(i, side, dpr)
            painter.drawPixmap(rect, card, QRectF(card.rect()))
            if self._selected[i] or self._marked[i] or i == self._hover:
                w, h = rect.width(), rect.height()
                drawn = QRectF(rect.left() + inner.left() * w, rect.top() + inner.top() * h,
                               inner.width() * w, inner.height() * h)  # fmt: skip
                ring = accent if self._selected[i] else QColor("#e15759")
                if i == self._hover:
                    ring = self.palette().color(QPalette.ColorRole.Text)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(base, 5.0))
                painter.drawRoundedRect(drawn.adjusted(-3, -3, 3, 3), radius + 3, radius + 3)
                painter.setPen(QPen(ring, 2.6))
                painter.drawRoundedRect(drawn.adjusted(-3, -3, 3, 3), radius + 3, radius + 3)
        painter.restore()

    def _card(self, i: int, side: float, dpr: float) -> tuple[QPixmap, QRectF]:
        """Photo ``i`` as drawn zoomed in: its thumbnail with rounded corners and an edge
        in its cluster's colour (a placeholder until the thumbnail is loaded), made once per
        size step and kept (a frame then costs one plain pixmap draw per photo); and where
        in the card the picture is, as fractions of its side."""
        path = self._paths[i]
        image = self._thumbnail(path)
        step = max(16, int(math.ceil(side * dpr / CARD_STEP)) * CARD_STEP)
        key = (path, step, image is not None, int(self._cluster[i]))
        cached = self._cards.get(key)
        if cached is not None:
            self._cards.move_to_end(key)
            return cached
        pixmap = QPixmap(step, step)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        color = cluster_color(int(self._cluster[i]))
        edge = 2.0 * dpr
        area = QRectF(0, 0, step, step).adjusted(edge, edge, -edge, -edge)
        radius = max(3.0 * dpr, step * 0.06)
        if image is not None:
            drawn = draw_fitted_image(painter, image, area, radius)
        else:
            inset = step * 0.12
            drawn = area.adjusted(inset, inset, -inset, -inset)
            shade = QColor(color)
            shade.setAlpha(70)
            placeholder = QPainterPath()
            placeholder.addRoundedRect(drawn, radius, radius)
            painter.fillPath(placeholder, shade)
        # a thin edge in the cluster's colour: the clusters stay visible among the photos
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(color, edge))
        half = edge / 2
        painter.drawRoundedRect(
            drawn.adjusted(-half, -half, half, half), radius + half, radius + half
        )
        painter.end()
        inner = QRectF(drawn.left() / step, drawn.top() / step, drawn.width() / step,
                       drawn.height() / step)  # fmt: skip
        self._cards[key] = (pixmap, inner)
        while len(self._cards) > CARD_CACHE:
            self._cards.popitem(last=False)
        return pixmap, inner

    def _paint_lasso(self, painter: QPainter) -> None:
        if not self._lasso or len(self._lasso) < 2:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        fill = QColor(accent)
        fill.setAlpha(40)
        painter.setBrush(fill)
        pen = QPen(accent, 1.6)
        pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawPolygon(QPolygonF(self._lasso))
        painter.restore()
