"""Frame times of the album map (gui/map_canvas.py) with 50k photos, offscreen.

One frame = painting the whole viewport (1400 x 900 at devicePixelRatio 2, as on a HiDPI
screen) at three zooms: the whole map (dots), mid zoom (dots, larger), and zoomed in
(thumbnails, already loaded). "Full" is a frame drawn from scratch (what a frame costs once
a zoom or pan has settled); "moving" is a frame while a pan or zoom goes on (the last full
drawing moved: the canvas's interactive mode). Baseline in the same run: the naive way, a
QGraphicsScene with one QGraphicsEllipseItem per photo and no level of detail, rendered by
a QGraphicsView of the same size at the same zoom (it draws the dots only: no labels, piles
or thumbnails; and it draws every frame in full, so it compares with "while moving").
Times are the painting thread's CPU time (fair on a shared, busy machine). Target: smooth
(≤ 16.7 ms a frame, 60 Hz) while moving, and a settled frame well under 100 ms. Run:
    python benchmarks/bench_map_frames.py [--photos 50000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QGraphicsEllipseItem, QGraphicsScene, QGraphicsView

from albumfinder.gui.map_canvas import MapCanvas
from albumfinder.gui.map_style import CLUSTER_COLORS, THUMB, Detail
from albumfinder.gui.thumbnails import ThumbnailLoader
from albumfinder.gui.workers import Pools
from albumfinder.report import MapCluster, MapPoint

from common import machine, print_table

WIDTH, HEIGHT, DPR = 1400, 900, 2.0


def synthetic_map(n: int, groups: int = 40, seed: int = 0):
    """``n`` photos in ``groups`` clusters of uneven size and spread, in [-1, 1] as the
    core's layouts are."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-0.85, 0.85, (groups, 2))
    weights = rng.dirichlet(np.ones(groups) * 0.8)
    labels = rng.choice(groups, n, p=weights)
    spread = rng.uniform(0.02, 0.07, groups)
    xy = np.clip(centres[labels] + rng.normal(0, 1, (n, 2)) * spread[labels, None], -1, 1)
    points = [
        MapPoint(f"/album/{i // 1000:03d}/photo_{i:06d}.jpg", float(x), float(y), int(c))
        for i, ((x, y), c) in enumerate(zip(xy, labels, strict=True))
    ]
    clusters = []
    for c in range(groups):
        members = xy[labels == c]
        if len(members):
            mx, my = members.mean(axis=0)
            clusters.append(
                MapCluster(c, len(members), float(mx), float(my), f"{len(members)} photos")
            )
    return points, clusters


