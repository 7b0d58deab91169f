"""Runtimes side by side (issue #15, target 2): model-only throughput and fidelity of each
way to run a model on the CPU, on this CPU kind (real, or AVX2 emulated).

Candidates: torch fp32 eager, torch bf16 autocast (only where the CPU has native bf16),
torch dynamic int8 (Linear layers), ONNX Runtime fp32, ONNX Runtime int8 (dynamic, and
static QDQ calibrated on real photos), OpenVINO fp32 and OpenVINO int8 (the same QDQ graph).
Each runs forward passes on ready photos at our batch size; rounds alternate between the
candidates and each keeps the median of its rounds, so ratios stay meaningful on a shared
machine. Fidelity: the lowest cosine of an embedding to its torch fp32 embedding over real
photos (``../shared/data``; the int8 QDQ graph is calibrated on other photos than those).

AVX2 emulation: ``--cpu avx2`` re-runs this script in a child with the kernels held to AVX2
(``albumfinder.embedding.cpu.AVX2_LIMITS``: torch's own, oneDNN's (OpenVINO's too), fbgemm's
and MKL's, which does torch's fp32 matmuls) and the project's CPU probe shown a cpuinfo
without bf16. ONNX Runtime has no such switch (its MLAS kernels pick by CPUID), so its rows
under "avx2 (emulated)" are really AVX-512 figures and are marked so. Needs ``pip install
onnxruntime onnx openvino`` (rows are skipped where a runtime is missing). Run:
    python benchmarks/bench_runtimes.py [--models dinov2-small builtin] [--cpu real avx2]
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
from collections.abc import Callable
from pathlib import Path

import numpy as np

from albumfinder.embedding.cpu import AVX2_LIMITS

from common import SHARED_DATA, load_model, machine, mark, print_table

AVX2_FLAGS = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma f16c"
TITLES = {"builtin": "built-in (EfficientNet-Lite0)", "dinov2-small": "ViT-S/14"}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def real_photos(count: int, skip: int = 0) -> list[Path]:
    files = sorted((SHARED_DATA / "caltech101-subset" / "images").glob("*/*.jpg"))
    return files[skip::7][:count]


def normalised(embedder, arrays: list[np.ndarray]) -> np.ndarray:
    """The model's input: (N, 3, S, S) float32, normalised as the embedder does."""
    traits = embedder.spec.traits
    mean = np.asarray(traits.mean, np.float32).reshape(1, 3, 1, 1) * traits.scale
    std = np.asarray(traits.std, np.float32).reshape(1, 3, 1, 1) * traits.scale
    x = np.stack(arrays).transpose(0, 3, 1, 2).astype(np.float32)
    return np.ascontiguousarray((x - mean) / std)


def unit(rows: np.ndarray) -> np.ndarray:
    rows = rows.astype(np.float32).reshape(len(rows), -1)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def export_onnx(model, batch: np.ndarray, path: Path) -> None:
    import torch

    torch.onnx.export(
        model,
        (torch.from_numpy(batch),),
        str(path),
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "n"}, "y": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )


