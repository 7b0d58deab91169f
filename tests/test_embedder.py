"""The embedder end to end: real built-in weights on photo-like test images, DINOv2 with
random weights in the official format, precision, devices and threads."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from PIL import Image

from albumfinder import paths
from albumfinder.embedding.device import (
    cpu_flags,
    cpu_has_bf16,
    cpu_has_int8_dot,
    pick_device,
    resolve_precision,
    usable_cores,
)
from albumfinder.embedding.embedder import Embedder
from albumfinder.embedding.loading import default_model_name, load_embedder
from albumfinder.errors import Hint
from albumfinder.models import get_spec
from albumfinder.models.weights import WeightsError

from helpers_models import save_dinov2_checkpoint
from photo_factory import make_photo


@pytest.fixture(scope="module")
def builtin() -> Embedder:
    return load_embedder("builtin", device="cpu", allow_download=False)


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _crop(image: Image.Image, keep: float) -> Image.Image:
    w, h = image.size
    dw, dh = int(w * (1 - keep) / 2), int(h * (1 - keep) / 2)
    return image.crop((dw, dh, w - dw, h - dh))


# ------------------------------------------------------------------------ built-in model


def test_builtin_is_loaded_for_the_cpu(builtin):
    assert builtin.spec.name == "builtin" and builtin.model_key == "builtin/p2"
    assert builtin.device == "cpu"
    assert builtin.precision == "fp32"  # bf16 kept only 0.997 cosine for EfficientNet-Lite
    assert builtin.batch_size >= 1


def test_decoding_at_the_decode_size_keeps_what_the_model_sees(builtin):
    """A large JPEG decoded at reduced scale (libjpeg's draft mode, as the indexer asks for
    with decode_size) comes out smaller, yet embeds as the full-size decode does."""
    buffer = io.BytesIO()
    make_photo(11, (2000, 1500)).save(buffer, "JPEG", quality=90)
    full = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    reduced = Image.open(io.BytesIO(buffer.getvalue()))
    reduced.draft("RGB", (builtin.decode_size, builtin.decode_size))
    reduced = reduced.convert("RGB")
    print("decoded", full.size, "->", reduced.size, "for", builtin.spec.input_size)
    assert reduced.width < full.width and min(reduced.size) >= builtin.spec.input_size
    cosine = float(builtin.embed_images([full])[0] @ builtin.embed_images([reduced])[0])
    print(f"cosine full vs reduced decode: {cosine:.5f}")
    assert cosine > 0.995


def test_prepare_resizes_the_whole_photo(builtin):
    for size, mode in [((640, 480), "RGB"), ((300, 900), "L"), ((50, 40), "RGBA")]:
        image = make_photo(1, size).convert(mode)
        array = builtin.prepare(image)
        assert array.shape == (224, 224, 3) and array.dtype == np.uint8
    # No crop: a mark in a corner of the photo is still there after prepare.
    marked = Image.new("RGB", (800, 400), (0, 0, 0))
    marked.paste((255, 0, 0), (0, 0, 60, 60))
    assert tuple(builtin.prepare(marked)[3, 3]) == (255, 0, 0)


def test_prepare_is_thread_safe(builtin):
    images = [make_photo(seed, (900, 700)) for seed in range(8)]
    alone = [builtin.prepare(image) for image in images]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(builtin.prepare, images))
    assert all(np.array_equal(a, b) for a, b in zip(alone, together, strict=True))


def test_embeddings_are_unit_length_and_deterministic(builtin):
    images = [make_photo(seed) for seed in range(5)]
    first = builtin.embed_images(images)
    assert first.shape == (5, 1280) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first, builtin.embed_images(images))
    one_by_one = np.concatenate([builtin.embed_images([image]) for image in images])
    assert np.allclose(first, one_by_one, atol=1e-5)
    assert builtin.embed_prepared([]).shape == (0, 1280)
    with pytest.raises(ValueError):
        builtin.embed_prepared([np.zeros((224, 224, 3), np.uint8), np.zeros((10, 10, 3), np.uint8)])


def test_copies_of_a_photo_find_each_other(builtin):
    """A resized, recompressed or slightly cropped copy is the top hit among unrelated
    photos, and the original is the top hit for each copy."""
    others = [make_photo(seed, (800, 600)) for seed in range(100, 110)]
    other_vectors = builtin.embed_images(others)
    for seed in (1, 2, 3):
        photo = make_photo(seed, (800, 600))
        copies = {
            "50% size": photo.resize((400, 300), Image.Resampling.LANCZOS),
            "JPEG q60": _jpeg(photo, 60),
            "90% crop": _crop(photo, 0.9),
        }
        original = builtin.embed_images([photo])[0]
        copy_vectors = builtin.embed_images(list(copies.values()))
        for name, vector in zip(copies, copy_vectors, strict=True):
            database = np.vstack([other_vectors, original])  # the original is the last row
            scores = database @ vector
            assert int(np.argmax(scores)) == len(others), (seed, name, scores)
            # ... and the other way round: the original finds this copy first.
            scores = np.vstack([other_vectors, vector]) @ original
            assert int(np.argmax(scores)) == len(others), (seed, name, scores)
            assert float(vector @ original) > 0.9, (seed, name)


# ------------------------------------------------------------------------ DINOv2


@pytest.fixture(scope="module")
def dinov2_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dinov2")
    return save_dinov2_checkpoint(folder / "dinov2_vits14_pretrain.pth", seed=3)


def test_dinov2_loads_from_our_folder(dinov2_file):
    target = paths.weights_dir() / dinov2_file.name
    target.write_bytes(dinov2_file.read_bytes())
    assert default_model_name() == ("dinov2-small", None)
    embedder = load_embedder(device="cpu", precision="fp32", allow_download=False)
    assert embedder.spec.name == "dinov2-small" and embedder.model_key == "dinov2-small/p1"
    vectors = embedder.embed_images([make_photo(seed) for seed in range(3)])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_model_path_file_names_its_model(dinov2_file):
    assert default_model_name(dinov2_file) == ("dinov2-small", None)
    embedder = load_embedder(model_path=dinov2_file, device="cpu", allow_download=False)
    assert embedder.spec.name == "dinov2-small"


def test_without_dinov2_weights_the_builtin_model_is_used_and_says_how(tmp_path):
    name, reason = default_model_name()
    assert name == "builtin"
    assert (reason.hint, reason.model) == (Hint.GET_WEIGHTS, "dinov2-small")  # the CLI words it
    name, reason = default_model_name(tmp_path / "no-such-folder")
    assert name == "builtin" and "no-such-folder" in reason
    fallback = load_embedder(model_path=tmp_path / "no-such-folder", allow_download=False)
    assert fallback.spec.name == "builtin"
    messages: list[str] = []
    embedder = load_embedder(allow_download=False, log=messages.append)
    assert embedder.spec.name == "builtin" and messages
    with pytest.raises(WeightsError) as missing:  # the face words how to get them
        load_embedder("dinov2-base", allow_download=False)
    assert (missing.value.model, missing.value.hint) == ("dinov2-base", Hint.GET_WEIGHTS)
    with pytest.raises(WeightsError, match="downloads are off"):  # ALBUMFINDER_OFFLINE=1
        load_embedder("dinov2-base")


@pytest.mark.parametrize("precision", ["bf16", "auto"])
def test_low_precision_stays_close_to_fp32(dinov2_file, precision):
    # bf16 runs (emulated, slower) on CPUs without native bf16 too: checked on every CPU kind
    images = [make_photo(seed, (500, 400)) for seed in range(6)]
    for name, path in [("dinov2-small", dinov2_file), ("builtin", None)]:
        reference = load_embedder(name, model_path=path, device="cpu", precision="fp32")
        low = load_embedder(name, model_path=path, device="cpu", precision=precision)
        if name == "builtin" and low.precision != "fp32":
            continue  # bf16 asked for explicitly: measured 0.997 on this model, not offered
        cosine = np.sum(reference.embed_images(images) * low.embed_images(images), axis=1)
        assert cosine.min() >= 0.999, (name, low.precision, cosine)


# ------------------------------------------------------------------------ choices


# What Linux says of three CPU kinds (flags lines cut to what matters here).
CPU_KINDS = {
    "avx2": "fpu sse sse2 avx avx2 fma",
    "avx512-vnni": "fpu sse sse2 avx avx2 fma avx512f avx512bw avx512_vnni",
    "avx512-bf16": "fpu sse sse2 avx avx2 fma avx512f avx512bw avx512_vnni avx512_bf16",
}


def fake_cpu(monkeypatch, tmp_path, kind: str) -> None:
    """Make the CPU-kind probe read ``kind``'s flags (the OS boundary: /proc/cpuinfo)."""
    cpuinfo = tmp_path / f"cpuinfo-{kind}"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {CPU_KINDS[kind]}\n")
    monkeypatch.setenv("ALBUMFINDER_CPUINFO", str(cpuinfo))


