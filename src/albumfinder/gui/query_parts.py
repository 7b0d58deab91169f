"""Every photo of a query of several, each removable: "Like these together" and "Less like"."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from albumfinder.gui.drop_zone import QueryKind, QuerySource
from albumfinder.gui.painting import draw_fitted_image
from albumfinder.gui.plain_text import PLAIN
from albumfinder.gui.plain_text import tooltip as plain_tooltip
from albumfinder.gui.thumbnails import ThumbnailLoader

CHIP = 56


class PartChip(QWidget):
    """One query photo: its thumbnail, a remove button, a red edge for a "less like" one."""

    removeRequested = Signal(object)  # the QuerySource

    def __init__(self, source: QuerySource, negative: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.negative = negative
        self.image: QImage | None = None
        self.setFixedSize(QSize(CHIP, CHIP))
        what = "Less like" if negative else "Like"
        self.setToolTip(plain_tooltip(f"{what}: {source.name}"))
        self.setAccessibleName(f"{what} {source.name}")
        self.remove_button = QToolButton(self)
        self.remove_button.setText("✕")
        self.remove_button.setFixedSize(QSize(18, 18))
        self.remove_button.setAutoRaise(True)
        self.remove_button.setToolTip(f"Remove {source.name} from the query")
        self.remove_button.setAccessibleName(f"Remove {source.name}")
        self.remove_button.move(CHIP - 19, 1)
        self.remove_button.setStyleSheet(
            "QToolButton { background: rgba(0,0,0,160); color: white; border: none;"
            " border-radius: 9px; font-size: 9px; font-weight: bold; }"
            "QToolButton:hover { background: rgba(200,40,40,220); }"
        )
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self.source))

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        rect = QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        back = QColor(text)
        back.setAlpha(22)
        path = QPainterPath()
        path.addRoundedRect(rect, 7, 7)
        painter.fillPath(path, back)
        if self.image is not None and not self.image.isNull():
            draw_fitted_image(painter, self.image, rect.adjusted(2, 2, -2, -2), 5)
        edge = (
            QColor("#d64541")
            if self.negative
            else self.palette().color(QPalette.ColorRole.Highlight)
        )
        painter.setPen(QPen(edge, 2))
        painter.drawPath(path)
        if self.negative:
            badge = QRectF(3, CHIP - 19, 16, 16)
            painter.setBrush(edge)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(badge)
            painter.setPen(QPen(QColor("white"), 2))
            painter.drawLine(
                QPointF(badge.left() + 4, badge.center().y()),
                QPointF(badge.right() - 4, badge.center().y()),
            )
        painter.end()


class QueryPartsBar(QWidget):
    """Shown while the query is several photos (or has "less like" ones)."""

    removeRequested = Signal(object)  # the QuerySource to take out

    def __init__(self, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queryParts")
        self.thumbnails = thumbnails
        self.chips: list[PartChip] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setVisible(False)
        thumbnails.ready.connect(self._thumbnail_ready)

    def show_parts(
        self, parts: tuple[QuerySource, ...], negatives: tuple[QuerySource, ...]
    ) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.chips = []
        combined = len(parts) > 1 or bool(negatives)
        self.setVisible(combined)
        if not combined:
            return
        self._layout.addWidget(self._label("Together"))
        for source in parts:
            self._add_chip(source, negative=False)
        if negatives:
            self._layout.addSpacing(10)
            self._layout.addWidget(self._label("Less like"))
            for source in negatives:
                self._add_chip(source, negative=True)
        self._layout.addStretch(1)

    def _label(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setTextFormat(PLAIN)
        label.setEnabled(False)
        return label

    def _add_chip(self, source: QuerySource, negative: bool) -> None:
        chip = PartChip(source, negative, self)
        chip.removeRequested.connect(self.removeRequested)
        if source.kind == QueryKind.PATH:
            chip.set_image(self.thumbnails.request(str(source.value), CHIP * 2))
        elif isinstance(source.value, bytes):
            image = QImage.fromData(source.value)
            chip.set_image(image.scaled(CHIP * 2, CHIP * 2, Qt.AspectRatioMode.KeepAspectRatio))
        self.chips.append(chip)
        self._layout.addWidget(chip)

    def _thumbnail_ready(self, path: str, size: int, image: QImage) -> None:
        for chip in self.chips:
            if (
                size == CHIP * 2
                and chip.source.kind == QueryKind.PATH
                and chip.source.value == path
            ):
                chip.set_image(image)