def frame_ms(paint, repeat: int) -> float:
    image = QImage(int(WIDTH * DPR), int(HEIGHT * DPR), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(DPR)
    times = []
    for _ in range(repeat + 1):
        painter = QPainter(image)
        start = time.thread_time()  # CPU time of this thread: fair on a busy machine
        paint(painter)
        painter.end()
        times.append(time.thread_time() - start)
    return statistics.median(times[1:]) * 1000


def our_frames(app, canvas: MapCanvas, zoom: float, repeat: int) -> tuple[int, str, float, float]:
    canvas.fit()
    canvas.zoom_by(zoom)
    visible = len(canvas._visible(0))
    step = [1.0]

    def full(painter: QPainter) -> None:
        canvas.interactive = False
        step[0] = -step[0]
        canvas.pan_by(step[0], 0)  # a new view: nothing cached
        canvas.paint_map(painter)

    def moving(painter: QPainter) -> None:
        canvas.interactive = True
        step[0] = -step[0]
        canvas.pan_by(step[0], 0)  # the settle timer is running: the last drawing moves
        canvas.paint_map(painter)

    full_ms = frame_ms(full, repeat)
    frame_ms(canvas.paint_map, 1)  # a full drawing for the moving frames to move
    moving_ms = frame_ms(moving, repeat)
    return visible, str(canvas.detail), full_ms, moving_ms


def naive_view(points) -> tuple[QGraphicsScene, QGraphicsView, list]:
    scene = QGraphicsScene()
    brushes = [QBrush(QColor(c)) for c in CLUSTER_COLORS]
    items = []  # kept: one Python object per photo, as a naive port would have
    for p in points:
        item = QGraphicsEllipseItem(p.x - 0.004, p.y - 0.004, 0.008, 0.008)
        item.setBrush(brushes[p.cluster % len(brushes)])
        item.setPen(Qt.PenStyle.NoPen)
        scene.addItem(item)
        items.append(item)
    view = QGraphicsView(scene)
    view.resize(WIDTH, HEIGHT)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    return scene, view, items


def naive_ms(view: QGraphicsView, zoom: float, repeat: int) -> float:
    view.resetTransform()
    view.fitInView(QRectF(-1, -1, 2, 2), Qt.AspectRatioMode.KeepAspectRatio)
    view.scale(zoom, zoom)
    target = QRectF(0, 0, WIDTH, HEIGHT)
    return frame_ms(lambda painter: view.render(painter, target), repeat)


def loaded_thumbnails(app, canvas: MapCanvas, folder: Path) -> None:
    """Give the photos in view real files and wait until their thumbnails are loaded."""
    from PIL import Image

    visible = canvas._visible(canvas.thumb_px())
    rng = np.random.default_rng(1)
    for i in visible.tolist():
        path = folder / f"thumb_{i}.jpg"
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        Image.new("RGB", (320, 240), colour).save(path, quality=85)
        canvas._paths[i] = str(path)
    canvas._index = {p: i for i, p in enumerate(canvas._paths)}
    canvas.thumbnails.capacity = max(canvas.thumbnails.capacity, 2 * len(visible))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        canvas.grab()  # paints: asks for what is in view
        app.processEvents()
        if all(canvas.thumbnails.cached(canvas._paths[i], THUMB) is not None for i in visible):
            return
        time.sleep(0.02)
    raise SystemExit("thumbnails did not load")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    points, clusters = synthetic_map(args.photos)
    canvas = MapCanvas(ThumbnailLoader(Pools()))
    canvas.resize(WIDTH, HEIGHT)
    canvas.set_points(points, clusters)
    start = time.perf_counter()
    _scene, view, _items = naive_view(points)
    build_s = time.perf_counter() - start

    zooms = {"whole map": 1.0, "mid zoom": 6.0}
    canvas.fit()
    zoom_in = 1.0
    while canvas.detail != Detail.THUMBNAILS and zoom_in < 400:
        zoom_in *= 1.25
        canvas.fit()
        canvas.zoom_by(zoom_in)
    zooms["zoomed in"] = zoom_in
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-map-") as tmp:
        for name, zoom in zooms.items():
            canvas.fit()
            canvas.zoom_by(zoom)
            if name == "zoomed in":
                loaded_thumbnails(app, canvas, Path(tmp))
            visible, detail, full, moving = our_frames(app, canvas, zoom, args.repeat)
            naive = naive_ms(view, zoom, args.repeat)
            rows.append(
                [
                    name,
                    f"{zoom:.1f}x",
                    f"{visible:,}",
                    detail,
                    f"{full:.1f}",
                    f"{moving:.1f}",
                    f"{naive:.1f}",
                    f"{naive / moving:.1f}x",
                ]
            )
    print(f"Machine: {machine()}; Qt platform: {app.platformName()}")
    print(f"{args.photos:,} photos, viewport {WIDTH} x {HEIGHT} at devicePixelRatio {DPR:g}")
    print(f"naive scene built in {build_s:.1f} s ({args.photos:,} items)")
    print_table(
        "Album map frame times (median ms per frame)",
        ["view", "zoom", "photos in view", "drawn as", "full frame", "while moving",
         "naive QGraphicsView", "moving vs naive"],
        rows,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
