"""Reliability, part 1: bad, odd and vanishing photos in an album (issue #4, points 1 and 8).

Every file here is made by the test itself. Each photo is either indexed with the right
vector (compared with the vector of the picture the file should show, computed straight
from pixels the test makes) or listed as skipped with a clear reason; the run never stops,
and a skipped photo is not tried again until it changes.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from albumfinder.errors import ImageLoadError
from albumfinder.library import Library
from albumfinder.scan import NOT_UTF8
from reliability_support import permissions_enforced

from photo_factory import make_photo

T = Image.Transpose
# What a camera stores so that EXIF orientation N displays upright: the inverse of what
# the EXIF specification says the viewer must do. Written out here, independent of Pillow.
STORED_FOR_ORIENTATION = {
    1: None,
    2: T.FLIP_LEFT_RIGHT,
    3: T.ROTATE_180,
    4: T.FLIP_TOP_BOTTOM,
    5: T.TRANSPOSE,
    6: T.ROTATE_90,
    7: T.TRANSVERSE,
    8: T.ROTATE_270,
}
# What a viewer does to the stored pixels for each orientation (the EXIF specification).
UPRIGHT_FROM_STORED = {
    1: None,
    2: T.FLIP_LEFT_RIGHT,
    3: T.ROTATE_180,
    4: T.FLIP_TOP_BOTTOM,
    5: T.TRANSPOSE,
    6: T.ROTATE_270,
    7: T.TRANSVERSE,
    8: T.ROTATE_90,
}


@pytest.fixture(scope="module")
def embedder():
    from albumfinder.embedding.loading import load_embedder

    return load_embedder("builtin", allow_download=False)


def embed(embedder, image: Image.Image) -> np.ndarray:
    """The vector of a picture, from its pixels (no file, no open_photo)."""
    return np.asarray(embedder.embed_prepared([embedder.prepare(image.convert("RGB"))])[0])


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, np.float32)
    b = np.asarray(b, np.float32)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def stored_vectors(library: Library, embedder) -> dict[str, np.ndarray]:
    paths, matrix = library.store.load_vectors(embedder.model_key)
    return {p: matrix[i].astype(np.float32) for i, p in enumerate(paths)}


def assert_same_vector(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    # vectors are stored as float16 (about 3 significant digits), and batches of different
    # sizes may round differently: equal means equal to that precision
    np.testing.assert_allclose(actual, expected, atol=3e-3, err_msg=what)
    assert cosine(actual, expected) > 0.9999, what


# -- files the tests make ------------------------------------------------------------------
def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path: Path, width: int, height: int, depth: int, colour: int, rows) -> Path:
    """A PNG written chunk by chunk: ``rows`` yields each row's raw bytes (no filter byte)."""
    packer = zlib.compressobj(1)
    body = b"".join(packer.compress(b"\x00" + row) for row in rows) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", body)
        + _png_chunk(b"IEND", b"")
    )
    return path


