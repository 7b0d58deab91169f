"""Calibrated "auto": which mode runs a model fastest on this machine, measured once.

On first use of a model on the CPU, when "auto" has more than one candidate there
(:func:`~albumfinder.embedding.device.cpu_auto_candidates`: fp32, bf16 where the CPU has it
natively, int8 on x86), a few batches of photo-like images run in each candidate mode,
alternating, and each candidate's vectors are compared with fp32's on the same batch. The
fastest mode whose lowest cosine is at least :data:`MIN_COSINE` is chosen
(:func:`choose_mode`) and remembered in ``calibration.json`` in the cache folder, per
model key and device, for this machine: the CPU's name and flags, the versions of torch (and
of any other runtime that computes), and the CPU limits set in the environment
(``ATEN_CPU_CAPABILITY``…). When any of those change it is measured again.

It is bounded (:data:`BUDGET_S` seconds of timed rounds after one pass per candidate, on
:data:`CALIBRATION_PHOTOS` photos; only models of at most :data:`MAX_CALIBRATED_BYTES`, since
each candidate needs its own copy of the model) and by default runs in the background,
taking turns with the forward passes of indexing and queries: the run that starts it uses
the CPU-flag rule (:func:`~albumfinder.embedding.device.resolve_precision`), later runs the
measured choice. A process that ends sooner waits for it at exit (ViT-S/14: ~5 s on 2 cores).
``ALBUMFINDER_CALIBRATE=now`` measures before the first forward pass instead (benchmarks),
``=off`` never measures (the tests, unless they test this). An explicit precision is never
overridden.

Reading the remembered choice (:func:`remembered`) imports no torch.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from albumfinder import paths
from albumfinder.embedding.cpu import AVX2_LIMITS, cpu_flags, cpu_model_name
from albumfinder.models.registry import ModelSpec, Precision
from albumfinder.report import Calibration, ModeFigures

if TYPE_CHECKING:
    import torch

    from albumfinder.embedding.embedder import Embedder

CALIBRATE_ENV = "ALBUMFINDER_CALIBRATE"
BACKGROUND, NOW, OFF = "background", "now", "off"
CALIBRATION_FILE = "calibration.json"
#: a mode whose vectors are further from fp32's than this (lowest cosine) is never chosen
MIN_COSINE = 0.999
#: seconds of measuring per model, after the first pass of each candidate
BUDGET_S = 3.0
MAX_ROUNDS = 3
#: photos per timed batch (ViT-S/14 costs 49-51 ms of CPU per photo at batches of 4 to 8)
CALIBRATION_PHOTOS = 4
#: a reduced precision must be this much faster than fp32 model-only to be chosen: int8 at
#: 1.04x fp32 model-only on a plain AVX2 CPU was 0.8x fp32 end to end (issue 15)
CHOICE_MARGIN = 1.10
#: larger models are not calibrated (a copy of the model per candidate costs memory), the
#: CPU-flag rule stays: ViT-S/14 and ViT-B/14 are measured, ViT-L and ViT-g not
MAX_CALIBRATED_BYTES = 400_000_000
#: environment variables that limit what torch's kernels use: part of the machine's identity
CPU_LIMIT_ENVS = tuple(AVX2_LIMITS)
#: the packages whose versions decide the speed of a mode
RUNTIME_PACKAGES = ("torch",)

_file_lock = threading.Lock()
_running: set[str] = set()  # model key @ device being calibrated in this process
_running_lock = threading.Lock()


def mode_setting() -> str:
    """``ALBUMFINDER_CALIBRATE``: "background" (default), "now" or "off"."""
    value = os.environ.get(CALIBRATE_ENV, "").strip().lower()
    if value in ("0", "false", "no", OFF):
        return OFF
    return NOW if value == NOW else BACKGROUND


def choose_mode(figures: Sequence[ModeFigures], margin: float = CHOICE_MARGIN) -> str:
    """The fastest valid mode; a reduced precision only when it beats fp32 (the reference,
    always valid) by ``margin``."""
    fp32 = next((f.photos_per_s for f in figures if f.mode == Precision.FP32.value), 0.0)
    faster = [
        f
        for f in figures
        if f.mode != Precision.FP32.value and f.valid and f.photos_per_s >= fp32 * margin
    ]
    return max(faster, key=lambda f: f.photos_per_s).mode if faster else Precision.FP32.value


def figures_of(
    mode: str, seconds: Sequence[float], photos: int, cosine: float, min_cosine: float
) -> ModeFigures:
    """A mode's figures from its timed batches: the fastest batch counts (on a shared machine
    it is the one least disturbed by other programs)."""
    return ModeFigures(mode, photos / min(seconds), cosine, cosine >= min_cosine)


# -------------------------------------------------------------------------- remembering


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def machine_identity() -> dict[str, str]:
    """What a calibration is remembered for: this CPU (name and flags), the CPU limits set
    in the environment, and the versions of the runtimes that compute."""
    flags = " ".join(sorted(cpu_flags()))
    identity = {
        "cpu": cpu_model_name(),
        "flags": hashlib.sha256(flags.encode()).hexdigest()[:16],
        "cpu_limits": ",".join(f"{e}={os.environ[e]}" for e in CPU_LIMIT_ENVS if e in os.environ),
    }
    identity.update({package: _version(package) for package in RUNTIME_PACKAGES})
    return identity


def _record_path() -> Path:
    return paths.cache_dir() / CALIBRATION_FILE


def _entry(spec: ModelSpec, device: str) -> str:
    return f"{spec.key}@{device}"


def _read_all() -> dict[str, Any]:
    try:
        data = json.loads(_record_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remembered(spec: ModelSpec, device: str = "cpu") -> Calibration | None:
    """The calibration of ``spec`` on ``device`` made on this machine as it is now (same
    CPU, CPU limits and runtime versions), or None."""
    data = _read_all().get(_entry(spec, device))
    try:
        calibration = Calibration.from_json(data) if isinstance(data, dict) else None
    except (KeyError, TypeError, ValueError):
        return None
    if calibration is None or calibration.machine != machine_identity():
        return None
    return calibration


def remember(calibration: Calibration, spec: ModelSpec) -> None:
    """Keep ``calibration`` in the cache folder (written whole, then renamed into place)."""
    with _file_lock, contextlib.suppress(OSError):
        data = _read_all()
        data[_entry(spec, calibration.device)] = calibration.to_json()
        path = _record_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        part.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        part.replace(path)


# -------------------------------------------------------------------------- measuring


def sample_photos(size: int, count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` photo-like ``size``×``size`` uint8 images (smooth colour fields with edges
    and grain, as photos have), made here: calibration needs no files."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    photos = []
    for _ in range(count):
        coarse = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
        field = np.asarray(
            Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC), np.int16
        )
        for _edge in range(3):  # a few solid shapes with sharp edges
            top, left = rng.integers(0, size - size // 4, size=2)
            h, w = rng.integers(size // 8, size // 2, size=2)
            field[top : top + h, left : left + w] = rng.integers(0, 256, size=3)
        grain = rng.integers(-12, 13, size=field.shape, dtype=np.int16)
        photos.append(np.clip(field + grain, 0, 255).astype(np.uint8))
    return photos


def calibrate(
    spec: ModelSpec,
    device: str,
    model: torch.nn.Module,
    modes: Sequence[Precision],
    *,
    min_cosine: float = MIN_COSINE,
    budget_s: float = BUDGET_S,
) -> Calibration:
    """Measure ``modes`` (fp32 first) on ``model`` (an fp32 model, which is used up: pass a
    copy), choose the fastest valid one and remember it. Rounds alternate between the modes
    until ``budget_s`` is spent (at least one timed round, at most :data:`MAX_ROUNDS`)."""
    import torch

    from albumfinder.embedding.embedder import Embedder

    began = time.perf_counter()
    ordered = [Precision.FP32, *(m for m in modes if m is not Precision.FP32)]
    embedders: dict[Precision, Embedder] = {}
    for mode in ordered:  # fp32 (which leaves its model as it is) runs the model itself
        own = model if mode is Precision.FP32 else copy.deepcopy(model)
        embedders[mode] = Embedder(spec, own, device=device, precision=mode.value)
    batch = embedders[Precision.FP32].batch_size
    photos = sample_photos(spec.input_size, min(CALIBRATION_PHOTOS, batch))
    vectors = {mode: e.timed_batch(photos)[0] for mode, e in embedders.items()}  # warm-up
    reference = vectors[Precision.FP32]
    cosines = {mode: float(np.min(np.sum(v * reference, axis=1))) for mode, v in vectors.items()}
    times: dict[Precision, list[float]] = {mode: [] for mode in embedders}
    warmed = time.perf_counter()
    for _round in range(MAX_ROUNDS):
        for mode, embedder in embedders.items():
            times[mode].append(embedder.timed_batch(photos)[1])
        if time.perf_counter() - warmed >= budget_s:
            break
    figures = tuple(
        figures_of(mode.value, times[mode], len(photos), cosines[mode], min_cosine)
        for mode in ordered
    )
    calibration = Calibration(
        model_key=spec.key,
        device=device,
        chosen=choose_mode(figures),
        figures=figures,
        seconds=time.perf_counter() - began,
        threads=torch.get_num_threads(),
        measured_at=time.time(),
        machine=machine_identity(),
    )
    remember(calibration, spec)
    return calibration


def auto_precision(
    spec: ModelSpec,
    device: str,
    model: torch.nn.Module,
    flag_rule: Precision,
    log: Callable[[str], None] | None = None,
) -> Precision:
    """The precision "auto" runs ``model`` at: the remembered calibration's choice when there
    is one for this machine; else the CPU-flag rule's ``flag_rule``, while a calibration is
    started in the background (or, ``ALBUMFINDER_CALIBRATE=now``, made first and used)."""
    from albumfinder.embedding.device import cpu_auto_candidates

    if device != "cpu" or (spec.weights_bytes or 0) > MAX_CALIBRATED_BYTES:
        return flag_rule
    modes = cpu_auto_candidates(spec)
    if len(modes) < 2:
        return flag_rule
    known = remembered(spec, device)
    if known is not None and known.chosen in {m.value for m in modes}:
        return Precision(known.chosen)
    setting = mode_setting()
    if setting == OFF:
        return flag_rule
    say = log or (lambda _message: None)
    if setting == NOW:
        calibration = calibrate(spec, device, copy.deepcopy(model), modes)
        say(f"Calibrated {spec.name} on the {device}: {calibration.summary()}")
        return Precision(calibration.chosen)
    say(
        f"Measuring once which mode runs {spec.name} fastest on this CPU "
        f"({', '.join(m.value for m in modes)}; a few seconds, in the background)"
    )
    _start_in_background(spec, device, copy.deepcopy(model), modes)
    return flag_rule


def _start_in_background(
    spec: ModelSpec, device: str, model: torch.nn.Module, modes: Sequence[Precision]
) -> None:
    entry = _entry(spec, device)
    with _running_lock:
        if entry in _running:
            return
        _running.add(entry)

    def run() -> None:
        try:
            calibrate(spec, device, model, modes)
        except Exception:  # noqa: BLE001 - a failed calibration leaves the flag rule in use
            pass
        finally:
            with _running_lock:
                _running.discard(entry)

    # Not a daemon: a short run (one CLI search) waits at exit for the few seconds left,
    # so the result is remembered, and torch is never torn down under a running pass.
    threading.Thread(target=run, name=f"calibrate {spec.name}", daemon=False).start()


def auto_mode_words(spec: ModelSpec, device: str) -> str:
    """What precision "auto" runs ``spec`` at on ``device``, and why, in one line (the About
    box): the measured choice with its figures, else the flag rule's and whether it will be
    measured. Follows :func:`auto_precision` step by step."""
    from albumfinder.embedding.device import cpu_auto_candidates, resolve_precision

    flag_rule = resolve_precision("auto", device, spec).value
    if device != "cpu":
        return f"{flag_rule} on the {device}"
    if (spec.weights_bytes or 0) > MAX_CALIBRATED_BYTES:
        return f"{flag_rule}, by the CPU's flags (too large to measure every mode)"
    modes = cpu_auto_candidates(spec)
    if len(modes) < 2:
        return f"{flag_rule}: the only mode worth running for this model on this CPU"
    known = remembered(spec, device)
    if known is not None and known.chosen in {m.value for m in modes}:
        return known.summary()
    if mode_setting() == OFF:
        return f"{flag_rule}, by the CPU's flags (measuring is off: {CALIBRATE_ENV}=off)"
    return f"{flag_rule} by the CPU's flags, until measured the first time it runs here"
