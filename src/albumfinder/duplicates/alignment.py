"""How one copy of a picture lies in another: the whole of it scaled, or a window of it
(a crop), and whether its tones or colours were edited.

Both photos are decoded small (:data:`SIDE` pixels on the longer side), the bigger one
turned as the pHash says the smaller one is. The smaller one is then searched for in
the bigger one over scales (the window's share of the bigger photo) and offsets, by
normalised correlation of their band-passed grey pictures (detail: what resizing,
recompression and a tone edit all keep, and what two unrelated photos do not share).
At the best window the two are compared again in colour: a shift of brightness, a
change of contrast or colour, or a local change (a watermark, a filter) that resizing
and recompression do not make is an edit.

This decodes photos, so it runs only for pairs a verdict or a why-line needs (copies
and pairs in the cosine band just under the near-duplicate threshold), never on the
k-nearest-neighbour path; results are kept for the files as they are (path, size, time).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter, maximum_filter, minimum_filter, uniform_filter
from scipy.signal import fftconvolve

from albumfinder.errors import AlbumFinderError
from albumfinder.images import open_photo
from albumfinder.photo_facts import ORIENTATIONS

#: the longer side (pixels) both photos are compared at
SIDE = 128
#: the smallest share of the bigger photo's width (or height) a window is searched at
SMALLEST_SCALE = 0.55
#: scale steps of the coarse search, then of its refinement around the best
_COARSE_STEP, _FINE_STEP = 0.03, 0.006
#: the least correlation of detail at which the smaller photo is that window of the bigger:
#: enough to say where a copy lies (and how it was edited), and enough to call two photos
#: the same picture (planted copies, edited ones too: 0.95 and more; two catalogue shots
#: of one motorbike model in another colour: 0.82; unrelated photos: under 0.45)
ALIGNED, SAME_PICTURE = 0.75, 0.9
#: a coarse best below this is not refined (the finer scales move it by a few hundredths;
#: unrelated photos of one kind reach 0.2-0.8, planted copies 0.95 and more)
HOPELESS = 0.6
#: a window covering at least this share of each side is the whole picture (a resize)
WHOLE_SIDE = 0.97
#: tone and colour differences beyond what resizing and recompression make (0-255 levels)
BRIGHTNESS_LEVELS = 6.0
#: a tone gain whose fixed level lies below this share of the mean is a brightness change
BRIGHTNESS_PIVOT = 0.35
CONTRAST_RATIO = 0.08
COLOUR_RATIO = 0.15
COLOUR_SHIFT_LEVELS = 6.0
#: a block (1/16 of a side) this far off (RMS levels, after fitting tones) is a local edit
LOCAL_EDIT_LEVELS = 12.0


@dataclass(frozen=True)
class Alignment:
    """Where the smaller photo lies in the bigger one (upright, turned by ``turn``)."""

    turn: int  # index in ORIENTATIONS of the turn applied to the bigger photo
    #: left, top, width, height of the window, in fractions of the (turned) bigger photo
    window: tuple[float, float, float, float]
    correlation: float  # of detail, -1..1
    edits: tuple[str, ...]  # "brighter", "darker", "contrast", "colours", "local"

    @property
    def aligned(self) -> bool:
        return self.correlation >= ALIGNED

    @property
    def same_picture(self) -> bool:
        return self.correlation >= SAME_PICTURE

    @property
    def area(self) -> float:
        return self.window[2] * self.window[3]

    @property
    def cropped(self) -> bool:
        return min(self.window[2], self.window[3]) < WHOLE_SIDE

    @property
    def edited(self) -> bool:
        return bool(self.edits)

    def to_json(self) -> str:
        return json.dumps([self.turn, self.window, self.correlation, self.edits])

    @staticmethod
    def from_json(text: str) -> Alignment:
        turn, window, correlation, edits = json.loads(text)
        return Alignment(int(turn), tuple(window), float(correlation), tuple(edits))


@dataclass(frozen=True)
class FileKey:
    """A photo file as it is now: a changed file is another key. ``content``: its content
    hash, under which a result is remembered across processes (the index keeps it)."""

    path: str
    size: int
    mtime_ns: int
    content: str | None = None


#: the search's version: results of another version (stored in an index) are not used.
#: Bump it when what a result means changes: SIDE, the scale steps, HOPELESS, ALIGNED or
#: SAME_PICTURE, or the edit thresholds
VERSION = 1
_ContentKey = tuple[str, str, str]  # smaller's hash, bigger's hash, the turns tried
_known: dict[_ContentKey, Alignment] = {}
_fresh: dict[_ContentKey, Alignment] = {}  # found since last taken, to be stored
_known_lock = threading.Lock()


def remember(rows: Iterable[tuple[str, str, str, str]]) -> None:
    """Results found earlier ((smaller's hash, bigger's hash, turns, JSON), as
    :func:`take_fresh` gave them): those pairs are not decoded again."""
    parsed = {(a, b, t): Alignment.from_json(r) for a, b, t, r in rows}
    with _known_lock:
        _known.update(parsed)


def take_fresh() -> list[tuple[str, str, str, str]]:
    """The results found since the last call, to store."""
    with _known_lock:
        rows = [(a, b, t, found.to_json()) for (a, b, t), found in _fresh.items()]
        _fresh.clear()
    return rows


def align(smaller: FileKey, bigger: FileKey, turns: tuple[int, ...] = (0,)) -> Alignment | None:
    """The best window of ``bigger`` (turned by one of ``turns``) that ``smaller`` is; None
    when a photo cannot be decoded."""
    tried = tuple(dict.fromkeys(turns))
    key = None
    if smaller.content and bigger.content:
        key = (smaller.content, bigger.content, ",".join(map(str, tried)))
        with _known_lock:
            if key in _known:
                return _known[key]
    found = _align(smaller, bigger, tried)
    if key is not None and found is not None and _as_indexed(smaller) and _as_indexed(bigger):
        with _known_lock:
            _known[key] = _fresh[key] = found
    return found


def _as_indexed(key: FileKey) -> bool:
    """Whether the file on disk is still the one its content hash was taken of (an edit in
    place since the last rescan would store other pixels' result under the old hash)."""
    try:
        stat = os.stat(key.path)
    except OSError:
        return False
    return stat.st_size == key.size and stat.st_mtime_ns == key.mtime_ns


@lru_cache(maxsize=4096)
def _align(smaller: FileKey, bigger: FileKey, turns: tuple[int, ...]) -> Alignment | None:
    small, big = _decoded(smaller), _decoded(bigger)
    if small is None or big is None:
        return None
    best: Alignment | None = None
    for turn in turns:
        transpose = ORIENTATIONS[turn][0]
        turned = big if transpose is None else big.transpose(transpose)
        found = _search(small, turned, turn)
        if found is not None and (best is None or found.correlation > best.correlation):
            best = found
    return best


@lru_cache(maxsize=256)  # ~10 MB of small pictures
def _decoded(key: FileKey) -> Image.Image | None:
    """The photo, upright RGB, its longer side :data:`SIDE` pixels."""
    try:
        image = open_photo(key.path, min_size=SIDE)
    except AlbumFinderError:
        return None
    scale = SIDE / max(image.size)
    size = (max(round(image.width * scale), 8), max(round(image.height * scale), 8))
    return image.resize(size, Image.Resampling.LANCZOS)


def _grey(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.float64)


def _detail(grey: np.ndarray) -> np.ndarray:
    """A band-pass of the grey picture (edges and texture, not the overall light), softly
    limited to a few times its typical size: a watermark's hard edges do not outweigh the
    picture's own."""
    band = gaussian_filter(grey, 1.0) - gaussian_filter(grey, 4.0)
    typical = float(np.median(np.abs(band))) + 1e-3
    result: np.ndarray = np.tanh(band / (4 * typical))
    return result


def _search(small: Image.Image, big: Image.Image, turn: int) -> Alignment | None:
    """The window of ``big`` that ``small`` matches best: coarse scales, then finer ones."""
    fit = min(big.width / small.width, big.height / small.height)
    detail = _detail(_grey(big))
    coarse = np.arange(1.0, SMALLEST_SCALE - 1e-9, -_COARSE_STEP)
    best = max(_best_at(small, detail, fit * s) for s in coarse)
    if best[0] < HOPELESS:  # no finer scale lifts this to a match: not the same picture
        return _found(best, big, turn, small)
    around = best[1] / fit
    fine = np.arange(around - _COARSE_STEP, around + _COARSE_STEP + 1e-9, _FINE_STEP)
    fine = fine[(fine <= 1.0 + 1e-9) & (fine >= SMALLEST_SCALE)]
    best = max([best, *(_best_at(small, detail, fit * s) for s in fine)])
    return _found(best, big, turn, small)


def _found(
    best: tuple[float, float, int, int, int, int], big: Image.Image, turn: int, small: Image.Image
) -> Alignment | None:
    score, _scale, x, y, w, h = best
    if not np.isfinite(score):
        return None
    window = (x / big.width, y / big.height, w / big.width, h / big.height)
    edits = _edits(small, big, (x, y, x + w, y + h)) if score >= ALIGNED else ()
    return Alignment(turn, window, float(score), edits)


def _best_at(
    small: Image.Image, detail: np.ndarray, scale: float
) -> tuple[float, float, int, int, int, int]:
    """(correlation, scale, left, top, width, height) of the best place of ``small`` at
    ``scale``."""
    size = (max(round(small.width * scale), 4), max(round(small.height * scale), 4))
    if size[0] > detail.shape[1] or size[1] > detail.shape[0]:
        size = (min(size[0], detail.shape[1]), min(size[1], detail.shape[0]))
    template = _detail(_grey(small.resize(size, Image.Resampling.LANCZOS)))
    scores = _correlation_map(detail, template)
    top, left = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return float(scores[top, left]), scale, int(left), int(top), size[0], size[1]


def _correlation_map(image: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Normalised correlation of ``template`` at each place it fits inside ``image``."""
    th, tw = template.shape
    centred = template - template.mean()
    norm = float(np.sqrt((centred**2).sum()))
    if norm == 0:
        return np.full((1, 1), -np.inf)
    products = fftconvolve(image, centred[::-1, ::-1], mode="valid")
    sums = _window_sums(image, th, tw)
    squares = _window_sums(image**2, th, tw)
    spread = np.sqrt(np.maximum(squares - sums**2 / (th * tw), 1e-9))
    result: np.ndarray = products / (spread * norm)
    return result


def _window_sums(image: np.ndarray, th: int, tw: int) -> np.ndarray:
    table = np.pad(image, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    sums: np.ndarray = table[th:, tw:] - table[:-th, tw:] - table[th:, :-tw] + table[:-th, :-tw]
    return sums


def _edits(small: Image.Image, big: Image.Image, box: tuple[int, int, int, int]) -> tuple[str, ...]:
    """What an edit changed between ``small`` and the window ``box`` of ``big`` (compared
    at the window's size: the coarser of the two)."""
    size = (box[2] - box[0], box[3] - box[1])
    a = _smooth(big.crop(box))
    b = _smooth(small.resize(size, Image.Resampling.LANCZOS) if small.size != size else small)
    luma = np.array([0.299, 0.587, 0.114])
    ya, yb = a @ luma, b @ luma
    out = []
    gain, offset = _tone_fit(ya, yb)
    if abs(gain - 1) <= CONTRAST_RATIO:
        if abs(offset + (gain - 1) * ya.mean()) > BRIGHTNESS_LEVELS:
            out.append("brighter" if yb.mean() > ya.mean() else "darker")
    elif offset / (1 - gain) < BRIGHTNESS_PIVOT * ya.mean():  # scaled from black: light
        out.append("brighter" if gain > 1 else "darker")
    else:  # scaled about a middle grey
        out.append("contrast")
    chroma_a, chroma_b = a - ya[..., None], b - yb[..., None]
    expected = abs(gain) * np.abs(chroma_a).mean()
    change = abs(np.abs(chroma_b).mean() - expected)
    cast = np.abs(chroma_b.mean(axis=(0, 1)) - gain * chroma_a.mean(axis=(0, 1))).max()
    if change > max(COLOUR_SHIFT_LEVELS, COLOUR_RATIO * expected) or cast > COLOUR_SHIFT_LEVELS:
        out.append("colours")
    if not out and _local_change(a, b) > LOCAL_EDIT_LEVELS:
        out.append("local")
    return tuple(out)


def _smooth(image: Image.Image) -> np.ndarray:
    smooth: np.ndarray = gaussian_filter(np.asarray(image, dtype=np.float64), (0.8, 0.8, 0))
    return smooth


def _tone_fit(ya: np.ndarray, yb: np.ndarray) -> tuple[float, float]:
    """(gain, offset) of ``yb ≈ gain·ya + offset`` over the pixels clipped in neither."""
    usable = (ya > 8) & (ya < 247) & (yb > 8) & (yb < 247)
    x, y = (ya[usable], yb[usable]) if usable.sum() > 32 else (ya.ravel(), yb.ravel())
    if x.std() < 1e-6:
        return 1.0, float(y.mean() - x.mean())
    gain, offset = np.polyfit(x, y, 1)
    residual = np.abs(y - (gain * x + offset))
    inliers = residual <= np.percentile(residual, 80)  # a watermark or a local edit: not tone
    if inliers.sum() > 32 and x[inliers].std() > 1e-6:
        gain, offset = np.polyfit(x[inliers], y[inliers], 1)
    return float(gain), float(offset)


def _local_change(a: np.ndarray, b: np.ndarray) -> float:
    """The largest block RMS of what ``b`` has that no pixel of ``a`` within one pixel has
    (tones fitted per channel): a watermark, not an edge the alignment put a pixel off."""
    outside = np.empty_like(a)
    for channel in range(a.shape[2]):
        x, y = a[..., channel], b[..., channel]
        gain, offset = np.polyfit(x.ravel(), y.ravel(), 1) if x.std() > 1e-6 else (0.0, y.mean())
        fitted = gain * x + offset
        high, low = maximum_filter(fitted, 3), minimum_filter(fitted, 3)
        outside[..., channel] = np.maximum(y - high, 0) + np.maximum(low - y, 0)
    error = (outside**2).mean(axis=2)
    block = max(4, min(error.shape) // 16)
    return float(np.sqrt(uniform_filter(error, block).max()))
