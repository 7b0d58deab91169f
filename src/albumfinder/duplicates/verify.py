"""Per-pair verdicts and the one line of why, from the embedding cosine and the photo facts.

A pair is ``exact`` when its bytes are the same (content hash), or, in the same format, its
decoded pixels are (decoded only when the hashes differ but size and pHash match exactly:
a photo whose metadata alone was changed). It is a ``near-duplicate`` when its cosine is in
the near band of the strictness, or when the pHash of one of the eight orientations says
it is the same picture, the cosine agrees it is the same scene and, decoded small, the
pixels agree (rotated and mirrored copies, which the embedding sees less alike; two
catalogue shots of one product fool the hash), or when its cosine is in the band just under
the near threshold and, decoded small, one photo is the other scaled or a large enough
window of it (crops, which neither the embedding nor the pHash sees alike:
:mod:`albumfinder.duplicates.alignment`). Two shots whose EXIF capture
times differ (or, without EXIF, that a camera numbered in sequence seconds apart) are
never copies of one another: they are bursts or look-alikes.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

import numpy as np

from albumfinder.duplicates.alignment import Alignment, FileKey, align
from albumfinder.duplicates.photo import Photo
from albumfinder.duplicates.thresholds import (
    BURST_GAP_S,
    BURST_NAME_STEP,
    CROP_ASPECT,
    CROP_PIXELS,
    Thresholds,
    crop_area,
    phash_bits,
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
    """Two shots, not one shot copied: their EXIF capture times differ, or (without EXIF)
    a camera numbered them in sequence seconds apart in one folder."""
    fa, fb = a.facts, b.facts
    if not (fa and fb and fa.taken_ns is not None and fb.taken_ns is not None):
        return False
    if fa.taken_from == "exif" and fb.taken_from == "exif":
        return fa.taken_ns != fb.taken_ns
    return (
        fa.taken_from == fb.taken_from == "file"
        and a.folder == b.folder
        and abs(fa.taken_ns - fb.taken_ns) <= BURST_GAP_S * 1e9
        and names_follow(a.path, b.path)
    )


_NUMBERED = re.compile(r"^(.*?)(\d+)\D*$")


def names_follow(a: str, b: str) -> bool:
    """IMG_0041.jpg then IMG_0042.jpg: the same stem, numbers a few steps apart (a copy
    is "IMG_0041 (1).jpg" or "IMG_0041-edited.jpg")."""
    ma = _NUMBERED.match(os.path.basename(a))
    mb = _NUMBERED.match(os.path.basename(b))
    if not (ma and mb) or ma.group(1) != mb.group(1):
        return False
    return 0 < abs(int(mb.group(2)) - int(ma.group(2))) <= BURST_NAME_STEP


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
    if cos >= thresholds.near(strictness):
        return GroupKind.NEAR_DUPLICATE
    # under the near threshold the pixels decide: a turned or mirrored copy the pHash
    # matched (two catalogue shots of one product match it too), or a crop in the band
    hashed = bits <= phash_bits(strictness) and cos >= thresholds.phash_floor
    cropped = cos >= thresholds.crop_floor and _sizes_differ(a, b)
    if (hashed or cropped) and _in_window(a, b, strictness):
        return GroupKind.NEAR_DUPLICATE
    return GroupKind.LOOK_ALIKE if cos >= look else None


def _sizes_differ(a: Photo, b: Photo) -> bool:
    """A crop keeps fewer pixels than its original (a resize too): two photos of one size,
    as a camera's shots of one scene are, are not decoded to look for a crop (the cost of
    the check falls on the pairs that can be one)."""
    small, big = sorted((a.pixels, b.pixels))
    return big > 0 and small <= big * (1 - CROP_PIXELS)


def _in_window(a: Photo, b: Photo, strictness: float) -> bool:
    """Whether, decoded, one photo is the other scaled, or a window of it keeping at least
    :func:`crop_area` of it."""
    found = alignment(a, b)
    return found is not None and found.same_picture and found.area >= crop_area(strictness)


#: the turn that undoes each of ORIENTATIONS (90° and 270° undo each other; the rest
#: undo themselves)
_UNDO = (0, 3, 2, 1, 4, 5, 6, 7)


@dataclass(frozen=True)
class Fit:
    """How ``member`` lies in ``keeper``, as :func:`alignment` found it."""

    found: Alignment
    member_is_smaller: bool

    @property
    def turn(self) -> int:
        """The turn of the keeper that looks like the member."""
        return self.found.turn if self.member_is_smaller else _UNDO[self.found.turn]

    @property
    def edits(self) -> tuple[str, ...]:
        """The member's edits against the keeper ("brighter": the member is)."""
        if self.member_is_smaller:
            return self.found.edits
        swap = {"brighter": "darker", "darker": "brighter"}
        return tuple(swap.get(e, e) for e in self.found.edits)


