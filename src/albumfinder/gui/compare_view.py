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

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui.compare_canvas import ZOOM_STEP, PhotoCanvas, ViewState
from albumfinder.gui.compare_member import MemberPanel
from albumfinder.gui.duplicate_list import kind_color, kind_title
from albumfinder.gui.elided_label import ElidedLabel
from albumfinder.gui.thumbnails import pil_to_qimage
from albumfinder.gui.workers import Pools
from albumfinder.report import DuplicateGroup, GroupMember

CACHE_PHOTOS = 4  # full-size photos kept decoded (stepping back and forth is instant)


def load_full(path: str) -> QImage:
    """The photo at full resolution, upright (runs on a pool thread)."""
    from albumfinder.images import open_photo

    return pil_to_qimage(open_photo(path))


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
