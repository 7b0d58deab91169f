"""Peak memory while indexing (issue #5, point 7): at most 1.5 GB with ViT-S/14 at 10k photos.

Each measurement runs in a fresh process and reads its own peak resident set size
(``resource.getrusage``). The album is the benchmark's 12 MP phone photos, hard-linked
over and over under distinct names (10k distinct photos would take a long time to make,
and the pipeline keeps nothing per photo content). Baseline in the same run: a process that
only loads the model and embeds one batch; the difference is what indexing adds. The
resident size is also sampled during the run, to show it does not grow with the album.
Run (10k photos take several minutes on 2 cores; the default is shorter):
    python benchmarks/bench_memory.py [--photos 2000] [--models dinov2-small]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import REPO, machine, mark, phone_photos, print_table

CHILD = r"""
import glob, json, os, resource, sys, time
sys.path.insert(0, {bench!r})
from albumfinder import runtime; runtime.tune_process()
from common import load_model, peak_rss_mib
from albumfinder.images import open_photo
from albumfinder.library import Library

def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

mode, model, album, index = sys.argv[1:5]
photos = sorted(glob.glob(os.path.join(album, "*", "*.jpg")))
embedder = load_model(model, "auto")
samples = []
start = time.perf_counter()
if mode == "load":
    arrays = [embedder.prepare(open_photo(p, 224)) for p in photos[: embedder.batch_size]]
    embedder.embed_prepared(arrays)
    done = len(arrays)
else:
    step = max(1, int(sys.argv[5]) // 10)
    def progress(event):
        if event.phase == "embedding" and event.done >= step * (len(samples) + 1):
            samples.append((event.done, round(rss_mib())))
    library = Library(index)
    report = library.index(embedder, [album], progress=progress)
    done = report.added
    assert not report.skipped, report.skipped[:3]
    # The first search after indexing loads all vectors: part of a session's peak too.
    library.search(embedder, photos[0], n=10)
    library.close()
print(json.dumps({{"peak": peak_rss_mib(), "done": done, "samples": samples,
                  "precision": embedder.precision, "seconds": time.perf_counter() - start}}))
"""


def album_of(count: int, root: Path) -> Path:
    """``count`` photos under ``root``: the phone photos hard-linked under distinct names."""
    sources = sorted(phone_photos(100).glob("*.jpg"))
    album = root / "album"
    for i in range(count):
        folder = album / f"{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        os.link(sources[i % len(sources)], folder / f"IMG_{i:06d}.jpg")
    return album


def run_child(
    mode: str, model: str, album: Path, index: Path, count: int, home: Path | None = None
) -> dict:
    """One measurement in a fresh process. With ``home`` the child starts as on a new machine:
    an empty ``ALBUMFINDER_HOME``, so "auto" is calibrated in the background while indexing
    runs (the first use of a model), as a user's first index would be."""
    code = CHILD.format(bench=str(REPO / "benchmarks"))
    env = dict(os.environ)
    if home is not None:
        env["ALBUMFINDER_HOME"] = str(home)
        env["ALBUMFINDER_CALIBRATE"] = "background"
    out = subprocess.run(
        [sys.executable, "-c", code, mode, model, str(album), str(index), str(count)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from albumfinder import runtime

    runtime.tune_process()  # first, before torch, as the app's entry points do
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--models", nargs="+", default=["dinov2-small"])
    parser.add_argument(
        "--first-run",
        action="store_true",
        help="index as on a new machine: calibration of 'auto' runs during indexing",
    )
    args = parser.parse_args()
    rows, sample_rows = [], []
    with tempfile.TemporaryDirectory(prefix="af-bench-mem-") as tmp:
        album = album_of(args.photos, Path(tmp))
        for model in args.models:
            base = run_child("load", model, album, Path(tmp) / "unused.sqlite3", args.photos)
            index = Path(tmp) / f"{model}.sqlite3"
            print(f"indexing {args.photos} photos with {model}…", file=sys.stderr, flush=True)
            home = Path(tmp) / f"home-{model}" if args.first_run else None
            result = run_child("index", model, album, index, args.photos, home)
            peak = result["peak"]
            rows.append(
                [
                    model + (" (first run on this machine)" if args.first_run else ""),
                    result["precision"],
                    f"{result['done']:,}",
                    f"{base['peak']:.0f} MiB",
                    f"{peak:.0f} MiB",
                    f"{peak - base['peak']:+.0f} MiB",
                    f"{result['done'] / result['seconds']:.1f}",
                    f"≤ 1536 MiB {mark(peak <= 1536)}",
                ]
            )
            sample_rows.append([model, ", ".join(f"{d:,}: {m} MiB" for d, m in result["samples"])])
    print(f"Machine: {machine()}")
    print_table(
        "Peak resident memory while indexing (fresh process each)",
        [
            "model",
            "precision",
            "photos indexed",
            "baseline: model loaded + 1 batch",
            "peak while indexing + 1 search",
            "added by indexing",
            "photos/s",
            "target",
        ],
        rows,
    )
    print_table(
        "Resident memory during the run (photos done: RSS)", ["model", "samples"], sample_rows
    )


if __name__ == "__main__":
    main()
