"""The compare view: two members of a duplicate group side by side at full size.

The keeper stays on the left; ←/→ step the right side through the other members, PgUp/PgDn
through the groups. Zoom and pan are one :class:`ViewState` shared by both sides (the wheel,
a drag, Fit, 100 %), held relative to the photo, so both sides show the same part of the
picture even when one copy has fewer pixels. Full-resolution photos are decoded off the GUI
thread (the core's :func:`~albumfinder.images.open_photo`) and the last few kept.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable

from PySide6.QtCore import (
    QDateTime,
    QLocale,
    QObject,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QTimeZone,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui.duplicate_list import (
    KEEP_COLOR,
    counted,
    format_size,
    kind_color,
    kind_title,
)
from albumfinder.gui.elided_label import ElidedLabel
from albumfinder.gui.thumbnails import pil_to_qimage
from albumfinder.gui.workers import Pools
from albumfinder.report import DuplicateGroup, GroupMember

MAX_ZOOM = 32.0  # times the fitted size
ZOOM_STEP = 1.25  # one wheel notch
CACHE_PHOTOS = 4  # full-size photos kept decoded (stepping back and forth is instant)


def load_full(path: str) -> QImage:
    """The photo at full resolution, upright (runs on a pool thread)."""
    from albumfinder.images import open_photo

    return pil_to_qimage(open_photo(path))


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


def taken_text(taken_ns: int) -> str:
    """When a photo was taken: ``taken_ns`` is a clock reading as it was shown where the
    photo was taken (no time zone: see albumfinder.photo_facts), so it is read, and
    shown, as UTC."""
    when = QDateTime.fromMSecsSinceEpoch(taken_ns // 1_000_000, QTimeZone.utc())
    return QLocale().toString(when, "d MMM yyyy HH:mm:ss")


def member_facts(member: GroupMember) -> str:
    """ "3.2 MB · 4000 × 3000 (12 MP) · 1 May 2023 14:03 · JPEG" """
    parts = [format_size(member.size)]
    if member.width and member.height:
        mp = member.width * member.height / 1e6
        parts.append(
            f"{member.width} × {member.height} ({mp:.1f} MP)"
            if mp >= 0.1
            else f"{member.width} × {member.height}"
        )
    if member.taken_ns is not None:
        parts.append(taken_text(member.taken_ns))
    extension = os.path.splitext(member.path)[1].lstrip(".").upper()
    if extension:
        parts.append(extension)
    return " · ".join(parts)


class MemberPanel(QWidget):
    """One side: the photo, then its why line, its facts and its path."""

    def __init__(self, state: ViewState, side: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{side}Member")
        self.canvas = PhotoCanvas(state)
        self.canvas.setObjectName(f"{side}Canvas")
        self.badge = QLabel()
        self.badge.setObjectName("keepBadge")
        self.why = ElidedLabel()
        self.why.setObjectName("memberWhy")
        why_font = QFont(self.why.font())
        why_font.setWeight(QFont.Weight.DemiBold)
        self.why.setFont(why_font)
        self.facts = ElidedLabel()
        self.facts.setObjectName("memberFacts")
        self.path = ElidedLabel()
        self.path.setObjectName("memberPath")
        self.path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        faint = self.path.palette()
        color = QColor(faint.color(QPalette.ColorRole.WindowText))
        color.setAlpha(160)
        faint.setColor(QPalette.ColorRole.WindowText, color)
        self.path.setPalette(faint)
        head = QHBoxLayout()
        head.setSpacing(8)
        head.addWidget(self.badge, 0)
        head.addWidget(self.why, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.canvas, 1)
        layout.addSpacing(4)
        layout.addLayout(head)
        layout.addWidget(self.facts)
        layout.addWidget(self.path)
        self.member: GroupMember | None = None

    def show_member(self, member: GroupMember) -> None:
        self.member = member
        keep = member.keep
        color = KEEP_COLOR if keep else "#dc2626"
        self.badge.setText("KEEP" if keep else "TRASH")
        self.badge.setStyleSheet(
            f"QLabel#keepBadge {{ background: {color}; color: white; border-radius: 9px; "
            "padding: 1px 8px; font-weight: bold; }"
        )
        self.why.setText(member.why)
        self.facts.setText(member_facts(member))
        self.path.setText(member.path)


def _tool_button(text: str, tip: str, name: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setObjectName(name)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay the view's
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # never cut
    return button


class CompareView(QWidget):
    """A group's keeper and one other member, and the keys to decide about them."""

    backRequested = Signal()
    groupStepRequested = Signal(int)  # -1 previous group, +1 next
    keepRequested = Signal(object, str)  # (group, path): keep this one too
    trashRequested = Signal(object, str)  # (group, path): move this one to the trash
    keepAllRequested = Signal(object)  # group
    notDuplicateRequested = Signal(object)  # group
    memberShown = Signal(str)  # the right side's path, once shown

    def __init__(self, pools: Pools, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.pools = pools
        self.state = ViewState()
        self.group: DuplicateGroup | None = None
        self.right_index = 1  # the member on the right
        self._position = (0, 0)  # (this group's place, how many groups)
        self._cache: OrderedDict[str, QImage] = OrderedDict()
        self._loading: dict[str, list[Callable[[QImage | None, str], None]]] = {}
        self._build()

    # -- building ----------------------------------------------------------------------
    def _build(self) -> None:
        self.back_button = _tool_button(
            "‹  Groups", "Back to the list of groups (Esc)", "backButton"
        )
        self.kind_badge = QLabel()
        self.kind_badge.setObjectName("compareKind")
        self.title = ElidedLabel()
        self.title.setObjectName("compareTitle")
        title_font = QFont(self.title.font())
        title_font.setWeight(QFont.Weight.DemiBold)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.08)
        self.title.setFont(title_font)
        self.fit_button = _tool_button("Fit", "Fit both photos in view (0)", "fitButton")
        self.actual_button = _tool_button(
            "100 %", "Show the keeper at full size (1)", "actualButton"
        )
        self.keep_button = _tool_button("Keep", "Keep this photo too (K)", "keepButton")
        self.trash_button = _tool_button(
            "Move to Trash", "Move this photo to the trash (T)", "trashButton"
        )
        self.keep_all_button = _tool_button(
            "Keep All", "Keep every photo of this group", "keepAllButton"
        )
        self.not_duplicate_button = _tool_button(
            "Not a Duplicate",
            "These are different photos: never group them again",
            "notDuplicateButton",
        )
        self.position_label = QLabel()
        self.position_label.setObjectName("comparePosition")

        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.setSpacing(8)
        head.addWidget(self.back_button)
        head.addWidget(self.kind_badge)
        head.addWidget(self.title, 1)

        actions = QHBoxLayout()
        actions.setContentsMargins(0, 0, 0, 0)
        actions.setSpacing(6)
        actions.addWidget(self.keep_all_button)
        actions.addWidget(self.not_duplicate_button)
        actions.addStretch(1)
        actions.addWidget(self.keep_button)
        actions.addWidget(self.trash_button)

        self.left = MemberPanel(self.state, "left")
        self.right = MemberPanel(self.state, "right")
        sides = QHBoxLayout()
        sides.setSpacing(12)
        sides.addWidget(self.left, 1)
        sides.addWidget(self.right, 1)

        hint = ElidedLabel("← → copies · PgUp PgDn groups · K keep · T trash · Esc back")
        hint.setObjectName("compareHint")
        _fade(hint)
        foot = QHBoxLayout()
        foot.setContentsMargins(0, 0, 0, 0)
        foot.setSpacing(6)
        foot.addWidget(self.fit_button)
        foot.addWidget(self.actual_button)
        foot.addSpacing(6)
        foot.addWidget(hint, 1)
        foot.addWidget(self.position_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addLayout(actions)
        layout.addLayout(sides, 1)
        layout.addLayout(foot)

        self.back_button.clicked.connect(self.backRequested)
        self.fit_button.clicked.connect(self.state.fit)
        self.actual_button.clicked.connect(self.actual_size)
        self.keep_button.clicked.connect(self.keep_current)
        self.trash_button.clicked.connect(self.trash_current)
        self.keep_all_button.clicked.connect(lambda: self._emit_group(self.keepAllRequested))
        self.not_duplicate_button.clicked.connect(
            lambda: self._emit_group(self.notDuplicateRequested)
        )
        self.state.changed.connect(self._zoom_changed)

    # -- what is shown -----------------------------------------------------------------
    def show_group(
        self, group: DuplicateGroup, position: tuple[int, int], right: str | None = None
    ) -> None:
        """Show ``group`` (its place ``position`` = (n, of) in the list); the right side
        shows the member at path ``right`` if given and still there, else the first other."""
        same = self.group is not None and self.group.id == group.id
        self.group = group
        self._position = position
        paths = [m.path for m in group.members]
        if right in paths and paths.index(right) != 0:
            self.right_index = paths.index(right)
        elif not same or self.right_index >= len(paths):
            self.right_index = min(1, len(paths) - 1)
        if not same:
            self.state.fit()
        kind = kind_title(group.kind)
        color = kind_color(group.kind).name()
        self.kind_badge.setText(kind)
        self.kind_badge.setStyleSheet(
            f"QLabel#compareKind {{ background: {color}; color: white; border-radius: 10px; "
            "padding: 2px 10px; font-weight: bold; }"
        )
        self.title.setToolTip(group.reason)
        self._show_sides()

    def _show_sides(self) -> None:
        group = self.group
        if group is None:
            return
        keeper, other = group.members[0], group.members[self.right_index]
        self.left.show_member(keeper)
        self.right.show_member(other)
        self._load(self.left.canvas, keeper.path)
        self._load(self.right.canvas, other.path)
        n, of = self._position
        others = len(group.members) - 1
        self.title.setText(f"{os.path.basename(keeper.path)}  vs  {os.path.basename(other.path)}")
        self.position_label.setText(f"Copy {self.right_index}/{others} · Group {n:,}/{of:,}")
        self.keep_button.setEnabled(not other.keep)
        self.trash_button.setEnabled(len(group.members) > 1)
        self.memberShown.emit(other.path)

    def right_member(self) -> GroupMember | None:
        if self.group is None or self.right_index >= len(self.group.members):
            return None
        return self.group.members[self.right_index]

    def step_member(self, step: int) -> None:
        """→ the next other member, ← the one before (the keeper stays on the left)."""
        if self.group is None:
            return
        index = self.right_index + step
        if 1 <= index < len(self.group.members):
            self.right_index = index
            self._show_sides()

    def actual_size(self) -> None:
        """The keeper at one photo pixel per screen pixel (the other side at the same part
        of the picture)."""
        canvas = self.left.canvas
        fit = canvas.fit_scale() * canvas.devicePixelRatioF()
        if canvas.image is not None and fit > 0:
            self.state.set(1 / fit, self.state.center)

    def _zoom_changed(self) -> None:
        self.fit_button.setEnabled(self.state.zoom > 1.0)

    # -- actions -----------------------------------------------------------------------
    def keep_current(self) -> None:
        member = self.right_member()
        if self.group is not None and member is not None and not member.keep:
            self.keepRequested.emit(self.group, member.path)

    def trash_current(self) -> None:
        member = self.right_member()
        if self.group is not None and member is not None:
            self.trashRequested.emit(self.group, member.path)

    def _emit_group(self, signal) -> None:
        if self.group is not None:
            signal.emit(self.group)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        handlers = {
            Qt.Key.Key_Right: lambda: self.step_member(1),
            Qt.Key.Key_Left: lambda: self.step_member(-1),
            Qt.Key.Key_PageDown: lambda: self.groupStepRequested.emit(1),
            Qt.Key.Key_PageUp: lambda: self.groupStepRequested.emit(-1),
            Qt.Key.Key_K: self.keep_current,
            Qt.Key.Key_T: self.trash_current,
            Qt.Key.Key_Escape: self.backRequested.emit,
            Qt.Key.Key_0: self.state.fit,
            Qt.Key.Key_1: self.actual_size,
            Qt.Key.Key_Plus: lambda: self._zoom_center(ZOOM_STEP),
            Qt.Key.Key_Equal: lambda: self._zoom_center(ZOOM_STEP),
            Qt.Key.Key_Minus: lambda: self._zoom_center(1 / ZOOM_STEP),
        }
        handler = handlers.get(Qt.Key(key))
        if handler is None or event.modifiers() & (
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        ):
            super().keyPressEvent(event)
            return
        handler()
        event.accept()

    def _zoom_center(self, factor: float) -> None:
        canvas = self.left.canvas
        canvas.zoom_about(QPointF(canvas.width() / 2, canvas.height() / 2), factor)

    # -- decoding off the GUI thread ---------------------------------------------------
    def _load(self, canvas: PhotoCanvas, path: str) -> None:
        canvas.setProperty("path", path)
        image = self._cache.get(path)
        if image is not None:
            self._cache.move_to_end(path)
            canvas.set_image(image)
            return
        canvas.set_image(None, "Loading…")

        def shown(image: QImage | None, note: str) -> None:
            if canvas.property("path") == path:  # not stepped on meanwhile
                canvas.set_image(image, note)

        waiting = self._loading.setdefault(path, [])
        waiting.append(shown)
        if len(waiting) > 1:
            return
        self.pools.interactive_task(
            lambda _p, _s: load_full(path),
            on_result=lambda image: self._loaded(path, image, ""),
            on_error=lambda exc: self._loaded(
                path, None, f"This photo cannot be shown: {getattr(exc, 'reason', exc)}"
            ),
        )

    def _loaded(self, path: str, image: QImage | None, note: str) -> None:
        if image is not None:
            self._cache[path] = image
            while len(self._cache) > CACHE_PHOTOS:
                self._cache.popitem(last=False)
        for shown in self._loading.pop(path, []):
            shown(image, note)

    def is_loaded(self) -> bool:
        """Whether both sides show their photo (tests, scripts)."""
        return all(
            c.image is not None and c.property("path") in self._cache
            for c in (self.left.canvas, self.right.canvas)
        )

    def forget(self, paths: set[str]) -> None:
        for path in paths:
            self._cache.pop(path, None)


def _fade(label: QLabel) -> None:
    palette = label.palette()
    faint = QColor(palette.color(QPalette.ColorRole.WindowText))
    faint.setAlpha(150)
    palette.setColor(QPalette.ColorRole.WindowText, faint)
    label.setPalette(palette)


def _separator() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.VLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    line.setFixedHeight(18)
    return line


__all__ = ["CompareView", "PhotoCanvas", "ViewState", "counted"]
