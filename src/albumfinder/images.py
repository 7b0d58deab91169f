"""Open any supported photo safely and fast.

One entry point, :func:`open_photo`, returns an upright RGB image or raises
:class:`ImageLoadError` with a reason a person can read. It opens files by content (a PNG
named ``.jpg`` opens as a PNG), decodes JPEGs at reduced size when less is needed (draft),
applies the EXIF orientation, converts every mode to 8-bit RGB, and refuses decompression
bombs by looking at the declared size before decoding anything.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

try:  # HEIC/HEIF (and AVIF with older pillow-heif) by content, whatever the file is named
    import pillow_heif

    pillow_heif.register_heif_opener()
    if hasattr(pillow_heif, "register_avif_opener"):
        with contextlib.suppress(Exception):  # Pillow's own AVIF plugin may be there already
            pillow_heif.register_avif_opener()
except ImportError:  # pragma: no cover - declared dependency, but keep working without it
    pillow_heif = None

ImageFile.LOAD_TRUNCATED_IMAGES = False

#: File name extensions that are considered photos (compared in lower case).
PHOTO_EXTENSIONS = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".webp",
        ".bmp",
        ".gif",
        ".tif",
        ".tiff",
        ".heic",
        ".heif",
        ".avif",
    }
)

#: Largest image we decode, in pixels. A 30000x30000 PNG (900 MP) is refused; a 200 MP
#: panorama is not. Checked on the declared size, before any pixel is decoded.
MAX_PIXELS = 250_000_000
# Pillow refuses images over twice its own limit (2 × 89 MP) before we can look at them:
# raise its limit to ours, so the check in _decode is the one that decides.
Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, MAX_PIXELS)


class ImageLoadError(Exception):
    """A photo could not be opened; ``reason`` says why in words a user understands."""

    def __init__(self, path: str | os.PathLike[str] | None, reason: str) -> None:
        self.path = str(path) if path is not None else None
        self.reason = reason
        super().__init__(reason if self.path is None else f"{self.path}: {reason}")


def is_photo_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in PHOTO_EXTENSIONS


def open_photo(path: str | os.PathLike[str], min_size: int | None = None) -> Image.Image:
    """Open ``path`` as an upright 8-bit RGB image.

    ``min_size`` lets JPEGs be decoded at a reduced scale while both sides stay at least
    that many pixels (the model then resizes the rest of the way).
    """
    try:
        if os.path.getsize(path) == 0:
            raise ImageLoadError(path, "empty file (0 bytes)")
        with open(path, "rb") as handle:
            return _decode(handle, path, min_size)
    except ImageLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clear error type
        raise ImageLoadError(path, describe_error(exc)) from exc


def open_photo_bytes(
    data: bytes, name: str = "pasted image", min_size: int | None = None
) -> Image.Image:
    """Like :func:`open_photo` for image data held in memory (a paste, a browser drag)."""
    if not data:
        raise ImageLoadError(name, "empty image data")
    try:
        return _decode(io.BytesIO(data), name, min_size)
    except ImageLoadError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ImageLoadError(name, describe_error(exc)) from exc


_PERMISSION_DENIED = "permission denied"
_NO_MEMORY = "not enough memory to decode this image"
_READ_FAILED = "could not read the file"


def is_retryable(reason: str) -> bool:
    """True for a reason that says nothing about the file's content (no permission, a read
    error, low memory): such a photo is tried again on the next run even if unchanged,
    since fixing permissions does not change a file's size or modification time."""
    return reason in (_PERMISSION_DENIED, _NO_MEMORY) or reason.startswith(_READ_FAILED)


def describe_error(exc: BaseException) -> str:
    """A short human-readable reason for an exception raised while opening a photo."""
    if isinstance(exc, FileNotFoundError):
        return "file no longer exists"
    if isinstance(exc, PermissionError):
        return _PERMISSION_DENIED
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(exc, UnidentifiedImageError):
        return "not a recognised image format"
    if isinstance(exc, Image.DecompressionBombError):
        return "image is too large to decode safely"
    if isinstance(exc, MemoryError):
        return _NO_MEMORY
    text = str(exc)
    if isinstance(exc, (OSError, SyntaxError, ValueError)) and (
        "truncated" in text or "broken data stream" in text or "premature end" in text.lower()
    ):
        return "file is truncated or corrupt"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{_READ_FAILED} ({exc.strerror or text})"
    return (
        f"could not decode the image ({type(exc).__name__}: {text})"
        if text
        else (f"could not decode the image ({type(exc).__name__})")
    )


def _decode(stream, path, min_size: int | None) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(stream)
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageLoadError(path, "image has no pixels")
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            path,
            f"image is too large ({width}×{height} = {width * height / 1e6:.0f} megapixels; "
            f"the limit is {MAX_PIXELS / 1e6:.0f})",
        )
    if min_size and image.format == "JPEG":
        image.draft("RGB", (min_size, min_size))
    image.load()
    image = ImageOps.exif_transpose(image)  # upright, whatever the EXIF orientation
    return to_rgb(image)


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any mode: alpha composited on white, 16-bit scaled, not clipped."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
        if mode == "RGB":
            return image
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _high_depth_to_rgb(image)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _high_depth_to_rgb(image: Image.Image) -> Image.Image:
    array = np.asarray(image)
    if array.dtype.kind == "f":
        top = float(np.nanmax(array)) if array.size else 1.0
        scaled = np.clip(np.nan_to_num(array) / (top if top > 1.0 else 1.0), 0, 1) * 255
    else:
        array = array.astype(np.int64)
        top = int(array.max()) if array.size else 0
        # 16-bit data (also when Pillow holds it as 32-bit "I"); 8-bit values stay as they are
        scaled = array / 257.0 if top > 255 or image.mode.startswith("I;16") else array
    gray = Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), "L")
    return gray.convert("RGB")
