"""Open any supported photo safely and fast.

One entry point, :func:`open_photo`, returns an upright RGB image or raises
:class:`ImageLoadError` with a reason a person can read. It opens files by content (a PNG
named ``.jpg`` opens as a PNG), decodes JPEGs at reduced size when less is needed (draft),
applies the EXIF orientation, converts every mode to 8-bit RGB, and refuses decompression
bombs by looking at the declared size before decoding anything.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import threading
import warnings
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from albumfinder import memory_budget
from albumfinder.errors import ImageLoadError


@dataclass(frozen=True)
class PhotoType:
    """One kind of photo Album Finder reads: its file name extensions and the Pillow
    formats its content may have (a file opens by content, within the formats of all types)."""

    name: str
    extensions: tuple[str, ...]
    pillow_formats: tuple[str, ...]
    #: what a drag or a paste calls this content ("image/heic"), for the faces to take it
    mime_types: tuple[str, ...] = ()


#: RAW camera files: indexed through the JPEG preview the camera embeds in them.
RAW_EXTENSIONS = (
    ".dng",
    ".arw",
    ".cr2",
    ".cr3",
    ".nef",
    ".nrw",
    ".orf",
    ".rw2",
    ".raf",
    ".pef",
    ".srw",
    ".raw",
    ".rwl",
    ".3fr",
    ".erf",
    ".kdc",
    ".mrw",
    ".x3f",
)

#: THE list of supported photo types: the scanner, decoding (``Image.open(formats=...)``),
#: the Open dialog and the README all follow it. Only formats a camera or a phone writes:
#: no plugin that runs an external program (EPS runs Ghostscript) or reads science data.
PHOTO_TYPES = (
    PhotoType("JPEG", (".jpg", ".jpeg", ".jpe", ".jfif"), ("JPEG",), ("image/jpeg",)),
    PhotoType("MPO (multi-picture JPEG)", (".mpo",), ("JPEG",)),  # Pillow: JPEG → MPO
    PhotoType("PNG and APNG", (".png", ".apng"), ("PNG",), ("image/png", "image/apng")),
    PhotoType("WebP", (".webp",), ("WEBP",), ("image/webp",)),
    PhotoType("HEIC/HEIF", (".heic", ".heif"), ("HEIF",), ("image/heic", "image/heif")),
    PhotoType("AVIF and AVIF sequences", (".avif", ".avifs"), ("AVIF", "HEIF"), ("image/avif",)),
    PhotoType("TIFF", (".tif", ".tiff"), ("TIFF",), ("image/tiff",)),
    PhotoType("BMP", (".bmp",), ("BMP",), ("image/bmp",)),
    PhotoType("GIF", (".gif",), ("GIF",), ("image/gif",)),
    PhotoType("RAW (its embedded preview)", RAW_EXTENSIONS, ("TIFF", "JPEG")),
)

#: File name extensions that are considered photos (compared in lower case).
PHOTO_EXTENSIONS = frozenset(ext for kind in PHOTO_TYPES for ext in kind.extensions)

#: The Pillow formats any photo may be opened as; nothing else is ever tried.
PILLOW_FORMATS = tuple(dict.fromkeys(f for kind in PHOTO_TYPES for f in kind.pillow_formats))


#: The MIME types of photo content a drop or a paste may carry, in the list's order.
PHOTO_MIME_TYPES = tuple(dict.fromkeys(m for kind in PHOTO_TYPES for m in kind.mime_types))


def photo_name_patterns() -> list[str]:
    """``*.jpg``-style patterns of every supported extension (for a file dialog's filter)."""
    return [f"*{ext}" for kind in PHOTO_TYPES for ext in kind.extensions]


#: Largest image we decode, in pixels. A 30000x30000 PNG (900 MP) is refused; a 200 MP
#: panorama is not. Checked on the declared size, before any pixel is decoded.
MAX_PIXELS = 250_000_000
_formats_lock = threading.Lock()
_formats_registered = False


def register_formats() -> None:
    """Set Pillow up to read every photo type (once; later calls return at once, from any
    thread): HEIC/HEIF (and AVIF with older pillow-heif) by content, whatever the file is
    named, and Pillow's pixel limit raised to ours. Pillow's settings are global, so this
    happens when Album Finder first decodes a photo (or :func:`albumfinder.runtime.
    tune_process` asks), not at import."""
    global _formats_registered
    if _formats_registered:
        return
    with _formats_lock:
        if _formats_registered:
            return
        try:
            import pillow_heif
        except ImportError:  # pragma: no cover - declared dependency, but work without it
            pass
        else:
            pillow_heif.register_heif_opener()
            if hasattr(pillow_heif, "register_avif_opener"):
                with contextlib.suppress(Exception):  # Pillow's own AVIF plugin may be there
                    pillow_heif.register_avif_opener()
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        # Pillow refuses images over twice its own limit (2 × 89 MP) before we can look at
        # them: raise its limit to ours, so the check in _decode is the one that decides.
        Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, MAX_PIXELS)
        _formats_registered = True


