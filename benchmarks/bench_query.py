"""Query latency on a 10k-photo index (issue #5, point 4): at most 0.5 s, median of 20.

The core of "drop a photo, see results": ``Library.search`` with a 12 MP phone photo that is
not in the index (decode at reduced size, embed one photo in the default mode, top 10 over
the index's vectors, checking that the hits still exist), with the built-in model and with
ViT-S/14 (random weights in Meta's format). The index holds 10k photos (small files, with
random vectors of the model's size). The first query after opening also loads the vectors
from the index file; it is reported separately. Then the same through the GUI, in a fresh
process on Qt's offscreen platform: from ``MainWindow.find`` (what a drop calls) to the
first paint of the results strip holding the results (thumbnails follow asynchronously).
Run:
    python benchmarks/bench_query.py [--index-size 10000] [--queries 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from albumfinder.index import NewVector
from albumfinder.library import Library

from common import (
    REPO,
    dinov2_checkpoint,
    load_model,
    machine,
    mark,
    phone_photos,
    print_table,
    wait_quiet,
)

TITLES = {"builtin": "built-in (EfficientNet-Lite0)", "dinov2-small": "ViT-S/14"}


def fill_index(library: Library, root: Path, count: int, model_key: str, dim: int) -> None:
    rng = np.random.default_rng(0)
    batch = []
    for i in range(count):
        folder = root / f"{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"IMG_{i:06d}.jpg"
        path.write_bytes(b"\xff\xd8" + i.to_bytes(4, "little"))
        info = path.stat()
        vector = rng.standard_normal(dim).astype(np.float32)
        batch.append(NewVector(str(path), info.st_size, info.st_mtime_ns, None, vector))
        if len(batch) == 2000:
            library.store.record_batch(model_key, batch, [])
            batch = []
    library.store.record_batch(model_key, batch, [])
    library.add_folder(root)  # album searches look under the album's folders only


GUI_CHILD = r"""
import json, sys, time
from albumfinder import runtime; runtime.tune_process()
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from albumfinder.gui.drop_zone import QuerySource
from albumfinder.gui.main_window import MainWindow
from albumfinder.gui.result_strip import ResultStrip
from albumfinder.library import Library

index, model, model_path, *queries = sys.argv[1:]
painted = []
original_paint = ResultStrip.paintEvent

def paint(self, event):
    original_paint(self, event)
    if self.count():
        painted.append(time.perf_counter())

ResultStrip.paintEvent = paint
app = QApplication(["bench"])
window = MainWindow(Library(index))
window.engine.model, window.engine.model_path = model, (model_path or None)
window.show()
Library.embedder(model, model_path or None).get()  # loaded before the first drop, as at start

def wait_for(condition, timeout=30.0):
    deadline = time.perf_counter() + timeout
    loop = QEventLoop()
    while not condition() and time.perf_counter() < deadline:
        QTimer.singleShot(5, loop.quit)
        loop.exec()
    return condition()

times = []
for query in [queries[0], *queries]:  # the first one (loads the vectors) is not counted
    window.strip.set_results([])
    wait_for(lambda: False, 0.05)
    painted.clear()
    start = time.perf_counter()
    window.find(QuerySource("path", query, query.rsplit("/", 1)[-1]))
    if not wait_for(lambda: bool(painted)):
        raise SystemExit("no results painted")
    times.append(painted[0] - start)
print(json.dumps(times[1:]))
window.close()
"""


def gui_latency(index: Path, name: str, queries: list[Path]) -> list[float]:
    """Seconds from MainWindow.find to the results strip painted, per query (fresh process)."""
    model_path = "" if name == "builtin" else str(dinov2_checkpoint(name))
    with tempfile.TemporaryDirectory(prefix="af-bench-gui-") as home:
        env = dict(os.environ, ALBUMFINDER_HOME=home, ALBUMFINDER_OFFLINE="1")
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        out = subprocess.run(
            [sys.executable, "-c", GUI_CHILD, str(index), name, model_path, *map(str, queries)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            cwd=REPO,
            check=False,
        )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from albumfinder import runtime

    runtime.tune_process()  # first, before torch, as the app's entry points do
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-size", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--models", nargs="+", default=["builtin", "dinov2-small"])
    parser.add_argument("--no-gui", dest="gui", action="store_false")
    args = parser.parse_args()
    queries = sorted(phone_photos(100).glob("*.jpg"))[: args.queries]
    rows = []
    for name in args.models:
        embedder = load_model(name, "auto")
        with tempfile.TemporaryDirectory(prefix="af-bench-query-") as tmp:
            library = Library(Path(tmp) / "index.sqlite3")
            fill_index(
                library, Path(tmp) / "album", args.index_size, embedder.model_key, embedder.dim
            )
            library.close()
            library = Library(Path(tmp) / "index.sqlite3")
            wait_quiet()
            start = time.perf_counter()
            hits = library.search(embedder, queries[0], n=10)
            first = time.perf_counter() - start
            assert len(hits) == 10
            times = []
            for query in queries:
                start = time.perf_counter()
                library.search(embedder, query, n=10)
                times.append(time.perf_counter() - start)
            library.close()
            painted = None
            if args.gui:
                wait_quiet()
                try:
                    painted = statistics.median(
                        gui_latency(Path(tmp) / "index.sqlite3", name, queries)
                    )
                except (ImportError, RuntimeError, subprocess.TimeoutExpired) as exc:
                    print(f"GUI not measured: {exc}", file=sys.stderr)
        median = statistics.median(times)
        shown = median if painted is None else painted
        rows.append(
            [
                TITLES.get(name, name),
                embedder.precision,
                f"{args.index_size:,}",
                f"{first * 1000:.0f} ms",
                f"{median * 1000:.0f} ms",
                f"{max(times) * 1000:.0f} ms",
                "not measured" if painted is None else f"{painted * 1000:.0f} ms",
                f"≤ 500 ms {mark(shown <= 0.5)}",
            ]
        )
    print(f"Machine: {machine()}")
    print_table(
        f"Query latency: a 12 MP photo dropped → top 10 (median of {len(queries)} queries)",
        [
            "model",
            "precision",
            "index",
            "first query (loads vectors)",
            "median: Library.search",
            "worst",
            "median: drop → strip painted (GUI)",
            "target",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
