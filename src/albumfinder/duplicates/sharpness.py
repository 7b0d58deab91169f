"""How sharp a frame is: the keeper of a burst is its sharpest frame, not its largest file.

The measure is the variance of the Laplacian of the grey picture (the usual focus measure:
camera shake and missed focus take away the fine edges it counts), on the photo scaled to
:data:`SHORT_SIDE` pixels on its short side, so that frames of one burst compare alike
whatever their size. Only burst members are measured (a few decodes at reduced size).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

from albumfinder.errors import AlbumFinderError
from albumfinder.images import open_photo

SHORT_SIDE = 768


@lru_cache(maxsize=4096)
def sharpness(path: str, size: int, mtime_ns: int) -> float | None:
    """The focus measure of the photo at ``path`` (None: it could not be read). ``size``
    and ``mtime_ns`` key the cache: regrouping (a moved strictness slider) decodes nothing
    again, and a changed file is measured again."""
    try:
        image = open_photo(path, SHORT_SIDE)
    except AlbumFinderError:
        return None
    scale = SHORT_SIDE / min(image.size)
    if scale < 1:
        scaled = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(scaled, Image.Resampling.BILINEAR)
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    if min(grey.shape) < 3:
        return 0.0
    laplacian = (
        grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4 * grey[1:-1, 1:-1]
    )
    return float(laplacian.var())
