"""``albumfinder-cli map [FOLDER ...] [-o PICTURE]``: the album map as a picture.

Look-alikes lie together: the core lays the album out (``Library.album_map``); this draws
it, a photo's thumbnail in each cell of a grid over the map where photos are (the one
nearest the cell's centre), framed in its group's colour, and each larger group's label.
"""

from __future__ import annotations

import argparse
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageOps

from albumfinder.cli import loading
from albumfinder.cli.montage import BACKGROUND, MUTED, TEXT, TILE_BACKGROUND, _decoders, _font
from albumfinder.cli.output import CliError, emit_json, say
from albumfinder.cli.progress import ProgressPrinter

if TYPE_CHECKING:
    from albumfinder.library import LazyEmbedder, Library
    from albumfinder.report import AlbumMap, JobProgress, MapCluster, MapPoint

DEFAULT_PICTURE = Path("output") / "album-map.png"
WIDTH = 1800  # pixels across the picture
SMALLEST_TILE, LARGEST_TILE = 40, 120  # a thumbnail's side: larger when photos are few
GAP = 4  # between the cells of the grid the thumbnails sit in
TITLE_ROOM = 32  # above the map: the title line
MOST_LABELS = 40
#: group colours, from Tableau's 20 (distinct on a dark background), in turn
PALETTE = [
    (78, 121, 167), (242, 142, 43), (225, 87, 89), (118, 183, 178), (89, 161, 79),
    (237, 201, 72), (176, 122, 161), (255, 157, 167), (156, 117, 95), (186, 176, 172),
    (160, 203, 232), (255, 190, 125), (140, 209, 125), (182, 153, 45), (73, 152, 148),
    (134, 188, 182), (255, 127, 14), (214, 39, 40), (148, 103, 189), (23, 190, 207),
]  # fmt: skip


def run_map(args: argparse.Namespace) -> int:
    target = _picture_path(args.output)
    with loading.open_library() as library:
        model = album_model(args, library)
        printer = ProgressPrinter()
        try:
            album_map = library.album_map(model, args.folders or None, progress=_shown(printer))
        finally:
            printer.finish()
    picture = draw_map(album_map)
    _save(picture, target, default=args.output is None)
    if args.json:
        emit_json(
            {
                "model": album_map.model,
                "points": [
                    {"path": p.path, "x": p.x, "y": p.y, "cluster": p.cluster}
                    for p in album_map.points
                ],
                "picture": str(target),
            }
        )
        return 0
    print(
        f"Map of {len(album_map.points):,} photos (model {album_map.model}, "
        f"{album_map.method}): {len(album_map.clusters):,} groups of look-alikes"
    )
    for cluster in album_map.clusters[:10]:
        print(f"  {cluster.label}")
    print(f"Picture: {target}")
    return 0


def album_model(args: argparse.Namespace, library: Library) -> LazyEmbedder:
    """The model whose vectors a map or the odd ones out are made of (the one the options
    name, else the default model, as search chooses it): nothing is loaded. An album with
    none of its vectors is an error."""
    model = library.embedder(loading.model_name(args), args.model_path, say)
    if not library.album_photo_count(model.model_key):
        raise CliError(
            f"nothing in the album is indexed with {model.spec.name} yet: "
            "run `albumfinder-cli index FOLDER` first"
        )
    return model


def _shown(printer: ProgressPrinter):
    def show(event: JobProgress) -> None:
        if event.total:
            printer.count(event.text, event.done, event.total)

    return show


def _picture_path(option: str | None) -> Path:
    """Where the picture goes (a PNG when the name has no extension), checked before any
    work is done."""
    from albumfinder.library import Library

    target = Path(Library.normalize_path(option)) if option else DEFAULT_PICTURE.resolve()
    if not target.suffix:
        target = target.with_suffix(".png")
    if target.suffix.lower() not in Image.registered_extensions():
        raise CliError(f"-o: cannot write a picture of type {target.suffix}: {target}")
    if target.is_dir():
        raise CliError(f"-o is a folder, not a picture: {target}")
    existing = target.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise CliError(f"-o: cannot write {target} ({existing})")
    return target


