"""The album map (issue #14, point 2): layout time, peak memory and neighbourhood
preservation of openTSNE (what the map uses) beside UMAP and a plain PCA floor, in the same
run, and the time to place new photos into a layout.

Data: vectors of clustered Gaussians on the unit sphere (384-D, as DINOv2-small gives; 100
groups of uneven size), 10k and 100k of them; and, for quality on real photos, the 600
Caltech 101 sample photos in ../shared/data (25 kinds x 24), indexed once with the built-in
model in a temporary ALBUMFINDER_HOME.

Each (method, size) runs in a fresh process that reports its wall and CPU seconds and its
peak resident memory above what it held before the layout began (the data, the libraries).
Neighbourhood preservation: recall@10, the share of each photo's 10 nearest neighbours by
cosine in the vectors that are among its 10 nearest on the 2-D map (1000 photos sampled);
for the sample photos also the share of the 10 nearest on the map that are of the same kind.
openTSNE runs as the app runs it: ``Library.album_map`` over an index holding the vectors
(layout, groups, writing the cache), then again (the cached map, as a window opens it), then
once more after 1 % new vectors were added (placed into the layout).
Targets (2 cores): 10k in at most 30 s, 100k in at most 5 min, memory linear in N. The
machine is shared: the table gives the load average beside each run, and marks the target
against both the wall time and the CPU time (on a quiet machine the wall time is at most
about the CPU time).

Run: python benchmarks/bench_map.py [--sizes 10000 100000] [--methods openTSNE UMAP PCA]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import REPO, SHARED_DATA, machine, mark, print_table

TARGETS_S = {10_000: 30.0, 100_000: 300.0}
METHODS = ("openTSNE", "UMAP", "PCA")
SAMPLED = 1000
K = 10

CHILD = r"""
import json, os, sys, tempfile, time
import numpy as np
sys.path.insert(0, {bench!r})
from bench_map import synthetic, run_method, recall_at, same_kind_at, album_index
n, method = {n}, {method!r}
vectors, groups = synthetic(n)
held = max(1, n // 100)
base, new = vectors[:-held], vectors[-held:]

def rss_mib():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

def peak_mib():  # since the clear below (Linux: VmHWM, reset by clear_refs 5)
    with open("/proc/self/status") as handle:
        line = next(line for line in handle if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024

scratch = tempfile.mkdtemp(prefix="bench-map-")
import albumfinder.atlas.mapping  # the libraries are loaded before memory is counted
if method == "UMAP":
    import umap
if method == "openTSNE":  # the real path: Library.album_map over an index of the vectors
    library, model, add = album_index(scratch, base)
    library.vectors(model.model_key)  # loaded before the clock starts, as a window has them
before = rss_mib()
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")  # the peak so far (making the data) is not the layout's
load0 = os.getloadavg()[0]
cpu0, wall0 = sum(os.times()[:2]), time.perf_counter()
cached_s = placed_s = None
if method == "openTSNE":
    album_map = library.album_map(model)
    wall, cpu = time.perf_counter() - wall0, sum(os.times()[:2]) - cpu0
    peak = peak_mib()
    where = {{p.path: (p.x, p.y) for p in album_map.points}}
    xy = np.array([where[path] for path in library.vectors(model.model_key).paths])
    start = time.perf_counter()
    library.album_map(model)
    cached_s = time.perf_counter() - start
    add(new)
    library.vectors(model.model_key)
    start = time.perf_counter()
    library.album_map(model)
    placed_s = time.perf_counter() - start
else:
    xy = run_method(method, base)
    wall, cpu = time.perf_counter() - wall0, sum(os.times()[:2]) - cpu0
    peak = peak_mib()
print(json.dumps({{
    "n": n, "method": method, "wall": wall, "cpu": cpu, "extra_mib": peak - before,
    "recall": recall_at(base, xy), "same": same_kind_at(xy, groups[:-held]),
    "placed": held, "placed_s": placed_s, "cached_s": cached_s,
    "load": (load0 + os.getloadavg()[0]) / 2,
}}))
"""


def album_index(scratch: str, vectors: np.ndarray):
    """A Library whose index holds ``vectors`` as photos of one album folder (files that
    need not exist: the map reads only the index), the model to map them with, and a
    function adding more."""
    from albumfinder.index import NewVector
    from albumfinder.library import Library

    library = Library(Path(scratch) / "index.sqlite3")
    folder = "/bench-album"
    library.store.add_folder(folder)
    model = Library.embedder("builtin")  # its key only: nothing is loaded
    count = [0]

    def add(rows: np.ndarray) -> None:
        for start in range(0, len(rows), 5000):
            batch = []
            for row in rows[start : start + 5000]:
                i = count[0]
                count[0] += 1
                batch.append(NewVector(f"{folder}/{i // 1000:03d}/p{i:06d}.jpg", 1, 1, None, row))
            library.store.record_batch(model.model_key, batch, [])

    add(vectors)
    return library, model, add


def synthetic(n: int, dim: int = 384, groups: int = 100, seed: int = 0):
    """``n`` unit vectors in ``groups`` Gaussian groups of uneven size on the sphere."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = rng.choice(groups, size=n, p=rng.dirichlet(np.full(groups, 2.0)))
    spread = rng.uniform(0.6, 1.1, size=groups)[labels, None] / np.sqrt(dim)
    vectors = centres[labels] + rng.normal(size=(n, dim)) * spread
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32), labels


def run_method(method: str, vectors: np.ndarray) -> np.ndarray:
    """(N, 2) layout of unit ``vectors`` (openTSNE: as the map computes it, with its groups;
    UMAP: on the same 50 principal components)."""
    from albumfinder.atlas import mapping

    if method == "openTSNE":
        return mapping.compute_layout(vectors)[0]
    if method == "UMAP":
        import umap

        model = umap.UMAP(n_components=2, n_neighbors=15, metric="euclidean")
        return model.fit_transform(mapping._reduced(vectors))
    if method == "PCA":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, svd_solver="randomized", random_state=0).fit_transform(vectors)
    raise SystemExit(f"unknown method {method}")


