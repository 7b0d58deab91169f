"""Why a result matches its query: patch-similarity maps over both photos.

Each photo is embedded whole (squashed to a square, as for its vector) and its last spatial
features are kept: DINOv2's final-norm patch tokens, the built-in model's last convolutional
feature map. Every cell of the result's map gets the best cosine of its features against all
of the query's cells, and the other way round, so a region that appears in both lights up
in both wherever it lies. Computed on demand from the two photos: nothing is stored.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from albumfinder.models.registry import Family
from albumfinder.regions import open_region, open_upright
from albumfinder.report import Explanation, QueryPart

if TYPE_CHECKING:
    from albumfinder.embedding.embedder import Embedder

#: the built-in model's maps are 7 x 7 at its input size; twice that gives 14 x 14 cells
#: for a few tens of milliseconds more (DINOv2 small at 224 px already gives 16 x 16)
SIDE_FACTOR = {Family.EFFICIENTNET_LITE: 2}
#: pixels of mirrored border added around each photo, one cell of the feature map, and
#: cut off the map again: a convolution's zero padding makes the border cells of any two
#: photos look alike (they lit up in every map); ViT patches have no padding
MIRRORED_BORDER = {Family.EFFICIENTNET_LITE: 32}


#: the feature maps of the last few query photos: "Why?" on one result after another of
#: one query then runs the model on the result photo only
_QUERY_MAPS: OrderedDict[tuple[object, ...], np.ndarray] = OrderedDict()
_QUERY_MAPS_KEPT = 4
_QUERY_MAPS_LOCK = threading.Lock()


def explain_side(model: Embedder) -> int:
    """The square side both photos are resized to for their maps."""
    return model.spec.input_size * SIDE_FACTOR.get(model.spec.family, 1)


def explain_pair(model: Embedder, query: QueryPart, result: str, score: float) -> Explanation:
    """The :class:`Explanation` of ``result`` for ``query`` (its region when cropped), with
    ``score`` the search's cosine of their vectors."""
    side = explain_side(model)
    key = _query_key(model, query)
    with _QUERY_MAPS_LOCK:
        known = _QUERY_MAPS.get(key) if key is not None else None
    photos = [open_upright(result, min_size=side)]
    if known is None:
        photos.insert(0, open_region(query.photo, query.crop, side))
    maps = list(_feature_maps(model, photos, side))
    if known is None:
        known = maps.pop(0)
        if key is not None:
            with _QUERY_MAPS_LOCK:
                _QUERY_MAPS[key] = known
                while len(_QUERY_MAPS) > _QUERY_MAPS_KEPT:
                    _QUERY_MAPS.popitem(last=False)
    query_map, result_map = match_maps(known, maps[0])
    rows, cols = result_map.shape
    return Explanation(
        model=model.spec.name,
        query=query.photo if isinstance(query.photo, str) else _name_of(query.photo),
        result=result,
        score=score,
        rows=rows,
        cols=cols,
        result_map=_rounded(result_map),
        query_map=_rounded(query_map),
    )


def _feature_maps(model: Embedder, photos: list[Image.Image], side: int) -> np.ndarray:
    border = MIRRORED_BORDER.get(model.spec.family, 0)
    maps = model.feature_maps([_square(photo, side, border) for photo in photos])
    if border:
        cut = maps.shape[1] * border // (side + 2 * border)  # the cells of the border
        maps = maps[:, cut:-cut, cut:-cut]
    return maps


def _query_key(model: Embedder, query: QueryPart) -> tuple[object, ...] | None:
    """What a query's feature map is kept under: the model and the file as it is now (a
    pasted image or bytes: not kept)."""
    if not isinstance(query.photo, str):
        return None
    try:
        info = os.stat(query.photo)
    except OSError:
        return None  # opening it says why
    return (
        model.model_key,
        str(model.precision),
        query.photo,
        info.st_size,
        info.st_mtime_ns,
        query.crop,
    )


def match_maps(query: np.ndarray, result: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(query map, result map) of two (rows, cols, channels) feature maps: each cell's best
    cosine against every cell of the other map, both stretched together to [0, 1] (0: the
    weakest cell of either map; all 0 when every cell is alike).

    The cells are centred first (the mean cell of both maps taken away): what all cells
    share (the built-in model's ReLU features are all positive) would otherwise make every
    cell look like every other, and the map flat."""
    rows, cols, channels = result.shape
    cells = np.concatenate([query.reshape(-1, channels), result.reshape(-1, channels)])
    cells = cells - cells.mean(axis=0, keepdims=True)
    cells /= np.maximum(np.linalg.norm(cells, axis=1, keepdims=True), 1e-12)
    split = query.shape[0] * query.shape[1]
    query_cells, result_cells = cells[:split], cells[split:]
    similarity = result_cells @ query_cells.T
    result_best = similarity.max(axis=1).reshape(rows, cols)
    query_best = similarity.max(axis=0).reshape(query.shape[:2])
    low = min(float(result_best.min()), float(query_best.min()))
    high = max(float(result_best.max()), float(query_best.max()))
    spread = high - low
    if spread <= 1e-6:
        return np.zeros_like(query_best), np.zeros_like(result_best)
    return (query_best - low) / spread, (result_best - low) / spread


def _square(image: Image.Image, side: int, border: int = 0) -> np.ndarray:
    """``image`` squashed to ``side`` x ``side`` (as for its vector), ``border`` pixels of
    its mirror image added on each side."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    resized = image.resize((side, side), Image.Resampling.BICUBIC, reducing_gap=3.0)
    pixels = np.asarray(resized, dtype=np.uint8)
    if border:
        pixels = np.pad(pixels, ((border, border), (border, border), (0, 0)), mode="reflect")
    return pixels


def _rounded(grid: np.ndarray) -> list[list[float]]:
    clipped = np.clip(grid.astype(np.float64), 0.0, 1.0)
    return [[round(float(v), 4) for v in row] for row in clipped]


def _name_of(photo: object) -> str:
    """What a query that is no file is called (a pasted image, dropped bytes)."""
    return "pasted image" if isinstance(photo, (bytes, Image.Image)) else str(photo)


def forget_query_maps() -> None:
    """Drop the kept query maps (a benchmark times a first "Why?" with it)."""
    with _QUERY_MAPS_LOCK:
        _QUERY_MAPS.clear()