@pytest.mark.parametrize(
    ("kind", "dinov2_auto"), [("avx2", "fp32"), ("avx512-vnni", "int8"), ("avx512-bf16", "bf16")]
)
def test_precision_choices(monkeypatch, tmp_path, kind, dinov2_auto):
    fake_cpu(monkeypatch, tmp_path, kind)
    dinov2, builtin = get_spec("dinov2-small"), get_spec("builtin")
    assert resolve_precision("auto", "cuda", dinov2) == "fp16"
    assert resolve_precision("auto", "cpu", builtin) == "fp32"
    assert resolve_precision("auto", "cpu", dinov2) == dinov2_auto
    assert resolve_precision("fp32", "cuda", dinov2) == "fp32"
    assert resolve_precision("int8", "cpu", dinov2) == "int8"
    with pytest.raises(ValueError, match="int8 runs on the CPU only"):
        resolve_precision("int8", "cuda", dinov2)
    with pytest.raises(ValueError, match="unknown precision"):
        resolve_precision("fp8", "cpu", dinov2)


# An Arm server (Neoverse V1) as Linux reports it: a "Features" line, no "flags" line.
ARM_CPUINFO = (
    "processor\t: 0\nBogoMIPS\t: 2100.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 "
    "crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp "
    "sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs paca pacg dcpodp svei8mm svebf16 i8mm "
    "bf16 dgh rng\nCPU implementer\t: 0x41\nCPU part\t: 0xd40\n"
)


