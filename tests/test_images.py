import io

import numpy as np
import pytest
from PIL import Image

from albumfinder.images import ImageLoadError, open_photo, open_photo_bytes

from photo_factory import make_photo


def _save(image, path, **kw):
    image.save(path, **kw)
    return path


def test_exif_orientation_is_applied(tmp_path):
    upright = make_photo(1, (300, 200))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a camera in portrait stores
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    path = _save(stored, tmp_path / "portrait.jpg", exif=exif, quality=95)
    opened = open_photo(path)
    assert opened.size == upright.size
    diff = np.abs(np.asarray(opened, np.int16) - np.asarray(upright, np.int16)).mean()
    assert diff < 8


def test_png_named_jpg_opens_by_content(tmp_path):
    path = _save(make_photo(2, (64, 48)), tmp_path / "really_png.jpg", format="PNG")
    assert open_photo(path).size == (64, 48)


def test_modes_become_rgb_without_clipping(tmp_path):
    gradient = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    path16 = _save(Image.fromarray(gradient), tmp_path / "deep.png")
    image = open_photo(path16)
    assert image.mode == "RGB"
    values = np.asarray(image)[..., 0]
    assert values.min() < 10 and values.max() > 245 and 100 < values.mean() < 155

    rgba = Image.new("RGBA", (10, 10), (255, 0, 0, 0))  # fully transparent red
    image = open_photo(_save(rgba, tmp_path / "clear.png"))
    assert image.getpixel((5, 5)) == (255, 255, 255)  # composited on white

    cmyk = Image.new("CMYK", (10, 10), (0, 255, 255, 0))
    image = open_photo(_save(cmyk, tmp_path / "cmyk.jpg"))
    red, green, blue = image.getpixel((5, 5))
    assert red > 200 and green < 60 and blue < 60


def test_jpeg_draft_keeps_at_least_min_size(tmp_path):
    path = _save(make_photo(3, (2000, 1500)), tmp_path / "big.jpg", quality=90)
    image = open_photo(path, min_size=224)
    assert min(image.size) >= 224
    assert image.size[0] < 2000  # decoded at reduced scale


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"this is not an image at all" * 10, "not a recognised image format"),
    ],
)
def test_bad_files_raise_one_clear_error(tmp_path, content, reason):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageLoadError) as info:
        open_photo(path)
    assert reason in info.value.reason


def test_truncated_jpeg_and_bomb(tmp_path):
    buffer = io.BytesIO()
    make_photo(4, (400, 300)).save(buffer, "JPEG", quality=90)
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageLoadError, match="truncated"):
        open_photo(path)

    gif = bytearray(b"GIF89a" + (65535).to_bytes(2, "little") * 2 + b"\x00\x00\x00;")
    bomb = tmp_path / "bomb.gif"
    bomb.write_bytes(bytes(gif))
    with pytest.raises(ImageLoadError) as info:
        open_photo(bomb)
    assert "too large" in info.value.reason or "not a recognised" in info.value.reason


def test_bytes_from_a_paste(tmp_path):
    buffer = io.BytesIO()
    make_photo(5, (80, 60)).save(buffer, "PNG")
    assert open_photo_bytes(buffer.getvalue()).size == (80, 60)
    with pytest.raises(ImageLoadError):
        open_photo_bytes(b"nope")
