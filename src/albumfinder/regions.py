"""The pictures a query is made of: a photo (path, encoded bytes or an image) opened
upright, and the region of it a :class:`~albumfinder.report.Crop` names."""

from __future__ import annotations

import math
import os

from PIL import Image

from albumfinder.errors import AlbumFinderError
from albumfinder.images import open_photo, open_photo_bytes
from albumfinder.report import Crop


class QueryError(AlbumFinderError, ValueError):
    """A query that cannot be searched with as asked (a region outside the photo…)."""


def check_crop(crop: Crop | None) -> None:
    """Raise :class:`QueryError` for a region that is not inside the photo."""
    if crop is None:
        return
    problem = crop.problem()
    if problem is not None:
        values = ",".join(f"{v:g}" for v in crop.as_list())
        raise QueryError(f"the region {values} (LEFT,TOP,WIDTH,HEIGHT) is no region: {problem}")


def decode_size_for(crop: Crop | None, size: int) -> int:
    """The smallest side a photo may be decoded at so that ``crop`` of it still has both
    sides at least ``size`` pixels (the model's input) where the photo is that large."""
    if crop is None:
        return size
    return math.ceil(size / max(min(crop.width, crop.height), 1e-6))


def open_upright(photo: object, min_size: int | None = None) -> Image.Image:
    """``photo`` (a path, encoded bytes or a PIL image, taken as upright) as an upright RGB
    image; ``min_size``: decoded at a reduced scale while both sides stay that large."""
    if isinstance(photo, Image.Image):
        return photo if photo.mode == "RGB" else photo.convert("RGB")
    if isinstance(photo, bytes):
        return open_photo_bytes(photo, min_size=min_size)
    return open_photo(os.fspath(photo), min_size=min_size)  # type: ignore[call-overload]


def cut(image: Image.Image, crop: Crop | None) -> Image.Image:
    """The ``crop`` region of the upright ``image`` (at least one pixel each way)."""
    if crop is None:
        return image
    width, height = image.size
    left = min(int(round(crop.left * width)), width - 1)
    top = min(int(round(crop.top * height)), height - 1)
    right = max(min(int(round((crop.left + crop.width) * width)), width), left + 1)
    bottom = max(min(int(round((crop.top + crop.height) * height)), height), top + 1)
    return image.crop((left, top, right, bottom))


def open_region(photo: object, crop: Crop | None, size: int) -> Image.Image:
    """The region ``crop`` of ``photo``, upright, at a resolution that keeps both sides of
    the region at least ``size`` pixels where the photo has them (full resolution at most)."""
    check_crop(crop)
    return cut(open_upright(photo, decode_size_for(crop, size)), crop)
