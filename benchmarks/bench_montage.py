"""Result pictures (issue 9, point 9): writing one costs no more than decoding its tiles at
tile size.

One picture: the query and ``-n`` look-alikes, 4032×3024 phone JPEGs, tile size 224.
Baseline in the same run: decoding the same photos one after another at tile size
(JPEG draft), which is the least any picture of them costs. Run:
    python benchmarks/bench_montage.py [--num 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from common import CACHE, _phone_photo, machine, mark, median_seconds, print_table


def photos(count: int) -> list[str]:
    """``count`` 12 MP phone-like JPEGs (made once, kept in the temp folder)."""
    folder = CACHE / f"montage-{count}"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        path = folder / f"IMG_{i:05d}.jpg"
        source = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8).repeat(80, 0).repeat(80, 1)
        if not path.exists():
            _phone_photo(source, seed=i).save(path, "JPEG", quality=90)
        paths.append(str(path))
    return paths


def main() -> None:
    from albumfinder import runtime

    runtime.tune_process()  # first, before torch, as the app's entry points do
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--num", type=int, default=10, help="look-alikes per picture")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args()

    from albumfinder.cli.montage import make_montage
    from albumfinder.images import open_photo
    from albumfinder.report import SearchHit

    made = photos(args.num + 1)
    query_path, hit_paths = made[0], made[1:]
    hits = [SearchHit(p, 0.9) for p in hit_paths]

    def decode_only() -> None:
        for path in [query_path, *hit_paths]:
            open_photo(path, min_size=args.size)

    with tempfile.TemporaryDirectory(prefix="af-bench-montage-") as out:

        def write_picture() -> None:
            query = open_photo(query_path, min_size=args.size)
            picture = make_montage(query, "query.jpg", hits, size=args.size)
            picture.save(Path(out) / "query_output.jpg")

        decode = median_seconds(decode_only, repeat=args.repeat, warmup=1)
        picture = median_seconds(write_picture, repeat=args.repeat, warmup=1)
    print(f"Machine: {machine()}")
    print_table(
        f"One result picture, {args.num} look-alikes, tiles {args.size} px "
        f"(median of {args.repeat})",
        ["what", "time", "baseline: decode the tiles at tile size", "target"],
        [
            [
                "decode + montage + save",
                f"{picture * 1000:.0f} ms",
                f"{decode * 1000:.0f} ms",
                f"≤ baseline {mark(picture <= decode * 1.05)}",
            ]
        ],
    )


if __name__ == "__main__":
    main()
