"""GPU throughput (issue #5, point 8): indexing 12 MP JPEGs with ViT-S/14 and ViT-B/14 on a
CUDA device in fp16 and bf16, and how it grows with the number of decoding threads.

For each model and precision it measures
  - the model-only rate: forward passes on ready photos at the GPU batch size;
  - the decode-only rate with 1, 2, 4, … decoding threads (up to the CPU count): what the
    indexer does before the model (quick hash, draft decode, EXIF turn, resize), no model;
  - ``Library.index`` of the same photos into a fresh index with as many decoding threads.
On a GPU the model is fast and decoding is expected to be the bottleneck: the table shows
the pipeline following the decode-only rate as threads are added until it meets the model.
Needs a CUDA device; ``--device cpu`` runs the same steps on the CPU to check the script.
Run:
    python benchmarks/bench_gpu.py [--photos 200] [--models dinov2-small dinov2-base]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from albumfinder.images import open_photo
from bench_indexing import decode_rate, pipeline_rate

from common import load_model, machine, model_only_rate, phone_photos, print_table

TITLES = {"dinov2-small": "ViT-S/14", "dinov2-base": "ViT-B/14", "builtin": "built-in"}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def thread_counts(limit: int) -> list[int]:
    counts, n = [], 1
    while n < limit:
        counts.append(n)
        n *= 2
    return [*counts, limit]


def main() -> None:
    from albumfinder import runtime

    runtime.tune_process()  # first, before torch, as the app's entry points do
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--models", nargs="+", default=["dinov2-small", "dinov2-base"])
    parser.add_argument("--precisions", nargs="+", default=["fp16", "bf16"])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--max-threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    import torch  # after runtime.tune_process() (in main), which sets OpenMP up first

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("bench_gpu: no CUDA device here (use --device cpu to check the script)")
    device_name = (
        torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else "CPU"
    )
    folder = phone_photos(args.photos)
    files = sorted(folder.glob("*.jpg"))
    threads = thread_counts(max(1, args.max_threads))
    rows, decode_rows = [], {}
    with tempfile.TemporaryDirectory(prefix="af-bench-gpu-") as tmp:
        for name in args.models:
            for precision in args.precisions:
                embedder = load_model(name, precision, device=args.device)
                arrays = [
                    embedder.prepare(open_photo(f, min_size=embedder.decode_size))
                    for f in files[: embedder.batch_size]
                ]
                arrays = (arrays * embedder.batch_size)[: embedder.batch_size]
                model = model_only_rate(embedder, arrays)
                say(f"{name} {precision}: model-only {model:.1f} photos/s")
                for count in threads:
                    if count not in decode_rows:
                        decode_rows[count] = decode_rate(embedder, files, workers=count)
                    rate = pipeline_rate(embedder, folder, Path(tmp), len(files), count)
                    say(f"  {count} decoding threads: {rate:.1f} photos/s")
                    rows.append(
                        [
                            TITLES.get(name, name),
                            embedder.precision,
                            embedder.batch_size,
                            count,
                            f"{rate:.1f}",
                            f"{decode_rows[count]:.1f}",
                            f"{model:.1f}",
                        ]
                    )
    print(f"Machine: {machine()}, {device_name}, torch {torch.__version__}")
    print_table(
        f"Indexing {len(files)} photos of 4032×3024 (JPEG q90) on {device_name}, photos/s",
        [
            "model",
            "precision",
            "batch",
            "decoding threads",
            "ours (Library.index)",
            "decode-only",
            "model-only",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