def recall_at(vectors: np.ndarray, xy: np.ndarray, k: int = K, sampled: int = SAMPLED) -> float:
    """Mean share of a sampled photo's ``k`` nearest by cosine that are among its ``k``
    nearest on the map."""
    from sklearn.neighbors import KDTree

    from albumfinder.atlas.neighbours import nearest

    rng = np.random.default_rng(1)
    rows = rng.choice(len(vectors), size=min(sampled, len(vectors)), replace=False)
    high, _ = nearest(vectors[rows], vectors, k + 1)
    low = KDTree(xy).query(xy[rows], k=k + 1, return_distance=False)
    shares = []
    for i, row in enumerate(rows):
        a = set(high[i].tolist()) - {int(row)}
        b = set(low[i].tolist()) - {int(row)}
        shares.append(len(a & b) / k)
    return float(np.mean(shares))


def _one(method: str, n: int) -> dict | None:
    code = CHILD.format(bench=str(Path(__file__).parent), n=n, method=method)
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------- the sample photos
def sample_vectors(data: Path) -> tuple[np.ndarray, list[str], list[str]] | None:
    """The Caltech sample photos' built-in vectors, their paths and kinds (indexed once in
    a temporary home kept between runs)."""
    folder = data / "caltech101-subset" / "images"
    if not folder.is_dir():
        return None
    home = Path(tempfile.gettempdir()) / "albumfinder-bench" / "map-home"
    os.environ["ALBUMFINDER_HOME"] = str(home)
    from albumfinder.library import Library

    with Library() as library:
        if str(folder) not in library.folders():
            library.add_folder(folder)
        model = Library.embedder("builtin")
        library.index(model)
        vectors = library.vectors(model.model_key)
        paths = list(vectors.paths)
        matrix = vectors.matrix.astype(np.float32)
        start = time.perf_counter()
        album_map = library.album_map(model)
        print(
            f"Library.album_map of the {len(paths)} sample photos, end to end (layout, "
            f"groups, cache): {time.perf_counter() - start:.1f} s, "
            f"{len(album_map.clusters)} groups"
        )
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    kinds = [Path(p).parent.name for p in paths]
    return matrix, paths, kinds


