"""The large area that invites a photo: drop, paste or open one; once given, it shows it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMimeData,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
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
from albumfinder.images import PHOTO_MIME_TYPES, is_photo_name
from albumfinder.report import Crop

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


def sources_from_mime(mime: QMimeData | None) -> list[QuerySource]:
    """Every photo a drop carries: all of its local files (several make one query
    together), else the one :func:`source_from_mime` finds."""
    if mime is not None and mime.hasUrls():
        files = [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]
        photos = [f for f in files if is_photo_name(f)]  # not the sidecars chosen with them
        if len(files) > 1 and photos:
            return [QuerySource(QueryKind.PATH, f, f.rsplit("/", 1)[-1]) for f in photos]
    one = source_from_mime(mime)
    return [one] if one is not None else []


#: The smallest region a drag makes, in pixels of the shown photo (less is a click).
MIN_REGION_PX = 12
_HANDLE_PX = 9


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
    """Emits :attr:`dropped` with a :class:`QuerySource` (:attr:`droppedMany` with several);
    :attr:`openRequested` for the button. On a shown photo, a drag draws a region to search
    for (:attr:`regionChosen`, in fractions of the photo); its inside moves it, its corners
    resize it, Esc clears it (:attr:`regionCleared`)."""

    dropped = Signal(QuerySource)
    droppedMany = Signal(list)
    openRequested = Signal()
    regionChosen = Signal(Crop)
    regionCleared = Signal()

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
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMouseTracking(True)
        self._photo_rect = QRectF()  # where the photo was drawn last
        self._region: QRectF | None = None  # in fractions of the photo (0-1)
        self._drag: tuple[str, QPointF, QRectF] | None = None  # mode, start, region then

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

    def set_photo(
        self, image: QImage | None, caption: str = "", region: Crop | None = None
    ) -> None:
        self._image = image if image is not None and not image.isNull() else None
        self._caption = caption
        self._region = _crop_rect(region) if self._image is not None and region else None
        self._drag = None
        self.open_button.setVisible(self._image is None)
        self.update()

    @property
    def region(self) -> Crop | None:
        """The region drawn on the photo, in fractions of it (None: the whole photo)."""
        return _rect_crop(self._region) if self._region is not None else None

    def show_region(self, region: Crop | None) -> None:
        """Draw ``region`` on the shown photo (what the query asks), telling no one."""
        self._region = _crop_rect(region) if self._image is not None and region else None
        self._drag = None
        self.update()

    def clear_region(self) -> bool:
        """Take the region away; True if there was one (the query is then the whole photo)."""
        if self._region is None:
            return False
        self._region = None
        self._drag = None
        self.update()
        self.regionCleared.emit()
        return True

    def photo_rect(self) -> QRectF:
        """Where the photo is shown, in widget pixels (empty: no photo)."""
        return QRectF(self._photo_rect) if self._image is not None else QRectF()

    # -- drawing a region on the photo -----------------------------------------------------
    def _to_fraction(self, point: QPointF) -> QPointF:
        r = self._photo_rect
        x = min(max((point.x() - r.left()) / r.width(), 0.0), 1.0)
        y = min(max((point.y() - r.top()) / r.height(), 0.0), 1.0)
        return QPointF(x, y)

    def _region_px(self) -> QRectF | None:
        if self._region is None or self._photo_rect.isEmpty():
            return None
        r, g = self._photo_rect, self._region
        return QRectF(
            r.left() + g.left() * r.width(),
            r.top() + g.top() * r.height(),
            g.width() * r.width(),
            g.height() * r.height(),
        )

    def _hit(self, point: QPointF) -> str | None:
        """What a press at ``point`` grabs: a corner ("tl", "tr", "bl", "br"), the region
        ("move"), the photo ("new"), or nothing."""
        shown = self._region_px()
        if shown is not None:
            corners = {
                "tl": shown.topLeft(),
                "tr": shown.topRight(),
                "bl": shown.bottomLeft(),
                "br": shown.bottomRight(),
            }
            for name, corner in corners.items():
                if (
                    abs(point.x() - corner.x()) <= _HANDLE_PX
                    and abs(point.y() - corner.y()) <= _HANDLE_PX
                ):
                    return name
            if shown.contains(point):
                return "move"
        if self._image is not None and self._photo_rect.contains(point):
            return "new"
        return None

    def mousePressEvent(self, event) -> None:  # noqa: N802
        grab = self._hit(event.position()) if event.button() == Qt.MouseButton.LeftButton else None
        if grab is None:
            super().mousePressEvent(event)
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._drag = (grab, event.position(), QRectF(self._region or QRectF()))
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._drag is None:
            grab = self._hit(event.position())
            shapes = {
                "tl": Qt.CursorShape.SizeFDiagCursor,
                "br": Qt.CursorShape.SizeFDiagCursor,
                "tr": Qt.CursorShape.SizeBDiagCursor,
                "bl": Qt.CursorShape.SizeBDiagCursor,
                "move": Qt.CursorShape.SizeAllCursor,
                "new": Qt.CursorShape.CrossCursor,
            }
            self.setCursor(shapes.get(grab or "", Qt.CursorShape.ArrowCursor))
            return
        mode, start, before = self._drag
        here, then = self._to_fraction(event.position()), self._to_fraction(start)
        if mode == "new":
            self._region = QRectF(then, here).normalized()
        elif mode == "move":
            moved = before.translated(here.x() - then.x(), here.y() - then.y())
            dx = min(max(moved.left(), 0.0), 1.0 - moved.width()) - moved.left()
            dy = min(max(moved.top(), 0.0), 1.0 - moved.height()) - moved.top()
            self._region = moved.translated(dx, dy)
        else:
            left, top, right, bottom = before.left(), before.top(), before.right(), before.bottom()
            if "l" in mode:
                left = here.x()
            if "r" in mode:
                right = here.x()
            if "t" in mode:
                top = here.y()
            if "b" in mode:
                bottom = here.y()
            self._region = QRectF(QPointF(left, top), QPointF(right, bottom)).normalized()
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._drag is None:
            super().mouseReleaseEvent(event)
            return
        mode, _start, before = self._drag
        self._drag = None
        shown = self._region_px()
        if shown is None or min(shown.width(), shown.height()) < MIN_REGION_PX:
            self._region = None if before.isEmpty() else before
            self.update()
            return  # a click, not a drag: nothing changes
        self.update()
        if self._region != before:
            region = self.region
            assert region is not None
            self.regionChosen.emit(region)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape and self.clear_region():
            event.accept()
            return
        super().keyPressEvent(event)

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
        sources = sources_from_mime(event.mimeData())
        if not sources:
            event.ignore()
            return
        event.acceptProposedAction()
        if len(sources) > 1:
            self.droppedMany.emit(sources)
        else:
            self.dropped.emit(sources[0])

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
        self._photo_rect = draw_fitted_image(
            painter, self._image, rect.adjusted(18, 18, -18, -44), 8
        )
        if self._photo_rect.isEmpty():
            return
        self._paint_region(painter)
        faint = QColor(text)
        faint.setAlpha(170)
        painter.setPen(faint)
        caption = QRectF(rect.left() + 16, rect.bottom() - 38, rect.width() - 32, 28)
        elided = painter.fontMetrics().elidedText(
            self._caption, Qt.TextElideMode.ElideMiddle, int(caption.width())
        )
        painter.drawText(caption, Qt.AlignmentFlag.AlignCenter, elided)

    def _paint_region(self, painter: QPainter) -> None:
        shown = self._region_px()
        if shown is None:
            return
        outside = QPainterPath()
        outside.addRect(self._photo_rect)
        inside = QPainterPath()
        inside.addRect(shown)
        painter.fillPath(outside.subtracted(inside), QColor(0, 0, 0, 120))
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        painter.setPen(QPen(QColor("white"), 3))
        painter.drawRect(shown)
        painter.setPen(QPen(accent, 1.6))
        painter.drawRect(shown)
        painter.setPen(QPen(accent, 1.2))
        painter.setBrush(QColor("white"))
        side = 8.0
        for corner in (shown.topLeft(), shown.topRight(), shown.bottomLeft(), shown.bottomRight()):
            painter.drawRect(QRectF(corner.x() - side / 2, corner.y() - side / 2, side, side))
        painter.setBrush(Qt.BrushStyle.NoBrush)


def _crop_rect(crop: Crop) -> QRectF:
    return QRectF(crop.left, crop.top, crop.width, crop.height)


def _rect_crop(rect: QRectF) -> Crop:
    left, top = round(rect.left(), 4), round(rect.top(), 4)
    width = min(round(rect.width(), 4), 1.0 - left)
    height = min(round(rect.height(), 4), 1.0 - top)
    return Crop(left, top, width, height)