def is_photo_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in PHOTO_EXTENSIONS


def open_photo(path: str | os.PathLike[str], min_size: int | None = None) -> Image.Image:
    """Open ``path`` as an upright 8-bit RGB image.

    ``min_size`` lets large photos be decoded or reduced to a smaller scale while both sides
    stay at least that many pixels (the model then resizes the rest of the way).
    """
    register_formats()
    try:
        with open_regular_file(path) as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                raise ImageLoadError(path, "empty file (0 bytes)")
            if is_raw_name(os.fspath(path)):
                return _decode_raw(handle, path, min_size)
            return _decode(handle, path, min_size)
    except ImageLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clear error type
        raise ImageLoadError(path, describe_error(exc)) from exc


#: Why a pipe, socket or device file is not opened (also what the scanner lists).
NOT_REGULAR_FILE = "not a regular file (a pipe, socket or device)"


def open_regular_file(path: str | os.PathLike[str]) -> io.BufferedReader:
    """Open ``path`` for reading only if it is a regular file, without ever blocking on
    the open itself (a FIFO with no writer would block for good with a plain ``open``)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder", os.fspath(path))
        if not stat.S_ISREG(mode):
            raise ImageLoadError(path, NOT_REGULAR_FILE)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def is_raw_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in RAW_EXTENSIONS


def open_photo_bytes(
    data: bytes, name: str = "pasted image", min_size: int | None = None
) -> Image.Image:
    """Like :func:`open_photo` for image data held in memory (a paste, a browser drag)."""
    register_formats()
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
#: A decode that did not finish within its deadline (a hung network mount, a cloud file
#: not downloaded): tried again on the next run.
READ_TIMEOUT = "the file could not be read in time"


def is_retryable(reason: str) -> bool:
    """True for a reason that says nothing about the file's content (no permission, a read
    error, low memory): such a photo is tried again on the next run even if unchanged,
    since fixing permissions does not change a file's size or modification time."""
    return reason in (_PERMISSION_DENIED, _NO_MEMORY, READ_TIMEOUT) or reason.startswith(
        _READ_FAILED
    )


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


def _decode(
    stream: IO[bytes], path: str | os.PathLike[str] | None, min_size: int | None
) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(stream, formats=PILLOW_FORMATS)
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageLoadError(path, "image has no pixels")
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            path,
            f"image is too large ({width}×{height} = {width * height / 1e6:.0f} megapixels; "
            f"the limit is {MAX_PIXELS / 1e6:.0f})",
        )
    if min_size and image.format in ("JPEG", "MPO"):
        image.draft("RGB", (min_size, min_size))  # decoded at 1/2, 1/4 or 1/8 scale
    needed = decoded_bytes(image)
    budget = memory_budget.DECODE_BUDGET
    try:
        if needed <= budget.large:
            with budget.reserve(2 * needed):  # the pixels, then as RGB
                image.load()
                return to_rgb(ImageOps.exif_transpose(image))
        with budget.reserve(needed + _STRIP_BYTES):
            image.load()
            return _reduced_upright_rgb(image, min_size)
    except memory_budget.BudgetTimeout as exc:  # retried on the next run, as a slow read is
        raise ImageLoadError(path, READ_TIMEOUT) from exc


