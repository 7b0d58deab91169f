"""One side of the compare view: a photo drawn at a zoom and pan shared with the other side.

:class:`ViewState` holds the zoom and the photo point at the centre, relative to the photo, so
both sides show the same part of the picture even when one copy has fewer pixels;
:class:`PhotoCanvas` draws one photo at it and turns the wheel and drags into it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

MAX_ZOOM = 32.0  # times the fitted size
ZOOM_STEP = 1.25  # one wheel notch


class ViewState(QObject):
    """Zoom and pan shared by both sides: ``zoom`` times the fitted size (1: fit) and the
    photo point at the centre of the view, as fractions of its width and height."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.zoom = 1.0
        self.center = QPointF(0.5, 0.5)

    def set(self, zoom: float, center: QPointF) -> None:
        zoom = max(1.0, min(MAX_ZOOM, zoom))
        center = QPointF(min(1.0, max(0.0, center.x())), min(1.0, max(0.0, center.y())))
        if zoom == 1.0:
            center = QPointF(0.5, 0.5)
        if (zoom, center) != (self.zoom, self.center):
            self.zoom, self.center = zoom, center
            self.changed.emit()

    def fit(self) -> None:
        self.set(1.0, QPointF(0.5, 0.5))


class PhotoCanvas(QWidget):
    """One side: the photo drawn at the shared zoom and pan; the wheel zooms about the
    cursor, a drag pans."""

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.image: QImage | None = None
        self.note = ""  # shown while there is no photo: "Loading…", why it cannot be shown
        self._drag_from: QPointF | None = None
        self.setMinimumSize(QSize(200, 160))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setToolTip("Wheel: zoom · drag: pan · double-click: 100 % or fit")
        state.changed.connect(self.update)

    def set_image(self, image: QImage | None, note: str = "") -> None:
        self.image, self.note = image, note
        self.update()

    # -- geometry ----------------------------------------------------------------------
    def fit_scale(self) -> float:
        """Logical pixels per photo pixel when the photo fits the canvas."""
        if self.image is None or self.image.isNull():
            return 1.0
        return min(self.width() / self.image.width(), self.height() / self.image.height())

    def scale(self) -> float:
        return self.fit_scale() * self.state.zoom

    def actual_percent(self) -> int:
        """How large the photo is drawn: 100 = one photo pixel per screen pixel."""
        return round(self.scale() * self.devicePixelRatioF() * 100)

    def image_rect(self) -> QRectF:
        if self.image is None or self.image.isNull():
            return QRectF()
        s = self.scale()
        w, h = self.image.width() * s, self.image.height() * s
        cx, cy = self.state.center.x() * w, self.state.center.y() * h
        left = self.width() / 2 - cx
        top = self.height() / 2 - cy
        # never more empty border than needed: a photo larger than the view fills it
        left = self._clamp(left, w, self.width())
        top = self._clamp(top, h, self.height())
        return QRectF(left, top, w, h)

    @staticmethod
    def _clamp(start: float, length: float, view: float) -> float:
        if length <= view:
            return (view - length) / 2
        return min(0.0, max(view - length, start))

    def photo_point(self, pos: QPointF) -> QPointF:
        """``pos`` in the canvas as fractions of the photo."""
        rect = self.image_rect()
        if rect.isEmpty():
            return QPointF(0.5, 0.5)
        return QPointF(
            (pos.x() - rect.left()) / rect.width(), (pos.y() - rect.top()) / rect.height()
        )

    # -- zoom and pan ------------------------------------------------------------------
    def zoom_about(self, pos: QPointF, factor: float) -> None:
        """Zoom by ``factor`` keeping the photo point under ``pos`` where it is."""
        if self.image is None or self.image.isNull():
            return
        point = self.photo_point(pos)
        zoom = max(1.0, min(MAX_ZOOM, self.state.zoom * factor))
        w = self.image.width() * self.fit_scale() * zoom
        h = self.image.height() * self.fit_scale() * zoom
        center = QPointF(
            point.x() + (self.width() / 2 - pos.x()) / w,
            point.y() + (self.height() / 2 - pos.y()) / h,
        )
        self.state.set(zoom, center)

    def pan_by(self, dx: float, dy: float) -> None:
        rect = self.image_rect()
        if rect.isEmpty():
            return
        current = self._shown_center(rect)
        self.state.set(
            self.state.zoom,
            QPointF(current.x() - dx / rect.width(), current.y() - dy / rect.height()),
        )

    def _shown_center(self, rect: QRectF) -> QPointF:
        """The photo point at the canvas centre as drawn (after clamping)."""
        return QPointF(
            (self.width() / 2 - rect.left()) / rect.width(),
            (self.height() / 2 - rect.top()) / rect.height(),
        )

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_about(event.position(), ZOOM_STEP**steps)
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag_from is not None:
            delta = event.position() - self._drag_from
            self._drag_from = event.position()
            self.pan_by(delta.x(), delta.y())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._drag_from = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.state.zoom > 1.0:
            self.state.fit()
        else:
            self.zoom_about(
                event.position(), 1 / max(1e-6, self.fit_scale() * self.devicePixelRatioF())
            )
        event.accept()

    # -- painting ----------------------------------------------------------------------
    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.state.zoom < 3)
        base = self.palette().color(QPalette.ColorRole.Window)
        back = base.darker(112) if base.lightness() > 128 else base.darker(135)
        painter.fillRect(self.rect(), back)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        if self.image is None or self.image.isNull():
            faint = QColor(text)
            faint.setAlpha(140)
            painter.setPen(faint)
            painter.drawText(
                QRectF(self.rect()).adjusted(16, 16, -16, -16),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.note,
            )
            return
        rect = self.image_rect()
        painter.drawImage(rect, self.image)
        self._paint_zoom_badge(painter)

    def _paint_zoom_badge(self, painter: QPainter) -> None:
        label = f"{self.actual_percent()} %"
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 0.86)
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(label) + 14
        badge = QRectF(self.width() - width - 8, 8, width, 20)
        pill = QPainterPath()
        pill.addRoundedRect(badge, 10, 10)
        painter.fillPath(pill, QColor(0, 0, 0, 150))
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
