"""Small drawing helpers shared by the widgets."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QPainterPath


def draw_fitted_image(painter: QPainter, image: QImage, area: QRectF, radius: float) -> QRectF:
    """Draw ``image`` as large as fits in ``area``, centred, with rounded corners; returns
    where it went (an empty rect when there was nothing to draw)."""
    size = image.size().toSizeF()
    if size.isEmpty() or area.width() <= 0 or area.height() <= 0:
        return QRectF()
    size = size.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
    target = QRectF(
        area.center().x() - size.width() / 2,
        area.center().y() - size.height() / 2,
        size.width(),
        size.height(),
    )
    clip = QPainterPath()
    clip.addRoundedRect(target, radius, radius)
    painter.save()
    painter.setClipPath(clip)
    painter.drawImage(target, image)
    painter.restore()
    return target
