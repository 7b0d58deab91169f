"""Which device and precision a model runs at, and how many CPU threads torch uses.

The precision policy reads the model family's traits (:class:`~albumfinder.models.registry.
FamilyTraits`): which low precisions "auto" may pick on a CPU, the CPU batch size, whether
bf16 weights are kept in bf16. The CPU's abilities come from /proc/cpuinfo, or from the file
``ALBUMFINDER_CPUINFO`` names (to run the tests as another CPU kind would).
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from albumfinder.embedding.cpu import (  # noqa: F401 - the CPU probe, re-exported here
    CPUINFO,
    CPUINFO_ENV,
    cpu_flags,
    cpu_has_bf16,
    cpu_has_int8_dot,
    cpu_model_name,
)
from albumfinder.errors import SettingError
from albumfinder.models.registry import DEVICES, ModelSpec, Precision

THREADS_ENV = "ALBUMFINDER_THREADS"
PRECISIONS = tuple(p.value for p in Precision)
#: the dtype autocast runs at, per precision (the others run float32 math)
AUTOCAST_DTYPES = {Precision.BF16: torch.bfloat16, Precision.FP16: torch.float16}
_threads_set = False
_threads_lock = threading.Lock()


def pick_device(requested: str | None = None) -> str:
    """``requested`` if it is usable, else (None/"auto") CUDA or MPS when present, else CPU."""
    want = (requested or "auto").lower()
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if want == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if want.split(":", 1)[0] not in DEVICES:
        known = f"{', '.join(DEVICES[:-1])} or {DEVICES[-1]}"
        raise SettingError(f"unknown device {requested!r}: use {known}")
    if want.startswith("cuda") and not cuda:
        raise SettingError("CUDA was asked for, but torch finds no usable NVIDIA GPU")
    if want == "mps" and not mps:
        raise SettingError("MPS was asked for, but this Mac (or torch build) has no usable MPS")
    return want


def int8_available() -> bool:
    """Whether torch here can run dynamically quantised int8 Linear layers on the CPU."""
    try:
        with warnings.catch_warnings():  # torch.ao.quantization warns it is deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            from torch.ao.quantization import quantize_dynamic  # noqa: F401
    except ImportError:
        return False
    return any(
        e in torch.backends.quantized.supported_engines for e in ("x86", "fbgemm", "qnnpack")
    )


def resolve_precision(precision: str, device: str, spec: ModelSpec | None = None) -> Precision:
    """The precision to run at. "auto": fp16 on CUDA; on the CPU the first of the family's
    :attr:`~albumfinder.models.registry.FamilyTraits.cpu_auto_precisions` this CPU computes
    well (bf16 where it computes it natively; int8 where it has int8 dot products, VNNI),
    else fp32. Without a model, bf16 where native, else fp32."""
    try:
        chosen = Precision((precision or "auto").lower())
    except ValueError:
        known = ", ".join(PRECISIONS)
        raise SettingError(f"unknown precision {precision!r}: use {known}") from None
    if chosen is Precision.INT8 and (device != "cpu" or not int8_available()):
        raise SettingError("int8 runs on the CPU only, with torch's quantised kernels")
    if chosen is not Precision.AUTO:
        return chosen
    if device.startswith("cuda"):
        return Precision.FP16
    if device == "cpu":
        wanted = spec.traits.cpu_auto_precisions if spec is not None else (Precision.BF16,)
        for candidate in wanted:
            if cpu_computes_well(candidate):
                return candidate
    return Precision.FP32


def cpu_auto_candidates(spec: ModelSpec) -> list[Precision]:
    """The precisions calibration measures for ``spec`` on this CPU: fp32, then those of the
    family's :attr:`~albumfinder.models.registry.FamilyTraits.cpu_auto_precisions` that may
    pay off here: bf16 where the CPU computes it natively (emulated bf16 is always slower),
    int8 on any x86 CPU torch runs it on, VNNI or not (on plain AVX2 it was 1.04-1.18x fp32
    model-only: measuring decides). Arm CPUs run fp32 (their int8 kernels were not measured)."""
    x86 = "sse2" in cpu_flags()
    wanted = [
        p
        for p in spec.traits.cpu_auto_precisions
        if (p is Precision.BF16 and cpu_has_bf16())
        or (p is Precision.INT8 and x86 and int8_available())
    ]
    return [Precision.FP32, *wanted]


def cpu_computes_well(precision: Precision) -> bool:
    """Whether the CPU has what ``precision`` needs to pay off (see :func:`resolve_precision`)."""
    if precision is Precision.BF16:
        return cpu_has_bf16()
    if precision is Precision.INT8:
        return cpu_has_int8_dot() and int8_available()
    return precision is Precision.FP32


def quantize_linear_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Linear layers with int8 weights and dynamically quantised activations: the fast mode
    for DINOv2 (whose compute is nearly all Linear) on x86 CPUs with int8 dot products
    (VNNI) and no native bf16 (see :func:`cpu_has_int8_dot`); on plain AVX2 it does not pay
    off, and "auto" picks fp32 there."""
    with warnings.catch_warnings():  # torch 2.14 marks these APIs deprecated; they still run
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        quantized: torch.nn.Module = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return quantized


def usable_cores() -> int | None:
    """Physical cores this process may run on (affinity and cgroup quota respected);
    None where the system does not say (macOS, Windows: torch's default is kept)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:
        return None
    cores = set()
    for cpu in cpus:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            cores.add(("cpu", str(cpu)))
            continue
        cores.add((package, core))
    count = len(cores) or len(cpus)
    with contextlib.suppress(OSError, ValueError):
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, -(-int(quota) // int(period))))
    return max(1, count)


def configure_threads(log: Callable[[str], None] | None = None) -> int:
    """Set torch's CPU thread count once per process: ALBUMFINDER_THREADS if set, else
    torch's own choice when OMP_NUM_THREADS is set, else the usable physical cores."""
    global _threads_set
    with _threads_lock:
        if _threads_set:
            return torch.get_num_threads()
        _threads_set = True
        value = os.environ.get(THREADS_ENV, "").strip()
        threads: int | None = None
        if value:
            try:
                threads = max(1, int(value))
            except ValueError:
                if log:
                    log(f"ignoring {THREADS_ENV}={value!r}: not a number")
        if threads is None and not os.environ.get("OMP_NUM_THREADS"):
            threads = usable_cores()
        if threads and threads != torch.get_num_threads():
            torch.set_num_threads(threads)
        return torch.get_num_threads()


def default_batch_size(spec: ModelSpec, device: str) -> int:
    """Photos per forward pass. On a CPU small batches win: their activations stay in the
    caches. Measured on 2 cores: EfficientNet-Lite0 alone runs faster at 8 (189 photos/s
    against 157 at 4; 132 at 16), but indexing, where decoding threads share the cores, ran
    44 photos/s at 4 against 40 at 8; ViT-S/14 bf16 49-51 ms of CPU per photo at 4-8, 56 ms
    at 16."""
    if device != "cpu":
        return 64
    return spec.traits.cpu_batch_size


def store_linear_weights_in(model: torch.nn.Module, dtype: torch.dtype) -> None:
    """Keep the Linear layers' weights in ``dtype`` (in place).

    Autocast would otherwise cast every weight to bf16 again in every forward pass (it
    caches casts only of weights that require grad, and ours do not): with the weights
    stored in bf16 ViT-S/14 ran 20-25% faster on 2 CPU cores, with the same results, and
    in half the memory.
    LayerNorms, LayerScale and the position embeddings stay float32, as autocast keeps them.
    """
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.to(dtype)
