"""Albums for the map and odd-ones-out tests: tight families of look-alikes (one photo in
several variants: cropped, brighter, darker, blurred, resized, mirrored) and planted
strangers that look like none of them (a receipt, a screenshot)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from photo_factory import make_photo

VARIANTS = 8


def variant(base: Image.Image, i: int) -> Image.Image:
    """The ``i``-th look-alike of ``base`` (0 is ``base`` itself)."""
    width, height = base.size
    steps = [
        lambda im: im,
        lambda im: im.crop((width // 12, height // 12, width, height)),
        lambda im: ImageEnhance.Brightness(im).enhance(1.15),
        lambda im: ImageEnhance.Brightness(im).enhance(0.85),
        lambda im: im.filter(ImageFilter.GaussianBlur(2)),
        lambda im: im.resize((width // 2, height // 2)),
        lambda im: ImageOps.mirror(im),
        lambda im: im.crop((0, 0, width - width // 10, height - height // 10)),
        lambda im: ImageEnhance.Contrast(im).enhance(1.2),
        lambda im: im.rotate(3, resample=Image.Resampling.BICUBIC),
    ]
    return steps[i % len(steps)](base).convert("RGB")


def save_family(folder: Path, name: str, seed: int, count: int = VARIANTS) -> list[Path]:
    """``count`` look-alikes of one photo, ``folder/name_i.jpg``."""
    folder.mkdir(parents=True, exist_ok=True)
    base = make_photo(seed)
    paths = []
    for i in range(count):
        path = folder / f"{name}_{i}.jpg"
        variant(base, i).save(path, quality=90)
        paths.append(path)
    return paths


def receipt(seed: int) -> Image.Image:
    """A till receipt: black lines of "text" on white paper, portrait."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (360, 640), (246, 244, 238))
    draw = ImageDraw.Draw(image)
    y = 30
    while y < 600:
        length = int(rng.integers(80, 300))
        draw.rectangle((30, y, 30 + length, y + 7), fill=(30, 30, 30))
        draw.rectangle((300, y, 330, y + 7), fill=(30, 30, 30))
        y += int(rng.integers(16, 26))
    return image


def screenshot(seed: int) -> Image.Image:
    """A screenshot: a flat window with a title bar, buttons and lines of text."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (640, 400), (250, 250, 252))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 640, 36), fill=(52, 101, 164))
    for x in range(20, 600, 110):
        draw.rounded_rectangle((x, 60, x + 90, 90), radius=6, fill=(220, 223, 228))
    for y in range(120, 380, 22):
        draw.rectangle((20, y, 20 + int(rng.integers(200, 580)), y + 9), fill=(90, 90, 96))
    return image


def save_strangers(folder: Path, count: int = 2, seed: int = 0) -> list[Path]:
    """``count`` photos unlike any family: receipts and screenshots, in turn."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        make = receipt if i % 2 == 0 else screenshot
        path = folder / f"stranger_{i}.png"
        make(seed + i).save(path)
        paths.append(path)
    return paths