def png_pixel_flood(path: Path, side: int = 30000) -> Path:
    """A valid 1-bit PNG of side×side pixels: 0.5 MB on disk, 900 megapixels decoded."""
    row = b"\x00" * ((side + 7) // 8)
    return write_png(path, side, side, 1, 0, (row for _ in range(side)))


def gif_bomb(path: Path) -> Path:
    """A 35-byte GIF with one 65535×65535 frame: 4.3 gigapixels declared."""
    side = 65535
    data = b"GIF89a" + struct.pack("<HHBBB", side, side, 0, 0, 0)
    data += b"," + struct.pack("<HHHHB", 0, 0, side, side, 0x80) + b"\x00\x00\x00\xff\xff\xff"
    data += b"\x02\x02\x4c\x01\x00;"
    path.write_bytes(data)
    return path


def rgb16_png(path: Path, pixels16: np.ndarray) -> Path:
    height, width, _ = pixels16.shape
    rows = (pixels16[y].astype(">u2").tobytes() for y in range(height))
    return write_png(path, width, height, 16, 2, rows)


def rgb16_tiff(path: Path, pixels16: np.ndarray) -> Path:
    """A baseline, uncompressed little-endian TIFF with 16 bits per RGB sample."""
    height, width, _ = pixels16.shape
    data = pixels16.astype("<u2").tobytes()
    entries = [  # tag, type (3 SHORT, 4 LONG), count, value or offset
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 3, None),  # BitsPerSample 16,16,16 (stored after the IFD)
        (259, 3, 1, 1),
        (262, 3, 1, 2),
        (273, 4, 1, None),  # StripOffsets
        (277, 3, 1, 3),
        (278, 4, 1, height),
        (279, 4, 1, len(data)),
        (284, 3, 1, 1),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    bits_at = 8 + ifd_size
    data_at = bits_at + 6
    out = bytearray(b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries)))
    for tag, kind, count, value in entries:
        if tag == 258:
            value = bits_at
        elif tag == 273:
            value = data_at
        if kind == 3 and count == 1:
            out += struct.pack("<HHIHH", tag, kind, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, kind, count, value)
    out += struct.pack("<I", 0) + struct.pack("<HHH", 16, 16, 16) + data
    path.write_bytes(bytes(out))
    return path


def jpeg_bytes(image: Image.Image, **args) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=args.pop("quality", 92), **args)
    return buffer.getvalue()


# -- the album of troubles -----------------------------------------------------------------
SIZE = (192, 144)