def _save(picture: Image.Image, target: Path, default: bool) -> None:
    """Write the picture; the default folder gets the results marker, so that scans never
    take the map for a photo."""
    from albumfinder.cli.seed import _mark_output_folder

    try:
        if default:
            _mark_output_folder(target.parent, create=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        picture.save(target)
    except (OSError, ValueError) as exc:
        raise CliError(
            f"cannot write the picture {target}: {getattr(exc, 'strerror', None) or exc}"
        ) from exc


# -- the picture ------------------------------------------------------------------------
def colour(cluster: int) -> tuple[int, int, int]:
    return PALETTE[cluster % len(PALETTE)]


class _Frame:
    """Map units to picture pixels (the points' extent, the same scale both ways)."""

    def __init__(self, points: list[MapPoint], margin: int) -> None:
        xs, ys = [p.x for p in points] or [0.0], [p.y for p in points] or [0.0]
        self.left, self.top = min(xs), min(ys)
        span_x, span_y = max(max(xs) - self.left, 1e-9), max(max(ys) - self.top, 1e-9)
        self.margin = margin
        inner = WIDTH - 2 * margin
        self.scale = inner / max(span_x, span_y)
        self.width = WIDTH
        self.height = max(round(span_y * self.scale) + 2 * margin, WIDTH * 9 // 16)
        self.offset_y = (self.height - 2 * margin - span_y * self.scale) / 2
        self.offset_x = (inner - span_x * self.scale) / 2

    def pixel(self, x: float, y: float) -> tuple[float, float]:
        return (
            self.margin + self.offset_x + (x - self.left) * self.scale,
            self.margin + self.offset_y + (y - self.top) * self.scale,
        )


def draw_map(album_map: AlbumMap) -> Image.Image:
    """The map as a picture: a dot per photo, a thumbnail per grid cell, group labels."""
    size = tile_size(len(album_map.points))
    # a cell starts at most a cell before its photo: this margin keeps every one inside
    frame = _Frame(album_map.points, margin=size + GAP + TITLE_ROOM)
    picture = Image.new("RGB", (frame.width, frame.height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    places = [frame.pixel(p.x, p.y) for p in album_map.points]
    for point, (px, py) in zip(album_map.points, places, strict=True):
        draw.ellipse((px - 3, py - 3, px + 3, py + 3), fill=colour(point.cluster))
    cells = _cells(album_map.points, places, size)
    with ThreadPoolExecutor(max_workers=_decoders(len(cells))) as pool:
        tiles = list(pool.map(lambda item: square_tile(item[1].path, size), cells))
    for ((left, top), point), tile in zip(cells, tiles, strict=True):
        border = (left - 2, top - 2, left + size + 1, top + size + 1)
        draw.rectangle(border, fill=colour(point.cluster))
        picture.paste(tile, (left, top))
    _labels(draw, album_map.clusters, frame)
    title = f"{len(album_map.points):,} photos · {album_map.model} · {album_map.method}"
    draw.text((16, 12), title, fill=MUTED, font=_font(16))
    return picture


def tile_size(count: int) -> int:
    """A thumbnail's side: about 60 % of the room each photo would have on the picture."""
    room = math.sqrt(WIDTH * WIDTH * 0.75 / max(count, 1))
    return int(min(max(0.6 * room, SMALLEST_TILE), LARGEST_TILE))


def square_tile(path: str, size: int) -> Image.Image:
    """The photo cropped to a ``size`` square (a dark square if it cannot be read)."""
    from albumfinder.errors import ImageLoadError
    from albumfinder.images import open_photo

    try:
        return ImageOps.fit(open_photo(path, min_size=size), (size, size))
    except ImageLoadError:
        return Image.new("RGB", (size, size), TILE_BACKGROUND)


def _cells(points: list[MapPoint], places: list[tuple[float, float]], size: int):
    """((left, top), point) per grid cell that photos fall in: the photo nearest its
    centre."""
    step = size + GAP
    best: dict[tuple[int, int], tuple[float, int]] = {}
    for i, (px, py) in enumerate(places):
        cell = (int(px // step), int(py // step))
        centre = ((cell[0] + 0.5) * step, (cell[1] + 0.5) * step)
        distance = math.hypot(px - centre[0], py - centre[1])
        if cell not in best or distance < best[cell][0]:
            best[cell] = (distance, i)
    return [
        ((int(cx * step + GAP // 2), int(cy * step + GAP // 2)), points[i])
        for (cx, cy), (_d, i) in sorted(best.items())
    ]


def _labels(draw: ImageDraw.ImageDraw, clusters: list[MapCluster], frame: _Frame) -> None:
    """The larger groups' labels, on a dark plate, none over another."""
    font = _font(18)
    taken: list[tuple[float, float, float, float]] = []
    for cluster in clusters[:MOST_LABELS]:
        px, py = frame.pixel(cluster.x, cluster.y)
        width = draw.textlength(cluster.label, font=font)
        box = (px - width / 2 - 6, py - 13, px + width / 2 + 6, py + 13)
        box = _inside(box, frame)
        if any(_overlap(box, other) for other in taken):
            continue
        taken.append(box)
        draw.rounded_rectangle(box, radius=6, fill=(16, 16, 18), outline=colour(cluster.id))
        draw.text((box[0] + 6, box[1] + 3), cluster.label, fill=TEXT, font=font)


def _inside(box: tuple[float, float, float, float], frame: _Frame):
    dx = max(0.0, 4 - box[0]) - max(0.0, box[2] - (frame.width - 4))
    dy = max(0.0, 4 - box[1]) - max(0.0, box[3] - (frame.height - 4))
    return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