def alignment(member: Photo, keeper: Photo) -> Alignment | None:
    """Where the smaller of the two photos lies in the bigger (by pixel count), tried
    upright and in the turn the pHash prefers (None: one of them cannot be decoded)."""
    fit = _fit(member, keeper)
    return fit.found if fit else None


def _fit(member: Photo, keeper: Photo) -> Fit | None:
    smaller, bigger = (member, keeper) if member.pixels <= keeper.pixels else (keeper, member)
    turn, _bits = best_orientation(bigger, smaller)
    found = align(_file(smaller), _file(bigger), (0, turn))
    return Fit(found, smaller is member) if found else None


def _file(photo: Photo) -> FileKey:
    return FileKey(photo.path, photo.size, photo.mtime_ns, photo.content_hash)


def _could_be_same_pixels(a: Photo, b: Photo, turn: int, bits: int) -> bool:
    fa, fb = a.facts, b.facts
    return bool(
        fa and fb and turn == 0 and bits == 0 and fa.format == fb.format
        and (fa.width, fa.height) == (fb.width, fb.height)
    )  # fmt: skip


def copy_why(member: Photo, keeper: Photo, exact: bool) -> str:
    """How ``member`` differs from the ``keeper`` it is a copy of, in one line: turned,
    cropped or smaller, edited, re-encoded (the parts that are true, in that order)."""
    if member.content_hash is not None and member.content_hash == keeper.content_hash:
        return "identical file"
    if exact:
        return "same pixels"
    fit = _fit(member, keeper)
    if fit is None or not fit.found.aligned:  # not decoded, or not aligned: the facts
        turn, _bits = best_orientation(keeper, member)
        edits: tuple[str, ...] = ()
        cropped = _aspect_changed(member, keeper, turn)
    else:
        turn, cropped, edits = fit.turn, fit.found.cropped, fit.edits
    parts = [ORIENTATIONS[turn][1]] if turn else []
    size_part = "cropped" if cropped else _smaller_words(member, keeper)
    parts += [size_part] if size_part else []
    parts += [edited_words(edits)] if edits else []
    encoding = _encoding_words(member, keeper)
    parts += [encoding] if encoding else []
    if parts:
        return ", ".join(parts)
    if fit is not None and fit.found.aligned:  # the same picture, saved again
        return _resave_words(member)
    return "edited"


def edited_words(edits: tuple[str, ...]) -> str:
    """ "edited (brighter)", "edited (contrast, colours)"; a local edit alone: "edited"."""
    named = [e for e in edits if e != "local"]
    return f"edited ({', '.join(named)})" if named else "edited"


def _aspect_changed(member: Photo, keeper: Photo, turn: int) -> bool:
    fm, fk = member.facts, keeper.facts
    if not (fm and fk and fm.width and fm.height and fk.width and fk.height):
        return False
    kw, kh = (fk.height, fk.width) if turn in (1, 3, 6, 7) else (fk.width, fk.height)
    return abs((fm.width / fm.height) / (kw / kh) - 1) > CROP_ASPECT


def _smaller_words(member: Photo, keeper: Photo) -> str | None:
    if not (member.pixels and keeper.pixels):
        return None
    smaller = round((1 - math.sqrt(member.pixels / keeper.pixels)) * 100)
    return f"same picture, {smaller} % smaller" if smaller >= 5 else None


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


def _resave_words(member: Photo) -> str:
    facts = member.facts
    if facts and facts.format == "JPEG" and facts.jpeg_quality is not None:
        return f"re-encoded (JPEG q{facts.jpeg_quality})"
    return f"re-encoded ({facts.format})" if facts and facts.format else "re-encoded"


def burst_why(gap_ns: int) -> str:
    return f"burst, {gap_ns / 1e9:.1f} s apart"


def look_alike_why(cos: float) -> str:
    return f"similar content {round(max(cos, 0.0) * 100)} %"