def build_bad_album(album: Path) -> dict:
    """Every kind of trouble in one album. Returns what each file is expected to be:
    ``good`` maps path -> the picture it must be indexed as (or a checker), ``bad`` maps
    path -> a piece of the reason it must be skipped with."""
    album.mkdir(parents=True)
    good: dict[str, object] = {}
    bad: dict[str, str] = {}

    def pic(seed: int) -> Image.Image:
        return make_photo(seed, SIZE)

    # plain photos, also under names with spaces, unicode (both normal forms), emoji, symbols
    names = [
        "plain.png",
        "with spaces .png",
        "Café – été.png",
        "Cafe\u0301 NFD.png",
        "日本語の写真.png",
        "📷 beach 🌊.png",
        "100% #1 ?.png",
        "two\nlines.png",
    ]
    if os.name == "nt":  # not allowed in Windows file names
        names = [n for n in names if "?" not in n and "\n" not in n]
    for i, name in enumerate(names):
        image = pic(10 + i)
        image.save(album / name)
        good[str(album / name)] = image

    # opened by content, not by name
    image = pic(30)
    image.save(album / "png named.jpg", format="PNG")
    good[str(album / "png named.jpg")] = image
    image = pic(31)
    image.save(album / "heic named.jpg", format="HEIF", quality=95)
    good[str(album / "heic named.jpg")] = ("close", image, 0.985)

    # EXIF that is garbage (or an orientation outside 1-8): the pixels are still the photo
    image = pic(36)
    image.save(album / "bad exif.jpg", quality=95, exif=b"Exif\x00\x00" + b"\xde\xad" * 20)
    # the same JPEG without the EXIF has the same pixels
    good[str(album / "bad exif.jpg")] = Image.open(io.BytesIO(jpeg_bytes(image, quality=95)))
    image = pic(37)
    exif = Image.Exif()
    exif[0x0112] = 9
    image.save(album / "orientation 9.png", exif=exif.tobytes())
    good[str(album / "orientation 9.png")] = image

    # colour modes
    image = pic(32)
    cmyk = jpeg_bytes(image.convert("CMYK"), quality=95)
    (album / "cmyk.jpg").write_bytes(cmyk)
    good[str(album / "cmyk.jpg")] = ("close", image, 0.99)  # inverted inks: 0.93
    gray16 = (np.asarray(pic(33).convert("L"), np.uint16) * 257).astype(np.uint16)
    gray16[0, 0], gray16[-1, -1] = 0, 65535
    gray8 = Image.fromarray(np.round(gray16 / 257.0).astype(np.uint8), "L")
    Image.fromarray(gray16).save(album / "gray16.png")
    Image.fromarray(gray16).save(album / "gray16.tif")
    good[str(album / "gray16.png")] = gray8
    good[str(album / "gray16.tif")] = gray8
    rgb = np.asarray(pic(34), np.uint16)
    rgb16 = rgb * 256 + np.random.default_rng(0).integers(0, 256, rgb.shape, dtype=np.uint16)
    rgb16_png(album / "rgb16.png", rgb16)
    rgb16_tiff(album / "rgb16.tif", rgb16)
    good[str(album / "rgb16.png")] = Image.fromarray(rgb.astype(np.uint8), "RGB")
    good[str(album / "rgb16.tif")] = Image.fromarray(rgb.astype(np.uint8), "RGB")

    # a palette image with a transparent colour: transparent pixels become white
    palette_image = pic(35).quantize(32)
    index = np.asarray(palette_image)
    clear = int(index[SIZE[1] // 2, SIZE[0] // 2])  # the colour at the centre is transparent
    palette_image.save(album / "palette transparent.png", transparency=clear)
    colours = np.asarray(palette_image.getpalette()[: 3 * 32], np.uint8).reshape(-1, 3)
    expected = colours[index]
    expected[index == clear] = 255
    good[str(album / "palette transparent.png")] = Image.fromarray(expected, "RGB")

    # animations: the first frame is the photo
    frames = [pic(40 + i) for i in range(3)]
    frames[0].save(album / "anim.gif", save_all=True, append_images=frames[1:], duration=90)
    frames[0].save(
        album / "anim.webp", save_all=True, append_images=frames[1:], duration=90, lossless=True
    )
    good[str(album / "anim.gif")] = ("first frame", frames)
    good[str(album / "anim.webp")] = frames[0]

    # a symlink to a photo is that photo
    os.symlink(album / "plain.png", album / "link to plain.png")
    good[str(album / "link to plain.png")] = good[str(album / "plain.png")]

    # broken files
    (album / "empty.jpg").write_bytes(b"")
    bad[str(album / "empty.jpg")] = "empty file"
    whole = jpeg_bytes(pic(50))
    (album / "truncated.jpg").write_bytes(whole[: len(whole) * 3 // 5])
    bad[str(album / "truncated.jpg")] = "truncated"
    noise = np.random.default_rng(1).bytes(5000)
    (album / "garbage.jpg").write_bytes(b"Not a photo at all. " * 20 + noise)
    bad[str(album / "garbage.jpg")] = "not a recognised image format"
    gif_bomb(album / "bomb 4 gigapixels.gif")
    bad[str(album / "bomb 4 gigapixels.gif")] = "too large"
    png_pixel_flood(album / "bomb 30000x30000.png")
    bad[str(album / "bomb 30000x30000.png")] = "too large"

    # links that lead nowhere
    os.symlink(album / "nowhere.jpg", album / "broken link.jpg")
    bad[str(album / "broken link.jpg")] = "broken symbolic link"
    os.symlink(album / "loop b.jpg", album / "loop a.jpg")
    os.symlink(album / "loop a.jpg", album / "loop b.jpg")
    bad[str(album / "loop a.jpg")] = "symbolic link loop"
    bad[str(album / "loop b.jpg")] = "symbolic link loop"

    # a name that is not UTF-8 (Linux allows any bytes; the index stores UTF-8 text)
    if sys.platform.startswith("linux"):
        raw = os.fsencode(album) + b"/caf\xe9 latin-1.png"
        with open(raw, "wb") as handle:
            pic(51).save(handle, "PNG")
        bad[os.fsdecode(raw)] = NOT_UTF8
        os.mkdir(os.fsencode(album) + b"/f\xf6lder")
        with open(os.fsencode(album) + b"/f\xf6lder/inside.png", "wb") as handle:
            pic(52).save(handle, "PNG")
        bad[os.fsdecode(os.fsencode(album) + b"/f\xf6lder")] = NOT_UTF8
    return {"good": good, "bad": bad}


def check_good(vectors: dict[str, np.ndarray], good: dict, embedder) -> None:
    for path, want in good.items():
        assert path in vectors, f"not indexed: {path}"
        got = vectors[path]
        if isinstance(want, Image.Image):
            assert_same_vector(got, embed(embedder, want), path)
        elif want[0] == "close":
            _, image, at_least = want
            assert cosine(got, embed(embedder, image)) > at_least, path
        elif want[0] == "first frame":
            scores = [cosine(got, embed(embedder, frame)) for frame in want[1]]
            # 256 colours cost some similarity; the other frames are far behind
            assert scores[0] > 0.9 and scores[0] > max(scores[1:]) + 0.1, (path, scores)


def test_an_album_of_bad_files_is_indexed_or_skipped_and_never_retried(tmp_path, embedder):
    album = tmp_path / "album"
    expected = build_bad_album(album)
    good, bad = expected["good"], expected["bad"]
    library = Library()
    library.add_folder(album)

    started = time.monotonic()
    first = library.index(embedder)
    took = time.monotonic() - started
    print(f"indexed the album of bad files in {took:.1f} s")
    assert took < 60  # generous: the bombs are refused, not decoded (0.6 s measured)
    assert not first.cancelled
    skipped = {s.path: s.reason for s in first.skipped}
    assert set(skipped) == set(bad), "every bad file is listed, and only those"
    for path, reason in bad.items():
        assert reason in skipped[path], (path, skipped[path])
    vectors = stored_vectors(library, embedder)
    assert set(vectors) == set(good)
    check_good(vectors, good, embedder)
    assert first.added == len(good)

    # the next run decodes nothing: the skipped files are listed again, not retried
    events = []
    second = library.index(embedder, progress=events.append)
    assert (second.added, second.updated, second.unchanged) == (0, 0, len(good))
    assert {s.path: s.reason for s in second.skipped} == skipped
    assert events[-1].phase == "done" and events[-1].total == 0  # nothing was queued

    # ...until a file changes: the garbage is now a photo
    fixed = make_photo(60, SIZE)
    fixed.save(album / "garbage.jpg", format="PNG")
    third = library.index(embedder)
    assert third.updated == 1 and third.unchanged == len(good)
    assert str(album / "garbage.jpg") not in {s.path for s in third.skipped}
    assert_same_vector(
        stored_vectors(library, embedder)[str(album / "garbage.jpg")],
        embed(embedder, fixed),
        "the fixed file",
    )
    library.close()


def _oriented_album(folder: Path, upright: Image.Image) -> dict[str, tuple[str, int]]:
    """The upright photo stored in every EXIF orientation, in five formats."""
    folder.mkdir()
    files = {}
    for orientation, stored_as in STORED_FOR_ORIENTATION.items():
        stored = upright if stored_as is None else upright.transpose(stored_as)
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif_bytes = exif.tobytes()
        for fmt, suffix, args in (
            ("JPEG", "jpg", {"quality": 92}),
            ("PNG", "png", {}),
            ("TIFF", "tif", {}),
            ("WEBP", "webp", {"lossless": True}),
            # HEIF has its own rotation boxes (irot/imir); pillow-heif writes them from the
            # EXIF orientation, as phones do, and libheif applies them when decoding
            ("HEIF", "heic", {"quality": 95}),
        ):
            path = folder / f"orientation {orientation}.{suffix}"
            stored.save(path, format=fmt, exif=exif_bytes, **args)
            files[str(path)] = (fmt, orientation)
    return files


def test_every_exif_orientation_embeds_as_the_upright_photo(tmp_path, embedder):
    upright = make_photo(70, (240, 160))  # landscape: a missed 90° turn changes the shape
    files = _oriented_album(tmp_path / "oriented", upright)
    library = Library()
    report = library.index(embedder, [tmp_path / "oriented"])
    assert report.skipped == [] and report.added == len(files)
    vectors = stored_vectors(library, embedder)
    want = embed(embedder, upright)
    jpeg_upright = vectors[str(tmp_path / "oriented" / "orientation 1.jpg")]
    heic_upright = vectors[str(tmp_path / "oriented" / "orientation 1.heic")]
    for path, (fmt, orientation) in files.items():
        got = vectors[path]
        if fmt in ("PNG", "TIFF", "WEBP"):  # lossless: exactly the upright photo's vector
            assert_same_vector(got, want, path)
        elif fmt == "JPEG":
            # lossy, so compare with the stored pixels turned upright by the rule above
            with Image.open(path) as stored:
                if embedder.decode_size:
                    stored.draft("RGB", (embedder.decode_size, embedder.decode_size))
                pixels = stored.convert("RGB")
            turn = UPRIGHT_FROM_STORED[orientation]
            upright_pixels = pixels if turn is None else pixels.transpose(turn)
            assert_same_vector(got, embed(embedder, upright_pixels), path)
            assert cosine(got, jpeg_upright) > 0.99, path
        else:  # HEIC: lossy; the same photo as the upright HEIC
            assert cosine(got, heic_upright) > 0.998, path
    # and the checks have teeth: the photo turned or mirrored embeds differently
    for wrong in (T.ROTATE_90, T.FLIP_LEFT_RIGHT):
        assert cosine(embed(embedder, upright.transpose(wrong)), want) < 0.99
    library.close()


def test_unreadable_photo_and_folder_are_skipped_then_indexed_once_readable(tmp_path, embedder):
    album = tmp_path / "album"
    album.mkdir()
    for i in range(3):
        make_photo(80 + i, SIZE).save(album / f"photo {i}.png")
    private = album / "private"
    private.mkdir()
    make_photo(90, SIZE).save(private / "inside.png")
    library = Library()
    library.add_folder(album)
    assert library.index(embedder).added == 4

    secret = album / "secret.png"
    make_photo(91, SIZE).save(secret)
    secret.chmod(0o000)
    private.chmod(0o000)
    try:
        with permissions_enforced():
            report = library.index(embedder)
            again = library.index(embedder)
    finally:
        secret.chmod(0o644)
        private.chmod(0o755)
    skipped = {s.path: s.reason for s in report.skipped}
    assert skipped == {str(secret): "permission denied", str(private): "permission denied"}
    assert report.removed == 0  # the photo in the unreadable folder is still known
    assert str(private / "inside.png") in stored_vectors(library, embedder)
    assert {s.path: s.reason for s in again.skipped} == skipped
    assert [s.path for s in library.skipped()] == [str(secret)]  # `status` lists it

    # permissions fixed (the file itself did not change): indexed on the next run
    fixed = library.index(embedder)
    assert fixed.skipped == [] and fixed.added == 1 and fixed.unchanged == 4
    assert str(secret) in stored_vectors(library, embedder)
    library.close()


def test_files_and_folders_vanishing_mid_run(tmp_path, embedder):
    album = _mkdir(tmp_path / "album")
    for i in range(6):
        make_photo(100 + i, SIZE).save(album / f"{i}.png")
    for i in range(4):
        make_photo(110 + i, SIZE).save(_mkdir(album / "usb") / f"u{i}.png")
    library = Library()

    def sabotage(event):  # after the scan, before any photo is decoded
        if event.phase == "embedding" and event.done == 0 and (album / "usb").exists():
            os.remove(album / "3.png")
            shutil.move(album / "usb", tmp_path / "unplugged")

    report = library.index(embedder, [album], progress=sabotage)
    assert not report.cancelled and report.added == 5
    skipped = {s.path: s.reason for s in report.skipped}
    gone = {str(album / "3.png")} | {str(album / "usb" / f"u{i}.png") for i in range(4)}
    assert skipped == dict.fromkeys(gone, "file no longer exists")
    assert library.skipped() == []  # nothing recorded against them: not "broken" photos

    shutil.move(tmp_path / "unplugged", album / "usb")  # plugged in again
    back = library.index(embedder, [album])
    assert back.added == 4 and back.skipped == []

    # a folder that disappears during the scan keeps its photos in the index
    make_photo(120, SIZE).save(_mkdir(album / "zz later") / "z.png")
    library.index(embedder, [album])

    def unplug_during_scan(event):
        if event.phase == "scanning" and event.done and (album / "zz later").exists():
            shutil.move(album / "zz later", tmp_path / "away")

    report = library.index(embedder, [album], progress=unplug_during_scan)
    assert report.removed == 0
    assert {s.path: s.reason for s in report.skipped} == {
        str(album / "zz later"): "no longer exists"
    }
    assert str(album / "zz later" / "z.png") in stored_vectors(library, embedder)
    library.close()


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_huge_photo_is_indexed_and_searched_without_decoding_it_whole(tmp_path, embedder):
    """182 megapixels: above Pillow's own bomb limit (179 MP), below Album Finder's (250)."""
    album = tmp_path / "album"
    _mkdir(album)
    scene = make_photo(130, (1400, 1300)).convert("L")
    scene.resize((14000, 13000), Image.Resampling.NEAREST).save(album / "huge.jpg", quality=70)
    for i in range(3):
        make_photo(131 + i, SIZE).save(album / f"small {i}.png")
    library = Library()
    library.add_folder(album)  # album searches look under the album's folders only
    started = time.monotonic()
    report = library.index(embedder, [album])
    assert report.skipped == [] and report.added == 4
    hits = library.search(embedder, album / "huge.jpg", n=3)
    assert str(album / "huge.jpg") not in [h.path for h in hits] and len(hits) == 3
    query = tmp_path / "query.jpg"
    scene.convert("RGB").save(query, quality=90)
    assert library.search(embedder, query, n=1)[0].path == str(album / "huge.jpg")
    took = time.monotonic() - started
    print(f"indexed and searched the 182-megapixel photo in {took:.1f} s")
    assert took < 30  # generous: decoded at reduced scale, not whole (0.4 s measured)
    library.close()


def test_queries_that_are_not_photos_or_are_bombs(tmp_path, embedder, capsys):
    from albumfinder.cli import main

    album = tmp_path / "album"
    _mkdir(album)
    for i in range(4):
        make_photo(140 + i, SIZE).save(album / f"{i}.png")
    library = Library()
    library.add_folder(album)
    library.index(embedder, [album])
    notes = tmp_path / "notes.jpg"
    notes.write_text("shopping list")
    bomb = png_pixel_flood(tmp_path / "flood.png")
    for query, reason in (
        (notes, "not a recognised image format"),
        (bomb, "too large"),
        (tmp_path / "missing.jpg", "file not found"),
        (tmp_path, "is a folder"),
    ):
        with pytest.raises(ImageLoadError) as info:
            library.search(embedder, query, n=3)
        assert reason in info.value.reason, (query, info.value.reason)
    library.close()

    # the command line reports each and goes on with the good query; not all were answered: 1
    good = album / "2.png"
    assert main(["search", str(notes), str(bomb), str(good), "--model", "builtin", "--json"]) == 1
    import json

    out = json.loads(capsys.readouterr().out)
    assert [q["query"] for q in out["queries"]] == [str(good)]
    assert str(good) not in [r["path"] for r in out["queries"][0]["results"]]
    reasons = {f["query"]: f["error"] for f in out["failed"]}
    assert reasons[str(notes)] == f"cannot search with {notes}: not a recognised image format"
    assert "too large" in reasons[str(bomb)]