def decoded_bytes(image: Image.Image) -> int:
    """What the decoded pixels take in memory, known from the header alone."""
    width, height = image.size
    return width * height * _BYTES_PER_PIXEL.get(image.mode, 4)


# Pillow keeps 1 byte a pixel for these modes, 2 for 16-bit grey, 4 for every other mode
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
#: Pixels converted at a time when a large image is reduced (bounds the copies' memory).
_STRIP_PIXELS = 2_000_000
_STRIP_BYTES = _STRIP_PIXELS * 24  # a strip in its mode, as float32, as 8-bit RGB
_ORIENTATION_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _reduced_upright_rgb(image: Image.Image, min_size: int | None) -> Image.Image:
    """A large decoded image as upright 8-bit RGB, reduced by a whole factor (box average)
    while both sides stay at least ``min_size``, converted strip by strip so that no
    full-size copy of the image is ever made (16-bit data as float64 was 4× the pixels)."""
    width, height = image.size
    factor = max(1, min(width, height) // min_size) if min_size else 1
    top = _top_value(image) if image.mode in _HIGH_DEPTH_MODES else None
    rows = max(factor, _STRIP_PIXELS // width // factor * factor)
    reduced = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    for y in range(0, height, rows):
        strip = to_rgb(image.crop((0, y, width, min(height, y + rows))), top)
        reduced.paste(strip.reduce(factor) if factor > 1 else strip, (0, y // factor))
    orientation = image.getexif().get(0x0112)
    turn = _ORIENTATION_TURNS.get(orientation) if isinstance(orientation, int) else None
    return reduced if turn is None else reduced.transpose(turn)


_HIGH_DEPTH_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def _top_value(image: Image.Image) -> float:
    extrema = image.getextrema()
    high = float(extrema[1]) if isinstance(extrema[1], (int, float)) else 1.0  # one band
    return high if high == high else 1.0  # NaN: treat as 0..1 data


def to_rgb(image: Image.Image, top: float | None = None) -> Image.Image:
    """8-bit RGB from any mode: alpha composited on white, 16-bit scaled, not clipped.

    ``top``: the largest value of the whole image, when ``image`` is one strip of it."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
        if mode == "RGB":
            return image
    if mode in _HIGH_DEPTH_MODES:
        return _high_depth_to_rgb(image, top)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _high_depth_to_rgb(image: Image.Image, top: float | None = None) -> Image.Image:
    array = np.asarray(image)
    if top is None:
        top = _top_value(image) if array.size else 0.0
    if array.dtype.kind == "f":
        scaled = np.clip(np.nan_to_num(array) / (top if top > 1.0 else 1.0), 0, 1) * 255
    else:
        # 16-bit data (also when Pillow holds it as 32-bit "I"); 8-bit values stay as they are
        sixteen_bit = top > 255 or image.mode.startswith("I;16")
        scaled = array / np.float32(257.0) if sixteen_bit else array
    gray = Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), "L")
    return gray.convert("RGB")


def _decode_raw(
    handle: BinaryIO, path: str | os.PathLike[str] | None, min_size: int | None
) -> Image.Image:
    """A RAW camera file through the preview the camera embedded in it (rawpy/LibRaw); a
    DNG or other TIFF-based RAW that LibRaw cannot read opens with the TIFF reader."""
    preview = _raw_preview(handle)
    if preview is not None:
        return preview if isinstance(preview, Image.Image) else _decode(preview, path, min_size)
    handle.seek(0)
    try:
        return _decode(handle, path, min_size)
    except UnidentifiedImageError as exc:
        raise ImageLoadError(path, "RAW file without a preview this version can read") from exc


def _raw_preview(handle: BinaryIO) -> io.BytesIO | Image.Image | None:
    try:
        import rawpy
    except ImportError:  # pragma: no cover - declared dependency
        return None
    try:
        with rawpy.imread(handle) as raw:
            thumb = raw.extract_thumb()
    except (rawpy.LibRawError, ValueError, OSError):
        return None
    data: Any = thumb.data  # JPEG bytes, or an RGB array (a bitmap thumbnail)
    if thumb.format == rawpy.ThumbFormat.JPEG:
        return io.BytesIO(data)
    return to_rgb(Image.fromarray(data))
