"""The album map: every photo at its place in the 2-D layout, zoomable and pannable.

A custom-painted QWidget, not a QGraphicsScene: at 50k photos one item per photo costs a
Python object, a scene-index entry and a paint call each, while here the visible dots are
picked with one numpy mask and stamped into one image per frame (``benchmarks/
bench_map_frames.py`` measures both). Level of detail: zoomed out, dots in their cluster's
colour with the clusters labelled by size; zoomed in (few enough photos in view, far enough
apart), each photo's thumbnail, loaded lazily off the GUI thread by the window's
:class:`ThumbnailLoader`, and only for the photos in view.

Mouse: wheel or pinch zooms (about the pointer), drag pans, hover shows the photo and its
path, click makes it the query, Shift+drag (or the lasso mode) selects the photos inside the
drawn shape. Keys: + and - zoom, 0 fits the whole map, the arrows pan, Esc clears.

The canvas is built in layers, each a module that uses those below it: map_state (the state,
screen coordinates, redraws), map_navigation (zoom, pan, level of detail), map_groups (the
cluster labels and piles), map_painting, map_hit_testing (what is under the pointer, the hover
card), map_scene (the photos shown, selected, marked) and, here, the mouse and the keys.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from albumfinder.gui.map_scene import MapScene
from albumfinder.gui.map_style import ZOOM_STEP, Detail


class MapCanvas(MapScene):
    """The map of one :class:`AlbumMap`'s points and clusters (see the module's text)."""

    photoClicked = Signal(str)  # a click on a photo: make it the query

    # -- mouse ---------------------------------------------------------------------------
    def _lassoing(self, event: QMouseEvent) -> bool:
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        return self.lasso_mode or shift

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._press = event.position()
        self._press_center = self._center.copy()
        self._dragging = False
        self._lasso = [event.position()] if self._lassoing(event) else None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        point = event.position()
        if self._press is None:
            self._set_hover(self._index_at(point), point)
            return
        moved = (point - self._press).manhattanLength()
        if moved >= QApplication.startDragDistance():
            self._dragging = True
        if self._lasso is not None:
            self._lasso.append(point)
            self.update()
        elif self._dragging:
            self._set_hover(-1, point)
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            delta = point - self._press
            self._center = self._press_center - np.array([delta.x(), delta.y()]) / self._scale
            self._changed(view=True)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            super().mouseReleaseEvent(event)
            return
        point = event.position()
        lasso, self._lasso = self._lasso, None
        dragged, self._dragging, self._press = self._dragging, False, None
        self.unsetCursor()
        if lasso is not None and dragged:
            lasso.append(point)
            self._select_in(lasso)
            return
        if dragged:
            self._set_hover(self._index_at(point), point)
            return
        pile = self._pile_at(point)
        if pile is not None:  # a pile: open it (zoom in on its group)
            self.zoom_to_group(pile[0])
            self._set_hover(self._index_at(point), point)
            return
        i = self._index_at(point)
        if i >= 0:
            self.photoClicked.emit(self._paths[i])
        else:
            self.clear_selection()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if not steps:
            steps = event.pixelDelta().y() / 60.0
        if steps:
            self.zoom_by(ZOOM_STEP**steps, event.position())
            self._set_hover(self._index_at(event.position()), event.position())
        event.accept()

    def event(self, event: QEvent) -> bool:  # pinch: touchpads (native) and touch screens
        if (
            event.type() == QEvent.Type.NativeGesture
            and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture  # type: ignore[attr-defined]
        ):
            self.zoom_by(1.0 + float(event.value()), event.position())  # type: ignore[attr-defined]
            return True
        if event.type() == QEvent.Type.Gesture:
            pinch = event.gesture(Qt.GestureType.PinchGesture)  # type: ignore[attr-defined]
            if pinch is not None:
                anchor = self.mapFromGlobal(pinch.centerPoint().toPoint())
                self.zoom_by(float(pinch.scaleFactor()), QPointF(anchor))
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        step = 60.0
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        elif key == Qt.Key.Key_0:
            self.fit()
        elif key == Qt.Key.Key_Left:
            self.pan_by(step, 0)
        elif key == Qt.Key.Key_Right:
            self.pan_by(-step, 0)
        elif key == Qt.Key.Key_Up:
            self.pan_by(0, step)
        elif key == Qt.Key.Key_Down:
            self.pan_by(0, -step)
        elif key == Qt.Key.Key_Escape:
            self.clear_selection()
        else:
            super().keyPressEvent(event)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(720, 520)


__all__ = ["Detail", "MapCanvas"]  # Detail: the tests import it from here
