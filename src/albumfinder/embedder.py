"""Images in, L2-normalised float32 vectors out.

:func:`load_embedder` picks the model (DINOv2 when its weights are here or can be fetched,
else the built-in one), the device (CUDA, MPS, else CPU), the precision and the number of
CPU threads. :meth:`Embedder.prepare` is pure Pillow/numpy and safe to call from decoding
threads; :meth:`Embedder.embed_prepared` runs batched forward passes, one at a time.

Importing this module imports torch; the rest of the core imports it lazily. The OpenMP
setting torch must see at load time is made in ``albumfinder/__init__.py``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from albumfinder import paths
from albumfinder.models import build_model
from albumfinder.models.choice import (  # noqa: F401 - re-exported: the decision's old home
    DEFAULT_MODEL,
    UNREACHABLE_MEMORY_S,
    can_download,
    default_model_name,
)
from albumfinder.models.registry import ModelSpec, get_spec
from albumfinder.models.weights import (
    WeightsError,
    download_url,
    download_weights,
    find_weights,
    load_state_dict,
)

THREADS_ENV = "ALBUMFINDER_THREADS"
CPUINFO = "/proc/cpuinfo"  # where Linux says what the CPU can do
#: read the CPU's flags from this file instead (to run the tests as another CPU kind would)
CPUINFO_ENV = "ALBUMFINDER_CPUINFO"
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_threads_set = False
_threads_lock = threading.Lock()


class Embedder:
    """One loaded model on one device: photos in, unit-length vectors out."""

    def __init__(
        self,
        spec: ModelSpec,
        model: torch.nn.Module,
        device: str = "cpu",
        precision: str = "fp32",
        batch_size: int | None = None,
    ) -> None:
        self.spec = spec
        self.device = device
        self.precision = precision
        self.batch_size = batch_size or default_batch_size(spec, device)
        # Photos are squashed to input_size x input_size, so a JPEG decoded at a reduced
        # scale only needs both sides at least that large.
        self.decode_size = spec.input_size
        self._model = model.to(device)
        if device == "cpu" and precision == "bf16" and spec.family == "dinov2":
            _store_linear_weights_in(self._model, torch.bfloat16)
        if precision == "int8":
            self._model = _quantize_linear_int8(self._model)
        # One forward pass at a time per device, whichever model runs it (during a model
        # change the old model answers queries while the new one indexes): they share the cores.
        self._turns = turns_for(device)
        if spec.family == "dinov2":
            mean = torch.tensor(_IMAGENET_MEAN) * 255.0
            std = torch.tensor(_IMAGENET_STD) * 255.0
        else:  # EfficientNet-Lite (TensorFlow): (pixel - 127) / 128
            mean, std = torch.full((3,), 127.0), torch.full((3,), 128.0)
        self._mean = mean.reshape(1, 3, 1, 1).to(device)
        self._std = std.reshape(1, 3, 1, 1).to(device)

    @property
    def model_key(self) -> str:
        """The index key: model + preprocessing (all precisions share one set of vectors)."""
        return self.spec.key

    @property
    def dim(self) -> int:
        return self.spec.dim

    def prepare(self, image: Image.Image) -> np.ndarray:
        """The whole photo resized to input_size x input_size (no crop), uint8 HxWx3.

        No torch: safe to call from many decoding threads at once.
        """
        if image.mode != "RGB":
            image = image.convert("RGB")
        size = self.spec.input_size
        if image.size != (size, size):
            # reducing_gap: shrink by a whole factor with a box filter first, then bicubic;
            # much faster on large images and visually the same.
            image = image.resize((size, size), Image.Resampling.BICUBIC, reducing_gap=3.0)
        return np.asarray(image, dtype=np.uint8)

    def embed_prepared(self, arrays: Sequence[np.ndarray], *, urgent: bool = False) -> np.ndarray:
        """(len(arrays), dim) float32 rows of unit length, from :meth:`prepare` outputs.

        ``urgent`` (a query someone waits for) goes before the next batch of any non-urgent
        call (indexing) that shares this embedder.
        """
        if len(arrays) == 0:
            return np.empty((0, self.spec.dim), dtype=np.float32)
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1 or len(next(iter(shapes))) != 3 or next(iter(shapes))[2] != 3:
            raise ValueError(f"arrays must all be HxWx3 of one size, got {sorted(shapes)}")
        out = []
        for start in range(0, len(arrays), self.batch_size):
            batch = np.stack(arrays[start : start + self.batch_size])
            with self._turns.turn(urgent), torch.inference_mode():
                out.append(self._forward(torch.from_numpy(batch)))
        return np.concatenate(out)

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.embed_prepared([self.prepare(image) for image in images])

    def _forward(self, batch: torch.Tensor) -> np.ndarray:
        x = batch.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float()
        x = (x - self._mean) / self._std
        dtype = _DTYPES.get(self.precision)
        device_type = "cuda" if self.device.startswith("cuda") else self.device
        autocast = (
            torch.autocast(device_type, dtype=dtype)
            if dtype is not None
            else contextlib.nullcontext()
        )
        with autocast:
            features = self._model(x)
        features = F.normalize(features.float(), dim=1)
        return features.cpu().numpy().astype(np.float32, copy=False)


class Turns:
    """Forward passes take turns, and a waiting urgent one goes first.

    A query dropped while the album is being indexed waits for the batch that is running,
    never for the rest of the run (a plain lock is not fair: the indexer, which asks again
    at once, could win it batch after batch).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._urgent_waiting = 0

    @contextlib.contextmanager
    def turn(self, urgent: bool = False):
        with self._cond:
            self._urgent_waiting += urgent
            try:
                self._cond.wait_for(lambda: not self._busy and (urgent or not self._urgent_waiting))
            finally:
                self._urgent_waiting -= urgent
                self._cond.notify_all()  # an urgent waiter that gave up unblocks the others
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()


