"""An album with planted copies of each kind, made by the tests (and the quality benchmark).

Every planted pair is recorded with its kind, so a test can measure pair precision and
recall per kind: byte copies and a same-pixels PNG (exact); a PNG re-save of a JPEG, a
resize, a JPEG q60 recompression, a crop to ~70 % of the area, rotations by 90° and 180°,
a mirror, brightness, contrast, a filter, a small watermark, a copy shrunk to 1/4 of the
width and a crop of another corner, also to ~70 % (near-duplicate); a burst of
frames 0.4 s apart with EXIF times (camera shake and a moving subject: burst); and
different shots of one scene (a step aside, a zoom: look-alike at most).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps
from PIL.PngImagePlugin import PngInfo

from photo_factory import exif_bytes, make_photo

SIZE = (800, 600)


@dataclass
class PlantedAlbum:
    root: Path
    #: (path a, path b, kind) of every planted pair
    pairs: list[tuple[str, str, str]] = field(default_factory=list)
    #: photos that must stay out of every copy group with each other (different shots)
    apart: list[tuple[str, str]] = field(default_factory=list)

    def plant(self, a: Path, b: Path, kind: str) -> None:
        self.pairs.append((str(a), str(b), kind))

    def truth(self, kind: str) -> set[frozenset[str]]:
        return {frozenset((a, b)) for a, b, k in self.pairs if k == kind}


def _jpeg(image: Image.Image, path: Path, quality: int = 92, **extra) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=quality, **extra)
    return path


Picture = Callable[[int, tuple[int, int]], Image.Image]


def scene_view(
    seed: int, box: tuple[float, float, float, float], size=SIZE, picture: Picture = make_photo
) -> Image.Image:
    """A window (fractions of a 1600×1200 scene) of scene ``seed``, at ``size``."""
    scene = picture(seed, (1600, 1200))
    left, top, right, bottom = (
        int(f * d) for f, d in zip(box, (1600, 1200, 1600, 1200), strict=True)
    )
    return scene.crop((left, top, right, bottom)).resize(size, Image.Resampling.LANCZOS)


def make_planted_album(
    root: Path, first_seed: int = 500, picture: Picture = make_photo, distractors: int = 6
) -> PlantedAlbum:
    """The album; ``picture(seed, size)`` makes each original (the factory's by default;
    the quality benchmark passes real photos), ``distractors`` unrelated photos besides."""
    album = PlantedAlbum(root)
    seed = iter(range(first_seed, first_seed + 100 + distractors))
    cam = root / "Camera roll"
    other = root / "WhatsApp"

    # exact: a byte copy under another name, a PNG whose text chunk alone differs
    original = _jpeg(picture(next(seed), SIZE), cam / "IMG_1001.jpg")
    copy = other / "IMG-2020-WA0001.jpg"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(original, copy)
    album.plant(original, copy, "exact")
    scan = picture(next(seed), SIZE)
    first, second = cam / "scan_01.png", other / "scan_01 (1).png"
    info = PngInfo()
    info.add_text("Comment", "sent again")
    scan.save(first)
    scan.save(second, pnginfo=info)
    album.plant(first, second, "exact")

    # near-duplicates of one original each
    variants = {
        "resaved.png": lambda im: im,
        "resized.jpg": lambda im: im.resize((400, 300), Image.Resampling.LANCZOS),
        "q60.jpg": lambda im: im,
        "cropped.jpg": lambda im: im.crop((0, 0, int(800 * 0.84), int(600 * 0.84))),
        "rotated90.jpg": lambda im: im.transpose(Image.Transpose.ROTATE_90),
        "rotated180.jpg": lambda im: im.transpose(Image.Transpose.ROTATE_180),
        "mirrored.jpg": lambda im: ImageOps.mirror(im),
        "brighter.jpg": lambda im: ImageEnhance.Brightness(im).enhance(1.25),
        "contrast.jpg": lambda im: ImageEnhance.Contrast(im).enhance(1.3),
        "filter.jpg": lambda im: ImageEnhance.Color(im).enhance(0.5).filter(ImageFilter.SMOOTH),
        "watermark.jpg": _watermarked,
        "shrunk.jpg": lambda im: im.resize((200, 150), Image.Resampling.LANCZOS),
        "corner.jpg": lambda im: im.crop((800 - int(800 * 0.84), 600 - int(600 * 0.84), 800, 600)),
    }
    for number, (name, change) in enumerate(variants.items()):
        image = picture(next(seed), SIZE)
        source = _jpeg(
            image,
            cam / f"IMG_{1100 + number}.jpg",
            exif=exif_bytes(
                taken=f"2023:05:{number + 1:02d} 10:00:00", make="Canon", model="Canon EOS R6"
            ),
        )
        target = other / f"{number:02d}_{name}"
        changed = change(image)
        if name.endswith(".png"):
            changed.save(target)
        else:
            _jpeg(changed, target, quality=60 if name == "q60.jpg" else 88)
        album.plant(source, target, "near-duplicate")

    # a burst: frames 0.4 s apart, the camera shaking a little, the subject moving
    frames = []
    scene = next(seed)
    for frame in range(4):
        shift = 0.015 * frame
        image = scene_view(
            scene, (0.2 + shift, 0.2 + shift / 2, 0.7 + shift, 0.575 + shift / 2), picture=picture
        )
        ImageDraw.Draw(image).ellipse(
            (120 + 90 * frame, 300, 220 + 90 * frame, 400), fill=(250, 40, 40)
        )
        tenths = f"{frame * 4 % 10}"
        second = 10 + frame * 4 // 10
        frames.append(
            _jpeg(
                image,
                cam / f"IMG_{1200 + frame}.jpg",
                exif=exif_bytes(
                    taken=f"2023:06:01 12:00:{second:02d}",
                    subsec=tenths,
                    make="Canon",
                    model="Canon EOS R6",
                ),
            )
        )
    for a, b in combinations(frames, 2):
        album.plant(a, b, "burst")

    # different shots of one scene (no EXIF): a step aside, a zoom: never copies
    scene = next(seed)
    shots = [
        _jpeg(scene_view(scene, box, picture=picture), cam / f"scene_{n}.jpg")
        for n, box in enumerate(
            [(0.0, 0.0, 0.6, 0.45), (0.25, 0.15, 0.85, 0.6), (0.15, 0.3, 0.5, 0.5625)]
        )
    ]
    for a, b in combinations(shots, 2):
        album.apart.append((str(a), str(b)))
        album.plant(a, b, "look-alike")

    # unrelated photos
    for number in range(distractors):
        _jpeg(picture(next(seed), SIZE), root / "misc" / f"misc_{number}.jpg")
    _hours_apart(root)
    return album


def _hours_apart(root: Path) -> None:
    """Each photo's file an hour older than the next, as photos taken over days are (what
    the test wrote within a second would look like a burst of file dates)."""
    for number, path in enumerate(sorted(p for p in root.rglob("*") if p.is_file())):
        when = 1_600_000_000 + number * 3600
        os.utime(path, (when, when))


def _watermarked(image: Image.Image) -> Image.Image:
    marked = image.copy()
    draw = ImageDraw.Draw(marked)
    draw.rectangle((640, 560, 790, 592), fill=(255, 255, 255))
    draw.text((648, 566), "(c) friend", fill=(0, 0, 0))
    return marked


def pairs_of(groups, kind: str) -> set[frozenset[str]]:
    """Every pair of photos grouped together in a group of ``kind``."""
    out = set()
    for group in groups:
        if str(group.kind) == kind:
            paths = [m.path for m in group.members]
            out |= {frozenset(p) for p in combinations(paths, 2)}
    return out


def precision_recall(found: set, truth: set) -> tuple[float, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    return precision, recall


@dataclass
class SmallAlbum:
    root: Path
    original: Path
    copy: Path
    resized: Path
    frames: list[Path]


def make_small_album(root: Path, first_seed: int = 700) -> SmallAlbum:
    """A few photos: a byte copy, a resized copy (WhatsApp) and a burst of three frames."""
    cam, other = root / "Camera roll", root / "WhatsApp"
    image = make_photo(first_seed, SIZE)
    original = _jpeg(
        image,
        cam / "IMG_0001.jpg",
        exif=exif_bytes(taken="2023:05:01 10:00:00", make="Canon", model="Canon EOS R6", gps=True),
    )
    copy = other / "IMG-WA0001.jpg"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(original, copy)
    resized = _jpeg(image.resize((400, 300), Image.Resampling.LANCZOS), other / "small.jpg", 80)
    frames = []
    for frame in range(3):
        view = scene_view(first_seed + 1, (0.2 + 0.015 * frame, 0.2, 0.7 + 0.015 * frame, 0.575))
        ImageDraw.Draw(view).ellipse(
            (120 + 90 * frame, 300, 220 + 90 * frame, 400), fill=(250, 40, 40)
        )
        frames.append(
            _jpeg(
                view,
                cam / f"IMG_{10 + frame:04d}.jpg",
                exif=exif_bytes(
                    taken="2023:06:01 12:00:10",
                    subsec=f"{frame * 4}",
                    make="Canon",
                    model="Canon EOS R6",
                ),
            )
        )
    for number in range(2):
        _jpeg(make_photo(first_seed + 10 + number, SIZE), root / "misc" / f"misc_{number}.jpg")
    _hours_apart(root)
    return SmallAlbum(root, original, copy, resized, frames)