def same_kind_at(xy: np.ndarray, kinds, k: int = K, sampled: int = 10 * SAMPLED) -> float:
    """Mean share of a (sampled) photo's ``k`` nearest on the map that are of its kind."""
    from sklearn.neighbors import KDTree

    rng = np.random.default_rng(2)
    rows = rng.choice(len(xy), size=min(sampled, len(xy)), replace=False)
    near = KDTree(xy).query(xy[rows], k=k + 1, return_distance=False)[:, 1:]
    labels = np.asarray(kinds)
    return float((labels[near] == labels[rows, None]).mean())


def sample_table(methods: list[str], data: Path) -> None:
    found = sample_vectors(data)
    if found is None:
        print("(no ../shared/data: the sample-photo table is left out)")
        return
    vectors, _paths, kinds = found
    from albumfinder.atlas.neighbours import nearest

    high, _ = nearest(vectors, vectors, K, same_rows=True)
    labels = np.asarray(kinds)
    in_vectors = float((labels[high] == labels[:, None]).mean())
    rows = []
    for method in methods:
        start = time.perf_counter()
        xy = run_method(method, vectors)
        seconds = time.perf_counter() - start
        rows.append(
            [
                method,
                f"{seconds:.1f}",
                f"{recall_at(vectors, xy):.2f}",
                f"{same_kind_at(xy, kinds):.2f}",
                f"{in_vectors:.2f}",
            ]
        )
    print_table(
        f"Map of the {len(vectors)} sample photos (built-in model, 1280-D)",
        ["method", "seconds", "recall@10", "same kind@10 on the map", "same kind@10 in vectors"],
        rows,
    )


def _verdict(result: dict, target: float) -> str:
    """Against the target: the wall time, and the CPU time (what a quiet machine would take
    at most, the layout's threads aside: the machine is shared)."""
    return f"{mark(result['wall'] <= target)} wall, {mark(result['cpu'] <= target)} CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument(
        "--data", type=Path, default=SHARED_DATA, help="the sample photos (../shared/data)"
    )
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--no-sample", action="store_true", help="skip the sample photos")
    args = parser.parse_args()
    print(f"Machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the start")
    if not args.no_sample:
        sample_table(args.methods, args.data)
    rows = []
    for n in args.sizes:
        for method in args.methods:
            result = _one(method, n)
            if result is None:
                rows.append([f"{n:,}", method, "failed"] + [""] * 8)
                continue
            target = TARGETS_S.get(n)
            placed = (
                f"{result['placed']:,} in {result['placed_s']:.1f} s"
                if result["placed_s"] is not None
                else "-"
            )
            cached = f"{result['cached_s']:.1f}" if result["cached_s"] is not None else "-"
            rows.append(
                [
                    f"{n:,}",
                    method,
                    f"{result['wall']:.1f}",
                    f"{result['cpu']:.1f}",
                    f"{result['extra_mib']:.0f}",
                    f"{result['recall']:.2f}",
                    f"{result['same']:.2f}",
                    placed,
                    cached,
                    f"{result['load']:.1f}",
                    _verdict(result, target) if target and method == "openTSNE" else "",
                ]
            )
            print(rows[-1], flush=True)
    print_table(
        "Layout of synthetic vectors (384-D, 100 groups); openTSNE: Library.album_map end "
        "to end (layout, groups, cache); the machine is shared",
        [
            "photos",
            "method",
            "wall s",
            "CPU s",
            "peak MiB above start",
            "recall@10",
            "same group@10",
            "placed (1 % new)",
            "cached map s",
            "load avg",
            "target",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
