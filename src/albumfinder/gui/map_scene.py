"""The album map's photos: the points it is given, and which of them are shown (the filter),
selected (clicked or lassoed) and marked (the odd ones out).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, Signal

from albumfinder.gui.map_hit_testing import MapHitTesting, inside_polygon
from albumfinder.gui.map_raster import to_argb
from albumfinder.gui.map_style import cluster_color

if TYPE_CHECKING:
    from albumfinder.report import MapCluster, MapPoint


class MapScene(MapHitTesting):
    """The photos on the map, and which are shown, selected and marked."""

    selectionChanged = Signal(list)  # the lassoed photos' paths (empty: none)

    # -- the data ------------------------------------------------------------------------
    def set_points(self, points: Sequence[MapPoint], clusters: Sequence[MapCluster] = ()) -> None:
        """Show these photos (a new map: the view fits it whole; the selection is cleared)."""
        self._paths = [p.path for p in points]
        self._index = {path: i for i, path in enumerate(self._paths)}
        self._xy = np.array([(p.x, p.y) for p in points], dtype=np.float64).reshape(-1, 2)
        self._cluster = np.array([p.cluster for p in points], dtype=np.int64)
        colors = {c: to_argb(cluster_color(int(c))) for c in np.unique(self._cluster)}
        self._argb = np.array([colors[c] for c in self._cluster], dtype=np.uint32)
        n = len(self._paths)
        self._shown = np.ones(n, dtype=bool)
        self._selected = np.zeros(n, dtype=bool)
        self._marked = np.zeros(n, dtype=bool)
        self._clusters = list(clusters)
        self._hover = -1
        self.hover_card.hide()
        self._loading.clear()
        self._measure_layout()
        self._measure_groups()
        self.fit()

    def _measure_layout(self) -> None:
        if not len(self._xy):
            self._unit = 1.0
            return
        span = self._xy.max(axis=0) - self._xy.min(axis=0)
        area = max(float(span[0]) * float(span[1]), 1e-12)
        self._unit = max(math.sqrt(area / len(self._xy)), 1e-9)

    def _measure_groups(self) -> None:
        self._groups = {}
        for cluster in self._clusters:
            members = np.flatnonzero(self._cluster == cluster.id)
            if not len(members):
                continue
            centre = np.array([cluster.x, cluster.y], dtype=np.float64)
            distance = np.hypot(*(self._xy[members] - centre).T)
            radius = float(np.percentile(distance, 85)) if len(members) > 1 else 0.0
            self._groups[cluster.id] = (centre, radius, members[np.argsort(distance)])

    @property
    def paths(self) -> list[str]:
        return list(self._paths)

    def point_count(self) -> int:
        return len(self._paths)

    def set_shown(self, shown: np.ndarray | Sequence[bool] | None) -> None:
        """Show only these photos (a mask in the order of the points; None: all)."""
        n = len(self._paths)
        self._shown = np.ones(n, dtype=bool) if shown is None else np.asarray(shown, dtype=bool)
        self._selected &= self._shown
        if self._hover >= 0 and not self._shown[self._hover]:
            self._set_hover(-1, QPointF())
        self._changed()

    def shown_count(self) -> int:
        return int(self._shown.sum())

    def shown_paths(self) -> list[str]:
        return [self._paths[i] for i in np.flatnonzero(self._shown)]

    def selected_paths(self) -> list[str]:
        return [self._paths[i] for i in np.flatnonzero(self._selected)]

    def set_selected(self, paths: Sequence[str]) -> None:
        self._selected[:] = False
        for path in paths:
            i = self._index.get(path)
            if i is not None and self._shown[i]:
                self._selected[i] = True
        self._changed()
        self.selectionChanged.emit(self.selected_paths())

    def clear_selection(self) -> None:
        if self._selected.any():
            self.set_selected([])

    def set_marked(self, paths: Sequence[str]) -> None:
        """Ring these photos (the odd ones out) wherever they are on the map."""
        self._marked[:] = False
        for path in paths:
            i = self._index.get(path)
            if i is not None:
                self._marked[i] = True
        self._changed()

    def position_of(self, path: str) -> QPointF | None:
        """Where ``path`` is drawn now, in widget coordinates (None: not on the map)."""
        i = self._index.get(path)
        if i is None:
            return None
        x, y = self._to_screen(self._xy[i : i + 1])
        return QPointF(float(x[0]), float(y[0]))

    def _select_in(self, lasso: list[QPointF]) -> None:
        polygon = np.array([(p.x(), p.y()) for p in lasso])
        x, y = self._to_screen(self._xy)
        inside = inside_polygon(x, y, polygon) & self._shown
        self._selected = inside
        self._changed()
        self.selectionChanged.emit(self.selected_paths())
