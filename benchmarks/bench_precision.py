"""The fast default mode (issue #5, point 2): reduced precision, model-only speed, fidelity.

For each model, forward passes on ready photos at our batch size in fp32, in the default
mode (precision "auto", chosen at run time for this CPU) and, for comparison, in the
alternatives (bf16 autocast forced, dynamic int8 for the Linear layers). Reports speed
against fp32 (target for the default: ≥ 2.5×) and the lowest cosine of an embedding to its
fp32 embedding over real photos (target ≥ 0.999). Then, with the built-in model's real
weights, precision@10 on the Caltech 101 sample in ../shared/data (photos of the same
category count as look-alikes; every photo is a query once): the default may lose at most
0.01. ViT-S/14 runs with random weights in Meta's format, so only its speed and cosine mean
something. Rounds alternate and keep their best, since the machine is shared. Run:
    python benchmarks/bench_precision.py [--models builtin dinov2-small dinov2-base]
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from albumfinder.images import open_photo

from common import (
    SHARED_DATA,
    load_model,
    machine,
    mark,
    model_only_rate,
    print_table,
    wait_quiet,
)

TITLES = {
    "builtin": "built-in (EfficientNet-Lite0)",
    "dinov2-small": "ViT-S/14",
    "dinov2-base": "ViT-B/14",
}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def caltech() -> tuple[list[str], list[str]]:
    root = SHARED_DATA / "caltech101-subset"
    manifest = json.loads((root / "manifest.json").read_text())
    items = manifest["images"] if isinstance(manifest, dict) and "images" in manifest else manifest
    paths, labels = [], []
    if isinstance(items, dict):
        items = [{"path": k, "category": v} for k, v in items.items()]
    for item in items:
        path = item.get("path") or item.get("file")
        label = item.get("category") or item.get("label")
        full = root / path if (root / path).exists() else root / "images" / path
        paths.append(str(full))
        labels.append(label)
    return paths, labels


def precision_at_10(vectors: np.ndarray, labels: list[str]) -> float:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    top = np.argsort(-sims, axis=1)[:, :10]
    names = np.asarray(labels)
    return float(np.mean(names[top] == names[:, None]))


def main() -> None:
    from albumfinder import runtime

    runtime.tune_process()  # first, before torch, as the app's entry points do
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", default=["builtin", "dinov2-small"])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    paths, labels = caltech()
    sample = paths[::12][:48]  # two photos of each category, for the cosines
    speed_rows, quality_rows = [], []
    for name in args.models:
        fp32 = load_model(name, "fp32")
        variants = {"fp32": fp32, "default": load_model(name, "auto")}
        from albumfinder.embedding.device import cpu_has_bf16

        native = cpu_has_bf16()
        variants["bf16"] = load_model(name, "bf16") if name == "builtin" or native else None
        if variants["bf16"] is None:
            variants.pop("bf16")  # emulated bf16 (no native bf16) is never worth measuring
        if name != "builtin":
            variants["int8"] = load_model(name, "int8")  # the fast mode of CPUs without bf16
        arrays = [fp32.prepare(open_photo(p, min_size=fp32.decode_size)) for p in sample]
        reference = fp32.embed_prepared(arrays)
        best: dict[str, float] = {}
        for round_ in range(args.rounds):
            for key, embedder in variants.items():
                wait_quiet()
                value = model_only_rate(embedder, arrays)
                best[key] = max(best.get(key, 0.0), value)
                say(f"{name} round {round_ + 1} {key} ({embedder.precision}): {value:.1f}/s")
        cosines = {
            key: float(np.min(np.sum(embedder.embed_prepared(arrays) * reference, axis=1)))
            for key, embedder in variants.items()
        }
        fastest_valid = max((k for k in variants if cosines[k] >= 0.999), key=best.__getitem__)
        for key, embedder in variants.items():
            cosine = cosines[key]
            ratio = best[key] / best["fp32"]
            is_default = key == "default"
            if is_default:  # target 1: auto is never slower than the fastest valid mode
                kept = best[key] / best[fastest_valid]
                say(f"{name}: auto = {embedder.precision}, fastest valid = {fastest_valid}")
                ratio_note = (
                    f"; vs fastest valid ({variants[fastest_valid].precision}) {kept:.2f}× "
                    f"(≥ 0.9 {mark(kept >= 0.9)})"
                )
            else:
                ratio_note = ""
            speed_rows.append(
                [
                    TITLES.get(name, name),
                    f"{'default: ' if is_default else ''}{embedder.precision}",
                    f"{best[key]:.1f}",
                    f"{ratio:.2f}×"
                    + (f" (≥ 2.5× {mark(ratio >= 2.5)}){ratio_note}" if is_default else ""),
                    f"{cosine:.5f}" + (f" (≥ 0.999 {mark(cosine >= 0.999)})" if is_default else ""),
                ]
            )
        if name == "builtin":
            scores = {}
            for key in ("fp32", "default", "bf16"):
                embedder = variants[key]
                vectors = []
                for start in range(0, len(paths), 64):
                    chunk = paths[start : start + 64]
                    vectors.append(
                        embedder.embed_prepared(
                            [embedder.prepare(open_photo(p, embedder.decode_size)) for p in chunk]
                        )
                    )
                scores[key] = precision_at_10(np.concatenate(vectors), labels)
                say(f"{name} precision@10 {key}: {scores[key]:.4f}")
            for key in ("fp32", "default", "bf16"):
                drop = scores["fp32"] - scores[key]
                quality_rows.append(
                    [
                        TITLES[name],
                        f"{'default: ' if key == 'default' else ''}{variants[key].precision}",
                        f"{scores[key]:.4f}",
                        f"{drop:.4f}"
                        + (f" (≤ 0.01 {mark(drop <= 0.01)})" if key == "default" else ""),
                    ]
                )
    import torch  # imported by albumfinder.embedding already, after tune_process()

    print(f"Machine: {machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print_table(
        "Model-only speed by precision (photos/s at our batch size: 4 built-in, 8 DINOv2; "
        f"best of {args.rounds} rounds) and lowest cosine to fp32 over {len(sample)} real photos",
        ["model", "precision", "photos/s", "vs fp32", "lowest cosine to fp32"],
        speed_rows,
    )
    if quality_rows:
        print_table(
            f"Retrieval quality: precision@10 on {len(paths)} Caltech 101 photos "
            f"({len(set(labels))} categories), real weights",
            ["model", "precision", "precision@10", "drop vs fp32"],
            quality_rows,
        )


if __name__ == "__main__":
    main()
