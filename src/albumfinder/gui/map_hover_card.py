"""The map's hover card: the picture, name and path of the photo under the pointer."""

from __future__ import annotations

import os

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPalette, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from albumfinder.gui.elided_label import ElidedLabel
from albumfinder.gui.map_style import PREVIEW
from albumfinder.gui.painting import draw_fitted_image
from albumfinder.gui.plain_text import PLAIN


class HoverCard(QFrame):
    """The tooltip-like preview of the photo under the pointer: its picture, name and path."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("mapHoverCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.picture = QLabel()
        self.picture.setFixedSize(PREVIEW, int(PREVIEW * 0.75))
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name_label = ElidedLabel("")
        self.name_label.setTextFormat(PLAIN)
        font = self.name_label.font()
        font.setWeight(font.Weight.DemiBold)
        self.name_label.setFont(font)
        self.path_label = QLabel("")  # the path shortened in its middle (the name is above)
        self.path_label.setObjectName("mapHoverPath")
        self.path_label.setTextFormat(PLAIN)
        for label in (self.name_label, self.path_label):
            label.setForegroundRole(QPalette.ColorRole.ToolTipText)
            label.setFixedWidth(PREVIEW)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 7)
        layout.setSpacing(3)
        layout.addWidget(self.picture)
        layout.addSpacing(3)
        layout.addWidget(self.name_label)
        layout.addWidget(self.path_label)
        self.path = ""
        self._image: QImage | None = None
        self.hide()

    def show_photo(self, path: str, image: QImage | None, room: QSize | None = None) -> None:
        """Show ``path`` (``room``: the map's size; the card takes at most half of it)."""
        self.path = path
        side = PREVIEW
        if room is not None:
            side = int(max(120, min(PREVIEW, room.width() * 0.45, room.height() * 0.5 / 0.75)))
        self.picture.setFixedSize(side, int(side * 0.75))
        for label in (self.name_label, self.path_label):
            label.setFixedWidth(side)
        self.name_label.setText(os.path.basename(path))
        metrics = self.path_label.fontMetrics()
        self.path_label.setText(metrics.elidedText(path, Qt.TextElideMode.ElideMiddle, side))
        self.set_image(image)
        self.adjustSize()

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self.picture.update()
        side = self.picture.size()
        canvas = QImage(side * 2, QImage.Format.Format_ARGB32_Premultiplied)
        canvas.setDevicePixelRatio(2)
        canvas.fill(Qt.GlobalColor.transparent)
        painter = QPainter(canvas)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        area = QRectF(0, 0, side.width(), side.height())
        if image is not None and not image.isNull():
            draw_fitted_image(painter, image, area, 6)
        else:
            shade = QColor(self.palette().color(QPalette.ColorRole.ToolTipText))
            shade.setAlpha(22)
            path = QPainterPath()
            path.addRoundedRect(area, 6, 6)
            painter.fillPath(path, shade)
        painter.end()
        self.picture.setPixmap(QPixmap.fromImage(canvas))
