"""Shared bits of the benchmark scripts: timing, tables, photos, models, a busy core."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image


def median_seconds(fn: Callable[[], object], repeat: int = 20, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> str:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {cores} cores, CPU kind {cpu_kind()}, Python {platform.python_version()}"


def cpu_kind() -> str:
    """Which CPU kind the figures are for: the real one, or AVX2 emulated (torch's, oneDNN's,
    fbgemm's and MKL's kernels held to AVX2, the project's probe shown a cpuinfo without bf16)."""
    from albumfinder.embedding.cpu import AVX2_LIMITS, cpu_has_bf16, cpu_has_int8_dot

    limits = [f"{e}={os.environ[e]}" for e in AVX2_LIMITS if e in os.environ]
    probe = "bf16" if cpu_has_bf16() else "VNNI, no bf16" if cpu_has_int8_dot() else "no bf16/VNNI"
    if limits or os.environ.get("ALBUMFINDER_CPUINFO"):
        return f"emulated ({', '.join(limits)}; probe sees {probe})"
    return f"real ({probe})"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A Markdown table, ready to paste into the README."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


# --------------------------------------------------------------------------- shared data

REPO = Path(__file__).resolve().parent.parent
#: ../shared/data beside the checkout (a worktree one level deeper finds it one further up)
SHARED_DATA = next(
    (p / "shared" / "data" for p in (REPO.parent, REPO.parent.parent) if (p / "shared").is_dir()),
    REPO.parent / "shared" / "data",
)
CACHE = Path(tempfile.gettempdir()) / "albumfinder-bench"
PHONE_SIZE = (4032, 3024)  # a 12 MP phone photo, landscape as the sensor stores it


def source_photos() -> list[tuple[str, np.ndarray]]:
    """Real photo content to make benchmark photos from: scikit-image's sample photos when
    scikit-image is installed (CC0 / public domain), else the Caltech 101 sample photos in
    ``../shared/data`` (CC BY 4.0)."""
    try:
        import skimage.data as data

        names = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry"]
        names += ["hubble_deep_field", "retina"]
        return [(f"skimage.data.{n}", np.asarray(getattr(data, n)())[..., :3]) for n in names]
    except ImportError:
        pass
    from PIL import Image

    folder = SHARED_DATA / "caltech101-subset" / "images"
    files = sorted(folder.glob("*/image_0001.jpg"))
    if not files:
        raise SystemExit("No source photos: install scikit-image or provide ../shared/data")
    return [(str(f), np.asarray(Image.open(f).convert("RGB"))) for f in files]


def _phone_photo(source: np.ndarray, seed: int) -> Image.Image:
    """A 12 MP photo from ``source``: cropped to 4:3, enlarged, with sensor-like grain so
    that it is as costly to decode as a real one (a smooth enlargement decodes faster)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    h, w = source.shape[:2]
    ch, cw = (h, h * 4 // 3) if w * 3 >= h * 4 else (w * 3 // 4, w)
    top, left = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
    crop = Image.fromarray(np.ascontiguousarray(source[top : top + ch, left : left + cw]))
    if seed % 2:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    big = np.asarray(crop.resize(PHONE_SIZE, Image.Resampling.BICUBIC), dtype=np.int16)
    grain = rng.integers(-16, 17, size=(PHONE_SIZE[1] // 4, PHONE_SIZE[0] // 4, 3), dtype=np.int16)
    big = big + np.tile(grain, (4, 4, 1))
    return Image.fromarray(np.clip(big, 0, 255).astype(np.uint8))


def phone_photos(count: int, folder: Path | None = None) -> Path:
    """A folder of ``count`` 4032×3024 JPEGs at quality 90; every 4th has EXIF orientation 6
    (portrait, as phones store it). Made once and kept in the temp folder."""
    from PIL import Image

    folder = folder or CACHE / f"phone-v2-{count}"
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    sources = source_photos()
    print(f"Making {count} phone-size photos in {folder} (once)…", flush=True)
    for i in range(count):
        path = folder / f"IMG_{i:05d}.jpg"
        if path.exists():
            continue
        image = _phone_photo(sources[i % len(sources)][1], seed=i)
        exif = Image.Exif()
        exif[0x0112] = 6 if i % 4 == 3 else 1  # Orientation
        exif[0x010F] = "Benchmark"  # Make
        image.save(path, "JPEG", quality=90, exif=exif.tobytes())
    done.write_text(f"{count}\n")
    return folder


def dinov2_checkpoint(name: str = "dinov2-small") -> Path:
    """A DINOv2 checkpoint with random weights in Meta's format (same compute as the real
    one), made with the tests' helper and kept in the temp folder."""
    from albumfinder.models import get_spec

    spec = get_spec(name)
    path = CACHE / "weights" / (spec.weights_filename or f"{name}.pth")
    if not path.exists():
        sys.path.insert(0, str(REPO / "tests"))
        from helpers_models import save_dinov2_checkpoint

        tmp = path.with_suffix(".part")
        save_dinov2_checkpoint(tmp, name)
        tmp.replace(path)
    return path


def load_model(name: str, precision: str = "auto", device: str = "cpu"):
    """An Embedder: "builtin" with its real weights, DINOv2 with random ones. "auto" is
    calibrated first (once per machine; ALBUMFINDER_CALIBRATE=now), as later runs of the app
    use it, so that no calibration runs in the background of a measurement."""
    from albumfinder.embedding.loading import load_embedder

    os.environ.setdefault("ALBUMFINDER_CALIBRATE", "now")

    path = None if name == "builtin" else dinov2_checkpoint(name)
    return load_embedder(
        name, model_path=path, device=device, precision=precision, allow_download=False
    )


@contextlib.contextmanager
def busy_core() -> Iterator[None]:
    """Another program keeping one core fully busy for the duration."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        spinner.kill()
        spinner.wait()


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (Linux: ru_maxrss is in KiB)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def _cpu_times() -> tuple[float, float]:
    with open("/proc/stat") as handle:
        values = [float(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def wait_quiet(threshold: float = 0.15, max_wait: float | None = None) -> float:
    """Wait (at most ``max_wait`` s, default ``BENCH_MAX_WAIT`` or 60) until other programs use
    < ``threshold`` of the CPUs for a second; the machine is shared. Returns the share seen
    last (0 where unknown)."""
    if not os.path.exists("/proc/stat"):
        return 0.0
    if max_wait is None:
        max_wait = float(os.environ.get("BENCH_MAX_WAIT", "60"))
    deadline = time.monotonic() + max_wait
    while True:
        busy0, total0 = _cpu_times()
        time.sleep(1.0)
        busy1, total1 = _cpu_times()
        share = (busy1 - busy0) / max(total1 - total0, 1.0)
        if share < threshold or time.monotonic() > deadline:
            return share


def model_only_rate(embedder, arrays: list[np.ndarray], seconds: float = 3.0) -> float:
    """Photos per second of forward passes on ready arrays at the embedder's batch size: the
    fastest of at least 5 calls over ``seconds`` (the machine is shared: the fastest call is
    the one least disturbed by other programs)."""
    batch = arrays[: embedder.batch_size]
    embedder.embed_prepared(batch)  # warm-up
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < seconds:
        began = time.perf_counter()
        embedder.embed_prepared(batch)
        times.append(time.perf_counter() - began)
    return len(batch) / min(times)
