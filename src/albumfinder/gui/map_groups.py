"""The album map's groups, zoomed out: each cluster's label (its size, or its name) and the
small groups drawn as a pile of their photos; where they go and how they are drawn.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPalette, QPen, QPixmap

from albumfinder.gui.map_navigation import MapNavigation
from albumfinder.gui.map_style import (
    CARD_CACHE,
    CARD_STEP,
    PILE_CARD,
    PILE_PX,
    PILE_TURNS,
    Detail,
    cluster_color,
)
from albumfinder.gui.painting import draw_fitted_image


class MapGroups(MapNavigation):
    """The cluster labels and the piles: their places, and their painting."""

    # -- the cluster labels ------------------------------------------------------------
    def cluster_labels(self) -> list[tuple[QRectF, str]]:
        """Where each cluster's label goes and what it says (its size, and its name when it
        has one); a smaller cluster's label is left out where it would cover a larger's."""
        if not self._clusters:
            return []
        metrics = QFontMetricsF(self._label_font())
        placed: list[tuple[QRectF, str]] = []
        shown_clusters = set(np.unique(self._cluster[self._shown]).tolist())
        piles = {cid: rect for cid, rect, _members in self.piles()}
        for cluster in sorted(self._clusters, key=lambda c: -c.size):
            if cluster.id not in shown_clusters or cluster.id not in self._groups:
                continue
            centre, radius, _members = self._groups[cluster.id]
            x, y = self._to_screen(centre[None, :])
            text = cluster.label or f"{cluster.size:,}"  # the core's label names the size
            width = metrics.horizontalAdvance(text) + 18
            height = metrics.height() + 8
            if cluster.id in piles:  # under its pile
                tops = [piles[cluster.id].bottom() + 4]
            else:  # above its dots, else below them, else on them
                reach = radius * self._scale + self.dot_radius() + 4
                tops = [float(y[0]) - reach - height, float(y[0]) + reach,
                        float(y[0]) - height / 2]  # fmt: skip
            view = QRectF(self.rect())
            for top in tops:
                rect = QRectF(float(x[0]) - width / 2, top, width, height)
                if view.contains(rect) and not any(
                    rect.adjusted(-4, -3, 4, 3).intersects(other) for other, _ in placed
                ):
                    placed.append((rect, text))
                    break
        return placed

    def _label_font(self):
        font = self.font()
        font.setWeight(font.Weight.DemiBold)
        font.setPointSizeF(font.pointSizeF() * 0.92)
        return font

    def _paint_cluster_labels(self, painter: QPainter) -> None:
        labels = self.cluster_labels()
        if not labels:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(self._label_font())
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        fill = QColor(32, 33, 36, 215) if not dark else QColor(240, 241, 244, 225)
        ink = QColor("white") if not dark else QColor("#202124")
        for rect, text in labels:
            pill = QPainterPath()
            pill.addRoundedRect(rect, rect.height() / 2, rect.height() / 2)
            painter.fillPath(pill, fill)
            painter.setPen(ink)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    # -- the piles ---------------------------------------------------------------------
    def piles(self) -> list[tuple[int, QRectF, list[int]]]:
        """The groups drawn as a pile of their photos (small on screen: zoomed out): each
        one's id, where its pile lies and the photos on it (top one last)."""
        if self.detail != Detail.DOTS:
            return []
        small = []
        for cid, (centre, radius, members) in self._groups.items():
            on_top = members[self._shown[members]][:3]
            if radius * self._scale < PILE_PX and len(on_top):
                small.append((cid, centre, on_top))
        if not small:
            return []
        x, y = self._to_screen(np.array([centre for _cid, centre, _top in small]))
        apart = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
        np.fill_diagonal(apart, np.inf)
        # a pile is smaller where others are near (they overlap less), never below 60 %
        sides = np.clip(apart.min(axis=1) * 0.8, PILE_CARD * 0.6, PILE_CARD)
        view = QRectF(self.rect())
        piles = []
        for (cid, _centre, on_top), cx, cy, side in zip(small, x, y, sides, strict=True):
            half = float(side) * 0.62  # room for the turned photos under the top one
            rect = QRectF(float(cx) - half, float(cy) - half, 2 * half, 2 * half)
            if view.intersects(rect):
                piles.append((cid, rect, [int(i) for i in reversed(on_top)]))
        piles.sort(key=lambda pile: len(self._groups[pile[0]][2]))  # the largest on top
        return piles

    def _pile_at(self, point: QPointF) -> tuple[int, int] | None:
        """(group id, the photo on top) of the pile under ``point``."""
        for cid, rect, members in reversed(self.piles()):
            if rect.contains(point):
                return cid, members[-1]
        return None

    def _paint_piles(self, painter: QPainter) -> None:
        piles = self.piles()
        if not piles:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        dpr = painter.device().devicePixelRatioF()
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        for _cid, rect, members in piles:
            pixmap = self._pile_pixmap(members, rect.width(), dpr)
            painter.drawPixmap(rect, pixmap, QRectF(pixmap.rect()))
            if self._hover == members[-1]:  # the photo on top is the one hovered
                side = rect.width() / 1.24
                card = QRectF(0, 0, side, side)
                card.moveCenter(rect.center())
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(accent, 2.4))
                painter.drawRoundedRect(card.adjusted(-1.5, -1.5, 1.5, 1.5), 6, 6)
        painter.restore()

    def _pile_pixmap(self, members: list[int], width: float, dpr: float) -> QPixmap:
        """A pile drawn once (rotated, shadowed photos are dear to draw: hundreds of them a
        frame would not be smooth) and kept until its photos' thumbnails change."""
        images = [self._thumbnail(self._paths[i]) for i in members]
        step = max(16, int(math.ceil(width * dpr / CARD_STEP)) * CARD_STEP)
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        key = ("pile", tuple(members), step, tuple(im is not None for im in images), dark)
        cached = self._cards.get(key)
        if cached is not None:
            self._cards.move_to_end(key)
            return cached[0]
        pixmap = QPixmap(step, step)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        paper = QColor("#3a3b3f") if dark else QColor("white")
        shadow = QColor(0, 0, 0, 110 if dark else 60)
        side = step / 1.24
        radius = 5 * dpr
        turns = PILE_TURNS[-len(members) :]
        for i, image, turn in zip(members, images, turns, strict=True):
            painter.save()
            painter.translate(step / 2, step / 2)
            painter.rotate(turn)
            card = QRectF(-side / 2, -side / 2, side, side)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(shadow)
            painter.drawRoundedRect(card.translated(0.8 * dpr, 1.6 * dpr), radius, radius)
            painter.setBrush(paper)
            painter.drawRoundedRect(card, radius, radius)
            inner = card.adjusted(3 * dpr, 3 * dpr, -3 * dpr, -3 * dpr)
            if image is not None:
                draw_fitted_image(painter, image, inner, 3 * dpr)
            else:
                shade = cluster_color(int(self._cluster[i]))
                shade.setAlpha(90)
                painter.setBrush(shade)
                painter.drawRoundedRect(inner, 3 * dpr, 3 * dpr)
            painter.restore()
        painter.end()
        self._cards[key] = (pixmap, QRectF())
        while len(self._cards) > CARD_CACHE:
            self._cards.popitem(last=False)
        return pixmap
