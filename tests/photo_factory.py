"""Photo-like test images the tests make themselves (no test depends on ../shared).

Each seed gives a distinct picture: a smooth random colour field (like sky, walls,
foliage), a few shapes with soft edges and some sensor-like noise, so a real model sees
content, and a resized, recompressed or cropped copy of one picture still looks like it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def make_photo(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    rng = np.random.default_rng(seed)
    width, height = size
    coarse = rng.uniform(0, 255, size=(4, 5, 3)).astype(np.uint8)
    base = Image.fromarray(coarse, "RGB").resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(base)
    for _ in range(int(rng.integers(4, 9))):
        x0, y0 = int(rng.uniform(0, 0.9) * width), int(rng.uniform(0, 0.9) * height)
        x1 = x0 + int(rng.uniform(0.06, 0.5) * width) + 1
        y1 = y0 + int(rng.uniform(0.06, 0.5) * height) + 1
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        elif shape == 1:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            points = [(int(rng.integers(0, width)), int(rng.integers(0, height))) for _ in range(3)]
            draw.polygon(points, fill=colour)
    for _ in range(int(rng.integers(10, 30))):  # fine lines: texture
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        points = [(int(rng.integers(0, width)), int(rng.integers(0, height))) for _ in range(2)]
        draw.line(points, fill=colour, width=int(rng.integers(1, 4)))
    image = base.filter(ImageFilter.GaussianBlur(1.2))
    noise = rng.normal(0, 6, size=(height, width, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def save_photo(path: Path, seed: int, size: tuple[int, int] = (640, 480), **save_args) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = make_photo(seed, size)
    if path.suffix.lower() in (".jpg", ".jpeg") and "quality" not in save_args:
        save_args["quality"] = 90
    image.save(path, **save_args)
    return path


def make_album(folder: Path, count: int, first_seed: int = 100) -> list[Path]:
    """``count`` distinct photos in ``folder`` (a few in a subfolder)."""
    paths = []
    for i in range(count):
        sub = folder / "trip" if i % 3 == 2 else folder
        paths.append(save_photo(sub / f"photo_{i:03d}.jpg", first_seed + i))
    return paths


def exif_bytes(
    taken: str | None = None,
    subsec: str | None = None,
    make: str | None = None,
    model: str | None = None,
    gps: bool = False,
    orientation: int | None = None,
) -> bytes:
    """EXIF as a camera writes it: ``taken`` as "YYYY:MM:DD HH:MM:SS" (DateTimeOriginal),
    ``subsec`` its SubSecTimeOriginal, the camera's make and model, a GPS position."""
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    if orientation:
        exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    if taken:
        sub[0x9003] = taken
    if subsec:
        sub[0x9291] = subsec
    if gps:
        position = exif.get_ifd(0x8825)
        position[1], position[2] = "N", (48.0, 51.0, 24.0)
        position[3], position[4] = "E", (2.0, 21.0, 3.0)
    return exif.tobytes()
