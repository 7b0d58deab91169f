"""Every number that decides a duplicate verdict, in one place, per model family.

The cosine scale differs between models: DINOv2 spreads unrelated photos far apart and
keeps copies near 1, the built-in EfficientNet-Lite0 (an ImageNet classifier's features)
packs everything higher. Each family gets its own near-duplicate band, which the user's
strictness (0..1) moves through, and its own look-alike floor. The figures were measured
on the test album of ``benchmarks/bench_duplicate_quality.py`` (built-in) and on the
published DINOv2 copy-detection behaviour (copies above 0.9, same-scene shots 0.6-0.85).
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
    #: how far below the near threshold a pHash match still makes a near-duplicate
    backed_margin: float = 0.06

    def near(self, strictness: float) -> float:
        return _between(self.near_loose, self.near_strict, strictness)

    def backed(self, strictness: float) -> float:
        """The near-duplicate cosine when the pHash of an orientation backs it."""
        return self.near(strictness) - self.backed_margin

    def look_alike(self, strictness: float) -> float:
        return _between(self.look_loose, self.look_strict, strictness)

    @property
    def copy_floor(self) -> float:
        """The lowest cosine a copy verdict can want at any strictness: what the kNN graph
        keeps (and caches) when no look-alikes are asked for."""
        return self.near_loose - self.backed_margin

    @property
    def look_floor(self) -> float:
        """The same with look-alikes (a second, denser graph, cached apart)."""
        return min(self.copy_floor, self.look_loose)


FAMILY_THRESHOLDS: dict[Family, Thresholds] = {
    Family.EFFICIENTNET_LITE: Thresholds(
        near_loose=0.86, near_strict=0.96, look_loose=0.68, look_strict=0.82, burst=0.6
    ),
    Family.DINOV2: Thresholds(
        near_loose=0.80,
        near_strict=0.95,
        look_loose=0.50,
        look_strict=0.70,
        burst=0.45,
        backed_margin=0.15,
    ),
}

#: pHash (64 bits): at most this many bits apart, in the best of the 8 orientations, backs
#: a near-duplicate verdict whose cosine is a little below the near band (a rotated or
#: mirrored copy, a filter); 0 bits upright is "the same picture" to the hash.
PHASH_NEAR_BITS = 6
#: at most this many bits apart upright: the same framing (else a copy is "cropped")
PHASH_SAME_FRAMING_BITS = 12
#: the relative difference of aspect ratios above which a copy is "cropped"
CROP_ASPECT = 0.03
#: two shots at most this far apart (seconds) follow each other in a burst
BURST_GAP_S = 2.0
#: frames without EXIF are a burst only when their names follow each other within this step
BURST_NAME_STEP = 3
#: kNN neighbours kept per photo
KNN_NEIGHBOURS = 12


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
