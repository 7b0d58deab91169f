"""What a photo is, besides its look: read once at indexing time and kept in the index.

The album-level jobs need these without opening every photo again: the date it was taken
(filters, bursts), its full size, format, JPEG quality and EXIF richness (which copy to
keep), a hash of its bytes (exact copies, decisions that survive moves) and perceptual
hashes of its eight orientations (a weight-free second opinion on near-duplicates that
also sees rotated and mirrored copies).

Dates are *wall-clock* times: EXIF DateTimeOriginal has no time zone, so every date here
(EXIF or the file's mtime in local time) is the local clock reading, stored as nanoseconds
since 1970-01-01 00:00 of that clock (:func:`wall_clock_ns`). A date a person types is
converted the same way, so "taken after 2024-06-01" means what they read on the clock.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from albumfinder.images import is_raw_name, open_regular_file

#: Bumped when what is read changes: facts of an older version are read again.
FACTS_VERSION = 1

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 0x9003
_SUBSEC_ORIGINAL = 0x9291
_DATETIME = 0x0132
_MAKE = 0x010F
_MODEL = 0x0110
_ORIENTATION = 0x0112
_HASH_CHUNK = 1 << 20
_EXIF_DATE = re.compile(r"(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")

#: The eight orientations of a photo, in the order of :attr:`PhotoFacts.orientation_hashes`,
#: as Pillow transposes of the upright photo (None: as it is), with how to say each.
ORIENTATIONS: tuple[tuple[Image.Transpose | None, str], ...] = (
    (None, "upright"),
    (Image.Transpose.ROTATE_90, "rotated 90°"),
    (Image.Transpose.ROTATE_180, "rotated 180°"),
    (Image.Transpose.ROTATE_270, "rotated 270°"),
    (Image.Transpose.FLIP_LEFT_RIGHT, "mirrored"),
    (Image.Transpose.FLIP_TOP_BOTTOM, "mirrored upside down"),
    (Image.Transpose.TRANSPOSE, "mirrored and rotated"),
    (Image.Transpose.TRANSVERSE, "mirrored and rotated"),
)


@dataclass(frozen=True)
class PhotoFacts:
    """What was read of one photo (None where it could not be told)."""

    width: int | None  # upright, full resolution
    height: int | None
    taken_ns: int | None  # wall-clock ns (see the module's docstring)
    taken_from: str | None  # "exif" (DateTimeOriginal, with sub-seconds) or "file" (mtime)
    camera: str | None  # "Make Model"
    has_gps: bool
    format: str | None  # Pillow's name ("JPEG", "PNG", "HEIF", "WEBP", …), "RAW"
    jpeg_quality: int | None  # estimated from the quantisation tables
    content_hash: str | None  # blake2b of every byte
    orientation_hashes: tuple[int, ...]  # 64-bit pHash of each of ORIENTATIONS

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)

    @property
    def exif_richness(self) -> int:
        """How much of what a person keeps a photo for its metadata holds: date, camera, place."""
        return (self.taken_from == "exif") + (self.camera is not None) + self.has_gps


def read_facts(path: str, mtime_ns: int, upright: Image.Image) -> PhotoFacts:
    """The facts of the photo at ``path``; ``upright`` is its decoded, upright picture (any
    size: only a 32×32 grey version of it is hashed). The header is read again for the
    full size and the metadata; a part that cannot be read is None, never an error."""
    header = _read_header(path)
    taken_ns, taken_from = header.pop("taken", (None, None))
    if taken_ns is None:
        try:
            taken_ns, taken_from = wall_clock_ns(datetime.fromtimestamp(mtime_ns / 1e9)), "file"
        except (ValueError, OverflowError, OSError):  # a date past 9999 (tmpfs, XFS bigtime)
            taken_ns, taken_from = None, None
    return PhotoFacts(
        width=header.get("width"),
        height=header.get("height"),
        taken_ns=taken_ns,
        taken_from=taken_from,
        camera=header.get("camera"),
        has_gps=bool(header.get("gps")),
        format=header.get("format"),
        jpeg_quality=header.get("quality"),
        content_hash=_content_hash(path),
        orientation_hashes=orientation_hashes(upright),
    )


def orientation_hashes(image: Image.Image) -> tuple[int, ...]:
    """The 64-bit perceptual hash (imagehash's pHash) of each of :data:`ORIENTATIONS`."""
    import imagehash  # imports scipy: only when indexing

    small = ImageOps.grayscale(image).resize((32, 32), Image.Resampling.LANCZOS)
    out = []
    for transpose, _name in ORIENTATIONS:
        turned = small if transpose is None else small.transpose(transpose)
        out.append(int(str(imagehash.phash(turned)), 16))
    return tuple(out)


def hash_distance(a: int, b: int) -> int:
    """Bits that differ between two 64-bit hashes."""
    return (a ^ b).bit_count()


def wall_clock_ns(moment: datetime) -> int:
    """A clock reading (naive: no time zone) as ns since 1970-01-01 00:00 of that clock."""
    seconds = calendar.timegm(moment.replace(tzinfo=None).timetuple())
    return seconds * 1_000_000_000 + moment.microsecond * 1000


def wall_clock_datetime(ns: int) -> datetime:
    """The clock reading :func:`wall_clock_ns` made ``ns`` of."""
    return datetime(1970, 1, 1) + timedelta(microseconds=ns // 1000)


def _read_header(path: str) -> dict[str, Any]:
    if is_raw_name(path):
        return {"format": "RAW"}
    out: dict[str, Any] = {}
    try:
        with open_regular_file(path) as handle, Image.open(handle) as image:
            out["format"] = image.format
            width, height = image.size
            exif = image.getexif()
            if exif.get(_ORIENTATION) in (5, 6, 7, 8):
                width, height = height, width
            out["width"], out["height"] = width, height
            out.update(_exif_facts(exif))
            tables = getattr(image, "quantization", None)
            if image.format == "JPEG" and tables:
                out["quality"] = estimate_jpeg_quality(tables)
    except Exception:  # noqa: BLE001 - a photo that decoded but whose header puzzles: fewer facts
        pass
    return out


def _exif_facts(exif: Image.Exif) -> dict[str, Any]:
    out: dict[str, Any] = {}
    sub = exif.get_ifd(_EXIF_IFD)
    taken = _exif_time(sub.get(_DATETIME_ORIGINAL), sub.get(_SUBSEC_ORIGINAL))
    if taken is None:
        taken = _exif_time(exif.get(_DATETIME), None)
    if taken is not None:
        out["taken"] = (taken, "exif")
    make, model = (str(exif.get(t) or "").strip("\x00 ") for t in (_MAKE, _MODEL))
    if make or model:
        out["camera"] = model if make and model.startswith(make) else f"{make} {model}".strip()
    out["gps"] = bool(exif.get_ifd(_GPS_IFD))
    return out


def _exif_time(value: object, subsec: object) -> int | None:
    match = _EXIF_DATE.match(str(value or ""))
    if not match:
        return None
    try:
        moment = datetime(*(int(g) for g in match.groups()))  # type: ignore[arg-type]
    except ValueError:  # "0000:00:00 00:00:00" and other placeholders
        return None
    fraction = re.sub(r"\D", "", str(subsec or ""))[:9]
    extra = int(fraction.ljust(9, "0")) if fraction else 0
    return wall_clock_ns(moment) + extra


# libjpeg's base luminance table (ITU T.81 K.1), in natural order.
_BASE_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip


def estimate_jpeg_quality(tables: dict[int, Iterable[int]]) -> int | None:
    """The libjpeg quality (1-100) whose scaling of the standard table is nearest to the
    photo's luminance table (Pillow gives it in natural order): what "re-encoded (JPEG
    q60)" reports."""
    luma = np.fromiter(tables.get(0, ()), dtype=np.float64)
    if luma.shape != (64,):
        return None
    error = np.abs(_SCALED_LUMA - luma).sum(axis=1)
    return int(np.argmin(error)) + 1


def _scaled_luma() -> np.ndarray:
    """The luminance table libjpeg writes at each quality 1-100, one row each."""
    quality = np.arange(1, 101, dtype=np.float64)[:, None]
    scale = np.where(quality < 50, 5000 / quality, 200 - 2 * quality)
    scaled: np.ndarray = np.clip((np.array(_BASE_LUMA) * scale + 50) // 100, 1, 255)
    return scaled


_SCALED_LUMA = _scaled_luma()


def _content_hash(path: str) -> str | None:
    digest = hashlib.blake2b(digest_size=16)
    try:
        with open_regular_file(path) as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()
