import io
import os
import struct

import numpy as np
import pytest
from PIL import Image

from albumfinder.errors import ImageLoadError
from albumfinder.images import open_photo, open_photo_bytes

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

    # A whole 35-byte GIF whose one frame declares 65535×65535 (4.3 gigapixels): refused
    # for its size before a pixel is decoded.
    side = 65535
    gif = b"GIF89a" + struct.pack("<HHBBB", side, side, 0, 0, 0)
    gif += b"," + struct.pack("<HHHHB", 0, 0, side, side, 0x80) + b"\x00\x00\x00\xff\xff\xff"
    gif += b"\x02\x02\x4c\x01\x00;"
    bomb = tmp_path / "bomb.gif"
    bomb.write_bytes(gif)
    with pytest.raises(ImageLoadError) as info:
        open_photo(bomb)
    assert "too large" in info.value.reason

    # The same header cut off before its first frame is no image at all.
    cut = tmp_path / "cut.gif"
    cut.write_bytes(gif[:13] + b";")
    with pytest.raises(ImageLoadError) as info:
        open_photo(cut)
    assert "not a recognised" in info.value.reason


def test_bytes_from_a_paste(tmp_path):
    buffer = io.BytesIO()
    make_photo(5, (80, 60)).save(buffer, "PNG")
    assert open_photo_bytes(buffer.getvalue()).size == (80, 60)
    with pytest.raises(ImageLoadError):
        open_photo_bytes(b"nope")


# -- issue 9, point 10: every type Pillow (or the RAW reader) can show is indexed ---------
def _tiff_with_jpeg_preview(path, image):
    """What a DNG (or another TIFF-based RAW) holds first: a JPEG-compressed RGB picture,
    here with the DNGVersion tag a real DNG carries (the raw data itself is left out)."""
    from PIL import TiffImagePlugin

    ifd = TiffImagePlugin.ImageFileDirectory_v2()
    ifd[50706] = b"\x01\x04\x00\x00"  # DNGVersion 1.4.0.0
    ifd.tagtype[50706] = 1  # BYTE
    image.save(path, format="TIFF", compression="jpeg", quality=92, tiffinfo=ifd)
    return path


def test_mpo_apng_avifs_and_raw_previews_are_indexed(tmp_path):
    from albumfinder.embedding.loading import load_embedder
    from albumfinder.library import Library

    embedder = load_embedder("builtin", allow_download=False)
    album = tmp_path / "album"
    album.mkdir()
    frames = [make_photo(400 + i, (192, 144)) for i in range(2)]
    frames[0].save(album / "burst.mpo", "MPO", save_all=True, append_images=frames[1:], quality=92)
    frames[0].save(album / "moving.apng", format="PNG", save_all=True, append_images=frames[1:])
    frames[0].save(album / "sequence.avifs", format="AVIF", save_all=True, append_images=frames[1:])
    _tiff_with_jpeg_preview(album / "camera.dng", frames[0])
    _tiff_with_jpeg_preview(album / "lone.ARW", frames[0])
    # a RAW beside the camera's JPEG of the same shot: the JPEG stands for it (as in rclip)
    _tiff_with_jpeg_preview(album / "IMG_0001.NEF", frames[1])
    frames[1].save(album / "IMG_0001.JPG", quality=92)
    (album / "damaged.cr2").write_bytes(b"II*\x00" + bytes(range(256)) * 8)
    library = Library()
    report = library.index(embedder, [album])
    paths, matrix = library.store.load_vectors(embedder.model_key)
    vectors = dict(zip(paths, matrix.astype(np.float32), strict=True))

    def vector_of(image):
        return embedder.embed_prepared([embedder.prepare(image)])[0].astype(np.float32)

    def first_frame(path):  # the pixels as stored (lossy formats differ from the frame made)
        with Image.open(path) as image:
            return vector_of(image.convert("RGB"))

    def cosine(a, b):
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    indexed = {os.path.basename(p) for p in vectors}
    assert indexed == {
        "burst.mpo",
        "moving.apng",
        "sequence.avifs",
        "camera.dng",
        "lone.ARW",
        "IMG_0001.JPG",
    }
    for path, vector in vectors.items():
        frame = 1 if path.endswith("IMG_0001.JPG") else 0
        assert cosine(vector, first_frame(path)) > 0.99, path  # the first frame / the preview
        made, other = vector_of(frames[frame]), vector_of(frames[1 - frame])
        assert cosine(vector, made) > cosine(vector, other) + 0.05, path
    # never ignored in silence: a RAW that cannot be read is listed with a reason
    assert [(os.path.basename(s.path), s.reason) for s in report.skipped] == [
        ("damaged.cr2", "RAW file without a preview this version can read")
    ]
    library.close()


def test_one_list_of_types_serves_scanner_decoder_and_open_dialog(tmp_path):
    from albumfinder.gui.main_window import PHOTO_FILTER
    from albumfinder.images import PHOTO_EXTENSIONS
    from albumfinder.scan import scan

    for ext in PHOTO_EXTENSIONS:
        make_photo(410, (32, 24)).save(tmp_path / f"photo_{ext[1:]}{ext.upper()}", format="PNG")
    (tmp_path / "notes.txt").write_text("not a photo")
    found = {os.path.splitext(p)[1].lower() for p in scan([tmp_path]).files}
    assert found == set(PHOTO_EXTENSIONS)
    dialog = set(PHOTO_FILTER.split("(")[1].split(")")[0].split())
    assert dialog == {f"*{ext}" for ext in PHOTO_EXTENSIONS}
    assert {"*.avif", "*.jfif", "*.jpe", "*.mpo", "*.dng"} <= dialog
