"""Per-pair verdicts and the one line of why, from the embedding cosine and the photo facts.

A pair is ``exact`` when its bytes are the same (content hash), or, in the same format, its
decoded pixels are (decoded only when the hashes differ but size and pHash match exactly:
a photo whose metadata alone was changed). It is a ``near-duplicate`` when its cosine is in
the near band of the strictness, or a little below it when the pHash of one of the eight
orientations backs it (rotated and mirrored copies, filters). Two shots whose EXIF capture
times differ are never copies of one another: they are bursts or look-alikes.
"""

from __future__ import annotations

import math

import numpy as np

from albumfinder.duplicates.photo import Photo
from albumfinder.duplicates.thresholds import (
    CROP_ASPECT,
    PHASH_NEAR_BITS,
    PHASH_SAME_FRAMING_BITS,
    Thresholds,
)
from albumfinder.errors import AlbumFinderError
from albumfinder.images import open_photo
from albumfinder.photo_facts import ORIENTATIONS, hash_distance
from albumfinder.report import GroupKind


def best_orientation(a: Photo, b: Photo) -> tuple[int, int]:
    """(index in ORIENTATIONS, bits apart): the turn of ``a`` that looks most like ``b``
    upright (64 bits apart: no hashes)."""
    if not (a.facts and b.facts and a.facts.orientation_hashes and b.facts.orientation_hashes):
        return 0, 64
    upright = b.facts.orientation_hashes[0]
    distances = [hash_distance(h, upright) for h in a.facts.orientation_hashes]
    best = int(np.argmin(distances))
    if distances[0] == distances[best]:
        best = 0  # a symmetric picture: upright wins a tie
    return best, distances[best]


def different_captures(a: Photo, b: Photo) -> bool:
    """Both have an EXIF capture time, and they differ: two shots, not one shot copied."""
    fa, fb = a.facts, b.facts
    return bool(
        fa and fb and fa.taken_from == "exif" and fb.taken_from == "exif"
        and fa.taken_ns != fb.taken_ns
    )  # fmt: skip


def same_pixels(a: Photo, b: Photo) -> bool:
    """Whether two files in the same format decode to the same pixels (decoded in full)."""
    try:
        first, second = open_photo(a.path), open_photo(b.path)
    except AlbumFinderError:
        return False
    return first.size == second.size and first.tobytes() == second.tobytes()


def pair_kind(
    a: Photo, b: Photo, cos: float, thresholds: Thresholds, strictness: float
) -> GroupKind | None:
    """The strictest kind the pair ``a``, ``b`` is (None: not alike enough for any)."""
    if a.content_hash is not None and a.content_hash == b.content_hash:
        return GroupKind.EXACT
    look = thresholds.look_alike(strictness)
    if different_captures(a, b):
        return GroupKind.LOOK_ALIKE if cos >= look else None
    turn, bits = best_orientation(a, b)
    if _could_be_same_pixels(a, b, turn, bits) and same_pixels(a, b):
        return GroupKind.EXACT
    if cos >= thresholds.near(strictness) or (
        bits <= PHASH_NEAR_BITS and cos >= thresholds.backed(strictness)
    ):
        return GroupKind.NEAR_DUPLICATE
    return GroupKind.LOOK_ALIKE if cos >= look else None


def _could_be_same_pixels(a: Photo, b: Photo, turn: int, bits: int) -> bool:
    fa, fb = a.facts, b.facts
    return bool(
        fa and fb and turn == 0 and bits == 0 and fa.format == fb.format
        and (fa.width, fa.height) == (fb.width, fb.height)
    )  # fmt: skip


def copy_why(member: Photo, keeper: Photo, exact: bool) -> str:
    """How ``member`` differs from the ``keeper`` it is a copy of, in one line."""
    if member.content_hash is not None and member.content_hash == keeper.content_hash:
        return "identical file"
    if exact:
        return "same pixels"
    parts: list[str] = []
    turn, bits = best_orientation(keeper, member)
    if turn:
        parts.append(ORIENTATIONS[turn][1])
    size_part = _size_words(member, keeper, turn, bits)
    if size_part:
        parts.append(size_part)
    encoding = _encoding_words(member, keeper)
    if encoding:
        parts.append(encoding)
    return ", ".join(parts) if parts else "edited"


def _size_words(member: Photo, keeper: Photo, turn: int, bits: int) -> str | None:
    fm, fk = member.facts, keeper.facts
    if not (fm and fk and fm.width and fm.height and fk.width and fk.height):
        return None
    kw, kh = (fk.height, fk.width) if turn in (1, 3, 6, 7) else (fk.width, fk.height)
    aspect_change = abs((fm.width / fm.height) / (kw / kh) - 1)
    if aspect_change > CROP_ASPECT or (bits > PHASH_SAME_FRAMING_BITS and fm.pixels < fk.pixels):
        return "cropped"
    scale = math.sqrt(fm.pixels / max(fk.pixels, 1))
    smaller = round((1 - scale) * 100)
    if smaller >= 5:
        return f"same picture, {smaller} % smaller"
    return None


def _encoding_words(member: Photo, keeper: Photo) -> str | None:
    fm, fk = member.facts, keeper.facts
    if not (fm and fk and fm.format):
        return None
    if fm.format == "JPEG" and fm.jpeg_quality is not None:
        lower = fk.format != "JPEG" or (fk.jpeg_quality or 100) - fm.jpeg_quality >= 5
        return f"re-encoded (JPEG q{fm.jpeg_quality})" if lower else None
    if fm.format != fk.format:
        return f"re-encoded ({fm.format})"
    return None


def burst_why(gap_ns: int) -> str:
    return f"burst, {gap_ns / 1e9:.1f} s apart"


def look_alike_why(cos: float) -> str:
    return f"similar content {round(max(cos, 0.0) * 100)} %"
