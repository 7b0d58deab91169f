"""The album map's state, shared by the layers of :class:`~albumfinder.gui.map_canvas.MapCanvas`:
the photos' arrays, the view (centre and scale) and the mapping between layout and screen,
the caches of what was drawn, the thumbnails asked for, and when a change is redrawn.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QWidget

from albumfinder.gui.map_hover_card import HoverCard
from albumfinder.gui.map_raster import DotRaster
from albumfinder.gui.map_style import MAX_LOADING, PREVIEW, SETTLE_MS, THUMB
from albumfinder.gui.thumbnails import ThumbnailLoader

if TYPE_CHECKING:
    from albumfinder.report import MapCluster


class MapState(QWidget):
    """The map's state and its lowest layer: coordinates, visibility, thumbnails, redraws."""

    viewChanged = Signal()  # zoom or pan

    def __init__(self, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mapCanvas")
        self.thumbnails = thumbnails
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAccessibleName("Album map")
        self.setMinimumSize(150, 200)
        self.grabGesture(Qt.GestureType.PinchGesture)
        self.lasso_mode = False
        #: move the last drawing while zooming or panning (off: every frame drawn in full)
        self.interactive = True
        self.hover_card = HoverCard(self)
        self._paths: list[str] = []
        self._xy = np.zeros((0, 2))
        self._cluster = np.zeros(0, dtype=np.int64)
        self._argb = np.zeros(0, dtype=np.uint32)
        self._shown = np.zeros(0, dtype=bool)
        self._selected = np.zeros(0, dtype=bool)
        self._marked = np.zeros(0, dtype=bool)
        self._clusters: list[MapCluster] = []
        #: each group's centre and radius (layout units) and its photos, nearest the centre first
        self._groups: dict[int, tuple[np.ndarray, float, np.ndarray]] = {}
        self._spacing_cache: tuple[tuple, float] | None = None
        self._index: dict[str, int] = {}
        self._unit = 1.0  # the mean spacing of photos in layout units
        self._scale = 1.0  # pixels per layout unit
        self._fit_scale = 1.0
        self._center = np.zeros(2)
        self._fitted = False
        self._hover = -1
        self._press: QPointF | None = None
        self._press_center = np.zeros(2)
        self._dragging = False
        self._lasso: list[QPointF] | None = None
        self._loading: set[str] = set()
        #: the last dots drawn in full: (its key, the image, the scale and centre it was for)
        self._dots_cache: tuple[tuple, QImage, float, np.ndarray] | None = None
        self._raster: DotRaster | None = None
        self._cards: OrderedDict[tuple, tuple[QPixmap, QRectF]] = OrderedDict()
        self._dots_stale = False  # the view moved since: redrawn in full once it settles
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.update)
        thumbnails.ready.connect(self._thumbnail_ready)
        thumbnails.failed.connect(self._thumbnail_failed)

    # -- layout and screen -------------------------------------------------------------
    def _to_screen(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = (xy[:, 0] - self._center[0]) * self._scale + self.width() / 2
        y = (xy[:, 1] - self._center[1]) * self._scale + self.height() / 2
        return x, y

    def _to_layout(self, point: QPointF) -> np.ndarray:
        return self._center + (
            np.array([point.x() - self.width() / 2, point.y() - self.height() / 2]) / self._scale
        )

    def _visible(self, margin: float) -> np.ndarray:
        """Indices of the shown photos within ``margin`` pixels of the view, in order."""
        if not len(self._xy):
            return np.zeros(0, dtype=np.int64)
        x, y = self._to_screen(self._xy)
        keep = (
            self._shown
            & (x >= -margin)
            & (x <= self.width() + margin)
            & (y >= -margin)
            & (y <= self.height() + margin)
        )
        return np.flatnonzero(keep)

    def _changed(self, view: bool = False) -> None:
        """Redraw. A zoom or a pan, while it goes on, moves the last full drawing of the dots
        (a frame costs one image blit, whatever the number of photos) and the dots are
        drawn anew once it has settled for SETTLE_MS; anything else redraws them at once."""
        if view and self.interactive:
            self._dots_stale = True
            self._settle.start()
        else:
            self._dots_cache = None
        if view:
            self.viewChanged.emit()
        self.update()

    # -- thumbnails ----------------------------------------------------------------------
    def _thumbnail(self, path: str) -> QImage | None:
        image = self.thumbnails.cached(path, THUMB)
        if image is None and path not in self._loading and len(self._loading) < MAX_LOADING:
            self._loading.add(path)
            image = self.thumbnails.request(path, THUMB)
            if image is not None:
                self._loading.discard(path)
        return image

    def _thumbnail_ready(self, path: str, size: int, image: QImage) -> None:
        if size == THUMB and path in self._loading:
            self._loading.discard(path)
            self.update()  # draws it, and asks for the next ones in view
        if size == PREVIEW and path == self.hover_card.path and self.hover_card.isVisible():
            self.hover_card.set_image(image)

    def _thumbnail_failed(self, path: str, size: int, _reason: str) -> None:
        if size == THUMB and path in self._loading:
            self._loading.discard(path)
            self.update()
