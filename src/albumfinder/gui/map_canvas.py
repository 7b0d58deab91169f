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
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFontMetricsF,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QVBoxLayout, QWidget

from albumfinder.gui.elided_label import ElidedLabel
from albumfinder.gui.painting import draw_fitted_image
from albumfinder.gui.plain_text import PLAIN
from albumfinder.gui.thumbnails import ThumbnailLoader

if TYPE_CHECKING:
    from albumfinder.report import MapCluster, MapPoint


THUMB = 128  # the size thumbnails are asked for (drawn at up to MAX_THUMB_PX)
PREVIEW = 220  # the hover card's picture
MAX_THUMB_PX = 120.0
MIN_THUMB_PX = 34.0  # thumbnails once photos are this far apart on screen...
MAX_THUMBS = 260  # ...and no more than this many are in view
MAX_LOADING = 32  # thumbnails asked for at once (panning fast does not queue hundreds)
ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.5, 400.0  # relative to the whole map in view
FIT_MARGIN_PX = 36
HOVER_PX = 9  # how near the pointer a dot counts as hovered
PILE_PX = 44.0  # a group smaller than this on screen is drawn as a pile of its photos
PILE_CARD = 58.0  # a pile's photos, this wide
PILE_TURNS = (-8.0, 6.0, 0.0)  # how the photos of a pile lie, bottom to top
CARD_STEP = 16  # zoomed-in photos are drawn from cards made in steps of this many pixels
CARD_CACHE = 2 * MAX_THUMBS  # cards kept: two zoom steps of what can be in view
SETTLE_MS = 90  # a zoom or pan this long still is over: the dots are drawn anew

#: Cluster colours (Tableau 10, then a second tier): distinct in light and dark palettes.
CLUSTER_COLORS = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
    "#ff9da7", "#9c755f", "#5fa2ce", "#d37295", "#8cd17d", "#b6992d", "#a0cbe8",
    "#f1ce63", "#86bcb6",
]  # fmt: skip
NOISE_COLOR = "#9aa0a6"  # photos in no cluster (cluster -1)


class Detail(str, Enum):
    """What the map draws for each photo at the current zoom."""

    DOTS = "dots"
    THUMBNAILS = "thumbnails"

    def __str__(self) -> str:
        return self.value


def cluster_color(cluster: int) -> QColor:
    if cluster < 0:
        return QColor(NOISE_COLOR)
    return QColor(CLUSTER_COLORS[cluster % len(CLUSTER_COLORS)])


def _argb(color: QColor) -> np.uint32:
    return np.uint32((255 << 24) | (color.red() << 16) | (color.green() << 8) | color.blue())


