"""The large area that invites a photo: drop, paste or open one; once given, it shows it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QPushButton, QSizePolicy, QWidget

from albumfinder.gui import icons
from albumfinder.gui.painting import draw_fitted_image
from albumfinder.images import PHOTO_MIME_TYPES

TITLE = "Drop a photo here, paste one, or open a file"
SUBTITLE = "Album Finder shows the photos in your album that look most like it."


class QueryKind(str, Enum):
    """What a query photo was given as (equal to its plain-string value)."""

    PATH = "path"  # a local file
    BYTES = "bytes"  # encoded image data
    IMAGE = "image"  # a QImage, encoded off the GUI thread when searched
    URL = "url"  # a web address, fetched first

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class QuerySource:
    """What was dropped or pasted: a local file, encoded image data, image data not yet
    encoded (a QImage: encoded once, off the GUI thread, when it is searched), or a web
    address."""

    kind: QueryKind
    value: str | bytes | QImage
    name: str

    def __post_init__(self) -> None:  # "path" given as a plain string is QueryKind.PATH
        object.__setattr__(self, "kind", QueryKind(self.kind))


def encode_png(image: QImage) -> bytes:
    """``image`` as PNG bytes (seconds for a 48 MP image: call it on a pool thread)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # stubs say bytes; str works
    buffer.close()
    return bytes(data.data())


def source_from_mime(mime: QMimeData | None) -> QuerySource | None:
    """The photo a drop or a paste carries: a local file first, then image data (a browser
    drag or a copied image), then a web address."""
    if mime is None:
        return None
    urls = mime.urls() if mime.hasUrls() else []
    for url in urls:
        if url.isLocalFile() and url.toLocalFile():
            path = url.toLocalFile()
            return QuerySource(QueryKind.PATH, path, path.rsplit("/", 1)[-1])
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QPixmap):
            image = image.toImage()
        if isinstance(image, QImage) and not image.isNull():
            return QuerySource(QueryKind.IMAGE, image, "pasted image")  # encoded when searched
    for fmt in PHOTO_MIME_TYPES:
        if mime.hasFormat(fmt):
            data = bytes(mime.data(fmt).data())
            if data:
                return QuerySource(QueryKind.BYTES, data, "dropped image")
    for url in urls:
        if url.scheme() in ("http", "https"):
            return QuerySource(QueryKind.URL, url.toString(), url.fileName() or url.host())
    text = mime.text().strip() if mime.hasText() else ""
    if text.startswith(("http://", "https://")) and "\n" not in text:
        return QuerySource(QueryKind.URL, text, text.rsplit("/", 1)[-1])
    if text.startswith("file://") and "\n" not in text:
        from PySide6.QtCore import QUrl

        path = QUrl(text).toLocalFile()
        return QuerySource(QueryKind.PATH, path, path.rsplit("/", 1)[-1]) if path else None
    return None


def fitted_font(font: QFont, text: str, width: float, smallest: float = 0.7) -> QFont:
    """``font``, made smaller (down to ``smallest`` of its size) until ``text`` fits in
    ``width``: the invitation is never cut off at the narrowest window."""
    fitted = QFont(font)
    size = font.pointSizeF()
    while QFontMetricsF(fitted).horizontalAdvance(text) > width and (
        fitted.pointSizeF() > size * smallest
    ):
        fitted.setPointSizeF(fitted.pointSizeF() * 0.95)
    return fitted


