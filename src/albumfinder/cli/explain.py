"""``albumfinder-cli explain QUERY RESULT [-o PICTURE] [--json]``: why a result matches.

The two photos side by side, each with its match map drawn over it translucently (warm where
that region matches the other photo well), and a legend. With ``--json`` exactly one object:
``{"model", "query", "result", "score", "rows", "cols", "result_map", "query_map", "picture"}``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from albumfinder.cli import loading
from albumfinder.cli.montage import BACKGROUND, MUTED, TEXT, _ellipsize, _font
from albumfinder.cli.output import CliError, emit_json
from albumfinder.cli.queries import parse_crop

if TYPE_CHECKING:
    from albumfinder.report import Explanation

#: the output folder of the default picture, beside the seed form's result pictures
DEFAULT_FOLDER = Path("output") / "why"
PHOTO_HEIGHT = 420
#: the heat colours, weakest match first (a perceptual blue-teal-yellow-red ramp)
RAMP = np.array(
    [(40, 70, 200), (30, 170, 220), (60, 205, 140), (200, 225, 50), (250, 160, 30), (220, 35, 25)],
    dtype=np.float32,
)
#: how much of the heat colour covers the photo at the weakest and the strongest match
ALPHA_RANGE = (0.25, 0.72)
#: how much colour of the photo is kept under the heat (a muted photo lets the heat read)
PHOTO_SATURATION = 0.35


def run_explain(args: argparse.Namespace) -> int:
    from albumfinder.library import Library
    from albumfinder.report import QueryPart

    crop = parse_crop(args.crop)
    query = _photo(Library.normalize_path(args.query), "query")
    result = _photo(Library.normalize_path(args.result), "result")
    target = _target(args.output, query, result)
    with loading.open_library() as library:
        model = loading.embedder(args, library)
        part = QueryPart(query, crop=crop)
        explanation = library.explain(model, part, result)
        picture = draw_explanation(
            explanation,
            Library.query_picture(part, PHOTO_HEIGHT),
            Library.query_picture(QueryPart(result), PHOTO_HEIGHT),
        )
    _save(picture, target, default=args.output is None)
    if args.json:
        emit_json(
            {
                "model": explanation.model,
                "query": explanation.query,
                "result": explanation.result,
                "score": round(explanation.score, 6),
                "rows": explanation.rows,
                "cols": explanation.cols,
                "result_map": explanation.result_map,
                "query_map": explanation.query_map,
                "picture": str(target.resolve()),
            }
        )
    else:
        print(f"Query:  {explanation.query}")
        print(f"Result: {explanation.result}")
        print(f"Score:  {explanation.score:.3f} ({explanation.model})")
        print(f"Match maps ({explanation.rows} x {explanation.cols}): {target.resolve()}")
    return 0


def _photo(path: str, what: str) -> str:
    if not os.path.exists(path):
        raise CliError(f"{what} not found: {path}")
    if os.path.isdir(path):
        raise CliError(f"the {what} must be a photo, not a folder: {path}")
    return path


def _target(output: str | None, query: str, result: str) -> Path:
    """Where the picture goes: ``-o`` (any suffix is written as PNG), else the default."""
    if output is not None:
        target = Path(os.path.expanduser(output))
        if target.is_dir():
            raise CliError(f"-o/--output is a folder, not a picture file: {target}")
        return target
    return DEFAULT_FOLDER / f"{Path(query).stem}_{Path(result).stem}_why.png"


def _save(picture: Image.Image, target: Path, default: bool) -> None:
    from albumfinder.library import Library

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if default:  # keep the default folder out of every scan, as result pictures are
            marker = Library.results_marker(target.parent)
            if not marker.exists():
                marker.write_text("Pictures of albumfinder-cli: never indexed as photos.\n")
        picture.save(target, format="PNG")
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise CliError(f"cannot write the picture {target}: {why}") from exc


# -- the picture ---------------------------------------------------------------------------
def draw_explanation(
    explanation: Explanation, query: Image.Image, result: Image.Image
) -> Image.Image:
    """The query and the result side by side, each under its match map, with titles and a
    legend of the colours."""
    height = PHOTO_HEIGHT
    tiles = [
        _overlaid(query, explanation.query_map, height),
        _overlaid(result, explanation.result_map, height),
    ]
    font_size = 17
    title_font, small_font = _font(font_size), _font(13)
    pad, gap = 18, 16
    title_h = font_size + 10
    name_h = 13 + 10
    legend_h = 44
    width = pad * 2 + gap + sum(t.width for t in tiles)
    canvas = Image.new("RGB", (width, pad + title_h + height + name_h + legend_h + pad), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    titles = ("Query", f"Result  ·  score {explanation.score:.3f}")
    names = (explanation.query, explanation.result)
    x = pad
    for tile, title, name in zip(tiles, titles, names, strict=True):
        draw.text((x, pad), title, fill=TEXT, font=title_font)
        canvas.paste(tile, (x, pad + title_h))
        shown = _ellipsize(draw, os.path.basename(name), small_font, tile.width)
        draw.text((x, pad + title_h + height + 6), shown, fill=MUTED, font=small_font)
        x += tile.width + gap
    _legend(canvas, draw, pad, pad + title_h + height + name_h + 4, explanation, small_font)
    return canvas


def _overlaid(photo: Image.Image, grid: list[list[float]], height: int) -> Image.Image:
    """``photo`` scaled to ``height`` with the heat of ``grid`` laid over it."""
    width = max(1, round(photo.width * height / max(photo.height, 1)))
    base = photo.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    base = Image.blend(base.convert("L").convert("RGB"), base, PHOTO_SATURATION)
    values = np.asarray(grid, dtype=np.float32)
    small = Image.fromarray(np.clip(values * 255, 0, 255).astype(np.uint8), "L")
    smooth = np.asarray(small.resize((width, height), Image.Resampling.BICUBIC), np.float32) / 255
    heat = _colours(smooth)
    low, high = ALPHA_RANGE
    alpha = (low + (high - low) * smooth)[..., None]
    mixed = np.asarray(base, np.float32) * (1 - alpha) + heat * alpha
    return Image.fromarray(np.clip(mixed, 0, 255).astype(np.uint8), "RGB")


def _colours(values: np.ndarray) -> np.ndarray:
    """RGB float colours of ``values`` in [0, 1] along :data:`RAMP`."""
    position = np.clip(values, 0, 1) * (len(RAMP) - 1)
    lower = np.minimum(position.astype(np.int64), len(RAMP) - 2)
    fraction = (position - lower)[..., None]
    colours: np.ndarray = RAMP[lower] * (1 - fraction) + RAMP[lower + 1] * fraction
    return colours


def _legend(
    canvas: Image.Image,
    draw: ImageDraw.ImageDraw,
    x: int,
    y: int,
    explanation: Explanation,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
) -> None:
    bar_w, bar_h = 220, 12
    ramp = _colours(np.tile(np.linspace(0, 1, bar_w, dtype=np.float32), (bar_h, 1)))
    weaker = "weaker match"
    draw.text((x, y + 2), weaker, fill=TEXT, font=font)
    bar_x = x + int(draw.textlength(weaker, font=font)) + 10
    canvas.paste(Image.fromarray(ramp.astype(np.uint8), "RGB"), (bar_x, y + 4))
    draw.text((bar_x + bar_w + 10, y + 2), "stronger match", fill=TEXT, font=font)
    how = (
        f"each region's best match in the other photo ({explanation.model}, "
        f"{explanation.rows} x {explanation.cols} cells, scaled to this pair)"
    )
    draw.text((x, y + bar_h + 10), how, fill=MUTED, font=font)
