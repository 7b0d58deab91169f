"""The album map's navigation: fit, zoom and pan, and the level of detail a zoom gives
(how far apart the photos are on screen, how large a dot or a thumbnail is drawn).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF

from albumfinder.gui.map_state import MapState
from albumfinder.gui.map_style import (
    FIT_MARGIN_PX,
    MAX_THUMB_PX,
    MAX_THUMBS,
    MAX_ZOOM,
    MIN_THUMB_PX,
    MIN_ZOOM,
    ZOOM_STEP,
    Detail,
)


class MapNavigation(MapState):
    """Fit, zoom and pan the map; the level of detail at the zoom."""

    # -- the view ------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        """How far in the view is, relative to the whole map fitted (1.0)."""
        return self._scale / self._fit_scale

    def fit(self) -> None:
        """The whole map in view."""
        if len(self._xy):
            low, high = self._xy.min(axis=0), self._xy.max(axis=0)
            self._center = (low + high) / 2
            span = np.maximum(high - low, 1e-9)
            w = max(self.width() - 2 * FIT_MARGIN_PX, 40)
            h = max(self.height() - 2 * FIT_MARGIN_PX, 40)
            self._fit_scale = float(min(w / span[0], h / span[1]))
        else:
            self._center = np.zeros(2)
            self._fit_scale = 1.0
        self._scale = self._fit_scale
        self._fitted = True
        self._changed(view=True)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom in (``factor`` > 1) or out about ``anchor`` (widget coordinates; default:
        the middle), which stays where it is on screen."""
        scale = float(np.clip(self._scale * factor, MIN_ZOOM * self._fit_scale,
                              MAX_ZOOM * self._fit_scale))  # fmt: skip
        if anchor is None:
            anchor = QPointF(self.width() / 2, self.height() / 2)
        before = self._to_layout(anchor)
        self._scale = scale
        after = self._to_layout(anchor)
        self._center = self._center + (before - after)
        self._changed(view=True)

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / ZOOM_STEP)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the map by (``dx``, ``dy``) pixels."""
        self._center = self._center - np.array([dx, dy]) / self._scale
        self._changed(view=True)

    def center_on(self, path: str, zoom: float | None = None) -> None:
        i = self._index.get(path)
        if i is None:
            return
        if zoom is not None:
            self._scale = self._fit_scale * float(np.clip(zoom, MIN_ZOOM, MAX_ZOOM))
        self._center = self._xy[i].copy()
        self._changed(view=True)

    # -- the level of detail -----------------------------------------------------------
    @property
    def spacing_px(self) -> float:
        """The mean distance between photos on screen at this zoom."""
        return self._unit * self._scale

    def view_spacing(self) -> float:
        """The median distance on screen from each photo in view to its nearest neighbour
        (0 when too many are in view for thumbnails): how big a thumbnail can be drawn
        without hiding its neighbours."""
        key = (self.width(), self.height(), self._scale, *self._center, self._shown.sum())
        if self._spacing_cache is not None and self._spacing_cache[0] == key:
            return self._spacing_cache[1]
        visible = self._visible(0)
        if len(visible) > MAX_THUMBS:
            spacing = 0.0
        elif len(visible) < 2:
            spacing = float(max(self.width(), self.height()))
        else:
            x, y = self._to_screen(self._xy[visible])
            apart = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
            np.fill_diagonal(apart, np.inf)
            spacing = float(np.median(apart.min(axis=1)))
        self._spacing_cache = (key, spacing)
        return spacing

    def thumb_px(self) -> float:
        """A thumbnail's side: a little more than the photos' spacing (they may overlap as
        prints on a table do), at most MAX_THUMB_PX."""
        return float(min(MAX_THUMB_PX, self.view_spacing() * 1.15))

    def dot_radius(self) -> float:
        """A dot's radius in pixels: grows as the map is zoomed in."""
        return float(np.clip(self.spacing_px * 0.2, 2.2, 6.0))

    @property
    def detail(self) -> Detail:
        """Dots, or thumbnails once few enough photos are in view and far enough apart."""
        return Detail.THUMBNAILS if self.thumb_px() >= MIN_THUMB_PX else Detail.DOTS

    def zoom_to_group(self, cid: int) -> None:
        """Zoom in on group ``cid`` until its photos show as thumbnails (or as far as the
        map zooms)."""
        if cid not in self._groups:
            return
        centre, radius, _members = self._groups[cid]
        self._center = centre.copy()
        side = min(self.width(), self.height())
        wanted = 0.3 * side / max(radius, 1e-9)
        self._scale = float(min(wanted, MAX_ZOOM * self._fit_scale))
        while self.detail != Detail.THUMBNAILS and self._scale < MAX_ZOOM * self._fit_scale:
            self._scale = min(self._scale * ZOOM_STEP, MAX_ZOOM * self._fit_scale)
        self._changed(view=True)

    def resizeEvent(self, event) -> None:  # noqa: N802
        if self._fitted and abs(self._scale - self._fit_scale) < 1e-12:
            self.fit()  # still the whole map: keep it whole
        else:
            self._changed()
        super().resizeEvent(event)