_TURNS: dict[str, Turns] = {}
_TURNS_LOCK = threading.Lock()


def turns_for(device: str) -> Turns:
    with _TURNS_LOCK:
        return _TURNS.setdefault(device, Turns())


def default_batch_size(spec: ModelSpec, device: str) -> int:
    """Photos per forward pass. On a CPU small batches win: their activations stay in the
    caches. Measured on 2 cores: EfficientNet-Lite0 alone runs faster at 8 (189 photos/s
    against 157 at 4; 132 at 16), but indexing, where decoding threads share the cores, ran
    44 photos/s at 4 against 40 at 8; ViT-S/14 bf16 49-51 ms of CPU per photo at 4-8, 56 ms
    at 16."""
    if device != "cpu":
        return 64
    return 4 if spec.family == "efficientnet-lite" else 8


def _store_linear_weights_in(model: torch.nn.Module, dtype: torch.dtype) -> None:
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


# ------------------------------------------------------------------------- choosing


def pick_device(requested: str | None = None) -> str:
    """``requested`` if it is usable, else (None/"auto") CUDA or MPS when present, else CPU."""
    want = (requested or "auto").lower()
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if want == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if want.startswith("cuda") and not cuda:
        raise ValueError("CUDA was asked for, but torch finds no usable NVIDIA GPU")
    if want == "mps" and not mps:
        raise ValueError("MPS was asked for, but this Mac (or torch build) has no usable MPS")
    if want not in ("cpu", "mps") and not want.startswith("cuda"):
        raise ValueError(f"unknown device {requested!r}: use cpu, cuda or mps")
    return want


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux reports them (empty where it does not)."""
    try:
        with open(os.environ.get(CPUINFO_ENV) or CPUINFO, encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), read at run time."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def cpu_has_int8_dot() -> bool:
    """Whether this CPU has int8 dot-product instructions (VNNI), which make dynamic int8
    pay off. Without them (a plain AVX2 CPU) int8 ViT-S/14 ran at 1.04x fp32 model-only and
    0.8x end to end, so fp32 is used there."""
    return bool(cpu_flags() & {"avx512_vnni", "avx_vnni", "amx_int8"})


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


def resolve_precision(precision: str, device: str, spec: ModelSpec | None = None) -> str:
    """The precision to run at. "auto": fp16 on CUDA; on the CPU, for DINOv2, bf16 where the
    CPU computes it natively (lowest cosine to fp32 0.99999), else dynamic int8 where the CPU
    has int8 dot products (VNNI; lowest cosine to fp32 0.9993 measured on such a CPU), else
    fp32; fp32 for the built-in model: it is convolutions, which int8 Linear layers do not
    touch, and in bf16 its lowest cosine was 0.9977."""
    precision = (precision or "auto").lower()
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: use {', '.join(PRECISIONS)}")
    if precision == "int8" and (device != "cpu" or not int8_available()):
        raise ValueError("int8 runs on the CPU only, with torch's quantised kernels")
    if precision != "auto":
        return precision
    if device.startswith("cuda"):
        return "fp16"
    if device == "cpu" and (spec is None or spec.family == "dinov2"):
        if cpu_has_bf16():
            return "bf16"
        if spec is not None and cpu_has_int8_dot() and int8_available():
            return "int8"
    return "fp32"


def _quantize_linear_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Linear layers with int8 weights and dynamically quantised activations: on CPUs
    without native bf16 the fast mode for DINOv2, whose compute is nearly all Linear."""
    with warnings.catch_warnings():  # torch 2.14 marks these APIs deprecated; they still run
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


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


def load_embedder(
    model_name: str | None = None,
    *,
    model_path: str | os.PathLike[str] | None = None,
    device: str | None = None,
    precision: str = "auto",
    allow_download: bool = True,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    log: Callable[[str], None] | None = None,
) -> Embedder:
    """Load ``model_name`` (None: :func:`default_model_name`) ready to embed.

    Raises :class:`WeightsError` (weights missing, unreachable or not right) or ValueError
    (unknown model, device or precision), each with a message meant for the user.
    """
    say = log or (lambda _message: None)
    if model_name is None:
        model_name, reason = default_model_name(model_path, allow_download=allow_download)
        if reason:
            say(reason)
    spec = get_spec(model_name)
    device = pick_device(device)
    precision = resolve_precision(precision, device, spec)
    configure_threads(say)
    path = find_weights(spec, model_path)
    if path is None:
        if not allow_download or not download_url(spec) or paths.downloads_off():
            where = f" at {model_path}" if model_path else ""
            off = f" and downloads are off ({paths.OFFLINE_ENV})" if allow_download else ""
            raise WeightsError(
                f"no weights for {spec.name} found{where}{off}; get them with "
                f"`albumfinder-cli models --download {spec.name}` or pass -p PATH"
            )
        say(f"Downloading {spec.title} weights ({(spec.weights_bytes or 0) / 1e6:.0f} MB)…")
        path = download_weights(spec, progress=progress, should_stop=should_stop)
    model = build_model(spec, load_state_dict(spec, path))
    return Embedder(spec, model, device=device, precision=precision)