def _disc_stamp(radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dy, coverage 0..1) of the pixels a disc of ``radius`` device pixels covers."""
    reach = int(math.ceil(radius + 0.5))
    grid = np.arange(-reach, reach + 1)
    dx, dy = np.meshgrid(grid, grid)
    coverage = np.clip(radius + 0.5 - np.hypot(dx, dy), 0.0, 1.0)
    keep = coverage > 0.02
    return dx[keep], dy[keep], coverage[keep]


def _blend(under: np.ndarray, over: np.ndarray, alpha: int) -> np.ndarray:
    """``over`` at ``alpha`` (0..256) on ``under``, both ARGB32 premultiplied: two channels
    per multiply (the classic 0x00FF00FF trick)."""
    u, o = under.astype(np.uint64), over.astype(np.uint64)
    keep = 256 - alpha
    rb = (((o & 0xFF00FF) * alpha + (u & 0xFF00FF) * keep) >> 8) & 0xFF00FF
    ag = ((((o >> 8) & 0xFF00FF) * alpha + ((u >> 8) & 0xFF00FF) * keep) >> 8) & 0xFF00FF
    return (rb | (ag << 8)).astype(np.uint32)


RIM_LEVELS = 16  # the shades a dot's soft rim is drawn in


class DotRaster:
    """An opaque RGB32 image of ``width`` x ``height`` device pixels that dots are stamped
    into with numpy, with a margin all round so a stamp needs no clipping. Kept from frame
    to frame (the same memory): :meth:`image` shares it, it does not copy it."""

    def __init__(self, width: int, height: int, pad: int = 40) -> None:
        self.width, self.height, self.pad = width, height, pad
        self.wide = width + 2 * pad
        self.pixels = np.zeros((height + 2 * pad, self.wide), dtype=np.uint32)
        self.flat = self.pixels.reshape(-1)
        self.background = np.uint32(0)

    def clear(self, background: QColor) -> None:
        self.background = _argb(background)
        self.pixels.fill(self.background)

    def stamp(
        self, px: np.ndarray, py: np.ndarray, argb: np.ndarray, radius: float, grid: int = 1
    ) -> None:
        """A disc of ``radius`` device pixels at each (px, py): the soft rims first (their
        colour mixed with the background, in RIM_LEVELS shades), then the opaque cores, so a
        rim never covers a neighbour's core. Points on the same ``grid`` cell are drawn once
        (the last wins); the stamps go in memory order (a cache-friendly scatter)."""
        dxs, dys, coverage = _disc_stamp(radius)
        reach = int(max(np.abs(dxs).max(), np.abs(dys).max()))
        if 2 * reach > self.pad:
            raise ValueError(f"a dot of radius {radius} needs a margin of {2 * reach}")
        if grid > 1:  # dots closer than a pixel of the screen look the same as one
            px, py = px - px % grid, py - py % grid
        near = (px >= -reach) & (px < self.width + reach) & (py >= -reach)
        near &= py < self.height + reach
        spots = (py[near] + self.pad) * self.wide + (px[near] + self.pad)
        spot, last_from_end = np.unique(spots[::-1], return_index=True)
        if not len(spot):
            return
        argb = argb[near][::-1][last_from_end]  # each spot's last colour
        levels = np.clip(np.rint(coverage * RIM_LEVELS), 1, RIM_LEVELS).astype(int)
        back = np.full(len(argb), self.background, dtype=np.uint32)
        shades = {
            int(level): _blend(back, argb, int(level * 256 // RIM_LEVELS))
            for level in np.unique(levels[levels < RIM_LEVELS])
        }
        flat = self.flat
        for k in np.argsort(coverage, kind="stable"):
            target = spot + (int(dys[k]) * self.wide + int(dxs[k]))
            flat[target] = shades.get(int(levels[k]), argb)

    def image(self, dpr: float) -> QImage:
        """The view's part, as a QImage over this raster's memory (valid until the next
        :meth:`clear`)."""
        start = self.pad * self.wide + self.pad
        view = self.flat[start:]
        image = QImage(
            view.data, self.width, self.height, 4 * self.wide, QImage.Format.Format_RGB32
        )
        image.setDevicePixelRatio(dpr)
        return image


def inside_polygon(xs: np.ndarray, ys: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which of the points lie inside ``polygon`` ((k, 2), closed implicitly): the even-odd
    ray rule, over all points at once."""
    inside = np.zeros(len(xs), dtype=bool)
    if len(polygon) < 3:
        return inside
    x0, y0 = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for ax, ay, bx, by in zip(x0, y0, x1, y1, strict=True):
        crosses = (ay > ys) != (by > ys)
        if not crosses.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            at = ax + (ys - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (xs < at)
    return inside


class HoverCard(QFrame):
    """The tooltip-like preview of the photo under the pointer: its picture, name and path."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("mapHoverCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.picture = QLabel()
        self.picture.setFixedSize(PREVIEW, int(PREVIEW * 0.75))
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name_label = ElidedLabel("")
        self.name_label.setTextFormat(PLAIN)
        font = self.name_label.font()
        font.setWeight(font.Weight.DemiBold)
        self.name_label.setFont(font)
        self.path_label = QLabel("")  # the path shortened in its middle (the name is above)
        self.path_label.setObjectName("mapHoverPath")
        self.path_label.setTextFormat(PLAIN)
        for label in (self.name_label, self.path_label):
            label.setForegroundRole(QPalette.ColorRole.ToolTipText)
            label.setFixedWidth(PREVIEW)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 7)
        layout.setSpacing(3)
        layout.addWidget(self.picture)
        layout.addSpacing(3)
        layout.addWidget(self.name_label)
        layout.addWidget(self.path_label)
        self.path = ""
        self._image: QImage | None = None
        self.hide()

    def show_photo(self, path: str, image: QImage | None, room: QSize | None = None) -> None:
        """Show ``path`` (``room``: the map's size; the card takes at most half of it)."""
        self.path = path
        side = PREVIEW
        if room is not None:
            side = int(max(120, min(PREVIEW, room.width() * 0.45, room.height() * 0.5 / 0.75)))
        self.picture.setFixedSize(side, int(side * 0.75))
        for label in (self.name_label, self.path_label):
            label.setFixedWidth(side)
        self.name_label.setText(os.path.basename(path))
        metrics = self.path_label.fontMetrics()
        self.path_label.setText(metrics.elidedText(path, Qt.TextElideMode.ElideMiddle, side))
        self.set_image(image)
        self.adjustSize()

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self.picture.update()
        side = self.picture.size()
        canvas = QImage(side * 2, QImage.Format.Format_ARGB32_Premultiplied)
        canvas.setDevicePixelRatio(2)
        canvas.fill(Qt.GlobalColor.transparent)
        painter = QPainter(canvas)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        area = QRectF(0, 0, side.width(), side.height())
        if image is not None and not image.isNull():
            draw_fitted_image(painter, image, area, 6)
        else:
            shade = QColor(self.palette().color(QPalette.ColorRole.ToolTipText))
            shade.setAlpha(22)
            path = QPainterPath()
            path.addRoundedRect(area, 6, 6)
            painter.fillPath(path, shade)
        painter.end()
        self.picture.setPixmap(QPixmap.fromImage(canvas))


class MapCanvas(QWidget):
    """The map of one :class:`AlbumMap`'s points and clusters (see the module's text)."""

    photoClicked = Signal(str)  # a click on a photo: make it the query
    selectionChanged = Signal(list)  # the lassoed photos' paths (empty: none)
    hoverChanged = Signal(str)  # the photo under the pointer ("" when none)
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

    # -- the data ------------------------------------------------------------------------
    def set_points(self, points: Sequence[MapPoint], clusters: Sequence[MapCluster] = ()) -> None:
        """Show these photos (a new map: the view fits it whole; the selection is cleared)."""
        self._paths = [p.path for p in points]
        self._index = {path: i for i, path in enumerate(self._paths)}
        self._xy = np.array([(p.x, p.y) for p in points], dtype=np.float64).reshape(-1, 2)
        self._cluster = np.array([p.cluster for p in points], dtype=np.int64)
        colors = {c: _argb(cluster_color(int(c))) for c in np.unique(self._cluster)}
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

    # -- painting ------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802
        if self._fitted and abs(self._scale - self._fit_scale) < 1e-12:
            self.fit()  # still the whole map: keep it whole
        else:
            self._changed()
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        self.paint_map(painter)
        painter.end()

    def paint_map(self, painter: QPainter) -> None:
        """Everything the map shows, for the view as it is now."""
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        if not self._paths:
            return
        if self.detail == Detail.THUMBNAILS:
            self._paint_thumbnails(painter)
        else:
            self._paint_dots(painter, painter.device().devicePixelRatioF())
            self._paint_rings(painter)
            self._paint_piles(painter)
            self._paint_cluster_labels(painter)
        self._paint_lasso(painter)

    def _paint_dots(self, painter: QPainter, dpr: float) -> None:
        cache = self._dots_cache
        moving = self._dots_stale and self._settle.isActive()
        if moving and cache is not None and cache[0][:3] == (self.width(), self.height(), dpr):
            _key, image, scale, center = cache
            half = QPointF(self.width() / 2, self.height() / 2)
            shift = (center - self._center) * self._scale
            offset = QPointF(float(shift[0]), float(shift[1]))
            if abs(self._scale / scale - 1.0) < 1e-9:  # a pan: the drawing moved, as it is
                painter.drawImage(offset, image)
                return
            painter.save()
            painter.translate(half + offset)
            painter.scale(self._scale / scale, self._scale / scale)
            painter.translate(-half)
            painter.drawImage(QPointF(0, 0), image)
            painter.restore()
            return
        painter.drawImage(QPointF(0, 0), self._dots_image(dpr))

    def _dots_image(self, dpr: float) -> QImage:
        key = (self.width(), self.height(), dpr, self._scale, *self._center)
        if self._dots_cache is not None and self._dots_cache[0] == key:
            return self._dots_cache[1]
        self._dots_stale = False
        width, height = max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr))
        raster = self._raster
        if raster is None or (raster.width, raster.height) != (width, height):
            pad = 2 * int(math.ceil((6.0 + 2.2) * dpr + 1)) + 2  # the largest ring's reach
            raster = self._raster = DotRaster(width, height, pad)
        raster.clear(self.palette().color(QPalette.ColorRole.Base))
        radius = self.dot_radius()
        visible = self._visible(radius + 2)
        if len(visible):
            x, y = self._to_screen(self._xy[visible])
            px = np.rint(x * dpr).astype(np.int64)
            py = np.rint(y * dpr).astype(np.int64)
            argb = self._argb[visible]
            raster.stamp(px, py, argb, radius * dpr, grid=max(1, int(dpr)))
            chosen = self._selected[visible]
            if chosen.any():  # the selection on top, with a ring in the accent colour
                accent = _argb(self.palette().color(QPalette.ColorRole.Highlight))
                ring = np.full(int(chosen.sum()), accent, dtype=np.uint32)
                raster.stamp(px[chosen], py[chosen], ring, (radius + 2.2) * dpr)
                raster.stamp(px[chosen], py[chosen], argb[chosen], radius * dpr)
        image = raster.image(dpr)
        self._dots_cache = (key, image, self._scale, self._center.copy())
        return image

    def _paint_rings(self, painter: QPainter) -> None:
        """The hovered photo and the odd ones out, ringed."""
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        radius = self.dot_radius()
        marked = np.flatnonzero(self._marked & self._shown)
        if len(marked):
            x, y = self._to_screen(self._xy[marked])
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor("#e15759"), 2.0))
            for cx, cy in zip(x, y, strict=True):
                painter.drawEllipse(QPointF(cx, cy), radius + 4, radius + 4)
        if self._hover >= 0:
            x, y = self._to_screen(self._xy[self._hover : self._hover + 1])
            center = QPointF(float(x[0]), float(y[0]))
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Base), 3.0))
            painter.setBrush(cluster_color(int(self._cluster[self._hover])))
            painter.drawEllipse(center, radius + 2.5, radius + 2.5)
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Text), 1.4))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(center, radius + 4.5, radius + 4.5)
        painter.restore()

    def cluster_labels(self) -> list[tuple[QRectF, str]]:
        """Where each cluster's label goes and what it says (its size, and its name when it
        has one); a smaller cluster's label is left out where it would cover a larger's."""
        if not self._clusters:
            return []
        metrics = QFontMetricsF(self._label_font())
        placed: list[tuple[QRectF, str]] = []
        shown_clusters = set(np.unique(self._cluster[self._shown]).tolist())
        piles = {cid: rect for cid, rect, _members in self.piles()}
        for cluster in sorted(self._clusters, key=lambda c: -c.size):
            if cluster.id not in shown_clusters or cluster.id not in self._groups:
                continue
            centre, radius, _members = self._groups[cluster.id]
            x, y = self._to_screen(centre[None, :])
            text = cluster.label or f"{cluster.size:,}"  # the core's label names the size
            width = metrics.horizontalAdvance(text) + 18
            height = metrics.height() + 8
            if cluster.id in piles:  # under its pile
                tops = [piles[cluster.id].bottom() + 4]
            else:  # above its dots, else below them, else on them
                reach = radius * self._scale + self.dot_radius() + 4
                tops = [float(y[0]) - reach - height, float(y[0]) + reach,
                        float(y[0]) - height / 2]  # fmt: skip
            view = QRectF(self.rect())
            for top in tops:
                rect = QRectF(float(x[0]) - width / 2, top, width, height)
                if view.contains(rect) and not any(
                    rect.adjusted(-4, -3, 4, 3).intersects(other) for other, _ in placed
                ):
                    placed.append((rect, text))
                    break
        return placed

    def piles(self) -> list[tuple[int, QRectF, list[int]]]:
        """The groups drawn as a pile of their photos (small on screen: zoomed out): each
        one's id, where its pile lies and the photos on it (top one last)."""
        if self.detail != Detail.DOTS:
            return []
        small = []
        for cid, (centre, radius, members) in self._groups.items():
            on_top = members[self._shown[members]][:3]
            if radius * self._scale < PILE_PX and len(on_top):
                small.append((cid, centre, on_top))
        if not small:
            return []
        x, y = self._to_screen(np.array([centre for _cid, centre, _top in small]))
        apart = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
        np.fill_diagonal(apart, np.inf)
        # a pile is smaller where others are near (they overlap less), never below 60 %
        sides = np.clip(apart.min(axis=1) * 0.8, PILE_CARD * 0.6, PILE_CARD)
        view = QRectF(self.rect())
        piles = []
        for (cid, _centre, on_top), cx, cy, side in zip(small, x, y, sides, strict=True):
            half = float(side) * 0.62  # room for the turned photos under the top one
            rect = QRectF(float(cx) - half, float(cy) - half, 2 * half, 2 * half)
            if view.intersects(rect):
                piles.append((cid, rect, [int(i) for i in reversed(on_top)]))
        piles.sort(key=lambda pile: len(self._groups[pile[0]][2]))  # the largest on top
        return piles

    def _pile_at(self, point: QPointF) -> tuple[int, int] | None:
        """(group id, the photo on top) of the pile under ``point``."""
        for cid, rect, members in reversed(self.piles()):
            if rect.contains(point):
                return cid, members[-1]
        return None

    def _paint_piles(self, painter: QPainter) -> None:
        piles = self.piles()
        if not piles:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        dpr = painter.device().devicePixelRatioF()
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        for _cid, rect, members in piles:
            pixmap = self._pile_pixmap(members, rect.width(), dpr)
            painter.drawPixmap(rect, pixmap, QRectF(pixmap.rect()))
            if self._hover == members[-1]:  # the photo on top is the one hovered
                side = rect.width() / 1.24
                card = QRectF(0, 0, side, side)
                card.moveCenter(rect.center())
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(accent, 2.4))
                painter.drawRoundedRect(card.adjusted(-1.5, -1.5, 1.5, 1.5), 6, 6)
        painter.restore()

    def _pile_pixmap(self, members: list[int], width: float, dpr: float) -> QPixmap:
        """A pile drawn once (rotated, shadowed photos are dear to draw: hundreds of them a
        frame would not be smooth) and kept until its photos' thumbnails change."""
        images = [self._thumbnail(self._paths[i]) for i in members]
        step = max(16, int(math.ceil(width * dpr / CARD_STEP)) * CARD_STEP)
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        key = ("pile", tuple(members), step, tuple(im is not None for im in images), dark)
        cached = self._cards.get(key)
        if cached is not None:
            self._cards.move_to_end(key)
            return cached[0]
        pixmap = QPixmap(step, step)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        paper = QColor("#3a3b3f") if dark else QColor("white")
        shadow = QColor(0, 0, 0, 110 if dark else 60)
        side = step / 1.24
        radius = 5 * dpr
        turns = PILE_TURNS[-len(members) :]
        for i, image, turn in zip(members, images, turns, strict=True):
            painter.save()
            painter.translate(step / 2, step / 2)
            painter.rotate(turn)
            card = QRectF(-side / 2, -side / 2, side, side)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(shadow)
            painter.drawRoundedRect(card.translated(0.8 * dpr, 1.6 * dpr), radius, radius)
            painter.setBrush(paper)
            painter.drawRoundedRect(card, radius, radius)
            inner = card.adjusted(3 * dpr, 3 * dpr, -3 * dpr, -3 * dpr)
            if image is not None:
                draw_fitted_image(painter, image, inner, 3 * dpr)
            else:
                shade = cluster_color(int(self._cluster[i]))
                shade.setAlpha(90)
                painter.setBrush(shade)
                painter.drawRoundedRect(inner, 3 * dpr, 3 * dpr)
            painter.restore()
        painter.end()
        self._cards[key] = (pixmap, QRectF())
        while len(self._cards) > CARD_CACHE:
            self._cards.popitem(last=False)
        return pixmap

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

    def _label_font(self):
        font = self.font()
        font.setWeight(font.Weight.DemiBold)
        font.setPointSizeF(font.pointSizeF() * 0.92)
        return font

    def _paint_cluster_labels(self, painter: QPainter) -> None:
        labels = self.cluster_labels()
        if not labels:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(self._label_font())
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        fill = QColor(32, 33, 36, 215) if not dark else QColor(240, 241, 244, 225)
        ink = QColor("white") if not dark else QColor("#202124")
        for rect, text in labels:
            pill = QPainterPath()
            pill.addRoundedRect(rect, rect.height() / 2, rect.height() / 2)
            painter.fillPath(pill, fill)
            painter.setPen(ink)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def _thumb_rects(self) -> tuple[np.ndarray, list[QRectF]]:
        side = self.thumb_px()
        visible = self._visible(side)
        x, y = self._to_screen(self._xy[visible])
        rects = [
            QRectF(cx - side / 2, cy - side / 2, side, side) for cx, cy in zip(x, y, strict=True)
        ]
        return visible, rects

    def _paint_thumbnails(self, painter: QPainter) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        visible, rects = self._thumb_rects()
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        base = self.palette().color(QPalette.ColorRole.Base)
        dpr = painter.device().devicePixelRatioF()
        side = self.thumb_px()
        radius = max(3.0, side * 0.06)
        for i, rect in zip(visible.tolist(), rects, strict=True):
            card, inner = self._card(i, side, dpr)
            painter.drawPixmap(rect, card, QRectF(card.rect()))
            if self._selected[i] or self._marked[i] or i == self._hover:
                w, h = rect.width(), rect.height()
                drawn = QRectF(rect.left() + inner.left() * w, rect.top() + inner.top() * h,
                               inner.width() * w, inner.height() * h)  # fmt: skip
                ring = accent if self._selected[i] else QColor("#e15759")
                if i == self._hover:
                    ring = self.palette().color(QPalette.ColorRole.Text)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(base, 5.0))
                painter.drawRoundedRect(drawn.adjusted(-3, -3, 3, 3), radius + 3, radius + 3)
                painter.setPen(QPen(ring, 2.6))
                painter.drawRoundedRect(drawn.adjusted(-3, -3, 3, 3), radius + 3, radius + 3)
        painter.restore()

    def _card(self, i: int, side: float, dpr: float) -> tuple[QPixmap, QRectF]:
        """Photo ``i`` as drawn zoomed in: its thumbnail with rounded corners and an edge
        in its cluster's colour (a placeholder until the thumbnail is loaded), made once per
        size step and kept (a frame then costs one plain pixmap draw per photo); and where
        in the card the picture is, as fractions of its side."""
        path = self._paths[i]
        image = self._thumbnail(path)
        step = max(16, int(math.ceil(side * dpr / CARD_STEP)) * CARD_STEP)
        key = (path, step, image is not None, int(self._cluster[i]))
        cached = self._cards.get(key)
        if cached is not None:
            self._cards.move_to_end(key)
            return cached
        pixmap = QPixmap(step, step)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        color = cluster_color(int(self._cluster[i]))
        edge = 2.0 * dpr
        area = QRectF(0, 0, step, step).adjusted(edge, edge, -edge, -edge)
        radius = max(3.0 * dpr, step * 0.06)
        if image is not None:
            drawn = draw_fitted_image(painter, image, area, radius)
        else:
            inset = step * 0.12
            drawn = area.adjusted(inset, inset, -inset, -inset)
            shade = QColor(color)
            shade.setAlpha(70)
            placeholder = QPainterPath()
            placeholder.addRoundedRect(drawn, radius, radius)
            painter.fillPath(placeholder, shade)
        # a thin edge in the cluster's colour: the clusters stay visible among the photos
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(color, edge))
        half = edge / 2
        painter.drawRoundedRect(
            drawn.adjusted(-half, -half, half, half), radius + half, radius + half
        )
        painter.end()
        inner = QRectF(drawn.left() / step, drawn.top() / step, drawn.width() / step,
                       drawn.height() / step)  # fmt: skip
        self._cards[key] = (pixmap, inner)
        while len(self._cards) > CARD_CACHE:
            self._cards.popitem(last=False)
        return pixmap, inner

    def _paint_lasso(self, painter: QPainter) -> None:
        if not self._lasso or len(self._lasso) < 2:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        fill = QColor(accent)
        fill.setAlpha(40)
        painter.setBrush(fill)
        pen = QPen(accent, 1.6)
        pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawPolygon(QPolygonF(self._lasso))
        painter.restore()

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

    # -- hover ---------------------------------------------------------------------------
    def photo_at(self, point: QPointF) -> str | None:
        i = self._index_at(point)
        return self._paths[i] if i >= 0 else None

    def _index_at(self, point: QPointF) -> int:
        if not self._paths:
            return -1
        if self.detail == Detail.THUMBNAILS:
            visible, rects = self._thumb_rects()
            for i, rect in zip(reversed(visible.tolist()), reversed(rects), strict=True):
                if rect.contains(point):  # the one drawn last is on top
                    return i
            return -1
        pile = self._pile_at(point)
        if pile is not None:
            return pile[1]
        reach = max(HOVER_PX, self.dot_radius() + 3)
        visible = self._visible(reach)
        if not len(visible):
            return -1
        x, y = self._to_screen(self._xy[visible])
        distance = np.hypot(x - point.x(), y - point.y())
        nearest = int(np.argmin(distance))
        return int(visible[nearest]) if distance[nearest] <= reach else -1

    @property
    def hovered_path(self) -> str:
        return self._paths[self._hover] if self._hover >= 0 else ""

    def _set_hover(self, i: int, point: QPointF) -> None:
        if i == self._hover:
            if i >= 0:
                self._place_card(point)
            return
        self._hover = i
        if i < 0:
            self.hover_card.hide()
            self.unsetCursor()
        else:
            path = self._paths[i]
            self.hover_card.show_photo(path, self.thumbnails.request(path, PREVIEW), self.size())
            self._place_card(point)
            self.hover_card.show()
            self.hover_card.raise_()
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.update()
        self.hoverChanged.emit(self.hovered_path)

    def _place_card(self, point: QPointF) -> None:
        size = self.hover_card.sizeHint()
        x, y = int(point.x()) + 18, int(point.y()) + 18
        if x + size.width() > self.width() - 4:
            x = int(point.x()) - 18 - size.width()
        if y + size.height() > self.height() - 4:
            y = int(point.y()) - 18 - size.height()
        x = max(4, min(x, self.width() - size.width() - 4))
        y = max(4, min(y, self.height() - size.height() - 4))
        self.hover_card.setGeometry(QRect(QPoint(x, y), size))

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._set_hover(-1, QPointF())
        super().leaveEvent(event)

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

    def _select_in(self, lasso: list[QPointF]) -> None:
        polygon = np.array([(p.x(), p.y()) for p in lasso])
        x, y = self._to_screen(self._xy)
        inside = inside_polygon(x, y, polygon) & self._shown
        self._selected = inside
        self._changed()
        self.selectionChanged.emit(self.selected_paths())

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
