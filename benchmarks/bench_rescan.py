"""Rescan of an unchanged library: 10k and 100k photos (stat calls only; no decoding).

Builds a tree of small files and an index that already holds every one of them (random
vectors with the right size and mtime), then times Library.index(), which must find
nothing to do. Baseline in the same run: a bare os.walk + stat of the same tree, the floor
any rescan pays. Targets: 10k in ≤ 1 s, 100k in ≤ 10 s. Run:
    python benchmarks/bench_rescan.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from albumfinder.index import NewVector
from albumfinder.library import Library

from common import machine, mark, print_table


class _UnusedModel:
    """Stands in for the model: an unchanged library must never call it."""

    class spec:  # noqa: N801 - mimics Embedder.spec
        name = "benchmark"

    model_key = "benchmark/p1"
    batch_size = 32
    decode_size = 224

    def prepare(self, image):
        raise AssertionError("an unchanged rescan decoded a photo")

    def embed_prepared(self, arrays):
        raise AssertionError("an unchanged rescan ran the model")


def build_tree(root: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        folder = root / f"{2000 + i // 5000}" / f"{(i // 250) % 20:02d}"
        if i % 250 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"IMG_{i:06d}.jpg"
        path.write_bytes(b"\xff\xd8" + i.to_bytes(4, "little"))
        paths.append(path)
    return paths


def fill_index(library: Library, paths: list[Path], model_key: str) -> None:
    rng = np.random.default_rng(0)
    batch = []
    for path in paths:
        info = path.stat()
        vector = rng.standard_normal(384).astype(np.float32)
        batch.append(NewVector(str(path), info.st_size, info.st_mtime_ns, None, vector))
        if len(batch) == 5000:
            library.store.record_batch(model_key, batch, [])
            batch = []
    library.store.record_batch(model_key, batch, [])


def walk_and_stat(root: Path) -> int:
    count = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            os.stat(os.path.join(folder, name))
            count += 1
    return count


def main() -> None:
    from albumfinder import runtime

    runtime.tune_process()  # first, before torch, as the app's entry points do
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    rows = []
    for count in args.sizes:
        with tempfile.TemporaryDirectory(prefix="af-rescan-") as scratch:
            root = Path(scratch) / "album"
            paths = build_tree(root, count)
            library = Library(Path(scratch) / "index.sqlite3")
            model = _UnusedModel()
            fill_index(library, paths, model.model_key)
            start = time.perf_counter()
            walk_and_stat(root)
            floor = time.perf_counter() - start
            start = time.perf_counter()
            report = library.index(model, [root])
            ours = time.perf_counter() - start
            assert report.unchanged == count and report.added == report.updated == 0
            library.close()
        target = 1.0 * count / 10_000
        rows.append(
            [
                f"{count:,}",
                f"{ours:.2f} s",
                f"{floor:.2f} s",
                f"{count / ours:,.0f} photos/s",
                f"≤ {target:g} s {mark(ours <= target)}",
            ]
        )
    print(f"Machine: {machine()}")
    print_table(
        "Rescan of an unchanged library",
        ["photos", "ours (Library.index)", "floor: os.walk + stat", "rate", "target"],
        rows,
    )


if __name__ == "__main__":
    main()
