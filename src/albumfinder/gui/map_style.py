"""The album map's sizes, limits and colours, and what it draws at a zoom (:class:`Detail`)."""

from __future__ import annotations

from enum import Enum

from PySide6.QtGui import QColor

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
