"""The "Why?" maps within 1 s on CPU with DINOv2 small (issue 13, point 4).

``Library.explain`` as the window calls it for a selected result: both photos (12 MP phone
JPEGs, indexed, so their vectors are read from the index) decoded upright at reduced size,
one forward pass of the two, and the patch-similarity maps. Beside it, in the same run, the
baseline: ``Library.search`` with a photo that is not indexed (what a drop costs today: one
decode, one forward pass, the top 10), and ``explain`` with neither photo indexed (two more
embeddings, for the score), and the next "Why?" of the same query (its map is kept: only
the result goes through the model). Medians of ``--repeat`` calls after a warm-up; the machine may
be shared, so the table also gives the fastest call and the CPU time of this process, which
divided by the cores it may use is what the call takes on a quiet machine. DINOv2 runs with
random weights in Meta's format (the same compute as the real ones) unless ``--weights``
names real ones.
Run:
    python benchmarks/bench_explain.py [--repeat 7] [--models dinov2-small,builtin]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from albumfinder.embedding import device
from albumfinder.explain import forget_query_maps
from albumfinder.library import Library

from common import dinov2_checkpoint, machine, mark, phone_photos, print_table, wait_quiet

TARGET_S = 1.0


def timings(fn, repeat: int) -> tuple[float, float, float]:
    """(median wall seconds, fastest wall seconds, median CPU seconds of this process): on a
    shared machine the CPU seconds divided by the cores used are what a quiet one takes."""
    fn()  # warm-up: first-call allocations, the vectors read from the index
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), min(times), statistics.median(cpu)


def cpu_kind() -> str:
    flags = device.cpu_flags()
    kind = (
        "bf16"
        if device.cpu_has_bf16()
        else "int8 dot (VNNI)"
        if device.cpu_has_int8_dot()
        else "AVX2"
        if "avx2" in flags
        else "plain"
    )
    emulated = os.environ.get(device.CPUINFO_ENV)
    return f"{kind} ({'emulated from ' + emulated if emulated else 'real'})"


def bench_model(name: str, weights: str | None, photos: list[Path], repeat: int) -> list:
    with tempfile.TemporaryDirectory(prefix="bench-explain-") as scratch:
        album = Path(scratch) / "album"
        album.mkdir()
        indexed = []
        for photo in photos[:2]:
            target = album / photo.name
            target.symlink_to(photo)
            indexed.append(str(target))
        outside = str(photos[2])
        with Library(Path(scratch) / "index.sqlite3") as library:
            library.add_folder(album)
            path = weights or (None if name == "builtin" else dinov2_checkpoint(name))
            embedder = Library.embedder(name, model_path=path, precision="auto")
            model = embedder.get()
            library.index(embedder)
            query, result = indexed
            search = timings(lambda: library.search(embedder, outside), repeat)

            def first_why() -> None:  # a query's first "Why?": both photos through the model
                forget_query_maps()
                library.explain(embedder, query, result)

            why_times = timings(first_why, repeat)
            next_times = timings(lambda: library.explain(embedder, query, result), repeat)

            def cold_why() -> None:
                forget_query_maps()
                library.explain(embedder, outside, str(photos[3]))

            cold = timings(cold_why, repeat)
            why = library.explain(embedder, query, result)
    cores = device.usable_cores() or os.cpu_count() or 1
    quiet = why_times[2] / cores  # what the CPU time takes on this many free cores

    def cell(t: tuple[float, float, float]) -> str:
        return f"{t[0] * 1000:.0f} ms (fastest {t[1] * 1000:.0f}; CPU {t[2] * 1000:.0f})"

    return [
        name + ("" if weights or name == "builtin" else " (random weights)"),
        str(model.precision.value),
        f"{why.rows} x {why.cols}",
        cell(search),
        cell(why_times),
        cell(next_times),
        cell(cold),
        f"{quiet * 1000:.0f} ms {mark(min(why_times[0], quiet) <= TARGET_S)}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--models", default="dinov2-small,builtin")
    parser.add_argument("--weights", help="real DINOv2 weights (default: random ones)")
    args = parser.parse_args()
    photos = sorted(phone_photos(4).glob("IMG_*.jpg"))
    busy = wait_quiet()
    rows = [
        bench_model(name, args.weights if name != "builtin" else None, photos, args.repeat)
        for name in args.models.split(",")
    ]
    print(f"\n{machine()}; CPU kind: {cpu_kind()}; other programs used {busy:.0%} of the CPUs")
    print_table(
        f"Why? maps of two 12 MP photos (median of {args.repeat}; target ≤ {TARGET_S:g} s)",
        [
            "model",
            "precision",
            "map",
            "baseline: search, photo not indexed",
            "explain (both indexed)",
            "next result of the same query",
            "explain (neither indexed)",
            "explain on free cores (CPU / cores) ≤ 1 s",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