class DropZone(QWidget):
    """Emits :attr:`dropped` with a :class:`QuerySource`; :attr:`openRequested` for the button."""

    dropped = Signal(QuerySource)
    openRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAcceptDrops(True)
        self.setMinimumSize(QSize(320, 220))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._hover = False
        self._image: QImage | None = None
        self._caption = ""
        self._busy = False
        self.open_button = QPushButton(icons.icon("open"), "Open a photo…")
        self.open_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.open_button.clicked.connect(self.openRequested)
        self.open_button.setToolTip("Open a photo (Ctrl+O)")
        self.open_button.setParent(self)
        self.setAccessibleName("Photo drop zone")
        self.setAccessibleDescription(TITLE)

    def _invitation_top(self) -> float:
        return self.height() / 2 - 40

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        hint = self.open_button.sizeHint()
        self.open_button.resize(hint)
        self.open_button.move((self.width() - hint.width()) // 2, int(self._invitation_top()) + 80)

    # -- state -------------------------------------------------------------------------
    @property
    def has_photo(self) -> bool:
        return self._image is not None

    def set_photo(self, image: QImage | None, caption: str = "") -> None:
        self._image = image if image is not None and not image.isNull() else None
        self._caption = caption
        self.open_button.setVisible(self._image is None)
        self.update()

    def set_caption(self, caption: str) -> None:
        self._caption = caption
        self.update()

    # -- drag and drop -----------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if source_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
            self._hover = True
            self.update()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if self._hover:
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self._hover = False
        self.update()

    def dropEvent(self, event) -> None:  # noqa: N802
        self._hover = False
        self.update()
        source = source_from_mime(event.mimeData())
        if source is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.dropped.emit(source)

    # -- painting ----------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        palette = self.palette()
        accent = palette.color(QPalette.ColorRole.Highlight)
        text = palette.color(QPalette.ColorRole.WindowText)
        base = palette.color(QPalette.ColorRole.Base)
        rect = QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5)
        path = QPainterPath()
        path.addRoundedRect(rect, 14, 14)
        fill = QColor(accent) if self._hover else QColor(base)
        fill.setAlpha(40 if self._hover else 255)
        painter.fillPath(path, fill)
        border = QColor(accent) if self._hover else QColor(text)
        if not self._hover:
            border.setAlpha(70)
        pen = QPen(border, 1.6 if self._hover else 1.2)
        if self._image is None or self._hover:
            pen.setStyle(Qt.PenStyle.DashLine)
            pen.setDashPattern([5, 4])
        painter.setPen(pen)
        painter.drawPath(path)
        if self._image is not None:
            self._paint_photo(painter, rect, text)
        else:
            self._paint_invitation(painter, rect, text, accent)
        painter.end()

    def _paint_invitation(self, painter: QPainter, rect: QRectF, text, accent) -> None:
        size = 72
        center_y = self._invitation_top()
        icon_rect = QRectF(rect.center().x() - size / 2, center_y - size, size, size)
        painter.drawPixmap(
            icon_rect.toRect(), icons.pixmap("photo", size, accent, self.devicePixelRatioF())
        )
        font = painter.font()
        title = QRectF(rect.left() + 16, center_y + 12, rect.width() - 32, 30)
        bold = font
        bold.setPointSizeF(font.pointSizeF() * 1.35)
        bold.setWeight(bold.Weight.DemiBold)
        painter.setFont(fitted_font(bold, TITLE, title.width()))
        painter.setPen(text)
        painter.drawText(title, Qt.AlignmentFlag.AlignCenter, TITLE)
        sub = QRectF(rect.left() + 16, center_y + 44, rect.width() - 32, 22)
        painter.setFont(fitted_font(self.font(), SUBTITLE, sub.width()))
        faint = QColor(text)
        faint.setAlpha(150)
        painter.setPen(faint)
        painter.drawText(sub, Qt.AlignmentFlag.AlignCenter, SUBTITLE)

    def _paint_photo(self, painter: QPainter, rect: QRectF, text) -> None:
        assert self._image is not None
        if draw_fitted_image(painter, self._image, rect.adjusted(18, 18, -18, -44), 8).isEmpty():
            return
        faint = QColor(text)
        faint.setAlpha(170)
        painter.setPen(faint)
        caption = QRectF(rect.left() + 16, rect.bottom() - 38, rect.width() - 32, 28)
        elided = painter.fontMetrics().elidedText(
            self._caption, Qt.TextElideMode.ElideMiddle, int(caption.width())
        )
        painter.drawText(caption, Qt.AlignmentFlag.AlignCenter, elided)
