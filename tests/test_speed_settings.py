"""The settings chosen for speed keep results unchanged (no timing here: benchmarks/ times)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from albumfinder.embedding.device import default_batch_size
from albumfinder.embedding.embedder import Embedder
from albumfinder.models import build_model, get_spec
from albumfinder.models.dinov2 import Attention

from helpers_models import random_dinov2_state


def test_batch_sizes_are_small_on_the_cpu():
    """The forward passes on the CPU see small batches (their activations stay in the
    caches), much smaller than on a GPU; a batch size asked for is the one run."""
    for name in ("builtin", "dinov2-small"):
        cpu, gpu = (
            default_batch_size(get_spec(name), "cpu"),
            default_batch_size(get_spec(name), "cuda"),
        )
        assert 1 <= cpu <= 8 and gpu >= 4 * cpu, (name, cpu, gpu)
    spec = get_spec("dinov2-small")
    for asked in (None, 3):
        embedder = Embedder(spec, build_model(spec, random_dinov2_state(spec)), batch_size=asked)
        seen: list[int] = []  # batch sizes as the model's forward pass receives them (torch hook)
        embedder._model.register_forward_pre_hook(
            lambda _m, args, seen=seen: seen.append(len(args[0]))
        )
        photo = torch.zeros((spec.input_size, spec.input_size, 3), dtype=torch.uint8).numpy()
        batch = asked or default_batch_size(spec, "cpu")
        assert embedder.embed_prepared([photo] * (batch + 1)).shape == (batch + 1, spec.dim)
        assert seen == [batch, 1], (asked, seen)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_attention_on_the_cpu_matches_sdpa(dtype):
    torch.manual_seed(0)
    attention = Attention(64, 4).eval()
    x = torch.randn(2, 17, 64)
    with torch.inference_mode():
        reference = attention(x)  # float32: scaled_dot_product_attention
        low = attention.to(dtype)(x.to(dtype)).float()
    assert F.cosine_similarity(low, reference, dim=-1).min() > 0.999


def test_bf16_on_the_cpu_stores_dinov2_linear_weights_in_bf16():
    spec = get_spec("dinov2-small")
    embedder = Embedder(spec, build_model(spec, random_dinov2_state(spec)), precision="bf16")
    dtypes = {m.weight.dtype for m in embedder._model.modules() if isinstance(m, torch.nn.Linear)}
    assert dtypes == {torch.bfloat16}
    assert embedder._model.pos_embed.dtype == torch.float32  # kept, as autocast keeps it
    fp32 = Embedder(spec, build_model(spec, random_dinov2_state(spec)), precision="fp32")
    assert {p.dtype for p in fp32._model.parameters()} == {torch.float32}


@pytest.mark.parametrize(
    ("given", "expected"), [({}, "PASSIVE"), ({"OMP_WAIT_POLICY": "ACTIVE"}, "ACTIVE")]
)
def test_openmp_threads_sleep_when_idle_unless_the_user_says_otherwise(given, expected):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    code = (
        "import os; from albumfinder import runtime; runtime.tune_process();"
        "print(os.environ.get('OMP_WAIT_POLICY'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env={**env, **given}, capture_output=True, text=True
    )
    assert out.stdout.strip() == expected, out.stderr


def test_a_waiting_query_goes_before_the_next_indexing_batch():
    import threading

    from albumfinder.embedding.turns import Turns

    turns, order = Turns(), []
    running, release = threading.Event(), threading.Event()

    def batch(name: str, urgent: bool, hold: bool = False) -> None:
        with turns.turn(urgent):
            order.append(name)
            if hold:
                running.set()
                release.wait(10)

    first = threading.Thread(target=batch, args=("batch 1", False, True))
    first.start()
    assert running.wait(10)
    waiting = [
        threading.Thread(target=batch, args=("batch 2", False)),
        threading.Thread(target=batch, args=("batch 3", False)),
    ]
    for thread in waiting:
        thread.start()
    query = threading.Thread(target=batch, args=("query", True))
    query.start()
    while turns._urgent_waiting == 0:  # the query is queued behind batch 1
        threading.Event().wait(0.001)
    release.set()
    for thread in [first, *waiting, query]:
        thread.join(10)
    assert order[:2] == ["batch 1", "query"], order
    assert sorted(order[2:]) == ["batch 2", "batch 3"]


def test_models_on_one_device_take_turns_together():
    import threading
    import time

    from albumfinder.embedding.loading import load_embedder

    builtin = load_embedder("builtin", device="cpu", allow_download=False)
    spec = get_spec("dinov2-small")
    dinov2 = Embedder(spec, build_model(spec, random_dinov2_state(spec)), device="cpu")
    # During a model change the old model answers queries while the new one indexes: both
    # share the cores, so their forward passes must never overlap. Each pass is watched
    # where torch runs the module (forward hooks), and held open a moment so that a pass of
    # the other model that did not wait for its turn would start inside it.
    lock, running = threading.Lock(), []
    passes: list[str] = []
    overlaps: list[tuple[str, str]] = []

    def watch(embedder: Embedder, name: str) -> None:
        def enter(_module, _args) -> None:
            with lock:
                overlaps.extend((other, name) for other in running)
                running.append(name)
                passes.append(name)
            time.sleep(0.02)

        def leave(_module, _args, _output) -> None:
            with lock:
                running.remove(name)

        embedder._model.register_forward_pre_hook(enter)
        embedder._model.register_forward_hook(leave)

    start = threading.Barrier(2)

    def three_batches(embedder: Embedder) -> None:
        size = embedder.spec.input_size
        photo = torch.zeros((size, size, 3), dtype=torch.uint8).numpy()
        start.wait(30)
        embedder.embed_prepared([photo] * (3 * embedder.batch_size))

    watch(builtin, "builtin")
    watch(dinov2, "dinov2")
    threads = [threading.Thread(target=three_batches, args=(e,)) for e in (builtin, dinov2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(passes) == ["builtin"] * 3 + ["dinov2"] * 3, passes
    assert overlaps == [], overlaps
