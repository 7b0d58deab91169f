"""Search alone: exact top-10 over 100k and 1M vectors, and the RAM the vectors take.

Baseline in the same run: the naive way (float32 matrix in numpy, full argsort).
Targets: 100k vectors in ≤ 10 ms, 1M in ≤ 100 ms (median). Run:
    python benchmarks/bench_search.py [--sizes 100000 1000000] [--dims 384 1280]
"""

from __future__ import annotations

import argparse

import numpy as np

from albumfinder.search import VectorMatrix, top_k

from common import machine, mark, median_seconds, print_table


def unit_rows(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float16)
    for start in range(0, n, 100_000):  # build in pieces to keep peak memory low
        block = rng.standard_normal((min(100_000, n - start), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + len(block)] = block
    return out


def measure(n: int, dim: int, repeat: int) -> list[object]:
    matrix = unit_rows(n, dim)
    vectors = VectorMatrix([f"/p/{i}.jpg" for i in range(n)], matrix)
    query = matrix[n // 2].astype(np.float32)
    ours = median_seconds(lambda: top_k(vectors.matrix, query, 10), repeat)
    index, _ = top_k(vectors.matrix, query, 10)
    assert index[0] == n // 2
    naive_matrix = matrix.astype(np.float32)
    naive = median_seconds(
        lambda: np.argsort(-(naive_matrix @ query))[:10], max(3, repeat // 4), warmup=1
    )
    target = 0.010 if n <= 100_000 else 0.100 * n / 1_000_000
    return [
        f"{n:,}",
        dim,
        f"{vectors.nbytes / 2**20:.0f} MiB (float16)",
        f"{ours * 1000:.1f} ms",
        f"{naive * 1000:.1f} ms",
        f"{naive / ours:.1f}×",
        f"≤ {target * 1000:.0f} ms {mark(ours <= target)}",
    ]


def main() -> None:
    from albumfinder import runtime

    runtime.tune_process()  # first, before torch, as the app's entry points do
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[384, 1280])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rows = [measure(n, dim, args.repeat) for dim in args.dims for n in args.sizes]
    print(f"Machine: {machine()}")
    print_table(
        "Search alone (median, top 10)",
        ["vectors", "dim", "RAM", "ours", "naive float32 numpy", "speed-up", "target"],
        rows,
    )


if __name__ == "__main__":
    main()
