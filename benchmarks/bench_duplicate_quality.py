"""Pair precision and recall per kind of duplicate group, on albums with planted copies.

Two albums: the tests' planted album (synthetic pictures, tests/duplicate_album.py) and,
where the shared data is here, the same plantings made of real photos (Caltech-101: the
other photos of each category are the look-alike distractors that must stay apart).
Each album is indexed with a model (default: the built-in) and grouped at three
strictness values; printed: precision / recall of the pairs per kind (and the time one
grouping took: the first includes the kNN graph), each planted near-duplicate missed
with its cosine and pHash distance, and the cosines
of the planted near-duplicates against those of unrelated photos (what the thresholds
in albumfinder/duplicates/thresholds.py are set from). Run:
    python benchmarks/bench_duplicate_quality.py [--model builtin] [--distractors 120]
(The decoded band: pairs under the near-duplicate threshold whose photos are decoded to
tell a crop, :mod:`albumfinder.duplicates.alignment`; the count says what that costs.)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from albumfinder.duplicates.thresholds import thresholds_for
from albumfinder.images import open_photo
from albumfinder.library import Library
from albumfinder.photo_facts import hash_distance, orientation_hashes

from common import REPO, SHARED_DATA, machine, print_table

sys.path.insert(0, str(REPO / "tests"))
from duplicate_album import make_planted_album, pairs_of, precision_recall  # noqa: E402

from photo_factory import make_photo  # noqa: E402

KINDS = ("exact", "near-duplicate", "burst", "look-alike")
CALTECH = SHARED_DATA / "caltech101-subset" / "images"


def caltech_pictures(folder: Path) -> list[Path]:
    """The real photos, a few of each category in turn (neighbours differ in category)."""
    photos = sorted(folder.rglob("*.jpg")) if folder.is_dir() else []
    by_category: dict[str, list[Path]] = {}
    for photo in photos:
        by_category.setdefault(photo.parent.name, []).append(photo)
    rounds = zip(*by_category.values(), strict=False)
    return [photo for round_ in rounds for photo in round_]


def real_picture(photos: list[Path]):
    def picture(seed: int, size: tuple[int, int]) -> Image.Image:
        with Image.open(photos[seed % len(photos)]) as image:
            return ImageOps.fit(image.convert("RGB"), size, Image.Resampling.LANCZOS)

    return picture


def measure(name: str, root: Path, model: str, picture, distractors: int) -> list[list[object]]:
    album = make_planted_album(root / "album", picture=picture, distractors=distractors)
    rows = []
    with Library(root / "index.sqlite") as library:
        library.add_folder(album.root)
        embedder = Library.embedder(model)
        library.index(embedder)
        for strictness in (0.0, 0.5, 1.0):
            start = time.perf_counter()
            groups = library.duplicate_groups(embedder, kinds=KINDS, strictness=strictness)
            seconds = time.perf_counter() - start
            row: list[object] = [name, model, strictness]
            for kind in KINDS:
                precision, recall = precision_recall(pairs_of(groups, kind), album.truth(kind))
                row.append(f"{precision:.2f} / {recall:.2f}")
            rows.append([*row, f"{seconds:.2f} s"])
            print_missed(name, strictness, groups, album, library, embedder.model_key)
        print_cosines(name, library, embedder.model_key, album)
    return rows


def print_missed(name: str, strictness: float, groups, album, library, model_key: str) -> None:
    """Each planted near-duplicate not grouped as one: its cosine and pHash distance."""
    vectors = library.vectors(model_key)
    at = {p: i for i, p in enumerate(vectors.paths)}
    found = pairs_of(groups, "near-duplicate") | pairs_of(groups, "exact")
    for a, b, kind in album.pairs:
        if kind != "near-duplicate" or frozenset((a, b)) in found:
            continue
        cos = float(vectors.matrix[at[a]].astype(np.float32) @ vectors.matrix[at[b]])
        hashes = [orientation_hashes(open_photo(p)) for p in (a, b)]
        bits = min(hash_distance(h, hashes[1][0]) for h in hashes[0])
        print(
            f"{name} at strictness {strictness}: missed {Path(b).name}: cosine {cos:.3f}, "
            f"pHash {bits} bits apart (best of the 8 orientations)"
        )


def print_cosines(name: str, library: Library, model_key: str, album) -> None:
    vectors = library.vectors(model_key)
    at = {p: i for i, p in enumerate(vectors.paths)}
    matrix = vectors.matrix.astype(np.float32)
    planted = {frozenset((a, b)) for a, b, _k in album.pairs}
    near = [
        float(matrix[at[a]] @ matrix[at[b]]) for a, b, k in album.pairs if k == "near-duplicate"
    ]
    other = [
        float(matrix[at[a]] @ matrix[at[b]])
        for a, b in combinations(vectors.paths, 2)
        if frozenset((a, b)) not in planted
    ]
    shots = [float(matrix[at[a]] @ matrix[at[b]]) for a, b in album.apart]
    thresholds = thresholds_for(model_key)
    band = (thresholds.crop_floor, thresholds.near(0.5))
    decoded = sum(band[0] <= c < band[1] for c in other)
    print(
        f"{name}: planted near-duplicates cosine min {min(near):.3f} median "
        f"{np.median(near):.3f}; different shots of one scene max {max(shots):.3f}; "
        f"unplanted pairs max {max(other):.3f}, 99.9th percentile "
        f"{np.percentile(other, 99.9):.3f}; {decoded} of {len(other)} unplanted pairs in "
        f"the decoded band {band[0]:.2f}-{band[1]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="builtin")
    parser.add_argument("--distractors", type=int, default=120)
    parser.add_argument("--photos", type=Path, default=CALTECH, help="real photos (folders)")
    args = parser.parse_args()
    print(f"Machine: {machine()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += measure("synthetic", Path(tmp) / "synthetic", args.model, make_photo, 6)
        photos = caltech_pictures(args.photos)
        if photos:
            rows += measure(
                "Caltech-101",
                Path(tmp) / "real",
                args.model,
                real_picture(photos),
                args.distractors,
            )
        else:
            print(f"(no real photos: {args.photos} is not here; pass --photos DIR)")
    print_table(
        "Duplicate groups: pair precision / recall per kind",
        ["album", "model", "strictness", *KINDS, "grouping"],
        rows,
    )


if __name__ == "__main__":
    main()
