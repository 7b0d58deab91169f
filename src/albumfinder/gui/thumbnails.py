"""Thumbnails decoded off the GUI thread (the core's :func:`open_photo`: draft decode, EXIF
orientation, HEIC) and kept in a bounded LRU cache of QImages."""

from __future__ import annotations

import os
from collections import OrderedDict

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from albumfinder.gui.workers import Pools

CACHE_ENTRIES = 400


def pil_to_qimage(image) -> QImage:
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    qimage = QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888)
    return qimage.copy()  # own the pixels: ``data`` goes away


def load_thumbnail(source: str | bytes, size: int) -> QImage:
    """``source`` (a path or encoded bytes) scaled to fit ``size`` x ``size``. Raises
    :class:`ImageLoadError` for anything that is not a readable photo."""
    from PIL import Image

    from albumfinder.images import open_photo, open_photo_bytes

    if isinstance(source, bytes):
        image = open_photo_bytes(source, min_size=size)
    else:
        image = open_photo(source, min_size=size)
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    return pil_to_qimage(image)


def _cache_key(path: str, size: int) -> tuple:
    try:
        info = os.stat(path)
        return (path, size, info.st_size, info.st_mtime_ns)
    except OSError:
        return (path, size, None, None)


class ThumbnailLoader(QObject):
    """``request(path, size)`` answers from the cache or emits ``ready`` later."""

    ready = Signal(str, int, QImage)
    failed = Signal(str, int, str)

    def __init__(self, pools: Pools, capacity: int = CACHE_ENTRIES) -> None:
        super().__init__()
        self.pools = pools
        self.capacity = capacity
        self._cache: OrderedDict[tuple, QImage] = OrderedDict()
        self._pending: set[tuple[str, int]] = set()

    def __len__(self) -> int:
        return len(self._cache)

    def cached(self, path: str, size: int) -> QImage | None:
        key = _cache_key(path, size)
        image = self._cache.get(key)
        if image is not None:
            self._cache.move_to_end(key)
        return image

    def request(self, path: str, size: int) -> QImage | None:
        image = self.cached(path, size)
        if image is not None or (path, size) in self._pending:
            return image
        self._pending.add((path, size))
        key = _cache_key(path, size)

        def done(qimage: QImage) -> None:
            self._pending.discard((path, size))
            self._cache[key] = qimage
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
            self.ready.emit(path, size, qimage)

        def error(exc: BaseException) -> None:
            self._pending.discard((path, size))
            self.failed.emit(path, size, str(getattr(exc, "reason", exc)))

        self.pools.interactive_task(
            lambda _p, _s: load_thumbnail(path, size),
            on_result=done,
            on_error=error,
            priority=-1,  # after queries
        )
        return None
