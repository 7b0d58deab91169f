"""The pixels of the map's dots: :class:`DotRaster` stamps soft-edged discs with numpy into
one image, kept from frame to frame (no paint call per photo).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtGui import QColor, QImage


def to_argb(color: QColor) -> np.uint32:
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
        self.background = to_argb(background)
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
