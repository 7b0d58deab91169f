"""The result picture of the command line: the query, then its look-alikes.

Like dinov2_retrieval's picture (each photo scaled to fit a ``size`` square, padded, tiles
``margin`` pixels apart), plus a caption under every tile: rank, score and file name, so
the picture says what was found and where.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from albumfinder.errors import ImageLoadError
from albumfinder.images import open_photo
from albumfinder.report import SearchHit

BACKGROUND = (24, 24, 27)
TILE_BACKGROUND = (0, 0, 0)
TEXT = (236, 236, 240)
MUTED = (160, 160, 170)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def fit_tile(image: Image.Image, size: int) -> Image.Image:
    """Scale ``image`` to fit a ``size`` x ``size`` square, centred on black."""
    copy = image.copy()
    copy.thumbnail((size, size), Image.Resampling.LANCZOS)
    if copy.width < size and copy.height < size:  # small photos are scaled up, as the anchor does
        scale = size / max(copy.width, copy.height)
        copy = copy.resize(
            (max(1, round(copy.width * scale)), max(1, round(copy.height * scale))),
            Image.Resampling.BICUBIC,
        )
    tile = Image.new("RGB", (size, size), TILE_BACKGROUND)
    tile.paste(copy, ((size - copy.width) // 2, (size - copy.height) // 2))
    return tile


def load_tile(path: str, size: int) -> Image.Image:
    """The photo at ``path`` as a tile, decoded at reduced scale where the format allows
    (JPEG: at most twice the tile size); a black tile if it cannot be read."""
    try:
        return fit_tile(open_photo(path, min_size=size), size)
    except ImageLoadError:
        return Image.new("RGB", (size, size), TILE_BACKGROUND)


def _decoders(count: int) -> int:
    """Tiles decode in parallel (Pillow decodes without holding the GIL)."""
    return max(1, min(count, os.cpu_count() or 1, 4))


def _ellipsize(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def make_montage(
    query: Image.Image,
    query_name: str,
    hits: Sequence[SearchHit],
    size: int = 224,
    margin: int = 10,
) -> Image.Image:
    """One picture: the query tile, then one tile per hit, each with its caption."""
    font_size = max(10, size // 16)
    caption = 2 * font_size + 3 * max(2, font_size // 3)
    tiles: list[tuple[Image.Image, str, str]] = [(fit_tile(query, size), "Query", query_name)]
    with ThreadPoolExecutor(max_workers=_decoders(len(hits))) as pool:
        hit_tiles = list(pool.map(lambda hit: load_tile(hit.path, size), hits))
    for rank, (hit, tile) in enumerate(zip(hits, hit_tiles, strict=True), start=1):
        tiles.append((tile, f"#{rank}  {hit.score:.3f}", os.path.basename(hit.path)))
    width = len(tiles) * size + (len(tiles) - 1) * margin
    out = Image.new("RGB", (width, size + caption), BACKGROUND)
    draw = ImageDraw.Draw(out)
    font = _font(font_size)
    pad = max(2, font_size // 3)
    for i, (tile, title, name) in enumerate(tiles):
        x = i * (size + margin)
        out.paste(tile, (x, 0))
        draw.text(
            (x + pad, size + pad),
            _ellipsize(draw, title, font, size - 2 * pad),
            fill=TEXT,
            font=font,
        )
        draw.text(
            (x + pad, size + 2 * pad + font_size),
            _ellipsize(draw, name, font, size - 2 * pad),
            fill=MUTED,
            font=font,
        )
    return out
