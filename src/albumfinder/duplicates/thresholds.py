"""Every number that decides a duplicate verdict, in one place, per model family.

The cosine scale differs between models: DINOv2 spreads unrelated photos far apart and
keeps copies near 1, the built-in EfficientNet-Lite0 (an ImageNet classifier's features)
packs everything higher. Each family gets its own near-duplicate band, which the user's
strictness (0..1) moves through, and its own look-alike floor. The built-in's figures
were measured with ``benchmarks/bench_duplicate_quality.py`` (planted copies of synthetic
and of real Caltech-101 photos: unrelated photos of one category reach 0.913, crops of
~70 % 0.85-0.95, rotated copies only 0.72, which the pHash of the turned photo catches;
crops, which the pHash does not see, are told by the decoded check of
:mod:`albumfinder.duplicates.alignment` in the cosine band just under the near threshold).
DINOv2's are estimates (no real DINOv2 weights here to measure with): its copies score
above 0.95, different shots of one scene 0.6-0.9.
"""

from __future__ import annotations

from dataclasses import dataclass

from albumfinder.models import registry
from albumfinder.models.registry import Family


@dataclass(frozen=True)
class Thresholds:
    """Cosine thresholds of one model family."""

    #: the near-duplicate cosine at strictness 0 and at strictness 1 (linear between)
    near_loose: float
    near_strict: float
    #: the lowest cosine still "similar content" (look-alike) at strictness 0 and 1
    look_loose: float
    look_strict: float
    #: the lowest cosine at which two shots can be one burst (same scene)
    burst: float
    #: the lowest cosine at which a pHash match (:func:`phash_bits`, in the best of the
    #: eight orientations) makes a near-duplicate: rotated and mirrored copies, which the
    #: embedding sees less alike than the hash does
    phash_floor: float
    #: the lowest cosine at which a pair under the near threshold is decoded and checked
    #: for one photo being the other scaled or cropped (:func:`crop_area`): crops, which
    #: neither the embedding nor the pHash sees as the same picture
    crop_floor: float

    def near(self, strictness: float) -> float:
        return _between(self.near_loose, self.near_strict, strictness)

    def look_alike(self, strictness: float) -> float:
        return _between(self.look_loose, self.look_strict, strictness)

    @property
    def copy_floor(self) -> float:
        """The lowest cosine a copy verdict can want at any strictness: what the kNN graph
        keeps (and caches) when no look-alikes are asked for."""
        return min(self.near_loose, self.phash_floor, self.crop_floor)

    @property
    def look_floor(self) -> float:
        """The same with look-alikes (a second, denser graph, cached apart)."""
        return min(self.copy_floor, self.look_loose)


FAMILY_THRESHOLDS: dict[Family, Thresholds] = {
    Family.EFFICIENTNET_LITE: Thresholds(
        near_loose=0.88,
        near_strict=0.96,
        look_loose=0.68,
        look_strict=0.82,
        burst=0.6,
        phash_floor=0.65,
        crop_floor=0.82,
    ),
    Family.DINOV2: Thresholds(
        near_loose=0.85,
        near_strict=0.97,
        look_loose=0.50,
        look_strict=0.70,
        burst=0.45,
        phash_floor=0.5,
        crop_floor=0.7,
    ),
}

#: pHash (64 bits): at most this many bits apart in the best of the 8 orientations is the
#: same picture to the hash, at strictness 0 and 1 (linear between). Unrelated photos of one
#: kind (two motorbikes side on) come within 6 bits; resized, recompressed and turned copies
#: stay within 2.
PHASH_BITS_LOOSE, PHASH_BITS_STRICT = 6, 2
#: a pair in the decoded band must differ by at least this share of pixels (a crop keeps
#: fewer; a camera's shots of one scene have one size and are not decoded)
CROP_PIXELS = 0.05
#: the relative difference of aspect ratios above which a copy is "cropped" (when the
#: photos cannot be decoded to tell)
CROP_ASPECT = 0.03
#: the least share of the bigger photo's area a crop keeps to be a near-duplicate, at
#: strictness 0 and 1 (linear between: ~65 % at the default; at 1 crops are look-alikes)
CROP_AREA_LOOSE, CROP_AREA_STRICT = 0.4, 0.9
#: two shots at most this far apart (seconds) follow each other in a burst
BURST_GAP_S = 2.0
#: frames without EXIF are a burst only when their names follow each other within this step
BURST_NAME_STEP = 3
#: kNN neighbours kept per photo
KNN_NEIGHBOURS = 12


def phash_bits(strictness: float) -> int:
    """The most bits apart at which the pHash calls two photos the same picture."""
    return round(_between(PHASH_BITS_LOOSE, PHASH_BITS_STRICT, strictness))


def crop_area(strictness: float) -> float:
    """The least share of the bigger photo's area a crop keeps to be a near-duplicate."""
    return _between(CROP_AREA_LOOSE, CROP_AREA_STRICT, strictness)


def thresholds_for(model_key: str) -> Thresholds:
    """The thresholds of the family of ``model_key`` ("name/p1"); unknown: the built-in's."""
    name = model_key.split("/", 1)[0]
    try:
        family = registry.get_spec(name).family
    except Exception:  # noqa: BLE001 - a model this version does not know: a sane default
        family = Family.EFFICIENTNET_LITE
    return FAMILY_THRESHOLDS[family]


def _between(loose: float, strict: float, strictness: float) -> float:
    s = min(max(float(strictness), 0.0), 1.0)
    return loose + (strict - loose) * s
