"""Small drawing helpers shared by the widgets."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPalette
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QWidget


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


def paint_item_highlight(
    painter: QPainter, option: QStyleOptionViewItem, cell: QRectF, radius: float
) -> bool:
    """The one look of a hovered or selected item of a list (a translucent accent fill, a
    ring when it also has the focus). Returns whether it is selected."""
    palette = option.palette
    selected = bool(option.state & QStyle.StateFlag.State_Selected)
    hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
    accent = palette.color(QPalette.ColorRole.Highlight)
    if selected or hovered:
        back = QColor(accent)
        back.setAlpha(70 if selected else 28)
        path = QPainterPath()
        path.addRoundedRect(cell, radius, radius)
        painter.fillPath(path, back)
    if selected and option.state & QStyle.StateFlag.State_HasFocus:
        painter.setPen(accent)
        painter.drawRoundedRect(cell, radius, radius)
    return selected


def faint_text(widget: QWidget, alpha: int = 165) -> None:
    """Secondary text: the palette's text colour, partly transparent (readable in light and
    dark palettes, unlike a disabled label's grey on a light window)."""
    palette = widget.palette()
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
        color = QColor(palette.color(role))
        color.setAlpha(alpha)
        palette.setColor(role, color)
    widget.setPalette(palette)
