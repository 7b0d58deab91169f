""" "Why is this a match?": the query photo and a result side by side, each with a translucent
map of how well its regions match the other photo (the core's :class:`Explanation`), a
legend, and W to show or hide the maps."""

from __future__ import annotations

import os

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeySequence,
    QLinearGradient,
    QPainter,
    QPalette,
    QShortcut,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui.painting import draw_fitted_image
from albumfinder.gui.plain_text import PLAIN
from albumfinder.gui.result_strip import format_score
from albumfinder.report import Crop, Explanation

#: magma-like stops: dark and faint where a region matches weakly, bright where strongly
_STOPS = (
    (0.0, (27, 12, 65, 40)),
    (0.35, (123, 35, 130, 95)),
    (0.6, (228, 64, 95, 140)),
    (0.85, (251, 155, 6, 175)),
    (1.0, (252, 255, 164, 200)),
)


def heat_colour(value: float) -> QColor:
    """The colour (with its alpha) a match value 0-1 is drawn in."""
    v = min(max(float(value), 0.0), 1.0)
    for (a, ca), (b, cb) in zip(_STOPS, _STOPS[1:], strict=False):
        if v <= b:
            t = (v - a) / (b - a) if b > a else 0.0
            return QColor(*(round(x + (y - x) * t) for x, y in zip(ca, cb, strict=True)))
    return QColor(*_STOPS[-1][1])


def heat_image(values: list[list[float]]) -> QImage:
    """A map as a small ARGB image, one pixel a cell (drawn smoothly scaled up)."""
    rows, cols = len(values), len(values[0]) if values else 0
    image = QImage(max(cols, 1), max(rows, 1), QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 0, 0, 0))
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            image.setPixelColor(c, r, heat_colour(value))
    return image


def crop_image(image: QImage, crop: Crop | None) -> QImage:
    if crop is None:
        return image
    w, h = image.width(), image.height()
    return image.copy(
        round(crop.left * w),
        round(crop.top * h),
        max(1, round(crop.width * w)),
        max(1, round(crop.height * h)),
    )


class MatchPane(QWidget):
    """A photo with its match map over it."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.image: QImage | None = None
        self.heat: QImage | None = None
        self.show_map = True
        self.setMinimumSize(QSize(260, 240))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self.update()

    def set_map(self, values: list[list[float]] | None) -> None:
        self.heat = heat_image(values) if values else None
        self.update()

    def photo_rect(self) -> QRectF:
        """Where the photo is drawn (empty until it has arrived)."""
        if self.image is None:
            return QRectF()
        area = QRectF(self.rect()).adjusted(8, 30, -8, -8)
        size = self.image.size().toSizeF().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        return QRectF(
            area.center().x() - size.width() / 2,
            area.center().y() - size.height() / 2,
            size.width(),
            size.height(),
        )

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        title_font = painter.font()
        title_font.setWeight(title_font.Weight.DemiBold)
        painter.setFont(title_font)
        painter.setPen(text)
        elided = painter.fontMetrics().elidedText(
            self.title, Qt.TextElideMode.ElideMiddle, self.width() - 16
        )
        painter.drawText(QRectF(8, 4, self.width() - 16, 22), Qt.AlignmentFlag.AlignCenter, elided)
        if self.image is not None:
            target = draw_fitted_image(
                painter, self.image, QRectF(self.rect()).adjusted(8, 30, -8, -8), 6
            )
            if self.heat is not None and self.show_map and not target.isEmpty():
                painter.drawImage(target, self.heat)
        else:
            faint = QColor(text)
            faint.setAlpha(120)
            painter.setPen(faint)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Loading…")
        painter.end()


class Legend(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(30)
        self.setMinimumWidth(240)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        metrics = painter.fontMetrics()
        weak, strong = "weaker match", "stronger match"
        left_w = metrics.horizontalAdvance(weak) + 10
        right_w = metrics.horizontalAdvance(strong) + 10
        bar = QRectF(left_w, 8, max(40, self.width() - left_w - right_w), 12)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for stop, _colour in _STOPS:
            colour = heat_colour(stop)
            colour.setAlpha(255)
            gradient.setColorAt(stop, colour)
        painter.setBrush(gradient)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(bar, 6, 6)
        painter.setPen(text)
        painter.drawText(
            QRectF(0, 0, left_w - 6, 28),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            weak,
        )
        painter.drawText(
            QRectF(bar.right() + 6, 0, right_w, 28),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            strong,
        )
        painter.end()


class WhyDialog(QDialog):
    """Shows one explanation; the caller fills the photos and the maps as they arrive."""

    def __init__(self, query_name: str, result_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("whyDialog")
        self.setWindowTitle("Why Is This a Match?")
        self.result_path = result_path
        self.query_pane = MatchPane(f"Your photo: {query_name}")
        self.result_pane = MatchPane(os.path.basename(result_path))
        self.result_pane.setToolTip(result_path)
        self.summary = QLabel("Comparing the two photos…")
        self.summary.setTextFormat(PLAIN)
        self.summary.setWordWrap(True)
        self.toggle = QCheckBox("Show the match maps (W)")
        self.toggle.setChecked(True)
        self.toggle.toggled.connect(self._set_maps_shown)
        toggle_maps = QShortcut(QKeySequence("W"), self)
        toggle_maps.activated.connect(self.toggle.toggle)
        self.legend = Legend()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        panes = QHBoxLayout()
        panes.setSpacing(12)
        panes.addWidget(self.query_pane)
        panes.addWidget(self.result_pane)
        bottom = QHBoxLayout()
        bottom.addWidget(self.toggle)
        bottom.addSpacing(12)
        bottom.addWidget(self.legend, 1)
        bottom.addSpacing(12)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(10)
        layout.addWidget(self.summary)
        layout.addLayout(panes, 1)
        layout.addLayout(bottom)
        self.resize(980, 600)

    def _set_maps_shown(self, shown: bool) -> None:
        for pane in (self.query_pane, self.result_pane):
            pane.show_map = shown
            pane.update()

    def show_explanation(self, explanation: Explanation) -> None:
        self.query_pane.set_map(explanation.query_map)
        self.result_pane.set_map(explanation.result_map)
        self.summary.setText(
            f"Similarity {format_score(explanation.score)}. Bright areas are the parts of each "
            "photo that look most like the other photo; dark areas match it least."
        )

    def show_error(self, message: str) -> None:
        self.summary.setText(f"Could not compare the two photos: {message}")