def test_an_arm_cpu_is_read_from_its_features_line_and_runs_fp32(monkeypatch, tmp_path):
    """Arm's dot product and bf16 were not measured with torch's Arm kernels: fp32."""
    cpuinfo = tmp_path / "cpuinfo-arm"
    cpuinfo.write_text(ARM_CPUINFO)
    monkeypatch.setenv("ALBUMFINDER_CPUINFO", str(cpuinfo))
    assert {"asimddp", "bf16", "i8mm"} <= cpu_flags()
    assert not cpu_has_bf16() and not cpu_has_int8_dot()
    assert resolve_precision("auto", "cpu", get_spec("dinov2-small")) == "fp32"


def test_no_cpuinfo_means_no_native_low_precision(monkeypatch, tmp_path):
    monkeypatch.setenv("ALBUMFINDER_CPUINFO", str(tmp_path / "absent"))  # not Linux, say
    assert not cpu_has_bf16()
    assert resolve_precision("auto", "cpu", get_spec("dinov2-small")) == "fp32"


def test_device_choice():
    assert pick_device("cpu") == "cpu"
    expected = "cuda" if torch.cuda.is_available() else None
    if expected is None and not torch.backends.mps.is_available():
        assert pick_device(None) == "cpu"
        with pytest.raises(ValueError, match="CUDA"):
            pick_device("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("tpu")
    with pytest.raises(ValueError, match="unknown device 'cudagpu': use cpu, cuda or mps"):
        pick_device("cudagpu")  # the registry's device names, not their prefixes


def test_threads_and_openmp_settings():
    cores = usable_cores()
    if hasattr(os, "sched_setaffinity"):  # Linux: the affinity mask is respected
        allowed = os.sched_getaffinity(0)
        assert cores is not None and 1 <= cores <= len(allowed)
        try:
            os.sched_setaffinity(0, {min(allowed)})  # this thread may run on one CPU only
            assert usable_cores() == 1
        finally:
            os.sched_setaffinity(0, allowed)
    code = (
        "import os; from albumfinder import runtime; runtime.tune_process();"
        "import albumfinder.embedding.device as e, torch;"
        "e.configure_threads(); e.configure_threads();"
        "print(torch.get_num_threads(), os.environ['OMP_WAIT_POLICY'])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
    env["ALBUMFINDER_THREADS"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["1", "PASSIVE"]


def test_cpus_with_vnni_without_bf16_run_dinov2_in_int8_within_cosine_0999(
    monkeypatch, dinov2_file, tmp_path
):
    dinov2, builtin = get_spec("dinov2-small"), get_spec("builtin")
    fake_cpu(monkeypatch, tmp_path, "avx512-vnni")
    assert not cpu_has_bf16()
    assert resolve_precision("auto", "cpu", dinov2) == "int8"
    assert resolve_precision("auto", "cpu", builtin) == "fp32"  # convolutions: no int8 gain
    fp32 = load_embedder("dinov2-small", model_path=dinov2_file, precision="fp32")
    int8 = load_embedder("dinov2-small", model_path=dinov2_file)
    assert int8.precision == "int8"
    assert not any(type(m) is torch.nn.Linear for m in int8._model.modules())
    arrays = [fp32.prepare(make_photo(seed, (320, 240))) for seed in range(8)]
    cosines = (fp32.embed_prepared(arrays) * int8.embed_prepared(arrays)).sum(axis=1)
    assert cosines.min() >= 0.999, cosines
    assert int8.model_key == fp32.model_key  # one index for every precision