def quantize_static_qdq(source: Path, target: Path, calibration: list[np.ndarray]) -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._items = iter([{"x": batch} for batch in calibration])

        def get_next(self):
            return next(self._items, None)

    quantize_static(
        str(source),
        str(target),
        Reader(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul", "Gemm", "Conv"],
    )


def ort_runner(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda x: session.run(None, {"x": x})[0]


def openvino_runner(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    import openvino as ov
    import torch

    core = ov.Core()
    compiled = core.compile_model(
        str(path),
        "CPU",
        {
            "INFERENCE_PRECISION_HINT": "f32",  # no silent bf16 on CPUs that have it
            "INFERENCE_NUM_THREADS": torch.get_num_threads(),
            "PERFORMANCE_HINT": "LATENCY",
        },
    )
    request = compiled.create_infer_request()
    return lambda x: next(iter(request.infer({0: x}).values()))


def torch_runner(embedder) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            if embedder.precision.value == "bf16":
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    return embedder._model(torch.from_numpy(x)).float().numpy()
            return embedder._model(torch.from_numpy(x)).numpy()

    return run


def candidates(name: str, work: Path, batch: np.ndarray, calibration: list[np.ndarray]):
    """name -> runner; the ones whose runtime is missing are left out (and said)."""
    from albumfinder.embedding.device import cpu_has_bf16

    fp32 = load_model(name, "fp32")
    runners: dict[str, Callable[[np.ndarray], np.ndarray]] = {"torch fp32": torch_runner(fp32)}
    if cpu_has_bf16():
        runners["torch bf16"] = torch_runner(load_model(name, "bf16"))
    if name != "builtin":
        runners["torch int8 dynamic"] = torch_runner(load_model(name, "int8"))
    onnx_path = work / f"{name}.onnx"
    try:
        export_onnx(fp32._model, batch, onnx_path)
    except Exception as exc:  # noqa: BLE001 - the table says what is missing
        say(f"ONNX export failed: {exc}")
        return runners
    qdq_path = work / f"{name}-qdq.onnx"
    dyn_path = work / f"{name}-dyn.onnx"
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_static_qdq(onnx_path, qdq_path, calibration)
        quantize_dynamic(str(onnx_path), str(dyn_path), weight_type=QuantType.QInt8)
        runners["ORT fp32"] = ort_runner(onnx_path)
        runners["ORT int8 dynamic"] = ort_runner(dyn_path)
        runners["ORT int8 static QDQ"] = ort_runner(qdq_path)
    except ImportError:
        say("onnxruntime not installed: no ORT rows")
    try:
        runners["OpenVINO fp32"] = openvino_runner(onnx_path)
        if qdq_path.exists():
            runners["OpenVINO int8 (QDQ)"] = openvino_runner(qdq_path)
    except ImportError:
        say("openvino not installed: no OpenVINO rows")
    return runners


def measure(name: str, rounds: int, photos: int) -> dict:
    from albumfinder.images import open_photo

    probe = load_model(name, "fp32")

    def arrays_of(files: list[Path]) -> list[np.ndarray]:
        return [probe.prepare(open_photo(f, min_size=probe.decode_size)) for f in files]

    test = normalised(probe, arrays_of(real_photos(photos)))
    calib_arrays = arrays_of(real_photos(32, skip=3))
    calibration = [normalised(probe, calib_arrays[i : i + 8]) for i in range(0, 32, 8)]
    batch = test[: probe.batch_size]
    with tempfile.TemporaryDirectory(prefix="af-bench-rt-") as tmp:
        runners = candidates(name, Path(tmp), batch, calibration)
        reference = unit(runners["torch fp32"](test))
        cosines = {
            key: float(np.min(np.sum(unit(run(test)) * reference, axis=1)))
            for key, run in runners.items()
        }
        times: dict[str, list[float]] = {key: [] for key in runners}
        for run in runners.values():
            run(batch)  # warm-up
        for round_ in range(rounds):
            for key, run in runners.items():
                start = time.perf_counter()
                run(batch)
                times[key].append(time.perf_counter() - start)
            say(f"{name} round {round_ + 1}/{rounds}")
    rates = {key: len(batch) / statistics.median(t) for key, t in times.items()}
    return {"rates": rates, "cosines": cosines, "batch": len(batch), "photos": len(test)}


def child_env(kind: str) -> dict[str, str]:
    env = dict(os.environ)
    if kind == "avx2":
        fake = Path(tempfile.mkdtemp(prefix="af-cpu-")) / "cpuinfo"
        fake.write_text(f"processor\t: 0\nflags\t\t: {AVX2_FLAGS}\n")
        env.update(AVX2_LIMITS, ALBUMFINDER_CPUINFO=str(fake))
    return env


def main() -> None:
    from albumfinder import runtime

    runtime.tune_process()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", default=["dinov2-small", "builtin"])
    parser.add_argument("--cpu", nargs="+", default=["real", "avx2"], choices=["real", "avx2"])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--photos", type=int, default=48, help="real photos for the cosines")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:  # one model on this process's CPU kind; JSON out
        print(json.dumps(measure(args.worker, args.rounds, args.photos)))
        return
    rows = []
    for name in args.models:
        for kind in args.cpu:
            command = [sys.executable, __file__, "--worker", name, "--rounds", str(args.rounds)]
            command += ["--photos", str(args.photos)]
            say(f"{name} on {kind}…")
            out = subprocess.run(
                command, env=child_env(kind), capture_output=True, text=True, check=False
            )
            if out.returncode:
                say(out.stderr[-3000:])
                continue
            result = json.loads(out.stdout.strip().splitlines()[-1])
            base = result["rates"]["torch fp32"]
            cpu = "AVX-512 BF16 (real)" if kind == "real" else "AVX2 (emulated)"
            for key, rate in result["rates"].items():
                cosine = result["cosines"][key]
                note = " (MLAS: really AVX-512)" if kind == "avx2" and "ORT" in key else ""
                rows.append(
                    [
                        TITLES.get(name, name),
                        cpu,
                        key + note,
                        f"{rate:.1f}",
                        f"{rate / base:.2f}×",
                        f"{cosine:.5f} {mark(cosine >= 0.999)}",
                    ]
                )
    import torch

    print(f"Machine: {machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print_table(
        f"Model-only photos/s by runtime (median of {args.rounds} alternating rounds at our "
        f"batch size) and lowest cosine to torch fp32 over {args.photos} real photos",
        ["model", "CPU kind", "runtime", "photos/s", "vs torch fp32", "lowest cosine (≥ 0.999)"],
        rows,
    )


if __name__ == "__main__":
    main()
