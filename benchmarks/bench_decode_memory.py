"""Peak memory of indexing small files that decode to huge pictures (issue #10, point 3).

The album: four 16-bit grey PNGs of 15000×15000 (a few hundred KB each), one 8-bit grey
PNG of 15000×15000 and a 35-byte GIF with a 60000×4000 screen. Each case runs in a fresh
process that indexes the album with the built-in model and reports its own peak resident
set size (``resource.getrusage``) and what became of each file. The baseline, in the same
run, is today's decode as it was before the fix (every Pillow plugin, full decode, EXIF
copy, int64/float64 conversion, no memory budget), put in place of ``open_photo`` in the
child. Target: at most 1.5 GB on any number of decoding threads, every file indexed or
skipped with a reason.

The baseline needs about 6 GB on one thread (13 GB on two): it runs on one thread unless
asked for more. Run:
    python benchmarks/bench_decode_memory.py [--threads 1 2 4] [--baseline-threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

from common import REPO, machine, mark, print_table

TARGET_MIB = 1536

CHILD = r"""
import json, sys, warnings
import numpy as np
from PIL import Image, ImageOps
sys.path.insert(0, {bench!r})
from albumfinder import runtime; runtime.tune_process()
from common import load_model, peak_rss_mib
from albumfinder import indexer
from albumfinder.errors import ImageLoadError
from albumfinder.images import describe_error
from albumfinder.library import Library

def todays_open_photo(path, min_size=None):
    # the decode as it was before issue #10 (point 3), for the baseline
    try:
        with open(path, "rb") as handle:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(handle)
            if min_size and image.format == "JPEG":
                image.draft("RGB", (min_size, min_size))
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in ("I;16", "I"):
                array = np.asarray(image).astype(np.int64)
                scaled = array / 257.0
                image = Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), "L")
            return image.convert("RGB")
    except Exception as exc:
        raise ImageLoadError(path, describe_error(exc)) from exc

mode, album, index, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if mode == "baseline":
    indexer.open_photo = todays_open_photo
embedder = load_model("builtin")
library = Library(index)
report = library.index(embedder, [album], decode_workers=threads)
print(json.dumps({{
    "peak_mib": peak_rss_mib(),
    "added": report.added,
    "skipped": {{s.path: s.reason for s in report.skipped}},
}}))
"""


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(path: Path, side: int, depth: int) -> None:
    """A grey PNG whose rows are a smooth ramp: tiny on disk, side² pixels decoded."""
    packer = zlib.compressobj(9)
    parts = []
    for y in range(side):
        value = (y * 255 // side) * (257 if depth == 16 else 1)
        row = (value.to_bytes(2, "big") if depth == 16 else bytes([value])) * side
        parts.append(packer.compress(b"\x00" + row))
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", side, side, depth, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def _gif_screen(path: Path, width: int = 60000, height: int = 4000) -> None:
    """A 35-byte GIF: a 60000×4000 logical screen holding one 1×1 frame."""
    data = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00" * 3 + b"\xff" * 3
    data += b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00;"
    path.write_bytes(data)


def make_album(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    first = folder / "deep 0.png"
    if not first.exists():
        _png(first, 15000, 16)
        for i in range(1, 4):
            os.link(first, folder / f"deep {i}.png")
        _png(folder / "plain.png", 15000, 8)
        _gif_screen(folder / "screen.gif")
    return folder


def run_case(mode: str, album: Path, threads: int, scratch: Path) -> dict:
    index = scratch / f"{mode}-{threads}.sqlite3"
    code = CHILD.format(bench=str(REPO / "benchmarks"))
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-c", code, mode, str(album), str(index), str(threads)],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    from albumfinder import runtime

    runtime.tune_process()  # first, before torch, as the app's entry points do
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--baseline-threads", type=int, nargs="*", default=[1])
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory(prefix="albumfinder-bench-") as scratch:
        album = make_album(Path(scratch) / "album")
        files = sorted(p.name for p in album.iterdir())
        sizes = ", ".join(
            f"{p.name} {p.stat().st_size / 1024:.0f} KB" for p in sorted(album.iterdir())
        )
        print(f"album: {sizes}")
        rows = []
        cases = [("baseline", t) for t in args.baseline_threads]
        cases += [("now", t) for t in args.threads]
        for mode, threads in cases:
            result = run_case(mode, album, threads, Path(scratch))
            if "error" in result:
                rows.append([mode, threads, "failed", result["error"], "", ""])
                continue
            accounted = result["added"] + len(result["skipped"]) == len(files)
            reasons = "; ".join(
                f"{Path(p).name}: {r}" for p, r in sorted(result["skipped"].items())
            )
            peak = result["peak_mib"]
            ok = peak <= TARGET_MIB and accounted
            rows.append(
                [
                    mode,
                    threads,
                    f"{peak:,.0f}",
                    f"{result['added']}/{len(files)}",
                    reasons or "—",
                    mark(ok) if mode == "now" else "",
                ]
            )
    print_table(
        f"Peak RSS indexing {len(files)} small files that decode to huge pictures "
        f"(target ≤ {TARGET_MIB} MiB, built-in model)",
        ["decode", "threads", "peak RSS (MiB)", "indexed", "skipped (reason)", "target"],
        rows,
    )


if __name__ == "__main__":
    main()
